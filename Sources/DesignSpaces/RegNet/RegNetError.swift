/// Invalid RegNet parameters or an unknown zoo name: `kind` to switch on, `message` to show.
public struct RegNetError: Error, Hashable, Sendable, CustomStringConvertible {
    /// What kind of failure.
    public enum Kind: Hashable, Sendable {
        /// A zoo model, design space or range key that does not exist (`suggestions` has close names).
        case unknownName
        /// Parameters outside the rules (the width rule, a sampler range, a complexity window no draw reaches).
        case invalidParameters
    }

    /// What kind of failure.
    public var kind: Kind
    /// What is wrong.
    public var message: String
    /// Close names, for unknown models.
    public var suggestions: [String]

    /// An error of `kind` with `message` and optional suggestions.
    public init(_ kind: Kind, _ message: String, suggestions: [String] = []) {
        self.kind = kind
        self.message = message
        self.suggestions = suggestions
    }

    /// A readable form for messages and logs.
    public var description: String {
        suggestions.isEmpty ? message : "\(message); did you mean \(suggestions.joined(separator: ", "))?"
    }
}
