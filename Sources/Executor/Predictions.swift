import Foundation
import Weights

/// One class in an image's prediction (`Tensor.topK`): its index, its name when class names were
/// given, its softmax probability and its logit.
public struct Prediction: Hashable, Sendable, CustomStringConvertible {
    /// The class index (the output channel).
    public var index: Int
    /// The class name, when `topK` was given names.
    public var label: String?
    /// The softmax probability over the image's classes, in 0...1.
    public var probability: Float
    /// The raw score.
    public var logit: Float

    /// `"tabby cat 87.12%"`, or `"class 281 87.12%"` without a name.
    public var description: String { "\(label ?? "class \(index)") " + String(format: "%.2f%%", probability * 100) }
}

extension Tensor {
    /// Images and classes of a classifier's output: [N, K, 1, 1] (what `CompiledModel` returns) or [N, K].
    func classifierShape() throws(ExecutorError) -> (images: Int, classes: Int) {
        guard (shape.count == 4 && shape[2] == 1 && shape[3] == 1) || shape.count == 2, shape[0] >= 1, shape[1] >= 1 else {
            throw ExecutorError(.invalidArgument, "a classifier's output is N×K×1×1 or N×K; this tensor is \(shape.map(String.init).joined(separator: "×"))")
        }
        return (shape[0], shape[1])
    }

    /// The softmax over each image's classes of a classifier's output (N×K×1×1 or N×K), same shape:
    /// probabilities that sum to 1 per image (computed stably, from the largest logit down).
    public func softmax() throws(ExecutorError) -> Tensor {
        let (images, classes) = try classifierShape()
        var result = scalars
        for n in 0..<images {
            let row = n * classes..<(n + 1) * classes
            let top = scalars[row].max()!
            var total: Float = 0
            for i in row { result[i] = exp(scalars[i] - top); total += result[i] }
            for i in row { result[i] /= total }
        }
        return Tensor(shape: shape, scalars: result)
    }

    /// The most likely class of each image of a classifier's output (the first of equal scores).
    public func argmax() throws(ExecutorError) -> [Int] {
        try topK(1).map { $0[0].index }
    }

    /// The `k` most likely classes of each image of a classifier's output, most likely first (equal
    /// scores in class order), with probabilities and, when `labels` names every class (for instance
    /// `ImageNetClasses.names` for a 1000-class model), their names.
    public func topK(_ k: Int, labels: [String]? = nil) throws(ExecutorError) -> [[Prediction]] {
        let (images, classes) = try classifierShape()
        guard k >= 1 else { throw ExecutorError(.invalidArgument, "topK needs k ≥ 1 (got \(k))") }
        if let labels, labels.count != classes {
            throw ExecutorError(.invalidArgument, "\(labels.count) class names for an output of \(classes) classes")
        }
        let probabilities = try softmax().scalars
        return (0..<images).map { n in
            let base = n * classes
            let order = (0..<classes).sorted { scalars[base + $0] > scalars[base + $1] || (scalars[base + $0] == scalars[base + $1] && $0 < $1) }
            return order.prefix(k).map { c in
                Prediction(index: c, label: labels?[c], probability: probabilities[base + c], logit: scalars[base + c])
            }
        }
    }
}
