import Foundation
import Weights

/// Images and labels as two NumPy arrays: uint8 N×H×W×C images (0–255, transformed like the dataset
/// they are declared as), or float32 N×C×H×W images used exactly as given; labels a vector of N
/// integers (any integer or float dtype holding whole numbers). Or the same from arrays in memory.
public struct NumPyDataset: ImageDataset {
    public let name: String
    public let count: Int
    public let classes: Int
    public var fixedSize: (height: Int, width: Int)? { (height, width) }
    /// Whether the images are float32 NCHW (used as given) rather than uint8 NHWC.
    public let isFloat: Bool
    let channels: Int, height: Int, width: Int
    private let pixels: [Float]
    private let labels: [Int]

    /// Reads both arrays; `classes` defaults to the largest label + 1.
    public init(images: URL, labels labelsURL: URL, classes: Int? = nil) throws(DataError) {
        let (array, dtype): (Tensor, String)
        let labelArray: Tensor
        do {
            (array, dtype) = try NumPyArray.readWithType(contentsOf: images)
        } catch { throw DataError(.invalidDataset, "\(images.path): \(error.message)") }
        do {
            labelArray = try NumPyArray.read(contentsOf: labelsURL)
        } catch { throw DataError(.invalidDataset, "\(labelsURL.path): \(error.message)") }
        try self.init(array, dtypeName: dtype, labels: labelArray, classes: classes,
                      name: "npy:\(images.path)", imagesSource: images.path, labelsSource: labelsURL.path)
    }

    /// In-memory images and labels, for training from arrays a program already holds: `images` float32
    /// N×C×H×W (C 1 or 3), used exactly as given (pair with `ImageTransform(kind: .exact, …)`); `labels`
    /// N class indices; `classes` defaults to the largest label + 1. Checked as the files are: shapes,
    /// labels within the classes, finite values.
    public init(images: Tensor, labels: [Int], classes: Int? = nil, name: String = "arrays") throws(DataError) {
        try self.init(images, dtypeName: "<f4", labels: Tensor(shape: [labels.count], scalars: labels.map(Float.init)),
                      classes: classes, name: name, imagesSource: "\(name) images", labelsSource: "\(name) labels")
    }

    /// Checks and keeps images (uint8 N×H×W×C as floats, or float32 N×C×H×W) and labels read from
    /// `imagesSource` and `labelsSource` (named in messages).
    private init(_ array: Tensor, dtypeName: String, labels labelArray: Tensor, classes: Int?, name: String,
                 imagesSource: String, labelsSource: String) throws(DataError) {
        guard array.shape.count == 4 else {
            throw DataError(.invalidDataset, "\(imagesSource): images must be N×H×W×C uint8 or N×C×H×W float32, got shape \(array.shape)")
        }
        let n = array.shape[0]
        switch dtypeName {
        case "|u1":
            (height, width, channels) = (array.shape[1], array.shape[2], array.shape[3])
            isFloat = false
        case "<f4":
            (channels, height, width) = (array.shape[1], array.shape[2], array.shape[3])
            isFloat = true
        default:
            throw DataError(.invalidDataset, "\(imagesSource): images must be uint8 (N×H×W×C) or float32 (N×C×H×W), got \(dtypeName)")
        }
        guard n > 0, channels == 1 || channels == 3, height > 0, width > 0 else {
            throw DataError(.invalidDataset, "\(imagesSource): shape \(array.shape) has no images or \(channels) channels (1 or 3 expected)")
        }
        guard labelArray.shape.count == 1, labelArray.shape[0] == n else {
            throw DataError(.invalidDataset, "\(labelsSource): \(labelArray.shape.count == 1 ? "\(labelArray.shape[0]) labels" : "shape \(labelArray.shape)") for \(n) images (a vector of \(n) labels expected)")
        }
        var labels: [Int] = []
        labels.reserveCapacity(n)
        for (i, value) in labelArray.scalars.enumerated() {
            guard value.isFinite, value >= 0, value == value.rounded(), value < 1e6 else {
                throw DataError(.invalidDataset, "\(labelsSource): label \(i) is \(value), not a class index")
            }
            labels.append(Int(value))
        }
        let classCount = classes ?? (labels.max()! + 1)
        if let bad = labels.firstIndex(where: { $0 >= classCount }) {
            throw DataError(.invalidDataset, "\(labelsSource): label \(labels[bad]) of image \(bad) is outside the \(classCount) classes")
        }
        if isFloat, let bad = array.scalars.firstIndex(where: { !$0.isFinite }) {
            throw DataError(.invalidDataset, "\(imagesSource): value \(bad) is not finite (\(array.scalars[bad]))")
        }
        self.classes = classCount
        self.labels = labels
        pixels = array.scalars
        count = n
        self.name = name
    }

    public func label(_ index: Int) -> Int { labels[index] }

    public func image(_ index: Int) throws(DataError) -> DatasetImage {
        let plane = height * width, size = channels * plane
        let start = index * size
        if isFloat { return DatasetImage(channels: channels, height: height, width: width, pixels: Array(pixels[start..<(start + size)])) }
        // NHWC → CHW.
        var out = [Float](repeating: 0, count: size)
        for p in 0..<plane { for c in 0..<channels { out[c * plane + p] = pixels[start + p * channels + c] } }
        return DatasetImage(channels: channels, height: height, width: width, pixels: out)
    }
}
