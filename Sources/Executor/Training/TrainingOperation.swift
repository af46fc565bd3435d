import NetworkIR
internal import Kernels

/// A training-mode operation: the forward pass that keeps what its backward needs, and the backward
/// pass that turns the output's gradient into its inputs' and parameters' gradients. Built by the
/// operation kind's definition (`OperationDefinition.trainingOperation`); run by `TrainingProgram`.
/// Operations are values: what they keep from a forward to the backward (batch statistics) is their
/// declared state, and what they need while they run is declared scratch, both placed by the program.
protocol TrainingOperation: Sendable {
    /// The node this operation computes.
    var node: NodeIndex { get }
    /// Values (this node's or its inputs') that the backward pass reads, so the program keeps them alive.
    var savedForBackward: [NodeIndex] { get }
    /// The node whose value the forward writes and whose gradient the backward reads (`node`, or a
    /// fused successor's).
    var result: NodeIndex { get }
    /// The scratch the forward and the backward use for `batch` images with `kernels`' tiles.
    func scratch(batch: Int, kernels: KernelSet) -> [ScratchRequest]
    /// Floats of state kept from the forward to the end of the step (`StepContext.state`).
    var stateFloats: Int { get }
    /// Bytes its kernels may read past the end of each value it reads (whole tiles and vectors), by node.
    func overRead(kernels: KernelSet) -> [NodeIndex: Int]
    /// Whether it multiplies bf16 operands (in a bf16 program; some layers stay float32 there).
    var bfloat16: Bool { get }
    /// Whether it reads `input`'s value stored as bf16 (`StepContext.element(of:)`) as well as float32:
    /// a bf16 GEMM, which rounds what it reads to bf16 anyway.
    func readsBFloat16(_ input: NodeIndex) -> Bool
    /// Whether its forward writes its result as bf16 when the program stores it so (which it does when
    /// only operations that `readsBFloat16` read it), and its backward never reads its result.
    var writesBFloat16: Bool { get }
    /// Whether its backward reads its result's gradient stored as bf16 as well as float32 (a bf16 GEMM).
    var readsBFloat16Gradient: Bool { get }
    /// Whether its backward writes its input's gradient as bf16 when the program stores it so (which it
    /// does when this is the input's only reader and the input's operation `readsBFloat16Gradient`).
    var writesBFloat16Gradient: Bool { get }
    /// Reads the inputs' values and writes the node's value.
    func forward(_ c: StepContext)
    /// Reads the node's gradient and writes (or, where `accumulate[i]`, adds to) input i's gradient
    /// when the input has one; parameter gradients are written.
    func backward(_ c: StepContext, accumulate: [Bool])
}

extension TrainingOperation {
    /// The node itself, unless the operation computes a fused successor too.
    var result: NodeIndex { node }
    /// No state unless the operation declares some.
    var stateFloats: Int { 0 }
    /// Nothing past the values' ends unless the operation declares it.
    func overRead(kernels: KernelSet) -> [NodeIndex: Int] { [:] }
    /// float32 unless the operation says otherwise.
    var bfloat16: Bool { false }
    /// Values read as float32 unless the operation says otherwise.
    func readsBFloat16(_ input: NodeIndex) -> Bool { false }
    /// The result written as float32 unless the operation says otherwise.
    var writesBFloat16: Bool { false }
    /// Gradients read and written as float32 unless the operation says otherwise.
    var readsBFloat16Gradient: Bool { false }
    var writesBFloat16Gradient: Bool { false }
}

/// A node index (the IR's `NodeID`), named locally to keep signatures short.
typealias NodeIndex = Int

/// Scratch an operation asks for: `floats` floats called `name` during its forward or its backward
/// pass, one piece in all or one per worker. The program places every request in its arena beside
/// the values, alive only while its pass runs, so no pass allocates.
struct ScratchRequest: Sendable {
    /// The pass that uses it.
    enum Pass: Sendable { case forward, backward }

    let name: String
    let floats: Int
    let pass: Pass
    let perWorker: Bool

    init(_ name: String, floats: Int, in pass: Pass, perWorker: Bool = false) {
        (self.name, self.floats, self.pass, self.perWorker) = (name, floats, pass, perWorker)
    }
}

/// What a training operation is handed when it runs: node values and gradients, parameters, its own
/// state and scratch, the workers.
struct StepContext: @unchecked Sendable {
    let batch: Int
    let pool: WorkerPool
    let kernels: KernelSet
    let training: UnsafePointer<rn_training_kernels>
    /// The bf16 kernels, in a program that trains in bf16 (nil in float32).
    let bfloat16: BFloat16Arithmetic?
    /// The program's arena (values, gradients, scratch): where `layout(of:)` offsets count from.
    let arena: UnsafeMutablePointer<Float>
    /// Each node's value, NHWC and unpadded, `batch` images: float32, or bf16 where `storedAsBFloat16`.
    let values: [UnsafeMutablePointer<Float>]
    /// Per node: whether its value is stored as bf16 (in a bf16 program, a result written by an operation
    /// that `writesBFloat16` and read only by operations that `readsBFloat16`).
    let storedAsBFloat16: [Bool]
    /// Each node's gradient, where one is needed: float32, or bf16 where `gradientStoredAsBFloat16`.
    let grads: [UnsafeMutablePointer<Float>?]
    /// Per node: whether its gradient is stored as bf16 (in a bf16 program, written by its only reader,
    /// which `writesBFloat16Gradient`, and read by an operation that `readsBFloat16Gradient`).
    let gradientStoredAsBFloat16: [Bool]
    let parameters: UnsafeMutablePointer<Float>
    let parameterGrads: UnsafeMutablePointer<Float>
    /// The running operation's state (`stateFloats`).
    var state: UnsafeMutablePointer<Float>
    /// The running operation's scratch, by name, and the floats each worker's piece is apart.
    var scratchPieces: [String: (base: UnsafeMutablePointer<Float>, stride: Int)]
    /// This step's seed for random operations (dropout masks).
    let randomSeed: UInt64

    /// Scratch `name` the running operation asked for (its first worker's piece, when per worker).
    func scratch(_ name: String) -> UnsafeMutablePointer<Float> {
        guard let piece = scratchPieces[name] else { preconditionFailure("the operation asked for no scratch '\(name)'") }
        return piece.base
    }

    /// Worker `worker`'s piece of per-worker scratch `name`.
    func scratch(_ name: String, worker: Int) -> UnsafeMutablePointer<Float> {
        guard let piece = scratchPieces[name] else { preconditionFailure("the operation asked for no scratch '\(name)'") }
        return piece.base + worker * piece.stride
    }

    /// The element type node `id`'s value is stored in.
    func element(of id: NodeIndex) -> ElementType { storedAsBFloat16[id] ? .bfloat16 : .float32 }
    /// The element type node `id`'s gradient is stored in.
    func gradientElement(of id: NodeIndex) -> ElementType { gradientStoredAsBFloat16[id] ? .bfloat16 : .float32 }

    /// `pointer`'s values (NHWC, unpadded, `shape` per image, in the arena, of type `element`) as an
    /// inference layout, so a training operation can run the inference step that is its kind's forward.
    func layout(of pointer: UnsafeMutablePointer<Float>, _ shape: FeatureShape, element: ElementType = .float32) -> ValueLayout {
        ValueLayout(element: element, channels: shape.channels, height: shape.height, width: shape.width,
                    offset: (UnsafeMutableRawPointer(pointer) - UnsafeMutableRawPointer(arena)) / element.byteCount)
    }

    /// The inference-step context over the arena, with `weights` as the packed weights and the
    /// operation's per-worker scratch `workerScratch` as each worker's scratch.
    func inferenceContext(layouts: [ValueLayout], weights: UnsafePointer<Float>, workerScratch: String? = nil) -> InferenceContext {
        let scratch = workerScratch.map { name -> (UnsafeMutablePointer<Float>, Int) in
            guard let piece = scratchPieces[name] else { preconditionFailure("the operation asked for no scratch '\(name)'") }
            return piece
        }
        return InferenceContext(layouts: layouts, kernels: kernels, arena: arena, weights: weights, workerScratch: scratch ?? (arena, 0))
    }

    /// Runs `body(worker, workers)` on every worker.
    func everyWorker(_ body: (_ worker: Int, _ workers: Int) -> Void) { pool.run(body) }

    /// Runs `body(range)` over `count` items split evenly across the workers.
    func parallel(_ count: Int, _ body: (Range<Int>) -> Void) {
        parallel(count) { range, _ in body(range) }
    }

    /// Runs `body(range, worker)` over `count` items split evenly across the workers.
    func parallel(_ count: Int, _ body: (Range<Int>, Int) -> Void) {
        if count <= 1 || pool.threads == 1 { return body(0..<count, 0) }
        pool.run { worker, workers in body(share(count, worker, workers), worker) }
    }

    /// Runs `body(range)` over `count` elements in chunks of whole 16-float vectors.
    func parallelElements(_ count: Int, _ body: (Range<Int>) -> Void) {
        let vectors = (count + 15) / 16
        if count < 32_768 { return body(0..<count) }
        parallel(vectors) { r in body((r.lowerBound * 16)..<min(count, r.upperBound * 16)) }
    }
}
