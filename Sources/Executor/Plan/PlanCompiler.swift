import NetworkIR
import Weights

/// The inference compiler: runs the inference rewrite passes (`Rewrites.inference`: batch norms
/// folded, epilogues fused, squeeze-excite scales folded), walks the graph in order and asks each
/// node that computes itself for its steps, with what it took in (`definition(of:).lower`); the
/// definitions pack weights with `store`. Then it pads the values padded convolutions read, groups
/// steps into image-group segments and places every value in one arena (`planMemory`).
struct PlanCompiler {
    let graph: Graph
    let weights: WeightSet
    let batch: Int
    let kernels: KernelSet
    /// The arithmetic of the convolutions (bf16 or int8 only when `kernels` has such kernels).
    let precision: Precision
    /// The calibrated input scales of an int8 plan.
    let quantization: Quantization?
    let consumers: [[NodeID]]
    /// The graph after the inference rewrites: what each node takes in.
    let fused: FusedGraph
    var groupBudgetBytes = PlanCompiler.defaultGroupBudgetBytes
    /// Workers a run may use: each step's scratch has a piece per worker.
    var threads = 1

    var steps: [any InferenceStep] = []
    /// The IR node each step computes (its first, when it fuses several), for profiles.
    var stepNodes: [NodeID] = []
    var stepFlops: [Int] = []
    /// Value index of each node whose result a step produces.
    var valueOf: [NodeID: Int] = [:]
    /// Narrow (bf16 or uint8) copies of float32 values, made once for all the convolutions that read them.
    var narrowCopies: [Int: Int] = [:]
    /// The quantisation scale of each uint8 value.
    var valueScales: [Int: Float] = [:]
    var layouts: [ValueLayout] = []
    var packed: [Float] = []

    init(graph: Graph, weights: WeightSet, batch: Int, kernels: KernelSet, precision: Precision = .float32,
         quantization: Quantization? = nil) {
        self.graph = graph
        self.weights = weights
        self.batch = batch
        self.kernels = kernels
        self.precision = kernels.supports(precision) ? precision : .float32
        self.quantization = self.precision == .int8 ? quantization : nil
        consumers = graph.consumers
        fused = FusedGraph(graph, passes: Rewrites.inference)
    }

    mutating func compile() throws(ExecutorError) -> ExecutionPlan {
        try lower()
        let output = try value(graph.output)
        // Only steps that say so read narrow values; a planning mistake must not run as garbage.
        for (i, step) in steps.enumerated() where !step.readsNarrowValues {
            if let v = step.reads.first(where: { layouts[$0].element != .float32 }) {
                throw ExecutorError(.invalidGraph, "internal: \(graph.nodes[stepNodes[i]].name) would read value \(v) as float32, but it is \(layouts[v].element)")
            }
        }
        for step in steps {
            if let (value, padding) = step.paddedInput { layouts[value].padding = max(layouts[value].padding, padding) }
        }
        let segments = planSegments()
        let (arena, unplanned, scratch) = planMemory(output: output, segments: segments)
        let serial = steps.indices.map { i in
            let bytes = (steps[i].reads + [steps[i].output]).reduce(0) { $0 + layouts[$1].imageBytes }
            return bytes + 4 * stepFlops[i] / batch < serialWorkLimit
        }
        return ExecutionPlan(steps: steps, segments: segments, layouts: layouts, inputValue: 0, outputValue: output, batch: batch,
                             arenaBytes: arena, stepScratch: scratch, unplannedBytes: unplanned, packedWeights: packed,
                             stepNodes: stepNodes, stepFlops: stepFlops, runsSerially: serial, precision: precision,
                             nodeValues: valueOf, fused: fused)
    }

    /// Asks each node that computes itself for its steps, in order: the steps, their values and the
    /// packed weights, before any planning.
    mutating func lower() throws(ExecutorError) {
        _ = newValue(for: 0)
        for (id, node) in graph.nodes.enumerated() where id > 0 && fused.computesItself(id) {
            try definition(of: node.operation).lower(id, fused.fusions[id], in: &self)
        }
    }

    // MARK: Steps and values

    /// Adds `step`, which computes node `id` (and whatever it fuses), with `flops` multiply-adds per batch.
    mutating func append(_ step: any InferenceStep, for id: NodeID, flops: Int) {
        steps.append(step)
        stepNodes.append(id)
        stepFlops.append(flops)
    }

    /// An element-wise step computing node `id` from its first input.
    mutating func addElementwise(_ id: NodeID, _ operation: ElementwiseStep.Operation) throws(ExecutorError) {
        let input = try value(graph.nodes[id].inputs[0])
        append(ElementwiseStep(input: input, output: newValue(for: id), operation: operation), for: id, flops: 0)
    }

    /// Node `id` computes nothing at inference: its value is its input's.
    mutating func alias(_ id: NodeID, to input: NodeID) throws(ExecutorError) {
        valueOf[id] = try value(input)
    }

    /// A new value holding node `id`'s result.
    mutating func newValue(for id: NodeID, element: ElementType = .float32) -> Int {
        valueOf[id] = newValue(shape: graph.nodes[id].shape, element: element)
        return layouts.count - 1
    }

    /// A new value of `shape` that no node's result is (a step's intermediate).
    mutating func newValue(shape: FeatureShape, element: ElementType = .float32) -> Int {
        layouts.append(ValueLayout(element: element, channels: shape.channels, height: shape.height, width: shape.width))
        return layouts.count - 1
    }

    /// The scale of convolution `id`'s uint8 input, when it runs in int8: in an int8 plan, calibrated, and
    /// a candidate (`Graph.isInt8Candidate`).
    func quantizedInputScale(of id: NodeID) -> Float? {
        guard let quantization, let scale = quantization.inputScales[graph.nodes[id].name], scale > 0, scale.isFinite,
              graph.isInt8Candidate(id) else { return nil }
        return scale
    }

    /// How node `id`'s result can be stored when only nodes that read narrow values read it
    /// (convolutions): bf16 in a bf16 plan (where it may also be the residual a 1x1 convolution adds in
    /// its epilogue); uint8 (with the readers' input scale) in an int8 plan when every reader runs in
    /// int8 and the result is a ReLU's. float32 otherwise.
    func narrowStorage(of id: NodeID, activation: Activation) -> (element: ElementType, scale: Float?) {
        func readsNarrow(_ c: NodeID) -> Bool { definition(of: graph.nodes[c].operation).readsNarrowValues }
        guard id != graph.output, !consumers[id].isEmpty, activation != .sigmoid else { return (.float32, nil) }
        switch precision {
        case .float32: return (.float32, nil)
        case .bfloat16:
            let narrow = consumers[id].allSatisfy { readsNarrow($0) || fused.isFusedResidual(id, of: $0) }
            return narrow ? (.bfloat16, nil) : (.float32, nil)
        case .int8:
            guard consumers[id].allSatisfy(readsNarrow) else { return (.float32, nil) }
            let scales = consumers[id].map(quantizedInputScale(of:))
            guard activation == .relu, let first = scales[0], scales.allSatisfy({ $0 == first }) else { return (.float32, nil) }
            return (.uint8, first)
        }
    }

    /// A copy of float32 value `value` as `element` (bf16, or uint8 quantised with `scale`), made by a
    /// `ConvertStep` (once) before the step about to be appended for node `id`; the value itself when it
    /// is stored so already.
    mutating func narrowCopy(of value: Int, as element: ElementType, scale: Float = 1, for id: NodeID) -> Int {
        if layouts[value].element == element { return value }
        if let copy = narrowCopies[value], layouts[copy].element == element { return copy }
        var layout = layouts[value]
        layout.element = element
        layout.padding = 0
        layouts.append(layout)
        let copy = layouts.count - 1
        narrowCopies[value] = copy
        if element == .uint8 { valueScales[copy] = scale }
        append(ConvertStep(input: value, output: copy, scale: scale), for: id, flops: 0)
        return copy
    }

    /// The value holding node `id`'s result, which an earlier step must have produced.
    func value(_ id: NodeID) throws(ExecutorError) -> Int {
        guard let v = valueOf[id] else { throw ExecutorError(.invalidGraph, "internal: node \(id) (\(graph.nodes[id].name)) is read before it is computed") }
        return v
    }

    // MARK: Weights

    /// The tensor of node `id` that plays `role` (weights were validated against the graph's declarations).
    func tensor(_ id: NodeID, _ role: ParameterRole) -> [Float] {
        guard let values = optionalTensor(id, role) else { preconditionFailure("\(graph.nodes[id].name) declares a \(role) tensor") }
        return values
    }

    /// The tensor of node `id` that plays `role`, nil when the node declares none (a convolution without bias).
    func optionalTensor(_ id: NodeID, _ role: ParameterRole) -> [Float]? {
        graph.parameterName(id, role).map { name in
            guard let t = weights[name] else { preconditionFailure("weights were validated against the graph: \(name) is present") }
            return t.scalars
        }
    }

    /// Appends `values` rounded to bf16 (two to each 32-bit slot, in order) to the packed weights, padded
    /// to a 64-byte boundary; returns their offset in floats.
    mutating func storeBFloat16(_ values: [Float]) -> Int {
        store(stride(from: 0, to: values.count, by: 2).map { i in
            let low = UInt32(bfloat16Bits(values[i])), high = i + 1 < values.count ? UInt32(bfloat16Bits(values[i + 1])) : 0
            return Float(bitPattern: low | high << 16)
        })
    }

    /// Appends integer `values` in [-127, 127] as int8 (four to each 32-bit slot, in order) to the packed
    /// weights, padded to a 64-byte boundary; returns their offset in floats.
    mutating func storeInt8(_ values: [Float]) -> Int {
        store(stride(from: 0, to: values.count, by: 4).map { i in
            var bits: UInt32 = 0
            for j in 0..<min(4, values.count - i) { bits |= UInt32(UInt8(bitPattern: Int8(values[i + j]))) << (8 * j) }
            return Float(bitPattern: bits)
        })
    }

    /// Appends `values` to the packed weights, padded to a 16-float boundary; returns their offset.
    mutating func store(_ values: [Float]) -> Int {
        let offset = packed.count
        packed.append(contentsOf: values)
        packed.append(contentsOf: [Float](repeating: 0, count: (16 - values.count % 16) % 16))
        return offset
    }
}
