import Foundation
import NetworkIR
import Weights

/// Why a network could not be written as ONNX.
public struct ONNXError: Error, Hashable, Sendable, CustomStringConvertible {
    /// What went wrong, naming the node or setting.
    public var message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}

/// A convolution that runs in int8: written as QDQ (QuantizeLinear/DequantizeLinear pairs around its
/// input and its weights), which ONNX Runtime and TensorRT run in int8.
public struct ONNXInt8Layer: Sendable, Hashable {
    /// The scale of its uint8 input (zero point 0).
    public var inputScale: Float
    /// Its symmetric int8 weight scales, one per output channel.
    public var weightScales: [Float]
    public init(inputScale: Float, weightScales: [Float]) {
        self.inputScale = inputScale
        self.weightScales = weightScales
    }
}

/// How `Graph.onnxModel` writes a network.
public struct ONNXExportOptions: Sendable, Hashable {
    /// The ONNX operator set (13…21; HardSwish needs 14). 17 by default: what ONNX Runtime, TensorRT
    /// and the Core ML converters all read.
    public var opset = 17
    /// Images per run: a fixed batch, or nil for a symbolic batch dimension (`N`).
    public var batch: Int? = 1
    /// Extra `metadata_props` (the CLI adds how to declare the network again).
    public var metadata: [String: String] = [:]
    /// Fold each batch norm that only a convolution feeds into that convolution's weights and bias
    /// (as inference engines do anyway), instead of writing BatchNormalization nodes.
    public var foldBatchNorm = false
    /// Convolutions to write in int8 as QDQ, by node name (a quantised model's layers). Their batch
    /// norms are folded into the dequantization's per-channel scales and the bias, as our int8
    /// kernels apply them, so the pattern is DequantizeLinear → Conv → the next QuantizeLinear that
    /// ONNX Runtime fuses into int8 operators.
    public var int8: [String: ONNXInt8Layer] = [:]
    /// The checkpoint family whose names the initializers carry (timm's, this package's own, by default).
    public var naming: CheckpointFamily = .timm

    /// Options: the operator set, a fixed batch or nil for a symbolic one, metadata, and batch-norm folding.
    public init(opset: Int = 17, batch: Int? = 1, metadata: [String: String] = [:], foldBatchNorm: Bool = false,
                int8: [String: ONNXInt8Layer] = [:], naming: CheckpointFamily = .timm) {
        self.naming = naming
        self.opset = opset
        self.batch = batch
        self.metadata = metadata
        self.foldBatchNorm = foldBatchNorm
        self.int8 = int8
    }
}

extension Graph {
    /// The network with `weights` as an ONNX model (protobuf bytes): every node as the standard operator
    /// PyTorch's exporter writes for it — Conv (groups, stride, padding), BatchNormalization, Relu,
    /// Sigmoid, x·Sigmoid(x) for SiLU, Clip for clamps (ReLU6), HardSwish, HardSigmoid, Add for
    /// residuals, Mul for squeeze-excite, GlobalAveragePool, MaxPool, AveragePool (padded zeros
    /// counted), Flatten + Gemm for linear layers; dropout is left out (the identity at inference).
    /// Initializers carry the weights' timm names; `metadata_props` records flops, params and acts.
    public func onnxModel(weights: WeightSet, options: ONNXExportOptions = ONNXExportOptions()) throws(ONNXError) -> Data {
        guard (13...21).contains(options.opset) else { throw ONNXError("opset \(options.opset) is not supported (13 to 21)") }
        if let batch = options.batch, batch < 1 { throw ONNXError("the batch must be at least 1 (got \(batch))") }
        do { try weights.validate(for: self) } catch { throw ONNXError(error.message) }
        var builder = ONNXGraphBuilder(graph: self, weights: weights, options: options)
        try builder.build()
        let complexity = self.complexity
        let properties = ["flops": String(complexity.flops), "params": String(complexity.params), "acts": String(complexity.acts)]
            .merging(options.metadata) { _, given in given }
        var model = ProtobufWriter()
        model.int(1, Self.irVersion(opset: options.opset))                      // ir_version
        model.string(2, "swift-regnet")                                          // producer_name
        model.message(7) { builder.write(into: &$0) }                            // graph
        model.message(8) { $0.string(1, ""); $0.int(2, options.opset) }          // opset_import
        for (key, value) in properties.sorted(by: { $0.key < $1.key }) {         // metadata_props
            model.message(14) { $0.string(1, key); $0.string(2, value) }
        }
        return model.bytes
    }

    /// The IR version each opset came with (ONNX's versioning table).
    static func irVersion(opset: Int) -> Int { opset <= 14 ? 7 : opset <= 18 ? 8 : opset <= 20 ? 9 : 10 }
}

/// Builds a GraphProto's nodes, initializers, inputs and outputs from the IR, node by node.
struct ONNXGraphBuilder {
    let graph: Graph, weights: WeightSet, options: ONNXExportOptions
    /// Each IR node's ONNX value name, and whether it is flat (N×C after a Gemm) rather than NCHW.
    private var values: [String] = [], flat: [Bool] = []
    private var nodes = ProtobufWriter(), initializers = ProtobufWriter()
    private var initializerNames: Set<String> = []

    init(graph: Graph, weights: WeightSet, options: ONNXExportOptions) {
        (self.graph, self.weights, self.options) = (graph, weights, options)
    }

    /// Attribute values of a node.
    enum Attribute { case int(Int), ints([Int]), float(Float) }

    mutating func build() throws(ONNXError) {
        let counts = Dictionary(graph.nodes.map { ($0.name, 1) }, uniquingKeysWith: +)
        // With folding: each batch norm whose input is a convolution nothing else reads.
        var readers = [Int](repeating: 0, count: graph.nodes.count)
        for node in graph.nodes { for i in node.inputs { readers[i] += 1 } }
        let folded: [NodeID: NodeID] = Dictionary(uniqueKeysWithValues: graph.nodes.indices.compactMap { id in
            guard case .batchNorm = graph.nodes[id].operation, let conv = graph.nodes[id].inputs.first,
                  case .convolution = graph.nodes[conv].operation, readers[conv] == 1, conv != graph.output,
                  options.foldBatchNorm || options.int8[graph.nodes[conv].name] != nil else { return nil }
            return (conv, id)
        })
        for (id, node) in graph.nodes.enumerated() {
            // Value names: the node's name when unique, the graph's input and output by their roles.
            let name = id == 0 ? "input" : id == graph.output ? "output" : counts[node.name] == 1 ? node.name : "\(node.name)_\(id)"
            values.append(name)
            // Element-wise operations keep their input's layout; the others set it below.
            flat.append(node.inputs.allSatisfy { flat[$0] } && !node.inputs.isEmpty)
            let inputs = node.inputs.map { values[$0] }
            switch node.operation {
            case .input:
                guard id == 0 else { throw ONNXError("\(node.name): a second input node") }
            case .convolution(let conv):
                var source = spatial(node.inputs[0]), weight: String, bias: [String]
                let fold = try folded[id].map { bn throws(ONNXError) in try batchNormFactors(conv: id, batchNorm: bn) }
                if let fold {
                    bias = [addTensor(node.name + ".bias", shape: [conv.outChannels], scalars: fold.bias)]
                } else {
                    bias = conv.bias ? [try initializer(id, .bias)] : []
                }
                if let layer = options.int8[node.name] {
                    (source, weight) = try quantized(id, conv, source, layer, factor: fold?.factor)
                } else if let fold {
                    let w = try parameter(id, .weight)
                    weight = addTensor(node.name + ".weight", shape: w.shape, scalars: foldBatchNorm(w.scalars, [], (fold.factor, [])).weights)
                } else {
                    weight = try initializer(id, .weight)
                }
                add("Conv", [source] + [weight] + bias, name, node.name, [
                    ("kernel_shape", .ints([conv.kernel, conv.kernel])), ("strides", .ints([conv.stride, conv.stride])),
                    ("pads", .ints(Array(repeating: conv.padding, count: 4))), ("group", .int(conv.groups)), ("dilations", .ints([1, 1])),
                ])
            case .batchNorm where folded[node.inputs[0]] == id:
                // Folded into the convolution before it: the convolution's output is this node's value.
                if id == graph.output { add("Identity", inputs, name, node.name) } else { values[id] = inputs[0] }
            case .batchNorm(_, let epsilon):
                let tensors = [try initializer(id, .scale), try initializer(id, .shift), try initializer(id, .runningMean),
                               try initializer(id, .runningVariance)]
                add("BatchNormalization", [spatial(node.inputs[0])] + tensors, name, node.name, [("epsilon", .float(epsilon))])
            case .unary(let function):
                try unary(function, inputs[0], name, node.name)
            case .add:
                add("Add", flat[id] ? inputs : node.inputs.map { spatial($0) }, name, node.name)
            case .channelScale:
                add("Mul", node.inputs.map { spatial($0) }, name, node.name)
            case .globalAveragePool:
                add("GlobalAveragePool", [spatial(node.inputs[0])], name, node.name)
            case .maxPool(let w), .averagePool(let w):
                var attributes: [(String, Attribute)] = [("kernel_shape", .ints([w.kernel, w.kernel])), ("strides", .ints([w.stride, w.stride])),
                                                         ("pads", .ints(Array(repeating: w.padding, count: 4)))]
                if case .averagePool = node.operation { attributes.append(("count_include_pad", .int(1))) }
                add(node.operation.isMaxPool ? "MaxPool" : "AveragePool", [spatial(node.inputs[0])], name, node.name, attributes)
            case .linear(_, _, let hasBias):
                var source = inputs[0]
                if !flat[node.inputs[0]] {   // N×C×1×1 → N×C
                    source = name + "/flat"
                    add("Flatten", inputs, source, node.name + "/flatten", [("axis", .int(1))])
                }
                let c = hasBias ? [try initializer(id, .bias)] : []
                add("Gemm", [source, try initializer(id, .weight)] + c, name, node.name, [("transB", .int(1))])
                flat[id] = true
            case .dropout:
                // The identity at inference: the value is its input's (an Identity where it is the output).
                if id == graph.output { add("Identity", inputs, name, node.name) } else { values[id] = inputs[0] }
            }
        }
    }

    /// Node `id`'s value as N×C×H×W: itself, or (after a Gemm) reshaped back to N×C×1×1.
    private mutating func spatial(_ id: NodeID) -> String {
        guard flat[id] else { return values[id] }
        let shape = scalarList(values[id] + "/shape", [-1, graph.nodes[id].shape.channels, 1, 1])
        let reshaped = values[id] + "/spatial"
        add("Reshape", [values[id], shape], reshaped, reshaped)
        return reshaped
    }

    /// An activation: one operator, or two for SiLU (x · sigmoid(x), as PyTorch exports it).
    private mutating func unary(_ function: UnaryFunction, _ input: String, _ output: String, _ name: String) throws(ONNXError) {
        switch function {
        case .relu: add("Relu", [input], output, name)
        case .sigmoid: add("Sigmoid", [input], output, name)
        case .silu:
            add("Sigmoid", [input], output + "/sigmoid", name + "/sigmoid")
            add("Mul", [input, output + "/sigmoid"], output, name)
        case .clamp(let lower, let upper):
            let low = scalar(name + ".min", lower), high = scalar(name + ".max", upper)
            add("Clip", [input, low, high], output, name)
        case .hardSwish:
            guard options.opset >= 14 else { throw ONNXError("\(name): HardSwish needs opset 14 or later (asked for \(options.opset))") }
            add("HardSwish", [input], output, name)
        case .hardSigmoid:
            add("HardSigmoid", [input], output, name, [("alpha", .float(1.0 / 6)), ("beta", .float(0.5))])
        }
    }

    /// Appends a NodeProto.
    private mutating func add(_ op: String, _ inputs: [String], _ output: String, _ name: String, _ attributes: [(String, Attribute)] = []) {
        nodes.message(1) { n in
            for input in inputs { n.string(1, input) }
            n.string(2, output)
            n.string(3, name)
            n.string(4, op)
            for (key, value) in attributes {
                n.message(5) { a in
                    a.string(1, key)
                    switch value {
                    case .float(let f): a.float(2, f); a.int(20, 1)                  // FLOAT
                    case .int(let i): a.int(3, i); a.int(20, 2)                      // INT
                    case .ints(let list): for i in list { a.int(8, i) }; a.int(20, 7) // INTS
                    }
                }
            }
        }
    }

    /// The initializer holding node `id`'s tensor of `role` (its timm name), added once.
    private mutating func initializer(_ id: NodeID, _ role: ParameterRole) throws(ONNXError) -> String {
        let tensor = try parameter(id, role)
        let name = CheckpointNaming.name(graph.parameterName(id, role)!, in: options.naming)
        addTensor(name, shape: tensor.shape, scalars: tensor.scalars)
        return name
    }

    /// Node `node`'s tensor of `role`.
    private func parameter(_ node: NodeID, _ role: ParameterRole) throws(ONNXError) -> Weights.Tensor {
        guard let name = graph.parameterName(node, role), let t = weights[name] else {
            throw ONNXError("\(graph.nodes[node].name) has no \(role.rawValue) tensor in the weights")
        }
        return t
    }

    /// Batch norm `batchNorm` folded into convolution `conv`, as the executor folds it
    /// (`batchNormAffine`, `foldBatchNorm`): the factor γ/√(σ² + ε) its weights are multiplied by per
    /// output channel, and the folded bias.
    private func batchNormFactors(conv: NodeID, batchNorm: NodeID) throws(ONNXError) -> (factor: [Float], bias: [Float]) {
        guard case .batchNorm(_, let epsilon) = graph.nodes[batchNorm].operation, case .convolution(let c) = graph.nodes[conv].operation else {
            throw ONNXError("internal: folding \(graph.nodes[batchNorm].name) into \(graph.nodes[conv].name)")
        }
        let affine = batchNormAffine(gamma: try parameter(batchNorm, .scale).scalars, beta: try parameter(batchNorm, .shift).scalars,
                                     mean: try parameter(batchNorm, .runningMean).scalars,
                                     variance: try parameter(batchNorm, .runningVariance).scalars, epsilon: epsilon)
        let bias = c.bias ? try parameter(conv, .bias).scalars : [Float](repeating: 0, count: c.outChannels)
        return (affine.scale, foldBatchNorm([], bias, affine).bias)
    }

    /// QDQ around convolution `id`'s input `source` and its weights: the input quantised to uint8 with
    /// `layer.inputScale` and back, the weights as int8 dequantized with their per-channel scales (times
    /// a folded batch norm's `factor`). Returns the dequantized input's and weights' value names.
    private mutating func quantized(_ id: NodeID, _ conv: Convolution, _ source: String, _ layer: ONNXInt8Layer,
                                    factor: [Float]?) throws(ONNXError) -> (String, String) {
        let name = graph.nodes[id].name
        guard layer.weightScales.count == conv.outChannels, layer.weightScales.allSatisfy({ $0 > 0 && $0.isFinite }),
              layer.inputScale > 0, layer.inputScale.isFinite else {
            throw ONNXError("\(name): int8 scales must be positive, one input scale and \(conv.outChannels) weight scales")
        }
        let w = try parameter(id, .weight)
        let scale = scalar(name + ".input_scale", layer.inputScale)
        let zero = rawTensor(name + ".input_zero_point", shape: [], type: 2, Data([0]))           // UINT8
        add("QuantizeLinear", [source, scale, zero], name + "/input_quantized", name + "/quantize_input")
        add("DequantizeLinear", [name + "/input_quantized", scale, zero], name + "/input_dequantized", name + "/dequantize_input")
        let q = quantize(w.scalars, scales: layer.weightScales)   // as the executor quantises them
        let weightsQ = rawTensor(name + ".weight_quantized", shape: w.shape, type: 3, Data(q.map { UInt8(bitPattern: Int8($0)) }))   // INT8
        let weightScales = addTensor(name + ".weight_scale", shape: [conv.outChannels],
                                     scalars: factor.map { f in layer.weightScales.indices.map { layer.weightScales[$0] * f[$0] } } ?? layer.weightScales)
        let weightZeros = rawTensor(name + ".weight_zero_point", shape: [conv.outChannels], type: 3, Data(repeating: 0, count: conv.outChannels))
        add("DequantizeLinear", [weightsQ, weightScales, weightZeros], name + "/weight_dequantized", name + "/dequantize_weight", [("axis", .int(0))])
        return (name + "/input_dequantized", name + "/weight_dequantized")
    }

    /// An initializer of `type` (ONNX data type) holding `raw` little-endian bytes.
    private mutating func rawTensor(_ name: String, shape: [Int], type: Int, _ raw: Data) -> String {
        guard initializerNames.insert(name).inserted else { return name }
        initializers.message(5) { t in
            for d in shape { t.int(1, d) }
            t.int(2, type)
            t.string(8, name)
            t.bytes(9, raw)
        }
        return name
    }

    /// A 1-D int64 initializer (a Reshape's shape).
    private mutating func scalarList(_ name: String, _ values: [Int]) -> String {
        rawTensor(name, shape: [values.count], type: 7, values.map { Int64($0).littleEndian }.withUnsafeBufferPointer { Data(buffer: $0) })   // INT64
    }

    /// A scalar float initializer.
    private mutating func scalar(_ name: String, _ value: Float) -> String {
        addTensor(name, shape: [], scalars: [value])
        return name
    }

    /// A float initializer (raw little-endian data).
    @discardableResult
    private mutating func addTensor(_ name: String, shape: [Int], scalars: [Float]) -> String {
        rawTensor(name, shape: shape, type: 1, scalars.map { $0.bitPattern.littleEndian }.withUnsafeBufferPointer { Data(buffer: $0) })
    }

    /// The GraphProto's fields: nodes, name, initializers, input and output.
    func write(into g: inout ProtobufWriter) {
        g.append(nodes.bytes)
        g.string(2, graph.name)
        g.append(initializers.bytes)
        let input = graph.nodes[0].shape, output = graph.nodes[graph.output].shape
        g.message(11) { valueInfo(&$0, "input", [input.channels, input.height, input.width]) }
        g.message(12) { valueInfo(&$0, "output", flat[graph.output] ? [output.channels] : [output.channels, output.height, output.width]) }
    }

    /// A ValueInfoProto of a float tensor: the batch dimension, then `dims`.
    private func valueInfo(_ v: inout ProtobufWriter, _ name: String, _ dims: [Int]) {
        v.string(1, name)
        v.message(2) { type in                                                   // TypeProto
            type.message(1) { tensor in                                          // tensor_type
                tensor.int(1, 1)                                                 // elem_type FLOAT
                tensor.message(2) { shape in                                     // TensorShapeProto
                    shape.message(1) { d in if let batch = options.batch { d.int(1, batch) } else { d.string(2, "N") } }
                    for dim in dims { shape.message(1) { $0.int(1, dim) } }
                }
            }
        }
    }
}

extension NetworkIR.Operation {
    var isMaxPool: Bool { if case .maxPool = self { true } else { false } }
}
