/// A model that cannot be compiled or an input it cannot run.
public struct ExecutorError: Error, Hashable, Sendable, CustomStringConvertible {
    /// What is wrong.
    public var message: String
    /// An error with `message`.
    public init(_ message: String) { self.message = message }
    /// A readable form for messages and logs.
    public var description: String { message }
}
