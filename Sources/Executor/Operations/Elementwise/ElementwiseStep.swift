import Foundation
import NetworkIR

/// Element-wise work over rows (rows of a padded value are contiguous inside the ring): the activations,
/// residual adds, squeeze-excite scales and batch norms that could not be fused into a convolution.
struct ElementwiseStep: InferenceStep {
    enum Operation: Sendable {
        case add(Int)                       // + another value of the same shape
        case unary(UnaryFunction)           // an activation, from its table row
        case affine(scale: Int, shift: Int) // per-channel x * scale + shift (a batch norm that could not be folded)
        case channelScale(Int)              // × a per-image, per-channel value (C×1×1)
    }
    var input: Int
    var output: Int
    var operation: Operation


    var reads: [Int] {
        switch operation {
        case .add(let other), .channelScale(let other): [input, other]
        default: [input]
        }
    }

    var inPlaceInput: Int? {
        if case .channelScale(let other) = operation, other == input { return nil }
        return input
    }

    func run(_ c: InferenceContext, images: Range<Int>, worker: Int, workers: Int) {
        let src = c.layouts[input], dst = c.layouts[output], arena = c.arena, weights = c.weights
        let count = dst.width * dst.channels, channels = dst.channels
        let myRows = imageRows(images, dst.height, worker, workers)
        if output != input { dst.zeroPadding(rows: myRows, in: arena) }
        for row in myRows {
            let n = row / dst.height, y = row % dst.height
            let a = arena + src.index(n, y, 0), out = arena + dst.index(n, y, 0)
            switch operation {
            case .unary(let function):
                Vector.apply(0..<count, a, into: out, function.row.forward)
            case .add(let other):
                ElementwiseForward.add(0..<count, a, arena + c.layouts[other].index(n, y, 0), into: out, relu: false)
            case .affine(let scale, let shift):
                let s = weights + scale, t = weights + shift
                for i in 0..<count { out[i] = a[i] * s[i % channels] + t[i % channels] }
            case .channelScale(let other):
                ElementwiseForward.scale(pixels: dst.width, channels: channels, a, gate: arena + c.layouts[other].index(n, 0, 0), into: out)
            }
        }
    }
}
