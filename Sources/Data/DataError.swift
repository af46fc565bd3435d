/// Why a dataset could not be read or a sample prepared; the message names the file.
public struct DataError: Error, Hashable, Sendable, CustomStringConvertible {
    /// What went wrong, for people.
    public var message: String
    /// An error saying `message`.
    public init(_ message: String) { self.message = message }
    /// The message.
    public var description: String { message }
}
