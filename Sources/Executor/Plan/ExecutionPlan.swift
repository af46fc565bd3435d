import NetworkIR
import Weights

/// A graph compiled for one input shape and batch: fused steps, value layouts in one arena, and the
/// packed, batch-norm-folded weights the steps read. Immutable; each run brings its own arena.
struct ExecutionPlan: Sendable {
    var steps: [any InferenceStep]
    /// How the steps are run: over the whole batch, or over groups of images sized to the cache budget.
    var segments: [StepSegment]
    var layouts: [ValueLayout]
    var inputValue: Int
    var outputValue: Int
    var batch: Int
    /// Bytes of activation memory one run needs (every buffer, reused by liveness, plus read slack).
    var arenaBytes: Int
    /// Per step: where its workers' scratch starts in the arena and how many floats each worker's piece
    /// is (a multiple of 16), when the step asks for scratch. Placed like a value alive during the
    /// step alone, so it reuses memory no live value holds.
    var stepScratch: [(offset: Int, stride: Int)?]
    /// Bytes the activations and scratch would need without reuse, for reporting.
    var unplannedBytes: Int
    /// Packed weights and biases, addressed by the steps' offsets.
    var packedWeights: [Float]
    /// The IR node each step computes, for profiles.
    var stepNodes: [NodeID]
    /// Multiply-adds per step for one batch, for profiles.
    var stepFlops: [Int]
    /// Per step: small enough (per image) to run on one thread.
    var runsSerially: [Bool]
    /// The precision the convolutions run in.
    var precision: Precision
    /// The value holding each node's result (nodes fused into a step, or folded, have none).
    var nodeValues: [NodeID: Int]
    /// The graph after the inference rewrites: what each step's node took in.
    var fused: FusedGraph
}

extension ExecutionPlan {
    /// Compiles `graph` with `weights` (already validated) for `batch` images on at most `threads`
    /// workers, the tile sizes of `kernels` and `precision` (float32 when `kernels` cannot run it; int8
    /// with `quantization`'s input scales).
    init(graph: Graph, weights: WeightSet, batch: Int, threads: Int, kernels: KernelSet, precision: Precision = .float32,
         quantization: Quantization? = nil, groupBudgetBytes: Double = PlanCompiler.defaultGroupBudgetBytes) throws(ExecutorError) {
        var compiler = PlanCompiler(graph: graph, weights: weights, batch: batch, kernels: kernels, precision: precision,
                                    quantization: quantization)
        compiler.groupBudgetBytes = groupBudgetBytes
        compiler.threads = threads
        self = try compiler.compile()
    }
}

/// Below this much work (bytes touched plus 4 × multiply-adds, per image) a step runs on the calling
/// thread alone: waking the other workers would cost more than it saves.
let serialWorkLimit = 96 * 1024
