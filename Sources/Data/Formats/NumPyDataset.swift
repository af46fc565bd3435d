import Foundation
import Weights

/// Images and labels as two NumPy arrays: uint8 N×H×W×C images (0–255, transformed like the dataset
/// they are declared as), or float32 N×C×H×W images used exactly as given; labels a vector of N
/// integers (any integer or float dtype holding whole numbers).
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
        guard array.shape.count == 4 else {
            throw DataError(.invalidDataset, "\(images.path): images must be N×H×W×C uint8 or N×C×H×W float32, got shape \(array.shape)")
        }
        let n = array.shape[0]
        switch dtype {
        case "|u1":
            (height, width, channels) = (array.shape[1], array.shape[2], array.shape[3])
            isFloat = false
        case "<f4":
            (channels, height, width) = (array.shape[1], array.shape[2], array.shape[3])
            isFloat = true
        default:
            throw DataError(.invalidDataset, "\(images.path): images must be uint8 (N×H×W×C) or float32 (N×C×H×W), got \(dtype)")
        }
        guard n > 0, channels == 1 || channels == 3, height > 0, width > 0 else {
            throw DataError(.invalidDataset, "\(images.path): shape \(array.shape) has no images or \(channels) channels (1 or 3 expected)")
        }
        guard labelArray.shape.count == 1, labelArray.shape[0] == n else {
            throw DataError(.invalidDataset, "\(labelsURL.path): \(labelArray.shape.count == 1 ? "\(labelArray.shape[0]) labels" : "shape \(labelArray.shape)") for \(n) images (a vector of \(n) labels expected)")
        }
        var labels: [Int] = []
        labels.reserveCapacity(n)
        for (i, value) in labelArray.scalars.enumerated() {
            guard value.isFinite, value >= 0, value == value.rounded(), value < 1e6 else {
                throw DataError(.invalidDataset, "\(labelsURL.path): label \(i) is \(value), not a class index")
            }
            labels.append(Int(value))
        }
        let classCount = classes ?? (labels.max()! + 1)
        if let bad = labels.firstIndex(where: { $0 >= classCount }) {
            throw DataError(.invalidDataset, "\(labelsURL.path): label \(labels[bad]) of image \(bad) is outside the \(classCount) classes")
        }
        if isFloat, let bad = array.scalars.firstIndex(where: { !$0.isFinite }) {
            throw DataError(.invalidDataset, "\(images.path): value \(bad) is not finite (\(array.scalars[bad]))")
        }
        self.classes = classCount
        self.labels = labels
        pixels = array.scalars
        count = n
        name = "npy:\(images.path)"
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
