import Dispatch
import Executor
import NetworkIR
import Weights

/// A graph compiled for training at one batch size: a training-mode operation per node, the values
/// each backward pass reads kept alive until then, gradient buffers where a gradient flows, which
/// gradients are written and which accumulated, and scratch sized to the largest operation.
///
/// Values and gradients share one arena: on a timeline where node i's forward runs at time i, the
/// loss at N and node i's backward at 2N − i, each buffer lives from its first write to its last read,
/// and buffers whose lifetimes do not overlap share memory (`placeBuffers`, the inference planner's
/// placement).
///
/// This is the training compiler: each node's training-mode operation comes from its kind's
/// `OperationDefinition`, the definitions the inference compiler (`PlanCompiler`) lowers too.
final class TrainingPlan: @unchecked Sendable {
    let graph: Graph
    let batch: Int
    let store: ParameterStore
    let operations: [(any TrainingOperation)?]
    /// Nodes whose gradient reaches the loss (the backward runs for these only).
    let onGradientPath: [Bool]
    /// Per node and input slot: add into that input's gradient (another consumer wrote it first).
    let accumulate: [[Bool]]
    let arena: AlignedBuffer
    /// Byte offsets in the arena of each node's value and, where one flows, its gradient.
    let valueOffsets: [Int]
    let gradOffsets: [Int?]
    let scratch: [AlignedBuffer]
    /// Bytes of the arena (activations and gradients) and scratch.
    let activationBytes: Int

    init(graph: Graph, batch: Int, store: ParameterStore, momentum: Float) throws(TrainingError) {
        self.graph = graph
        self.batch = batch
        self.store = store
        let compilation = TrainingCompilation(graph: graph, momentum: momentum) { id, role in
            graph.parameterName(id, role).map(store.offset)
        }
        var operations: [(any TrainingOperation)?] = [nil]
        for id in graph.nodes.indices.dropFirst() {
            do { operations.append(try compilation.operation(for: id)) } catch { throw TrainingError(.invalidNetwork, error.message) }
        }
        // Fusion: an operation whose only reader is a ReLU computes the ReLU too when it can
        // (`ReLUFusing`); its own output and gradient are never stored, and the ReLU has no operation.
        let consumers = graph.consumers
        var absorbed = Set<NodeIndex>()
        for (id, op) in operations.enumerated() {
            guard var op = op as? any ReLUFusing, id != graph.output, consumers[id].count == 1 else { continue }
            let next = consumers[id][0]
            guard graph.nodes[next].operation == .unary(.relu), operations[next] != nil else { continue }
            op.fusedReLU = next
            operations[id] = op
            operations[next] = nil
            absorbed.insert(id)
        }
        self.operations = operations
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
        var gradSpan = [(Int, Int)?](repeating: nil, count: count)
        for id in graph.nodes.indices where !absorbed.contains(id) {
            if let start = gradStart[id] { gradSpan[id] = (start, max(gradEnd[id], start)) }
        }
        // Every value and gradient is float32; sizes are in bytes, as the placement works.
        let element = ElementType.float32.byteCount
        var requests: [(size: Int, span: (Int, Int))] = graph.nodes.enumerated().map { id, node in
            (absorbed.contains(id) ? 0 : node.shape.elementCount * batch * element, valueSpan[id])
        }
        var gradRequest = [Int?](repeating: nil, count: count)
        for id in graph.nodes.indices { if let span = gradSpan[id] { gradRequest[id] = requests.count; requests.append((graph.nodes[id].shape.elementCount * batch * element, span)) } }
        // 128 bytes of slack after each buffer: kernels read whole vectors past a buffer's end.
        let (offsets, arenaBytes) = placeBuffers(sizes: requests.map { $0.size + 128 }, spans: requests.map { ($0.span.0, $0.span.1) })
        var needs = ScratchNeeds()
        for op in operations { if let op { needs.formMax(op.scratch(batch: batch)) } }
        do {
            try MemoryBudget.check(arenaBytes + element * (needs.slots.reduce(0, +) + 4 * store.count),
                                   for: "training \(graph.name) on batches of \(batch) (activations, gradients, scratch, parameters)")
        } catch {
            throw TrainingError(.tooLarge, error.message)
        }
        arena = AlignedBuffer(bytes: arenaBytes)
        valueOffsets = Array(offsets[0..<count])
        gradOffsets = gradRequest.map { $0.map { offsets[$0] } }

        scratch = needs.slots.map { AlignedBuffer(floats: $0) }
        activationBytes = arenaBytes + scratch.reduce(0) { $0 + $1.byteCount }
    }

    /// Node `id`'s value in the arena.
    func value(_ id: NodeIndex) -> UnsafeMutablePointer<Float> { arena.base + valueOffsets[id] / ElementType.float32.byteCount }
    /// Node `id`'s gradient in the arena, when one flows.
    func grad(_ id: NodeIndex) -> UnsafeMutablePointer<Float>? { gradOffsets[id].map { arena.base + $0 / ElementType.float32.byteCount } }

    /// The batch-norm operations, in node order.
    var batchNorms: [BatchNormOperation] { operations.compactMap { $0 as? BatchNormOperation } }

    /// What the operations are handed for one step; `randomSeed` seeds that step's dropout masks.
    func context(pool: WorkerPool, kernels: KernelSet, randomSeed: UInt64) -> StepContext {
        StepContext(batch: batch, pool: pool, kernels: kernels,
                    values: graph.nodes.indices.map(value), grads: graph.nodes.indices.map(grad), parameters: store.values.base,
                    parameterGrads: store.grads.base, scratch: scratch.map(\.base), randomSeed: randomSeed)
    }

    /// Runs every operation's forward pass; with `timings`, adds each node's seconds to it.
    func forward(_ c: StepContext, timings: UnsafeMutablePointer<[Double]>? = nil) {
        for op in operations {
            guard let op else { continue }
            let start = timings == nil ? 0 : DispatchTime.now().uptimeNanoseconds
            op.forward(c)
            if let timings { timings.pointee[op.node] += Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9 }
        }
    }

    /// Runs the backward passes in reverse order (the output's gradient must be in place); with
    /// `timings`, adds each node's seconds to it.
    func backward(_ c: StepContext, timings: UnsafeMutablePointer<[Double]>? = nil) {
        for op in operations.reversed() {
            guard let op, onGradientPath[op.node] else { continue }
            let start = timings == nil ? 0 : DispatchTime.now().uptimeNanoseconds
            op.backward(c, accumulate: accumulate[op.node])
            if let timings { timings.pointee[op.node] += Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9 }
        }
    }
}
