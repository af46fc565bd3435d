/// One unit of work of an inference plan, after fusion. Values are indices into the plan's layouts;
/// weights are offsets into the plan's packed weights. Each operation kind's step lives in that
/// kind's folder beside its training form; the planners and the run loop know steps only through
/// this protocol.
protocol InferenceStep: Sendable {
    /// Values the step reads (the planners' single source for liveness and working-set sizes).
    var reads: [Int] { get }
    /// The value the step writes.
    var output: Int { get }
    /// Bytes of packed weights the step reads.
    var weightBytes: Int { get }
    /// A value the step reads through a zero ring of this many pixels, which its layout must carry.
    var paddedInput: (value: Int, padding: Int)? { get }
    /// The input the step may overwrite with its output when nothing reads that input afterwards.
    var inPlaceInput: Int? { get }
    /// Bytes the step's micro-kernels may read past the end of `value`'s buffer (whole tiles).
    func overRead(of value: Int, layouts: [ValueLayout], kernels: KernelSet) -> Int
    /// Floats of scratch each worker needs while the step runs (`InferenceContext.scratch(worker:)`).
    func workerScratchFloats(layouts: [ValueLayout]) -> Int
    /// Whether the step reads narrow (bf16, uint8) values: only such steps may be handed them.
    var readsNarrowValues: Bool { get }
    /// Whether the step multiplies in int8.
    var runsInt8: Bool { get }
    /// Runs worker `worker` of `workers`' share of the step over `images`.
    func run(_ c: InferenceContext, images: Range<Int>, worker: Int, workers: Int)
}

extension InferenceStep {
    var weightBytes: Int { 0 }
    var readsNarrowValues: Bool { false }
    var runsInt8: Bool { false }
    var paddedInput: (value: Int, padding: Int)? { nil }
    var inPlaceInput: Int? { nil }
    func overRead(of value: Int, layouts: [ValueLayout], kernels: KernelSet) -> Int { 0 }
    func workerScratchFloats(layouts: [ValueLayout]) -> Int { 0 }
}

/// What a step is handed when it runs: the plan's layouts, the micro-kernels, the run's arena, the
/// packed weights, and each worker's scratch.
struct InferenceContext: @unchecked Sendable {
    let layouts: [ValueLayout]
    let kernels: KernelSet
    let arena: UnsafeMutablePointer<Float>
    let weights: UnsafePointer<Float>
    /// Worker 0's scratch for the running step, and the floats each worker's is apart (at least the
    /// step's `workerScratchFloats`).
    var workerScratch: (base: UnsafeMutablePointer<Float>, stride: Int)

    /// This context with a step's scratch (`ExecutionPlan.stepScratch`): at `offset` floats into the
    /// arena, `stride` floats per worker.
    func with(scratch: (offset: Int, stride: Int)?) -> InferenceContext {
        var context = self
        context.workerScratch = scratch.map { (arena + $0.offset, $0.stride) } ?? (arena, 0)
        return context
    }

    /// Worker `worker`'s scratch.
    func scratch(worker: Int) -> UnsafeMutablePointer<Float> { workerScratch.base + worker * workerScratch.stride }
}

/// Activation applied in an epilogue (values match the C kernels' constants).
enum Activation: Int32, Sendable {
    case none = 0, relu = 1, sigmoid = 2
}
