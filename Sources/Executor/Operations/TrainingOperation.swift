internal import Kernels

/// A training-mode operation: the forward pass that keeps what its backward needs, and the backward
/// pass that turns the output's gradient into its inputs' and parameters' gradients. Built by the
/// operation kind's definition (`OperationDefinition.trainingOperation`); run by the training plan.
package protocol TrainingOperation: Sendable {
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
    /// The node itself: only a batch norm with a fused ReLU computes another node's value.
    package var result: NodeIndex { node }
}

/// An operation that can compute the ReLU that alone reads its output: the forward writes max(·, 0)
/// straight into the ReLU's value and the backward gates the ReLU's gradient by it, so its own output
/// and gradient are never stored (`TrainingPlan` fuses them; batch norm and the residual sum do).
package protocol ReLUFusing: TrainingOperation {
    /// The fused ReLU node, when fused.
    var fusedReLU: NodeIndex? { get set }
}

/// A node index (the IR's `NodeID`), named locally to keep signatures short.
package typealias NodeIndex = Int

/// Scratch memory shared by the operations of one training plan; each slot is sized to the largest need.
package struct ScratchNeeds: Sendable {
    /// Floats per slot: padded or gathered inputs, dilated gradients, temporaries, partial sums, packed weights.
    package var a: Int, b: Int, c: Int, d: Int, w: Int

    /// Needs of `a`…`w` floats (none by default).
    package init(a: Int = 0, b: Int = 0, c: Int = 0, d: Int = 0, w: Int = 0) {
        (self.a, self.b, self.c, self.d, self.w) = (a, b, c, d, w)
    }

    /// Each slot as large as the larger of the two needs.
    package mutating func formMax(_ other: ScratchNeeds) {
        a = max(a, other.a); b = max(b, other.b); c = max(c, other.c); d = max(d, other.d); w = max(w, other.w)
    }

    /// The slots in order a, b, c, d, w.
    package var slots: [Int] { [a, b, c, d, w] }
}

/// What a training operation is handed when it runs: node values and gradients, parameters, scratch, workers.
package struct StepContext: @unchecked Sendable {
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
    /// This step's seed for random operations (dropout masks).
    let randomSeed: UInt64

    /// A context over `batch` images; `scratch` holds the five slots of `ScratchNeeds` in order.
    package init(batch: Int, pool: WorkerPool, kernels: KernelSet,
                 values: [UnsafeMutablePointer<Float>], grads: [UnsafeMutablePointer<Float>?],
                 parameters: UnsafeMutablePointer<Float>, parameterGrads: UnsafeMutablePointer<Float>,
                 scratch: [UnsafeMutablePointer<Float>], randomSeed: UInt64) {
        self.batch = batch
        self.pool = pool
        self.kernels = kernels
        guard let training = kernels.training else { preconditionFailure("no training kernels for \(kernels.name); check supportsTraining") }
        self.training = training
        self.values = values
        self.grads = grads
        self.parameters = parameters
        self.parameterGrads = parameterGrads
        (scratchA, scratchB, scratchC, scratchD, scratchW) = (scratch[0], scratch[1], scratch[2], scratch[3], scratch[4])
        self.randomSeed = randomSeed
    }

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
