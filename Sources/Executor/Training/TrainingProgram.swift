import Dispatch
import NetworkIR
import Weights
internal import Kernels

/// A graph compiled for training at one batch size: a training-mode operation per node (from its
/// kind's definition, the definitions the inference compiler lowers too), the values each backward
/// pass reads kept alive until then, gradient buffers where a gradient flows, which gradients are
/// written and which accumulated, every operation's declared scratch and state, and the parameter
/// store. An optimizer drives it through `forward`, `backward`, `parameters` and the batch-norm
/// statistics; nothing outside reaches into the operations.
///
/// Values, gradients and scratch share one arena: on a timeline where node i's forward runs at time
/// i, the loss at N and node i's backward at 2N − i, each buffer lives from its first write to its
/// last read — scratch only while its pass runs — and buffers whose lifetimes do not overlap share
/// memory (`placeBuffers`, the inference planner's placement).
///
/// A step gives the same results for any thread count: every reduction runs over fixed chunks in a
/// fixed order. A program is used from one task at a time; its passes use the shared worker threads.
public final class TrainingProgram: @unchecked Sendable {
    /// The graph being trained.
    public let graph: Graph
    /// Images per pass.
    public let batch: Int
    /// Worker threads per pass.
    public let threads: Int
    /// The micro-kernels.
    public let kernels: KernelSet
    /// The arithmetic of convolutions and linear layers: float32, or bf16 operands with float32
    /// accumulation (PyTorch autocast's mixed precision; everything else stays float32).
    public let precision: Precision
    /// The bf16 kernels when `precision` is bf16.
    private let bfloat16: BFloat16Arithmetic?
    /// Every tensor the graph declares, with gradient and momentum buffers.
    public let parameters: ParameterStore

    let operations: [(any TrainingOperation)?]
    /// The operations that track running statistics (batch norms), in node order.
    private let trackers: [any TracksRunningStatistics]
    /// Nodes whose gradient reaches the loss (the backward runs for these only).
    let onGradientPath: [Bool]
    /// Per node and input slot: add into that input's gradient (another consumer wrote it first).
    let accumulate: [[Bool]]
    private let arena: AlignedBuffer
    /// Each node's value and, where one flows, its gradient, in the arena.
    private let valuePointers: [UnsafeMutablePointer<Float>]
    /// Per node: whether its value and its gradient are stored as bf16 (`StepContext.storedAsBFloat16`,
    /// `StepContext.gradientStoredAsBFloat16`).
    let storedAsBFloat16: [Bool], gradientStoredAsBFloat16: [Bool]
    private let gradientPointers: [UnsafeMutablePointer<Float>?]
    /// Per node: its forward's and its backward's scratch pieces by name.
    private let scratchPieces: [(forward: [String: (base: UnsafeMutablePointer<Float>, stride: Int)],
                                 backward: [String: (base: UnsafeMutablePointer<Float>, stride: Int)])]
    /// Per node: its declared state, kept from its forward to the end of the step.
    private let state: AlignedBuffer
    private let stateOffsets: [Int]
    /// Bytes of the arena (activations, gradients, scratch) and of the operations' state.
    public let activationBytes: Int
    /// The dropout seed of the last forward pass (the backward recomputes its masks).
    private var seed: UInt64 = 0
    /// Seconds per node of the forward and backward passes since `timings` was set (nil: not timed).
    public var timings: (forward: [Double], backward: [Double])?

    /// Whether `kernels` can train in `precision` on this CPU (`unavailability` says why not).
    public static func supports(_ precision: Precision, kernels: KernelSet) -> Bool {
        unavailability(of: precision, kernels: kernels) == nil
    }

    /// Why `kernels` cannot train in `precision` on this CPU, or nil when they can: bf16 needs bf16 dot
    /// products that are faster than float32 here (AVX-512 BF16, on AMD CPUs; see `BFloat16Arithmetic`);
    /// int8 is an inference precision.
    public static func unavailability(of precision: Precision, kernels: KernelSet) -> String? {
        switch precision {
        case .float32: nil
        case .bfloat16: BFloat16Arithmetic.unavailability(kernels)
        case .int8: "int8 is an inference precision: train in fp32 or bf16"
        }
    }

    /// Compiles `graph` for batches of `batch` images on `threads` workers with `kernels`, multiplying in
    /// `precision` (`supports` must allow it); batch norms move their running statistics by
    /// `batchNormMomentum` (PyTorch's convention). In bf16, values only bf16 GEMMs read are stored as
    /// bf16 (half the memory and traffic, the same results: the GEMMs round what they read to bf16
    /// anyway) unless `bfloat16Storage` is false (tests compare the two).
    public convenience init(graph: Graph, batch: Int, threads: Int, kernels: KernelSet, batchNormMomentum: Float,
                            precision: Precision = .float32) throws(ExecutorError) {
        try self.init(graph: graph, batch: batch, threads: threads, kernels: kernels, batchNormMomentum: batchNormMomentum,
                      precision: precision, bfloat16Storage: true)
    }

    init(graph: Graph, batch: Int, threads: Int, kernels: KernelSet, batchNormMomentum: Float, precision: Precision,
         bfloat16Storage: Bool) throws(ExecutorError) {
        if let reason = Self.unavailability(of: precision, kernels: kernels) { throw ExecutorError(.invalidArgument, reason) }
        self.graph = graph
        self.batch = batch
        self.threads = threads
        self.kernels = kernels
        self.precision = precision
        bfloat16 = precision == .bfloat16 ? BFloat16Arithmetic(kernels) : nil
        let store = ParameterStore(graph: graph)
        parameters = store
        let compilation = TrainingCompilation(graph: graph, momentum: batchNormMomentum, bfloat16: precision == .bfloat16) { id, role in
            store.offset(of: id, role)
        }
        // The training rewrites (a ReLU computed by the batch norm or sum before it), then one
        // operation per node that computes itself; a node taken in has no operation.
        let fused = FusedGraph(graph, passes: Rewrites.training)
        var operations: [(any TrainingOperation)?] = [nil]
        for id in graph.nodes.indices.dropFirst() {
            operations.append(fused.computesItself(id) ? try compilation.operation(for: id, fused.fusions[id]) : nil)
        }
        // A node whose operation writes a later node's value (its result) stores neither value nor gradient.
        let absorbed = Set(graph.nodes.indices.filter { fused.computesItself($0) && fused.fusions[$0].result != $0 })
        self.operations = operations
        trackers = operations.compactMap { $0 as? any TracksRunningStatistics }
        let count = graph.nodes.count
        var onPath = [Bool](repeating: false, count: count)
        onPath[graph.output] = true
        for id in graph.nodes.indices.reversed() where onPath[id] { for input in graph.nodes[id].inputs { onPath[input] = true } }
        onPath[0] = false
        onGradientPath = onPath
        var written = Set<NodeID>(), accumulate = Array(repeating: [Bool](), count: count)
        for id in graph.nodes.indices.reversed() where onPath[id] && operations[id] != nil {
            accumulate[id] = graph.nodes[id].inputs.map { input in
                defer { written.insert(input) }
                return written.contains(input)
            }
        }
        self.accumulate = accumulate

        // Lifetimes on the timeline: forward of node i at i, loss at N, backward of node i at 2N − i.
        let n = count, loss = n
        func backwardTime(_ id: Int) -> Int { 2 * n - id }
        // A value lives from the forward that writes it (a fused operation writes its successor's
        // value early) to its last reader; a gradient from its first writer to its last reader.
        var valueSpan = graph.nodes.indices.map { ($0, $0) }
        var gradStart = [Int?](repeating: nil, count: count), gradEnd = [Int](repeating: 0, count: count)
        for (id, node) in graph.nodes.enumerated() {
            guard let op = operations[id] else { continue }
            valueSpan[op.result].0 = min(valueSpan[op.result].0, id)
            for input in node.inputs { valueSpan[input].1 = max(valueSpan[input].1, id) }
            guard onPath[id] else { continue }
            for saved in op.savedForBackward { valueSpan[saved].1 = max(valueSpan[saved].1, backwardTime(id)) }
            gradEnd[op.result] = max(gradEnd[op.result], backwardTime(id))
            for input in node.inputs where onPath[input] { gradStart[input] = min(gradStart[input] ?? .max, backwardTime(id)) }
        }
        valueSpan[graph.output].1 = max(valueSpan[graph.output].1, loss)
        gradStart[graph.output] = loss
        // bf16 values: results their operation can write as bf16 and only operations that read bf16 read.
        var producer = [(any TrainingOperation)?](repeating: nil, count: count), readers = [[NodeIndex]](repeating: [], count: count)
        for op in operations { if let op { producer[op.result] = op } }
        for (id, node) in graph.nodes.enumerated() { for input in node.inputs { readers[input].append(id) } }
        let storedAsBFloat16 = graph.nodes.indices.map { id in
            guard precision == .bfloat16, bfloat16Storage, id != graph.output, !absorbed.contains(id), producer[id]?.writesBFloat16 == true,
                  !readers[id].isEmpty else { return false }
            return readers[id].allSatisfy { operations[$0]?.readsBFloat16(id) == true }
        }
        self.storedAsBFloat16 = storedAsBFloat16
        // bf16 gradients: the gradient of a result a bf16 GEMM computes, written alone by an operation that can write bf16.
        let gradientStoredAsBFloat16 = graph.nodes.indices.map { id in
            guard precision == .bfloat16, bfloat16Storage, onPath[id], id != graph.output, !absorbed.contains(id),
                  producer[id]?.readsBFloat16Gradient == true, readers[id].count == 1 else { return false }
            return operations[readers[id][0]]?.writesBFloat16Gradient == true
        }
        self.gradientStoredAsBFloat16 = gradientStoredAsBFloat16
        // Gradients are float32, values float32 or bf16; sizes are in bytes, as the placement works. Each
        // buffer keeps at least 128 bytes of slack (kernels read whole vectors past a buffer's end), a value
        // what its readers declare they may read past it.
        let element = ElementType.float32.byteCount
        var overRead = [Int](repeating: 128, count: count)
        for op in operations { for (node, bytes) in op?.overRead(kernels: kernels) ?? [:] { overRead[node] = max(overRead[node], bytes) } }
        var sizes: [Int] = [], spans: [(from: Int, to: Int)] = []
        func request(_ bytes: Int, _ span: (Int, Int), slack: Int = 128) -> Int {
            sizes.append(bytes + slack)
            spans.append(span)
            return sizes.count - 1
        }
        let valueRequests = graph.nodes.enumerated().map { id, node in
            request(absorbed.contains(id) ? 0 : node.shape.elementCount * batch * (storedAsBFloat16[id] ? 2 : element), valueSpan[id],
                    slack: overRead[id])
        }
        let gradRequests = graph.nodes.indices.map { id -> Int? in
            guard !absorbed.contains(id), let start = gradStart[id] else { return nil }
            return request(graph.nodes[id].shape.elementCount * batch * (gradientStoredAsBFloat16[id] ? 2 : element), (start, max(gradEnd[id], start)))
        }
        // Scratch: alive at its pass's time only; per-worker pieces once per worker.
        let scratchRequests = operations.enumerated().map { id, op -> [(ScratchRequest, Int)] in
            (op?.scratch(batch: batch, kernels: kernels) ?? []).map { r in
                let time = r.pass == .forward ? id : backwardTime(id)
                return (r, request(r.floats * (r.perWorker ? threads : 1) * element, (time, time)))
            }
        }
        let (offsets, arenaBytes) = placeBuffers(sizes: sizes, spans: spans)
        var stateOffsets: [Int] = [], stateFloats = 0
        for op in operations {
            stateOffsets.append(stateFloats)
            stateFloats += ((op?.stateFloats ?? 0) + 15) / 16 * 16
        }
        do {
            try MemoryBudget.check(arenaBytes + element * (stateFloats + 4 * store.count),
                                   for: "training \(graph.name) on batches of \(batch) (activations, gradients, scratch, parameters)")
        } catch {
            throw ExecutorError(.tooLarge, error.message)
        }
        arena = AlignedBuffer(bytes: arenaBytes)
        state = AlignedBuffer(floats: stateFloats)
        self.stateOffsets = stateOffsets
        let base = arena.base
        valuePointers = valueRequests.map { base + offsets[$0] / element }
        gradientPointers = gradRequests.map { $0.map { base + offsets[$0] / element } }
        scratchPieces = scratchRequests.map { requests in
            var forward: [String: (base: UnsafeMutablePointer<Float>, stride: Int)] = [:], backward = forward
            for (r, i) in requests {
                let piece = (base + offsets[i] / element, r.floats)
                if r.pass == .forward { forward[r.name] = piece } else { backward[r.name] = piece }
            }
            return (forward, backward)
        }
        activationBytes = arenaBytes + state.byteCount
    }

    /// Whether node `id` multiplies bf16 operands (in a bf16 program, the layers where bf16 pays).
    public func multipliesBFloat16(_ id: NodeID) -> Bool { operations[id]?.bfloat16 ?? false }

    /// Node `id`'s value in the arena (NHWC, `batch` images).
    func value(_ id: NodeIndex) -> UnsafeMutablePointer<Float> { valuePointers[id] }
    /// Node `id`'s gradient in the arena, when one flows.
    func grad(_ id: NodeIndex) -> UnsafeMutablePointer<Float>? { gradientPointers[id] }

    /// What operation `id` is handed for its forward or backward pass on `pool`.
    func context(_ id: NodeIndex, backward: Bool, pool: WorkerPool) -> StepContext {
        StepContext(batch: batch, pool: pool, kernels: kernels, training: kernels.training, bfloat16: bfloat16, arena: arena.base,
                    values: valuePointers, storedAsBFloat16: storedAsBFloat16, grads: gradientPointers,
                    gradientStoredAsBFloat16: gradientStoredAsBFloat16,
                    parameters: parameters.values.base, parameterGrads: parameters.gradients.base, state: state.base + stateOffsets[id],
                    scratchPieces: backward ? scratchPieces[id].backward : scratchPieces[id].forward, randomSeed: seed)
    }

    /// The shared workers for one pass, or one thread when another pass (another program, a model)
    /// is using them.
    func withPool<T>(_ body: (WorkerPool) -> T) -> T {
        let shared = WorkerPool.shared(threads: threads)
        let pool = shared.tryAcquire() ? shared : WorkerPool.shared(threads: 1)
        defer { if pool === shared { shared.release() } }
        return body(pool)
    }

    /// Runs the forward pass in train mode on `images` (NCHW float32, `batch` images of the graph's
    /// input shape; checked by the caller), with dropout masks drawn from `seed`. Returns the logits,
    /// [batch][classes], valid until the next pass.
    public func forward(images: [Float], seed: UInt64) -> UnsafeBufferPointer<Float> {
        self.seed = seed
        importImages(images)
        withPool { pool in
            for op in operations {
                guard let op else { continue }
                let start = timings == nil ? 0 : DispatchTime.now().uptimeNanoseconds
                op.forward(context(op.node, backward: false, pool: pool))
                if timings != nil { timings!.forward[op.node] += Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9 }
            }
        }
        return UnsafeBufferPointer(start: value(graph.output), count: batch * graph.outputShape.elementCount)
    }

    /// Runs the backward passes from `outputGradient` (the loss's gradient with respect to the logits
    /// of the last forward pass): every learned tensor's gradient lands in `parameters.gradients`.
    public func backward(outputGradient: [Float]) {
        precondition(outputGradient.count == batch * graph.outputShape.elementCount, "one gradient per logit")
        outputGradient.withUnsafeBufferPointer { grad(graph.output)!.update(from: $0.baseAddress!, count: $0.count) }
        withPool { pool in
            for op in operations.reversed() {
                guard let op, onGradientPath[op.node] else { continue }
                let start = timings == nil ? 0 : DispatchTime.now().uptimeNanoseconds
                op.backward(context(op.node, backward: true, pool: pool), accumulate: accumulate[op.node])
                if timings != nil { timings!.backward[op.node] += Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9 }
            }
        }
    }

    /// NCHW images into the NHWC input value.
    private func importImages(_ images: [Float]) {
        let s = graph.inputShape, plane = s.height * s.width, destination = value(0)
        precondition(images.count == batch * s.elementCount, "a batch of \(batch) images of \(s)")
        images.withUnsafeBufferPointer { src in
            for n in 0..<batch {
                for c in 0..<s.channels {
                    let from = src.baseAddress! + (n * s.channels + c) * plane
                    let to = destination + n * plane * s.channels + c
                    for p in 0..<plane { to[p * s.channels] = from[p] }
                }
            }
        }
    }

    /// Runs `body(range)` over `count` items split among the program's workers (an optimizer's
    /// element-wise update: any split gives the same results).
    public func parallel(_ count: Int, _ body: (Range<Int>) -> Void) {
        withPool { pool in pool.run { worker, workers in body(share(count, worker, workers)) } }
    }

    // MARK: Batch-norm statistics

    /// One batch norm's statistics from the last forward pass, and where its running statistics live.
    public struct BatchStatistics: Sendable {
        /// The batch norm's node.
        public var node: NodeID
        /// The batch's per-channel mean and unbiased variance.
        public var mean: [Float], variance: [Float]
        /// Offsets of the running mean and running variance in the parameter store.
        public var runningMean: Int, runningVariance: Int
    }

    /// The statistics of every batch norm in the last forward pass, in node order (precise statistics
    /// average them over batches).
    public var batchStatistics: [BatchStatistics] {
        trackers.map { bn in
            let (mean, variance) = bn.batchStatistics(state: state.base + stateOffsets[bn.node])
            return BatchStatistics(node: bn.node, mean: Array(mean), variance: Array(variance), runningMean: bn.runningMean,
                                   runningVariance: bn.runningVar)
        }
    }

    /// A running statistic the last batch would make non-finite: the batch norm, channel, which
    /// statistic and the value it would get; nil when every one stays finite.
    public func runningStatisticsOverflow() -> (node: NodeID, channel: Int, statistic: String, value: Float)? {
        for bn in trackers {
            let values = parameters.values.base
            if let bad = bn.updatedRunningStatistics(values, state: state.base + stateOffsets[bn.node]).first(where: { !$0.mean.isFinite || !$0.variance.isFinite }) {
                return bad.mean.isFinite ? (bn.node, bad.channel, "variance", bad.variance) : (bn.node, bad.channel, "mean", bad.mean)
            }
        }
        return nil
    }

    /// Moves every running statistic towards the last batch's (once per step, after the step is known
    /// to be finite), by the batch-norm momentum.
    public func updateRunningStatistics() {
        for bn in trackers {
            let values = parameters.values.base
            for update in bn.updatedRunningStatistics(values, state: state.base + stateOffsets[bn.node]) {
                values[bn.runningMean + update.channel] = update.mean
                values[bn.runningVar + update.channel] = update.variance
            }
        }
    }
}

/// An operation that tracks running statistics of its batches (batch norm): its state holds the last
/// batch's, which `TrainingProgram` reports and folds into the running estimates.
protocol TracksRunningStatistics: TrainingOperation {
    /// Offsets of the running mean and variance in the parameter store.
    var runningMean: Int { get }
    var runningVar: Int { get }
    /// The last batch's mean and unbiased variance, from the operation's state.
    func batchStatistics(state: UnsafePointer<Float>) -> (mean: UnsafeBufferPointer<Float>, variance: UnsafeBufferPointer<Float>)
    /// Every channel's running mean and variance after moving towards the last batch's.
    func updatedRunningStatistics(_ parameters: UnsafePointer<Float>, state: UnsafePointer<Float>) -> [(channel: Int, mean: Float, variance: Float)]
}
