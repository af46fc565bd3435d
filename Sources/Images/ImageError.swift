/// An image that cannot be decoded: `kind` to switch on, `message` (saying which part is wrong) to show.
public struct ImageError: Error, Hashable, Sendable, CustomStringConvertible {
    /// What kind of failure.
    public enum Kind: Hashable, Sendable {
        /// The file ends before the image does.
        case truncated
        /// The data breaks the format (bad checksum, invalid code, malformed header, …).
        case corrupt
        /// A valid file in a form this decoder does not read (progressive JPEG, CMYK, …).
        case unsupported
        /// An image, or a resize of one, larger than the limits allow.
        case tooLarge
        /// A file that cannot be read at `path`.
        case unreadable(path: String)
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
