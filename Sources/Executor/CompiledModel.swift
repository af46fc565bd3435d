import Dispatch
import Foundation
import NetworkIR
import Synchronization
import Weights

/// A network compiled for one input shape and batch size, ready to run many times.
///
/// Compilation folds batch norm into the convolutions, fuses ReLU, sigmoid and residual adds into
/// their epilogues, packs the weights for the chosen micro-kernels and plans one activation arena.
/// `run` may be called from several threads at once: each call takes its own arena. A run on another
/// number of images than `batch` compiles the model for that batch on first use and keeps it
/// (`forBatch`), so any batch size works and each size is planned once.
public final class CompiledModel: Sendable {
    /// The graph this model runs.
    public let graph: Graph
    /// The most worker threads a model (or a trainer) may use.
    public static let maxThreads = WorkerPool.maxThreads
    /// The worker threads a model (or a trainer) uses unless told: the active processor count, at most `maxThreads`.
    public static var defaultThreads: Int { WorkerPool.defaultThreads }

    /// Images per run.
    public let batch: Int
    /// Workers per parallel region.
    public let threads: Int
    /// The micro-kernel set in use.
    public let kernels: KernelSet
    /// The precision the convolutions run in: the one asked for, or float32 when the CPU (or the
    /// kernel set asked for) cannot run it.
    public var precision: Precision { plan.precision }
    let plan: ExecutionPlan
    let packed: AlignedBuffer
    /// The calibration an int8 plan was compiled with (`withWeights` packs again with it).
    private let quantization: Quantization?
    private let spareArenas = Mutex<[AlignedBuffer]>([])
    /// The weights as given (kept to compile other batch sizes; shared with the caller's copy) and the
    /// image-group cache budget the plan was made with.
    private let weights: WeightSet
    private let groupBudgetBytes: Double
    /// This model compiled for other batch sizes, by batch (`forBatch`).
    private let otherBatches = Mutex<[Int: CompiledModel]>([:])

    /// Compiles `graph` with `weights` (checked against the graph) for `batch` images on `threads` workers
    /// (default: the active processor count, at most `maxThreads`), with its convolutions in `precision`:
    /// bf16 and int8 fall back to float32 where the CPU lacks their instructions (check `precision`);
    /// int8 needs `quantization`, the input scales a calibration found (`Quantization.calibrate`).
    public convenience init(graph: Graph, weights: WeightSet, batch: Int = 1, threads: Int? = nil, kernels: KernelSet = .best,
                            precision: Precision = .float32, quantization: Quantization? = nil) throws(ExecutorError) {
        try self.init(graph: graph, weights: weights, batch: batch, threads: threads, kernels: kernels, precision: precision,
                      quantization: quantization, groupBudgetBytes: PlanCompiler.defaultGroupBudgetBytes)
    }

    /// As the public initialiser, with the image-group cache budget exposed for tests.
    init(graph: Graph, weights: WeightSet, batch: Int, threads: Int?, kernels: KernelSet, precision: Precision = .float32,
         quantization: Quantization? = nil, groupBudgetBytes: Double) throws(ExecutorError) {
        guard precision != .int8 || quantization != nil else {
            throw ExecutorError(.invalidArgument, "int8 needs a calibration: pass the Quantization that Quantization.calibrate returns (or that a quantised weights file holds)")
        }
        guard batch >= 1 else { throw ExecutorError(.invalidArgument, "batch must be at least 1 (got \(batch))") }
        let threads = threads ?? WorkerPool.defaultThreads
        guard (1...Self.maxThreads).contains(threads) else { throw ExecutorError(.invalidArgument, "threads must be between 1 and \(Self.maxThreads) (got \(threads))") }
        do { try graph.validate() } catch { throw ExecutorError(.invalidGraph, error.message) }
        // Refuse shapes whose activations could not be allocated, before planning overflows on them.
        let limit = 1 << 32   // floats: 16 GiB per tensor
        for node in graph.nodes {
            let (floats, overflow) = node.shape.elementCount.multipliedReportingOverflow(by: batch)
            guard !overflow, floats <= limit else {
                throw ExecutorError(.tooLarge, "\(node.name) would need \(overflow ? "more than 2^63" : String(floats / (1 << 28))) GiB of activations for batch \(batch); use a smaller batch or resolution")
            }
        }
        do {
            try WeightSet.checkMemory(for: graph)
            try weights.validate(for: graph)
        } catch {
            if case .memoryBudget = error.kind { throw ExecutorError(.tooLarge, error.message) }
            throw ExecutorError(.weightsDoNotFit, error.message)
        }
        self.graph = graph
        self.batch = batch
        self.threads = threads
        self.kernels = kernels
        var plan = try ExecutionPlan(graph: graph, weights: weights, batch: batch, threads: threads, kernels: kernels, precision: precision,
                                     quantization: quantization, groupBudgetBytes: groupBudgetBytes)
        do {
            try MemoryBudget.check(plan.arenaBytes + plan.packedWeights.count * ElementType.float32.byteCount,
                                   for: "running \(graph.name) on batches of \(batch) (activations and packed weights)")
        } catch {
            throw ExecutorError(.tooLarge, error.message)
        }
        packed = AlignedBuffer(copying: plan.packedWeights)
        plan.packedWeights = []   // the aligned copy is the one runs read
        self.plan = plan
        self.quantization = quantization
        self.weights = weights
        self.groupBudgetBytes = groupBudgetBytes
    }

    /// This model for batches of `images` images: itself when that is its batch, else the same graph,
    /// weights, threads, kernels and precision compiled for that batch on first use and kept for the
    /// next runs of that size. Each size kept holds its own plan and packed weights (`weightBytes`
    /// more each): a server seeing many batch sizes should pad requests to a few.
    public func forBatch(_ images: Int) throws(ExecutorError) -> CompiledModel {
        if images == batch { return self }
        if let compiled = otherBatches.withLock({ $0[images] }) { return compiled }
        let compiled = try CompiledModel(graph: graph, weights: weights, batch: images, threads: threads, kernels: kernels,
                                         precision: precision, quantization: quantization, groupBudgetBytes: groupBudgetBytes)
        return otherBatches.withLock { models in
            if let first = models[images] { return first }   // compiled meanwhile by another thread
            models[images] = compiled
            return compiled
        }
    }

    /// This model with other weights for the same graph (checked as the initialiser checks them): they
    /// are folded and packed for the same steps, and the plan — fusion, segments, arena — is reused.
    /// A trainer evaluates each epoch's weights this way. The two models run independently.
    public func withWeights(_ weights: WeightSet) throws(ExecutorError) -> CompiledModel {
        do { try weights.validate(for: graph) } catch { throw ExecutorError(.weightsDoNotFit, error.message) }
        var compiler = PlanCompiler(graph: graph, weights: weights, batch: batch, kernels: kernels, precision: precision,
                                    quantization: quantization)
        try compiler.lower()
        guard compiler.packed.count * ElementType.float32.byteCount == packed.byteCount else {
            throw ExecutorError(.invalidGraph, "internal: \(graph.name)'s weights packed to \(compiler.packed.count) floats, the plan holds \(packed.byteCount / 4)")
        }
        return CompiledModel(sharing: self, packed: AlignedBuffer(copying: compiler.packed), weights: weights)
    }

    private init(sharing model: CompiledModel, packed: AlignedBuffer, weights: WeightSet) {
        (graph, batch, threads, kernels, plan, quantization) = (model.graph, model.batch, model.threads, model.kernels, model.plan, model.quantization)
        (self.packed, self.weights, groupBudgetBytes) = (packed, weights, model.groupBudgetBytes)
    }

    /// NCHW shape of the input a run takes.
    public var inputShape: [Int] {
        let s = graph.inputShape
        return [batch, s.channels, s.height, s.width]
    }

    /// NCHW shape of the output a run returns.
    public var outputShape: [Int] {
        let s = graph.outputShape
        return [batch, s.channels, s.height, s.width]
    }

    /// The convolutions that run in int8 (an int8 model's others run in float32: the stem, whose input
    /// can be negative, squeeze-excite and the head, and any convolution the calibration did not cover).
    public var int8Layers: [String] {
        plan.steps.indices.filter { plan.steps[$0].runsInt8 }.map { graph.nodes[plan.stepNodes[$0]].name }
    }

    /// Bytes of activation memory one run uses (buffers shared by liveness), with the workers' scratch.
    public var arenaBytes: Int { plan.arenaBytes }
    /// Bytes the activations and the steps' scratch would take if no buffer were reused.
    public var unplannedActivationBytes: Int { plan.unplannedBytes }
    /// Bytes of packed, folded weights.
    public var weightBytes: Int { packed.byteCount }
    /// Number of fused steps.
    public var stepCount: Int { plan.steps.count }
    /// Number of steps run over groups of images smaller than the batch (so activations stay in cache).
    public var groupedStepCount: Int { plan.segments.filter { $0.imagesPerGroup < batch }.reduce(0) { $0 + $1.steps.count } }
    /// Number of steps run one image at a time.
    public var perImageStepCount: Int { plan.segments.filter { $0.imagesPerGroup == 1 && batch > 1 }.reduce(0) { $0 + $1.steps.count } }

    /// Runs the network on `input` (NCHW float32: whole images of `inputShape`'s C×H×W, any number of
    /// them) and returns the output (NCHW, `outputShape` with that many images).
    public func run(_ input: [Float]) throws(ExecutorError) -> [Float] {
        let perImage = inputShape.dropFirst().reduce(1, *)
        if input.count != perImage * batch, input.count > 0, input.count % perImage == 0 {
            return try forBatch(input.count / perImage).run(input, timings: nil)
        }
        return try run(input, timings: nil)
    }

    /// Runs the network on an NCHW tensor of any number of images of `inputShape`'s C×H×W.
    public func run(_ input: Tensor) throws(ExecutorError) -> Tensor {
        guard input.shape.count == 4, input.shape[0] >= 1, Array(input.shape.dropFirst()) == Array(inputShape.dropFirst()) else {
            throw ExecutorError(.inputShape(expected: inputShape, got: input.shape), "input has shape \(input.shape); the model takes N×\(inputShape.dropFirst().map(String.init).joined(separator: "×")) (any N)")
        }
        let model = try forBatch(input.shape[0])
        return Tensor(shape: model.outputShape, scalars: try model.run(input.scalars, timings: nil))
    }

    /// `model(input)`: runs the network on an NCHW tensor of `inputShape` (build one with
    /// `Tensor(shape: model.inputShape, scalars: values)`, image after image, channel planes in
    /// order) and returns the NCHW output of `outputShape` — for a classifier `[N, classes, 1, 1]`,
    /// so `output.scalars[n * classes + k]` is image n's logit k.
    public func callAsFunction(_ input: Tensor) throws(ExecutorError) -> Tensor {
        try run(input)
    }

    /// Time per step over `iterations` runs (after one warm-up), with each step's name and multiply-adds.
    public func profile(_ input: [Float], iterations: Int) throws(ExecutorError) -> [StepProfile] {
        var seconds = [Double](repeating: 0, count: plan.steps.count)
        _ = try run(input, timings: nil)
        for _ in 0..<max(1, iterations) {
            var times = [Double](repeating: 0, count: plan.steps.count)
            _ = try run(input, timings: &times)
            for i in times.indices { seconds[i] += times[i] }
        }
        return plan.steps.indices.map { i in
            let node = graph.nodes[plan.stepNodes[i]]
            return StepProfile(name: node.name, kind: profileKind(of: node), seconds: seconds[i] / Double(max(1, iterations)),
                        flops: plan.stepFlops[i])
        }
    }

    /// Runs the network on `input`, calling `observe(value, images, arena)` after each step with the value
    /// it wrote, for calibration.
    func run(_ input: [Float], observe: (Int, Range<Int>, UnsafeMutablePointer<Float>) -> Void) throws(ExecutorError) {
        try withoutActuallyEscaping(observe) { (o) throws(ExecutorError) in _ = try run(input, timings: nil, observe: o) }
    }

    private func run(_ input: [Float], timings: UnsafeMutablePointer<[Double]>?,
                     observe: ((Int, Range<Int>, UnsafeMutablePointer<Float>) -> Void)? = nil) throws(ExecutorError) -> [Float] {
        let expected = inputShape.reduce(1, *)
        guard input.count == expected else {
            throw ExecutorError(.inputShape(expected: inputShape, got: [input.count]), "input has \(input.count) values, the model takes whole images of \(inputShape.dropFirst().map(String.init).joined(separator: "×")) = \(expected / batch) values (\(expected) for its batch of \(batch))")
        }
        // NaN or ±inf in the input would come out as plausible logits (ReLU's max drops NaN): refuse it.
        if let bad = input.firstIndex(where: { !$0.isFinite }) {
            let s = inputShape, plane = s[2] * s[3]
            throw ExecutorError(.nonFiniteInput(index: bad), "input value \(bad) (image \(bad / (s[1] * plane)), channel \(bad / plane % s[1]), y \(bad % plane / s[3]), x \(bad % s[3])) is \(input[bad]); inputs must be finite")
        }
        let arena = spareArenas.withLock { $0.popLast() } ?? AlignedBuffer(bytes: arenaBytes)
        defer { spareArenas.withLock { $0.append(arena) } }
        // A run from another thread may hold the shared pool; then this run goes alone rather than wait.
        let shared = WorkerPool.shared(threads: threads)
        let pool = shared.tryAcquire() ? shared : WorkerPool.shared(threads: 1)
        defer { if pool === shared { shared.release() } }
        let base = arena.base, plan = self.plan
        let context = InferenceContext(layouts: plan.layouts, kernels: kernels, arena: base, weights: UnsafePointer(packed.base),
                                       workerScratch: (base, 0))
        input.withUnsafeBufferPointer { source in
            let src = source.baseAddress!
            pool.run { worker, workers in
                LayoutConversion.importNCHW(src, into: plan.layouts[plan.inputValue], images: 0..<plan.batch, arena: base,
                                          worker: worker, workers: workers)
            }
        }
        for segment in plan.segments {
            let groups = stride(from: 0, to: plan.batch, by: segment.imagesPerGroup).map { $0..<min($0 + segment.imagesPerGroup, plan.batch) }
            for images in groups {
                for i in segment.steps {
                    let step = plan.steps[i]
                    let stepContext = context.with(scratch: plan.stepScratch[i])
                    let start = timings == nil ? 0 : DispatchTime.now().uptimeNanoseconds
                    func execute(_ worker: Int, _ workers: Int) { step.run(stepContext, images: images, worker: worker, workers: workers) }
                    if plan.runsSerially[i] { execute(0, 1) } else { pool.run(execute) }
                    if let timings { timings.pointee[i] += Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9 }
                    observe?(step.output, images, base)
                }
            }
        }
        let count = outputShape.reduce(1, *)
        return [Float](unsafeUninitializedCapacity: count) { buffer, initialized in
            LayoutConversion.exportNCHW(plan.layouts[plan.outputValue], batch: plan.batch, arena: base, into: buffer.baseAddress!)
            initialized = count
        }
    }
}

/// Time and work of one fused step, from `CompiledModel.profile`.
public struct StepProfile: Sendable, Hashable, Codable {
    /// Name of the step's first IR node (`s2.b1.conv2.conv`).
    public var name: String
    /// Layer kind (`conv1x1`, `conv3x3`, `stem`, `se`, `linear`, `pool`, `elementwise`).
    public var kind: String
    /// Mean seconds per run.
    public var seconds: Double
    /// Multiply-adds per run (whole batch).
    public var flops: Int
}
