import Foundation
import NetworkIR
import Weights

/// An ONNX model read into the IR: the graph (compiled like any declared network: BN folding,
/// fusion, bf16, int8) and its weights. Reads the operators PyTorch's exporter and `onnxModel`
/// write for the networks the DSL expresses — Conv, BatchNormalization, Relu, Sigmoid, x·Sigmoid(x),
/// Clip, HardSwish, HardSigmoid, Add, Mul (squeeze-excite), GlobalAveragePool, ReduceMean over H and
/// W, MaxPool, AveragePool, Flatten, Reshape/Squeeze/Unsqueeze between N×C and N×C×1×1, Gemm,
/// MatMul (+ Add), Identity, Dropout and Constant. Anything else is an error naming the node, its
/// operator and what is supported — never a wrong result.
public struct ONNXImport: Sendable {
    /// The network.
    public let graph: Graph
    /// Its weights, named as the graph declares them.
    public let weights: WeightSet

    /// The operators read.
    public static let supportedOperators = ["Add", "AveragePool", "BatchNormalization", "Clip", "Constant", "Conv", "Dropout", "Flatten",
                                            "Gemm", "GlobalAveragePool", "HardSigmoid", "HardSwish", "Identity", "MatMul", "MaxPool", "Mul",
                                            "ReduceMean", "Relu", "Reshape", "Sigmoid", "Squeeze", "Unsqueeze"]

    /// Reads the model in `data`, named `name`; `size` gives the input's height and width when the
    /// file leaves them symbolic.
    public init(_ data: Data, name: String, size: (height: Int, width: Int)? = nil) throws(ONNXError) {
        var converter = try Converter(ONNXFile(data), size: size)
        try converter.convert()
        (graph, weights) = try converter.finish(name: name)
    }

    /// Reads the ONNX file at `url` (named after the file).
    public init(contentsOf url: URL, size: (height: Int, width: Int)? = nil) throws(ONNXError) {
        let data: Data
        do { data = try Data(contentsOf: url, options: .mappedIfSafe) } catch {
            throw ONNXError("cannot read \(url.path): \((error as NSError).localizedDescription)")
        }
        try self.init(data, name: url.deletingPathExtension().lastPathComponent, size: size)
    }
}

/// Walks the ONNX nodes in order, appending IR nodes with their shapes checked.
private struct Converter {
    /// What an ONNX value is here: an IR node's output (flat: N×C rather than N×C×1×1), a constant, or
    /// a MatMul/Gemm waiting to see whether an Add of a constant follows (its bias).
    enum Value {
        case node(NodeID, flat: Bool)
        case constant(ONNXFile.Tensor)
        case linear(input: NodeID, weight: Tensor, bias: Tensor?, name: String)
    }

    let file: ONNXFile
    var builder: GraphBuilder
    var values: [String: Value] = [:]
    /// Each IR node's tensors by role, and the names used so far.
    var tensors: [NodeID: [ParameterRole: Tensor]] = [:]
    var names: Set<String> = ["input"]

    init(_ file: ONNXFile, size: (height: Int, width: Int)?) throws(ONNXError) {
        self.file = file
        for (name, tensor) in file.initializers { values[name] = .constant(tensor) }
        let inputs = file.inputs.filter { file.initializers[$0.name] == nil }
        guard inputs.count == 1, let input = inputs.first else {
            throw ONNXError("the model has \(inputs.count) inputs (\(inputs.map(\.name).joined(separator: ", "))); one image input is supported")
        }
        guard input.dims.count == 4, let channels = input.dims[1], channels >= 1 else {
            throw ONNXError("the input '\(input.name)' has shape \(input.dims.map { $0.map(String.init) ?? "?" }); N×C×H×W with a fixed C is supported")
        }
        guard let height = input.dims[2] ?? size?.height, let width = input.dims[3] ?? size?.width, height >= 1, width >= 1 else {
            throw ONNXError("the input '\(input.name)' has a symbolic height or width; give the input size")
        }
        guard channels <= Limits.channels, height <= Limits.resolution, width <= Limits.resolution else {
            throw ONNXError("the input '\(input.name)' is \(channels)×\(height)×\(width): beyond \(Limits.channels) channels or \(Limits.resolution) pixels a side")
        }
        if let size, let h = input.dims[2], let w = input.dims[3], (h, w) != (size.height, size.width) {
            throw ONNXError("the model's input is \(h)x\(w); it cannot run at \(size.height)x\(size.width)")
        }
        guard file.outputs.count == 1 else { throw ONNXError("the model has \(file.outputs.count) outputs; one is supported") }
        builder = GraphBuilder(input: FeatureShape(channels: channels, height: height, width: width))
        values[input.name] = .node(0, flat: false)
    }

    mutating func convert() throws(ONNXError) {
        for (index, node) in file.nodes.enumerated() {
            guard node.domain.isEmpty || node.domain == "ai.onnx" else { throw unsupported(node, index, "domain '\(node.domain)'") }
            guard let output = node.outputs.first else { throw ONNXError("node \(label(node, index)) (\(node.op)) has no output") }
            values[output] = try value(of: node, index)
        }
    }

    /// The value node `node` computes.
    mutating func value(of node: ONNXFile.Node, _ index: Int) throws(ONNXError) -> Value {
        let name = label(node, index)
        func input(_ i: Int) throws(ONNXError) -> Value {
            guard i < node.inputs.count, !node.inputs[i].isEmpty, let v = values[node.inputs[i]] else {
                throw ONNXError("node \(name) (\(node.op)): input \(i + 1) '\(i < node.inputs.count ? node.inputs[i] : "")' is not computed before it")
            }
            return v
        }
        func spatialInput(_ i: Int) throws(ONNXError) -> NodeID { try spatial(try input(i), node, name) }
        func constant(_ i: Int) throws(ONNXError) -> ONNXFile.Tensor? {
            guard i < node.inputs.count, !node.inputs[i].isEmpty else { return nil }
            guard case .constant(let t) = try input(i) else { throw unsupported(node, index, "a computed input \(i + 1) where a constant is needed") }
            return t
        }
        /// A float constant (weights, biases, statistics, bounds).
        func floats(_ i: Int) throws(ONNXError) -> ONNXFile.Tensor? {
            guard let t = try constant(i) else { return nil }
            guard t.floats.count == t.count else { throw unsupported(node, index, "an integer tensor as input \(i + 1), where floats are needed") }
            return t
        }
        func ints(_ key: String) -> [Int]? { if case .ints(let v)? = node.attributes[key] { v } else { nil } }
        func int(_ key: String) -> Int? { if case .int(let v)? = node.attributes[key] { v } else { nil } }
        func float(_ key: String) -> Float? { if case .float(let v)? = node.attributes[key] { v } else { nil } }

        switch node.op {
        case "Identity", "Dropout":
            return try input(0)
        case "Constant":
            guard case .tensor(let t)? = node.attributes["value"] else { throw unsupported(node, index, "a Constant without a tensor value") }
            return .constant(t)
        case "Conv":
            let x = try spatialInput(0)
            guard let w = try floats(1), w.dims.count == 4, w.dims[2] == w.dims[3] else {
                throw unsupported(node, index, "weights that are not a constant O×I×K×K tensor")
            }
            let groups = int("group") ?? 1, stride = ints("strides") ?? [1, 1], pads = ints("pads") ?? [0, 0, 0, 0]
            guard Set(stride).count == 1, Set(pads).count == 1, (ints("dilations") ?? [1, 1]).allSatisfy({ $0 == 1 }),
                  ints("kernel_shape").map({ $0 == [w.dims[2], w.dims[3]] }) ?? true else {
                throw unsupported(node, index, "strides \(stride), pads \(pads) or dilations \(ints("dilations") ?? [1, 1]) (equal strides and pads on every side, no dilation are supported)")
            }
            if case .string(let pad)? = node.attributes["auto_pad"], pad != "NOTSET" { throw unsupported(node, index, "auto_pad \(pad)") }
            let bias = try floats(2)
            let conv = Convolution(inChannels: builder.shape(of: x).channels, outChannels: w.dims[0], kernel: w.dims[2], stride: stride[0],
                                   padding: pads[0], groups: groups, bias: bias != nil)
            let id = try append(.convolution(conv), [x], parameterName(node.inputs[1], fallback: name), node, index)
            tensors[id] = [.weight: Tensor(shape: w.dims, scalars: w.floats)]
            if let bias { tensors[id]![.bias] = Tensor(shape: [bias.count], scalars: bias.floats) }
            return .node(id, flat: false)
        case "BatchNormalization":
            let x = try spatialInput(0)
            let parts = [try floats(1), try floats(2), try floats(3), try floats(4)]
            let channels = builder.shape(of: x).channels
            guard parts.allSatisfy({ $0?.count == channels }) else { throw unsupported(node, index, "statistics that are not \(channels) constants each") }
            let id = try append(.batchNorm(channels: channels, epsilon: float("epsilon") ?? 1e-5), [x], parameterName(node.inputs[1], fallback: name), node, index)
            tensors[id] = Dictionary(uniqueKeysWithValues: zip([ParameterRole.scale, .shift, .runningMean, .runningVariance], parts.map { Tensor(shape: [channels], scalars: $0!.floats) }))
            return .node(id, flat: false)
        case "Relu", "Sigmoid", "HardSwish", "HardSigmoid", "Clip":
            let (x, flat) = try nodeInput(try input(0), node, name)
            let function: UnaryFunction
            switch node.op {
            case "Relu": function = .relu
            case "Sigmoid": function = .sigmoid
            case "HardSwish": function = .hardSwish
            case "HardSigmoid":
                guard abs((float("alpha") ?? 0.2) - 1.0 / 6) < 1e-6, abs((float("beta") ?? 0.5) - 0.5) < 1e-6 else {
                    throw unsupported(node, index, "alpha \(float("alpha") ?? 0.2) and beta \(float("beta") ?? 0.5) (PyTorch's 1/6 and 1/2 are supported)")
                }
                function = .hardSigmoid
            default:
                let low = try floats(1)?.floats.first ?? float("min"), high = try floats(2)?.floats.first ?? float("max")
                switch (low, high) {
                case (let l?, let h?): function = .clamp(lower: l, upper: h)
                case (0?, nil): function = .relu
                default: throw unsupported(node, index, "bounds min \(low.map { "\($0)" } ?? "none"), max \(high.map { "\($0)" } ?? "none") (both, or min 0 alone)")
                }
            }
            return .node(try append(.unary(function), [x], name, node, index), flat: flat)
        case "Add":
            // A MatMul's bias, or a residual sum.
            if case .linear(let x, let w, nil, let linearName) = try input(0), case .constant(let b)? = values[node.inputs.count > 1 ? node.inputs[1] : ""],
               b.count == w.shape[0], b.floats.count == b.count {
                return .linear(input: x, weight: w, bias: Tensor(shape: [b.count], scalars: b.floats), name: linearName)
            }
            let (a, flatA) = try nodeInput(try input(0), node, name), (b, flatB) = try nodeInput(try input(1), node, name)
            guard flatA == flatB else { throw unsupported(node, index, "a sum of an N×C and an N×C×H×W value") }
            return .node(try append(.add, [a, b], name, node, index), flat: flatA)
        case "Mul":
            let a = try spatialInput(0), b = try spatialInput(1)
            // x · sigmoid(x): SiLU.
            for (x, gate) in [(a, b), (b, a)] where builder.nodes[gate].operation == .unary(.sigmoid) && builder.nodes[gate].inputs == [x] {
                return .node(try append(.unary(.silu), [x], name, node, index), flat: false)
            }
            let (sa, sb) = (builder.shape(of: a), builder.shape(of: b))
            let (x, scale) = sb.height == 1 && sb.width == 1 && (sa.height, sa.width) != (1, 1) ? (a, b) : (b, a)
            return .node(try append(.channelScale, [x, scale], name, node, index), flat: false)
        case "GlobalAveragePool":
            return .node(try append(.globalAveragePool, [try spatialInput(0)], name, node, index), flat: false)
        case "ReduceMean":
            var axes = ints("axes") ?? []
            if axes.isEmpty, let given = try constant(1) { axes = given.integers }
            guard Set(axes.map { $0 < 0 ? $0 + 4 : $0 }) == [2, 3] else { throw unsupported(node, index, "axes \(axes) (the mean over H and W is supported)") }
            return .node(try append(.globalAveragePool, [try spatialInput(0)], name, node, index), flat: (int("keepdims") ?? 1) == 0)
        case "MaxPool", "AveragePool":
            let x = try spatialInput(0)
            let kernel = ints("kernel_shape") ?? [], stride = ints("strides") ?? [1, 1], pads = ints("pads") ?? [0, 0, 0, 0]
            guard kernel.count == 2, kernel[0] == kernel[1], Set(stride).count == 1, Set(pads).count == 1, (int("ceil_mode") ?? 0) == 0,
                  (ints("dilations") ?? [1, 1]).allSatisfy({ $0 == 1 }) else {
                throw unsupported(node, index, "kernel \(kernel), strides \(stride), pads \(pads) or ceil mode (square windows, equal strides and pads, floor mode are supported)")
            }
            let window = PoolingWindow(kernel: kernel[0], stride: stride[0], padding: pads[0])
            if node.op == "AveragePool" {
                guard pads[0] == 0 || (int("count_include_pad") ?? 0) == 1 else {
                    throw unsupported(node, index, "count_include_pad 0 with padding (padded zeros are counted here, as PyTorch's default)")
                }
                return .node(try append(.averagePool(window), [x], name, node, index), flat: false)
            }
            return .node(try append(.maxPool(window), [x], name, node, index), flat: false)
        case "Flatten", "Reshape", "Squeeze", "Unsqueeze":
            // Only between N×C×1×1 and N×C: the same values, another rank.
            let (x, _) = try nodeInput(try input(0), node, name)
            let shape = builder.shape(of: x)
            guard shape.height == 1, shape.width == 1 else { throw unsupported(node, index, "a \(shape) value (only N×C×1×1 ↔ N×C reshapes are supported)") }
            var target: [Int]?
            if node.op == "Reshape" { target = try constant(1)?.integers }
            let flat: Bool
            switch node.op {
            case "Flatten": flat = (int("axis") ?? 1) == 1
            case "Squeeze": flat = true
            case "Unsqueeze": flat = false
            default: flat = target?.count == 2
            }
            guard node.op != "Reshape" || target.map({ [2, 4].contains($0.count) && $0.dropFirst().allSatisfy { [-1, 0, 1, shape.channels].contains($0) } }) == true else {
                throw unsupported(node, index, "a target shape \(target ?? []) that is not N×\(shape.channels) or N×\(shape.channels)×1×1")
            }
            return .node(x, flat: flat)
        case "Gemm", "MatMul":
            let (x, _) = try nodeInput(try input(0), node, name)
            guard let b = try floats(1), b.dims.count == 2 else { throw unsupported(node, index, "a second operand that is not a constant matrix") }
            guard (float("alpha") ?? 1) == 1, (float("beta") ?? 1) == 1, (int("transA") ?? 0) == 0 else { throw unsupported(node, index, "alpha, beta or transA other than 1, 1, 0") }
            let transposed = node.op == "Gemm" && (int("transB") ?? 0) == 1
            let (out, inFeatures) = transposed ? (b.dims[0], b.dims[1]) : (b.dims[1], b.dims[0])
            var weights = b.floats
            if !transposed { weights = (0..<out * inFeatures).map { b.floats[($0 % inFeatures) * out + $0 / inFeatures] } }
            let bias = try floats(2).map { Tensor(shape: [$0.count], scalars: $0.floats) }
            return .linear(input: x, weight: Tensor(shape: [out, inFeatures], scalars: weights), bias: bias,
                           name: parameterName(node.inputs[1], fallback: name))
        default:
            throw unsupported(node, index, nil)
        }
    }

    /// An IR node for `value`: a pending linear layer is appended now.
    mutating func nodeInput(_ value: Value, _ node: ONNXFile.Node, _ name: String) throws(ONNXError) -> (NodeID, flat: Bool) {
        switch value {
        case .node(let id, let flat): return (id, flat)
        case .constant: throw ONNXError("node \(name) (\(node.op)): a constant where a computed value is needed")
        case .linear(let x, let w, let b, let linearName):
            let inFeatures = builder.shape(of: x).channels
            guard w.shape[1] == inFeatures, builder.shape(of: x).height == 1, builder.shape(of: x).width == 1 else {
                throw ONNXError("node \(linearName): a \(w.shape[1])-input linear layer on a \(builder.shape(of: x)) value")
            }
            let id = try append(.linear(inFeatures: inFeatures, outFeatures: w.shape[0], bias: b != nil), [x], linearName, node, -1)
            tensors[id] = [.weight: w]
            if let b { tensors[id]![.bias] = b }
            return (id, true)
        }
    }

    /// `value` as an N×C×H×W node (flat values are N×C×1×1 here already: the IR does not tell them apart).
    mutating func spatial(_ value: Value, _ node: ONNXFile.Node, _ name: String) throws(ONNXError) -> NodeID {
        try nodeInput(value, node, name).0
    }

    mutating func append(_ operation: NetworkIR.Operation, _ inputs: [NodeID], _ name: String, _ node: ONNXFile.Node, _ index: Int) throws(ONNXError) -> NodeID {
        var unique = name, n = 1
        while names.contains(unique) { n += 1; unique = "\(name)_\(n)" }
        names.insert(unique)
        do { return try builder.append(operation, inputs: inputs, name: unique) } catch {
            throw ONNXError("node \(label(node, index)) (\(node.op)): \(error.message)")
        }
    }

    /// An IR name from a parameter's initializer name (`s1.b1.conv1.conv.weight` → `s1.b1.conv1.conv`), else `fallback`.
    func parameterName(_ initializer: String, fallback: String) -> String {
        initializer.hasSuffix(".weight") && !initializer.hasPrefix("onnx::") ? String(initializer.dropLast(".weight".count)) : fallback
    }

    func label(_ node: ONNXFile.Node, _ index: Int) -> String {
        let name = node.name.split(separator: "/").filter { !$0.isEmpty }.joined(separator: ".")
        return name.isEmpty ? "\(node.op.lowercased())_\(index)" : name
    }

    func unsupported(_ node: ONNXFile.Node, _ index: Int, _ what: String?) -> ONNXError {
        ONNXError("node \(label(node, index)) (\(node.op)): " + (what.map { "\($0) is not supported" }
            ?? "the operator is not supported (supported: \(ONNXImport.supportedOperators.joined(separator: ", ")))"))
    }

    /// The graph from the input to the model's output (nodes nothing reads are dropped: a sigmoid
    /// that became part of a SiLU) and its weights.
    mutating func finish(name: String) throws(ONNXError) -> (Graph, WeightSet) {
        guard let value = values[file.outputs[0].name] else { throw ONNXError("the output '\(file.outputs[0].name)' is not computed by any node") }
        let (output, _) = try nodeInput(value, ONNXFile.Node(name: "output", op: "output"), "output")
        var live = Set([output]), stack = [output]
        while let id = stack.popLast() { for i in builder.nodes[id].inputs where live.insert(i).inserted { stack.append(i) } }
        let kept = builder.nodes.indices.filter { live.contains($0) || $0 == 0 }
        let renumber = Dictionary(uniqueKeysWithValues: kept.enumerated().map { ($1, $0) })
        let nodes = kept.map { id -> Node in
            var node = builder.nodes[id]
            node.inputs = node.inputs.map { renumber[$0]! }
            return node
        }
        let graph = Graph(name: name, nodes: nodes, output: renumber[output]!, stages: [])
        var weights: [String: Tensor] = [:]
        for old in kept {
            for (role, tensor) in tensors[old] ?? [:] {
                guard let key = graph.parameterName(renumber[old]!, role) else { continue }
                weights[key] = tensor
            }
        }
        let set = WeightSet(weights)
        do { try set.validate(for: graph) } catch { throw ONNXError("the model's weights do not fit its graph: \(error.message)") }
        return (graph, set)
    }
}
