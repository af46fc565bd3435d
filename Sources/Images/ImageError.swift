/// An image that cannot be decoded: truncated, corrupt, unsupported or absurd. The message says which.
public struct ImageError: Error, Hashable, Sendable, CustomStringConvertible {
    /// What is wrong.
    public var message: String
    /// An error with `message`.
    public init(_ message: String) { self.message = message }
    /// A readable form for messages and logs.
    public var description: String { message }
}
