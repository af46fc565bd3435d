import Executor
import Kernels
import NetworkIR

/// A graph compiled for training at one batch size: a training-mode operation per node, every node's
/// value (kept for the backward), gradient buffers where a gradient flows, which gradients are
/// written and which accumulated, and scratch sized to the largest operation.
///
/// This is the training compiler; the inference compiler (`CompiledModel`) reads the same graph.
final class TrainingPlan: @unchecked Sendable {
    let graph: Graph
    let batch: Int
    let store: ParameterStore
    let operations: [(any TrainingOperation)?]
    let values: [FloatBuffer]
    let grads: [FloatBuffer?]
    /// Per node and input slot: add into that input's gradient (another consumer wrote it first).
    let accumulate: [[Bool]]
    let scratch: [FloatBuffer]
    /// Bytes of activations, gradients and scratch the plan holds.
    let activationBytes: Int

    init(graph: Graph, batch: Int, store: ParameterStore, momentum: Float) throws(TrainingError) {
        self.graph = graph
        self.batch = batch
        self.store = store
        var operations: [(any TrainingOperation)?] = [nil]
        for (id, node) in graph.nodes.enumerated() where id > 0 {
            operations.append(try Self.operation(for: node, id: id, graph: graph, store: store, momentum: momentum))
        }
        self.operations = operations
        values = graph.nodes.map { FloatBuffer(count: $0.shape.elementCount * batch) }
        grads = graph.nodes.indices.map { $0 == 0 ? nil : FloatBuffer(count: graph.nodes[$0].shape.elementCount * batch) }
        var written = Set<NodeID>(), accumulate = Array(repeating: [Bool](), count: graph.nodes.count)
        for id in graph.nodes.indices.reversed() {
            accumulate[id] = graph.nodes[id].inputs.map { input in
                defer { written.insert(input) }
                return written.contains(input)
            }
        }
        self.accumulate = accumulate
        var needs = ScratchNeeds()
        for op in operations { if let op { needs.formMax(op.scratch(batch: batch)) } }
        scratch = [needs.a, needs.b, needs.c, needs.d, needs.w].map { FloatBuffer(count: $0) }
        activationBytes = 4 * (values.reduce(0) { $0 + $1.count } + grads.reduce(0) { $0 + ($1?.count ?? 0) }
            + scratch.reduce(0) { $0 + $1.count })
    }

    /// The training-mode operation of `node`: the one place that maps IR operations to their training definitions.
    static func operation(for node: Node, id: NodeID, graph: Graph, store: ParameterStore, momentum: Float) throws(TrainingError) -> any TrainingOperation {
        let input = node.inputs.first ?? 0
        let inShape = graph.nodes[input].shape
        let pixels = node.shape.height * node.shape.width
        switch node.operation {
        case .convolution(let conv):
            let bias = conv.bias ? store.offset("\(node.name).bias") : nil
            if conv.kernel == 1, conv.padding == 0, conv.groups == 1 {
                return PointwiseOperation(node: id, input: input, inShape: inShape, outChannels: conv.outChannels, stride: conv.stride,
                                          channelMajorFeatures: false, weight: store.offset("\(node.name).weight"), bias: bias)
            }
            return ConvolutionOperation(node: id, input: input, conv: conv, inShape: inShape, outShape: node.shape,
                                        weight: store.offset("\(node.name).weight"), bias: bias)
        case .linear(_, let outFeatures, let hasBias):
            return PointwiseOperation(node: id, input: input, inShape: inShape, outChannels: outFeatures, stride: 1,
                                      channelMajorFeatures: true, weight: store.offset("\(node.name).weight"),
                                      bias: hasBias ? store.offset("\(node.name).bias") : nil)
        case .batchNorm(let channels, let epsilon):
            return BatchNormOperation(node: id, input: input, channels: channels, pixels: pixels, epsilon: epsilon, momentum: momentum,
                                      gamma: store.offset("\(node.name).weight"), beta: store.offset("\(node.name).bias"),
                                      runningMean: store.offset("\(node.name).running_mean"),
                                      runningVar: store.offset("\(node.name).running_var"))
        case .relu:
            return ReLUOperation(node: id, input: input, count: node.shape.elementCount)
        case .sigmoid:
            return SigmoidOperation(node: id, input: input, count: node.shape.elementCount)
        case .add:
            return AddOperation(node: id, inputs: (node.inputs[0], node.inputs[1]), count: node.shape.elementCount)
        case .channelScale:
            return ChannelScaleOperation(node: id, input: input, scale: node.inputs[1], channels: node.shape.channels, pixels: pixels)
        case .globalAveragePool:
            return GlobalAveragePoolOperation(node: id, input: input, channels: inShape.channels, pixels: inShape.height * inShape.width)
        case .input:
            throw TrainingError("node \(id) (\(node.name)) is a second input; only node 0 may be the input")
        }
    }

    /// The batch-norm operations, in node order.
    var batchNorms: [BatchNormOperation] { operations.compactMap { $0 as? BatchNormOperation } }

    func context(pool: WorkerPool, kernels: KernelSet, training: UnsafePointer<rn_training_kernels>) -> StepContext {
        StepContext(batch: batch, pool: pool, kernels: kernels, training: training,
                    values: values.map(\.base), grads: grads.map { $0?.base }, parameters: store.values.base,
                    parameterGrads: store.grads.base, scratchA: scratch[0].base, scratchB: scratch[1].base,
                    scratchC: scratch[2].base, scratchD: scratch[3].base, scratchW: scratch[4].base)
    }

    /// Runs every operation's forward pass.
    func forward(_ c: StepContext) {
        for op in operations { op?.forward(c) }
    }

    /// Runs the backward passes in reverse order; the output's gradient must be in place.
    func backward(_ c: StepContext) {
        for op in operations.reversed() { if let op { op.backward(c, accumulate: accumulate[op.node]) } }
    }
}
