/// A weight or array file that cannot be used: `kind` to switch on, `message` (naming the file or
/// tensor and what was expected) to show.
public struct WeightError: Error, Hashable, Sendable, CustomStringConvertible {
    /// What kind of failure, with the values a caller may act on.
    public enum Kind: Hashable, Sendable {
        /// Not a valid safetensors or npy file (truncated, corrupt, unsupported dtype, …).
        case malformedFile
        /// Weights that do not fit a graph; `problems` lists each missing, extra or misshapen tensor.
        case doesNotFit(problems: [String])
        /// A file that cannot be read or written at `path`.
        case fileAccess(path: String)
        /// More memory than this process may use.
        case memoryBudget(needed: Int, budget: Int)
        /// A checkpoint without what was asked of it (EMA weights, momentum buffers).
        case incompleteCheckpoint
    }

    /// What kind of failure.
    public var kind: Kind
    /// What is wrong, for people.
    public var message: String
    /// An error of `kind` saying `message`.
    public init(_ kind: Kind, _ message: String) {
        self.kind = kind
        self.message = message
    }
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
