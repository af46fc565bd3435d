/// A weight or array file that cannot be used: the message names the file or tensor and what was expected.
public struct WeightError: Error, Hashable, Sendable, CustomStringConvertible {
    /// What is wrong.
    public var message: String
    /// An error with `message`.
    public init(_ message: String) { self.message = message }
    /// A readable form for messages and logs.
    public var description: String { message }
}
