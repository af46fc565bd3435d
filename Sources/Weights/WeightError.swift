/// A weight or array file that cannot be used: the message names the file or tensor and what was expected.
public struct WeightError: Error, Hashable, Sendable, CustomStringConvertible {
    /// What is wrong.
    public var message: String
    /// An error with `message`.
    public init(_ message: String) { self.message = message }
    /// A readable form for messages and logs.
    public var description: String { message }
}

/// `text` safe to print in a message: control characters escaped (`\u{0}`), at most 120 characters.
func printable(_ text: String) -> String {
    var out = ""
    for scalar in text.unicodeScalars {
        if scalar.value < 0x20 || scalar.value == 0x7F { out += "\\u{\(String(scalar.value, radix: 16))}" } else { out.unicodeScalars.append(scalar) }
        if out.count > 120 { return String(out.prefix(117)) + "… (\(text.count) characters)" }
    }
    return out
}
