/// One image of a dataset before its transform: `channels` planes of `height` × `width` floats (CHW),
/// on the dataset's own scale (0–255 for CIFAR and uint8 arrays, 0–1 for decoded files, as stored for
/// float arrays).
public struct DatasetImage: Sendable {
    /// Planes.
    public var channels: Int
    /// Rows.
    public var height: Int
    /// Columns.
    public var width: Int
    /// CHW samples.
    public var pixels: [Float]

    /// An image of the given size.
    public init(channels: Int, height: Int, width: Int, pixels: [Float]) {
        self.channels = channels
        self.height = height
        self.width = width
        self.pixels = pixels
    }
}

/// Labelled images, read on demand: CIFAR binary files, image folders or NumPy arrays.
public protocol ImageDataset: Sendable {
    /// Where the data comes from, for messages (`cifar10:/data/cifar train`).
    var name: String { get }
    /// Number of images.
    var count: Int { get }
    /// Number of classes (labels are 0..<classes).
    var classes: Int { get }
    /// The size every image has, when they all share one (CIFAR, arrays); nil for folders.
    var fixedSize: (height: Int, width: Int)? { get }
    /// The label of image `index`.
    func label(_ index: Int) -> Int
    /// Image `index`, decoded; the error names the file.
    func image(_ index: Int) throws(DataError) -> DatasetImage
}
