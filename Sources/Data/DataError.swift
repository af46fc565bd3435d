import Images

/// Why a dataset could not be read or a sample prepared: `kind` to switch on, `message` (naming the
/// file) to show.
public struct DataError: Error, Hashable, Sendable, CustomStringConvertible {
    /// What kind of failure.
    public enum Kind: Hashable, Sendable {
        /// A dataset argument that names no dataset (`cifar10:DIR`, `folder:DIR`, `npy:X,Y`).
        case invalidSpecification
        /// A file or directory that cannot be read at `path`.
        case unreadable(path: String)
        /// Files that are there but do not make a dataset (wrong sizes, labels outside the classes, …).
        case invalidDataset
        /// A loader or transform setting the data cannot satisfy (batch size, image size).
        case invalidArgument
        /// An image that does not decode.
        case image(ImageError.Kind)
    }

    /// What kind of failure.
    public var kind: Kind
    /// What went wrong, for people.
    public var message: String
    /// An error of `kind` saying `message`.
    public init(_ kind: Kind, _ message: String) {
        self.kind = kind
        self.message = message
    }
    /// The message.
    public var description: String { message }
}
