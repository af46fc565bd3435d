import Executor
import Kernels

/// Scratch memory shared by the operations of one plan; each slot is sized to the largest need.
struct ScratchNeeds: Sendable {
    /// Floats per slot: padded or gathered inputs, dilated gradients, temporaries, partial sums, packed weights.
    var a = 0, b = 0, c = 0, d = 0, w = 0

    mutating func formMax(_ other: ScratchNeeds) {
        a = max(a, other.a); b = max(b, other.b); c = max(c, other.c); d = max(d, other.d); w = max(w, other.w)
    }
}

/// What an operation is handed when it runs: node values and gradients, parameters, scratch, workers.
struct StepContext: @unchecked Sendable {
    let batch: Int
    let pool: WorkerPool
    let kernels: KernelSet
    let training: UnsafePointer<rn_training_kernels>
    /// Each node's value, NHWC and unpadded, `batch` images.
    let values: [UnsafeMutablePointer<Float>]
    /// Each node's gradient, where one is needed.
    let grads: [UnsafeMutablePointer<Float>?]
    let parameters: UnsafeMutablePointer<Float>
    let parameterGrads: UnsafeMutablePointer<Float>
    let scratchA, scratchB, scratchC, scratchD, scratchW: UnsafeMutablePointer<Float>

    /// Runs `body(range)` over `count` items split evenly across the workers.
    func parallel(_ count: Int, _ body: (Range<Int>) -> Void) {
        if count <= 1 || pool.threads == 1 { return body(0..<count) }
        pool.run { worker, workers in body(share(count, worker, workers)) }
    }

    /// Runs `body(range)` over `count` elements in chunks of whole 16-float vectors.
    func parallelElements(_ count: Int, _ body: (Range<Int>) -> Void) {
        let vectors = (count + 15) / 16
        if count < 32_768 { return body(0..<count) }
        parallel(vectors) { r in body((r.lowerBound * 16)..<min(count, r.upperBound * 16)) }
    }
}

/// A training-mode operation: the forward pass that keeps what its backward needs, and the backward
/// pass that turns the output's gradient into its inputs' and parameters' gradients.
protocol TrainingOperation: Sendable {
    /// The node this operation computes.
    var node: NodeIndex { get }
    /// Values (this node's or its inputs') that the backward pass reads, so the plan keeps them alive.
    var savedForBackward: [NodeIndex] { get }
    /// The node whose value the forward writes and whose gradient the backward reads (`node`, or a
    /// fused successor's).
    var result: NodeIndex { get }
    /// Scratch the operation needs for `batch` images.
    func scratch(batch: Int) -> ScratchNeeds
    /// Reads the inputs' values and writes the node's value.
    func forward(_ c: StepContext)
    /// Reads the node's gradient and writes (or, where `accumulate[i]`, adds to) input i's gradient
    /// when the input has one; parameter gradients are written.
    func backward(_ c: StepContext, accumulate: [Bool])
}

extension TrainingOperation {
    /// The node whose value the forward writes and whose gradient the backward reads: the node itself,
    /// unless the operation computes a fused successor too.
    var result: NodeIndex { node }
}

extension BatchNormOperation {
    var result: NodeIndex { fusedReLU ?? node }
}

/// A node index (the IR's `NodeID`), named locally to keep signatures short.
typealias NodeIndex = Int
