import NetworkIR
import Weights

/// A graph compiled for one input shape and batch: fused steps, value layouts in one arena, and the
/// packed, batch-norm-folded weights the steps read. Immutable; each run brings its own arena.
struct ExecutionPlan: Sendable {
    var steps: [Step]
    /// How the steps are run: over the whole batch, or over groups of images sized to the cache budget.
    var segments: [StepSegment]
    var layouts: [ValueLayout]
    var inputValue: Int
    var outputValue: Int
    var batch: Int
    /// Floats of activation memory one run needs (every buffer, reused by liveness, plus read slack).
    var arenaFloats: Int
    /// Floats the activations would need without reuse, for reporting.
    var unplannedFloats: Int
    /// Packed weights and biases, addressed by the steps' offsets.
    var packedWeights: [Float]
    /// Node names per step, for profiles.
    var stepNames: [String]
    /// Multiply-adds per step for one batch, for profiles.
    var stepFlops: [Int]
    /// Per step: small enough (per image) to run on one thread.
    var runsSerially: [Bool]
}

extension ExecutionPlan {
    /// Compiles `graph` with `weights` (already validated) for `batch` images and the tile sizes of `kernels`.
    init(graph: Graph, weights: WeightSet, batch: Int, kernels: KernelSet,
         groupBudgetBytes: Double = PlanCompiler.defaultGroupBudgetBytes) throws(ExecutorError) {
        var compiler = PlanCompiler(graph: graph, weights: weights, batch: batch, kernels: kernels)
        compiler.groupBudgetBytes = groupBudgetBytes
        self = try compiler.compile()
    }
}

/// Turns IR nodes into fused steps; see `ExecutionPlan`.
struct PlanCompiler {
    let graph: Graph
    let weights: WeightSet
    let batch: Int
    let kernels: KernelSet
    let consumers: [[NodeID]]
    var groupBudgetBytes = PlanCompiler.defaultGroupBudgetBytes

    var steps: [Step] = []
    var stepNames: [String] = []
    var stepFlops: [Int] = []
    /// Value index of each node whose result a step produces.
    var valueOf: [NodeID: Int] = [:]
    /// Channel-scale nodes folded into the 1x1 convolution that reads them: node → (input, gate).
    var foldedScales: [NodeID: (input: NodeID, gate: NodeID)] = [:]
    var layouts: [ValueLayout] = []
    var packed: [Float] = []

    init(graph: Graph, weights: WeightSet, batch: Int, kernels: KernelSet) {
        self.graph = graph
        self.weights = weights
        self.batch = batch
        self.kernels = kernels
        consumers = graph.consumers
    }

    mutating func compile() throws(ExecutorError) -> ExecutionPlan {
        _ = newValue(for: 0)
        var absorbed = Set<NodeID>()
        for (id, node) in graph.nodes.enumerated() where id > 0 && !absorbed.contains(id) {
            switch node.operation {
            case .convolution(let conv):
                let chain = fuseChain(from: id, allowResidual: conv.kernel == 1 && conv.padding == 0 && conv.groups == 1)
                absorbed.formUnion(chain.members)
                try addConvolution(id: id, conv: conv, chain: chain)
            case .linear(let inFeatures, let outFeatures, let bias):
                let chain = fuseChain(from: id, allowBatchNorm: false, allowResidual: false)
                absorbed.formUnion(chain.members)
                addLinear(id: id, inFeatures: inFeatures, outFeatures: outFeatures, bias: bias, chain: chain)
            case .globalAveragePool:
                let input = try value(node.inputs[0])
                let output = newValue(for: id)
                append(.globalAveragePool(input: input, output: output), name: node.name, flops: 0)
            case .batchNorm(let channels, let epsilon):
                let (scale, shift) = batchNormAffine(node.name, channels: channels, epsilon: epsilon)
                let s = store(scale), t = store(shift)
                try addElementwise(id: id, kind: .affine(scale: s, shift: t))
            case .relu:
                try addElementwise(id: id, kind: .relu)
            case .sigmoid:
                try addElementwise(id: id, kind: .sigmoid)
            case .add:
                try addElementwise(id: id, kind: .add(try value(node.inputs[1])))
            case .channelScale:
                if let c = soleConsumer(id), case .convolution(let conv) = graph.nodes[c].operation,
                   conv.kernel == 1, conv.padding == 0, conv.groups == 1 {
                    foldedScales[id] = (node.inputs[0], node.inputs[1])
                } else {
                    try addElementwise(id: id, kind: .channelScale(try value(node.inputs[1])))
                }
            case .input:
                throw ExecutorError("node \(id) is a second input; only node 0 may be the input")
            }
        }
        let output = try value(graph.output)
        try requirePadding()
        let segments = planSegments()
        let (arena, unplanned) = planMemory(output: output, segments: segments)
        let serial = steps.indices.map { i in
            let bytes = (steps[i].reads + [steps[i].output]).reduce(0) { $0 + layouts[$1].imageStride * 4 }
            return bytes + 4 * stepFlops[i] / batch < serialWorkLimit
        }
        return ExecutionPlan(steps: steps, segments: segments, layouts: layouts, inputValue: 0, outputValue: output, batch: batch,
                             arenaFloats: arena, unplannedFloats: unplanned, packedWeights: packed,
                             stepNames: stepNames, stepFlops: stepFlops, runsSerially: serial)
    }

    // MARK: Fusion

    struct Chain {
        var members: [NodeID]
        var last: NodeID
        var batchNorm: NodeID?
        var residual: NodeID?
        var activation: Activation = .none
    }

    /// The node's only consumer, unless the node is the graph output or is read more than once.
    func soleConsumer(_ id: NodeID) -> NodeID? {
        guard id != graph.output, consumers[id].count == 1 else { return nil }
        return consumers[id][0]
    }

    /// conv → [batch norm] → [add (other operand already computed)] → [relu | sigmoid].
    func fuseChain(from id: NodeID, allowBatchNorm: Bool = true, allowResidual: Bool) -> Chain {
        var chain = Chain(members: [id], last: id)
        if allowBatchNorm, let c = soleConsumer(chain.last), case .batchNorm = graph.nodes[c].operation {
            chain.batchNorm = c
            chain.members.append(c)
            chain.last = c
        }
        if allowResidual, let c = soleConsumer(chain.last), graph.nodes[c].operation == .add {
            let inputs = graph.nodes[c].inputs
            let other = inputs[0] == chain.last ? inputs[1] : inputs[0]
            if other != chain.last, other < id, valueOf[other] != nil {
                chain.residual = other
                chain.members.append(c)
                chain.last = c
            }
        }
        if let c = soleConsumer(chain.last) {
            switch graph.nodes[c].operation {
            case .relu: chain.activation = .relu
            case .sigmoid: chain.activation = .sigmoid
            default: break
            }
            if chain.activation != .none {
                chain.members.append(c)
                chain.last = c
            }
        }
        return chain
    }

    // MARK: Steps

    mutating func addConvolution(id: NodeID, conv: Convolution, chain: Chain) throws(ExecutorError) {
        let node = graph.nodes[id]
        var (w, b) = (tensor("\(node.name).weight"), conv.bias ? tensor("\(node.name).bias") : [Float](repeating: 0, count: conv.outChannels))
        if let bn = chain.batchNorm {
            guard case .batchNorm(let channels, let epsilon) = graph.nodes[bn].operation else { fatalError("chain holds a batch norm") }
            let (scale, shift) = batchNormAffine(graph.nodes[bn].name, channels: channels, epsilon: epsilon)
            let perChannel = w.count / conv.outChannels
            for co in 0..<conv.outChannels {
                for i in 0..<perChannel { w[co * perChannel + i] *= scale[co] }
                b[co] = b[co] * scale[co] + shift[co]
            }
        }
        let folded = foldedScales[node.inputs[0]]
        let input = try value(folded?.input ?? node.inputs[0])
        let inputScale: Int? = try folded.map { (f: (input: NodeID, gate: NodeID)) throws(ExecutorError) in try value(f.gate) }
        let residual: Int? = try chain.residual.map { (r: NodeID) throws(ExecutorError) in try value(r) }
        let output = newValue(for: chain.last)
        let flops = node.operation.complexity(output: node.shape).flops * batch
        if conv.kernel == 1, conv.padding == 0, conv.groups == 1 {
            let (weightsOffset, biasOffset) = packGemm(w, b, k: conv.inChannels, n: conv.outChannels)
            append(.gemm(GemmStep(input: input, output: output, residual: residual, inputScale: inputScale, stride: conv.stride, k: conv.inChannels,
                                  n: conv.outChannels, weights: weightsOffset, bias: biasOffset,
                                  activation: chain.activation, name: node.name)), name: node.name, flops: flops)
        } else {
            let blocks = (conv.outChannelsPerGroup + 15) / 16
            let (weightsOffset, biasOffset) = packConvolution(w, b, conv: conv, blocks: blocks)
            append(.convolution(ConvolutionStep(input: input, output: output, kernel: conv.kernel, stride: conv.stride,
                                                padding: conv.padding, groups: conv.groups, inPerGroup: conv.inChannelsPerGroup,
                                                outPerGroup: conv.outChannelsPerGroup, blocksPerGroup: blocks,
                                                weights: weightsOffset, bias: biasOffset, activation: chain.activation,
                                                name: node.name)), name: node.name, flops: flops)
        }
    }

    mutating func addLinear(id: NodeID, inFeatures: Int, outFeatures: Int, bias: Bool, chain: Chain) {
        let node = graph.nodes[id]
        let w = tensor("\(node.name).weight")
        let b = bias ? tensor("\(node.name).bias") : [Float](repeating: 0, count: outFeatures)
        let input = valueOf[node.inputs[0]]!
        let output = newValue(for: chain.last)
        let (weightsOffset, biasOffset) = packGemm(w, b, k: inFeatures, n: outFeatures)
        append(.gemm(GemmStep(input: input, output: output, residual: nil, inputScale: nil, stride: 1, k: inFeatures, n: outFeatures,
                              weights: weightsOffset, bias: biasOffset, activation: chain.activation, name: node.name)),
               name: node.name, flops: inFeatures * outFeatures * batch)
    }

    mutating func addElementwise(id: NodeID, kind: ElementwiseStep.Kind) throws(ExecutorError) {
        let input = try value(graph.nodes[id].inputs[0])
        let output = newValue(for: id)
        append(.elementwise(ElementwiseStep(input: input, output: output, kind: kind)), name: graph.nodes[id].name, flops: 0)
    }

    mutating func append(_ step: Step, name: String, flops: Int) {
        steps.append(step)
        stepNames.append(name)
        stepFlops.append(flops)
    }

    // MARK: Values

    mutating func newValue(for id: NodeID) -> Int {
        let shape = graph.nodes[id].shape
        layouts.append(ValueLayout(channels: shape.channels, height: shape.height, width: shape.width))
        valueOf[id] = layouts.count - 1
        return layouts.count - 1
    }

    func value(_ id: NodeID) throws(ExecutorError) -> Int {
        guard let v = valueOf[id] else { throw ExecutorError("internal: node \(id) (\(graph.nodes[id].name)) is read before it is computed") }
        return v
    }

    /// Every value read by a padded convolution keeps a zero ring wide enough for it.
    mutating func requirePadding() throws(ExecutorError) {
        for step in steps {
            if case .convolution(let c) = step { layouts[c.input].padding = max(layouts[c.input].padding, c.padding) }
        }
    }

    // MARK: Weights

    func tensor(_ name: String) -> [Float] {
        guard let t = weights[name] else { fatalError("weights were validated against the graph: \(name) is present") }
        return t.scalars
    }

    func batchNormAffine(_ name: String, channels: Int, epsilon: Float) -> (scale: [Float], shift: [Float]) {
        let gamma = tensor("\(name).weight"), beta = tensor("\(name).bias")
        let mean = tensor("\(name).running_mean"), variance = tensor("\(name).running_var")
        var scale = [Float](repeating: 0, count: channels), shift = scale
        for c in 0..<channels {
            scale[c] = gamma[c] / (variance[c] + epsilon).squareRoot()
            shift[c] = beta[c] - mean[c] * scale[c]
        }
        return (scale, shift)
    }

    /// Appends `values` padded to a 16-float boundary; returns their offset.
    mutating func store(_ values: [Float]) -> Int {
        let offset = packed.count
        packed.append(contentsOf: values)
        packed.append(contentsOf: [Float](repeating: 0, count: (16 - values.count % 16) % 16))
        return offset
    }

    /// W[n][k] → panels [n / nr][k][nr], zero-padded; bias padded to whole panels.
    mutating func packGemm(_ w: [Float], _ b: [Float], k: Int, n: Int) -> (Int, Int) {
        let nr = kernels.nr, panels = (n + nr - 1) / nr
        var panel = [Float](repeating: 0, count: panels * k * nr)
        for col in 0..<n {
            let p = col / nr, j = col % nr
            for r in 0..<k { panel[(p * k + r) * nr + j] = w[col * k + r] }
        }
        var bias = [Float](repeating: 0, count: panels * nr)
        bias.replaceSubrange(0..<n, with: b)
        return (store(panel), store(bias))
    }

    /// W[co][ci][ky][kx] → [group][block][ky][kx][ci][16], zero-padded lanes; bias [group][block][16].
    mutating func packConvolution(_ w: [Float], _ b: [Float], conv: Convolution, blocks: Int) -> (Int, Int) {
        let k = conv.kernel, ci = conv.inChannelsPerGroup, co = conv.outChannelsPerGroup
        var out = [Float](repeating: 0, count: conv.groups * blocks * k * k * ci * 16)
        var bias = [Float](repeating: 0, count: conv.groups * blocks * 16)
        for g in 0..<conv.groups {
            for o in 0..<co {
                let block = o / 16, lane = o % 16, channel = g * co + o
                bias[(g * blocks + block) * 16 + lane] = b[channel]
                for c in 0..<ci {
                    for ky in 0..<k {
                        for kx in 0..<k {
                            let dst = ((((g * blocks + block) * k + ky) * k + kx) * ci + c) * 16 + lane
                            out[dst] = w[((channel * ci + c) * k + ky) * k + kx]
                        }
                    }
                }
            }
        }
        return (store(out), store(bias))
    }
}
