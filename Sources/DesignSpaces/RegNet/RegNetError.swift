/// Invalid RegNet parameters or an unknown zoo name.
public struct RegNetError: Error, Hashable, Sendable, CustomStringConvertible {
    /// What is wrong.
    public var message: String
    /// Close names, for unknown models.
    public var suggestions: [String]

    /// An error with `message` and optional suggestions.
    public init(_ message: String, suggestions: [String] = []) {
        self.message = message
        self.suggestions = suggestions
    }

    /// A readable form for messages and logs.
    public var description: String {
        suggestions.isEmpty ? message : "\(message); did you mean \(suggestions.joined(separator: ", "))?"
    }
}
