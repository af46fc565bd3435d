/// The intermediate representation every consumer reads: a topologically ordered list of nodes
/// with inferred shapes, plus the stage records of the declaration it came from.
public struct Graph: Hashable, Sendable, Codable {
    /// Network name.
    public var name: String
    /// Nodes in execution order; node 0 is the input.
    public var nodes: [Node]
    /// The node whose value is the network output.
    public var output: NodeID
    /// The stages the declaration had.
    public var stages: [StageRecord]

    /// A graph; use `GraphBuilder` to make one with shapes checked.
    public init(name: String, nodes: [Node], output: NodeID, stages: [StageRecord]) {
        self.name = name
        self.nodes = nodes
        self.output = output
        self.stages = stages
    }

    /// Input shape for one image.
    public var inputShape: FeatureShape { nodes[0].shape }
    /// Output shape for one image.
    public var outputShape: FeatureShape { nodes[output].shape }

    /// Total complexity, counted as pycls does.
    public var complexity: Complexity {
        nodes.reduce(into: Complexity()) { $0 += $1.operation.complexity(output: $1.shape) }
    }

    /// Complexity of the nodes that satisfy `include`.
    public func complexity(where include: (Node) -> Bool) -> Complexity {
        nodes.reduce(into: Complexity()) { total, node in
            if include(node) { total += node.operation.complexity(output: node.shape) }
        }
    }

    /// Every learned tensor the graph reads: full name (`s1.b1.conv1.conv.weight`) and PyTorch shape, in node order.
    public var parameters: [ParameterSpec] {
        nodes.flatMap { node in
            node.operation.parameterDeclarations.map { ParameterSpec(name: "\(node.name).\($0.suffix)", shape: $0.shape, role: $0.role) }
        }
    }

    /// The name of the tensor of node `node` that plays `role` (nil when the node declares none).
    public func parameterName(_ node: NodeID, _ role: ParameterRole) -> String? {
        nodes[node].operation.parameterDeclarations.first { $0.role == role }.map { "\(nodes[node].name).\($0.suffix)" }
    }

    /// The batch norms that end a residual branch (pycls's `final_bn`, which `ZERO_INIT_FINAL_GAMMA`
    /// starts at γ = 0): the batch norm that is a residual add's first (branch) operand.
    public var finalBatchNorms: [NodeID] {
        nodes.compactMap { node -> NodeID? in
            guard node.operation == .add, case .batchNorm = nodes[node.inputs[0]].operation else { return nil }
            return node.inputs[0]
        }
    }

    /// For each node, the nodes that read its value.
    public var consumers: [[NodeID]] {
        var result = Array(repeating: [NodeID](), count: nodes.count)
        for (id, node) in nodes.enumerated() {
            for input in node.inputs { result[input].append(id) }
        }
        return result
    }
}

/// A tensor the graph expects: its name, PyTorch shape and role (what it is for).
public struct ParameterSpec: Hashable, Sendable, Codable {
    /// Full parameter name, timm style (`stem.conv.weight`).
    public var name: String
    /// Shape in PyTorch order.
    public var shape: [Int]
    /// What it is for (learned weights, biases, batch-norm scales and shifts, running statistics).
    public var role: ParameterRole
    /// Number of elements.
    public var elementCount: Int { shape.reduce(1, *) }

    /// A parameter spec.
    public init(name: String, shape: [Int], role: ParameterRole) {
        self.name = name
        self.shape = shape
        self.role = role
    }
}

extension Graph {
    /// Checks what a hand-built or decoded graph could get wrong: node 0 is the only input, every node
    /// reads earlier nodes only (so there are no cycles) with the right number of inputs, and every
    /// stored shape is the one its operation derives from its inputs. Compiling checks this first.
    public func validate() throws(ShapeError) {
        guard let first = nodes.first, first.operation == .input, first.inputs.isEmpty else {
            throw ShapeError("\(name): node 0 must be the input, with no inputs")
        }
        let s = first.shape
        guard (1...Limits.channels).contains(s.channels), (1...Limits.resolution).contains(s.height), (1...Limits.resolution).contains(s.width) else {
            throw ShapeError("\(name): the input shape \(s) is outside 1...\(Limits.channels) channels and 1...\(Limits.resolution) pixels")
        }
        guard nodes.indices.contains(output) else { throw ShapeError("\(name): the output is node \(output), which does not exist") }
        for (id, node) in nodes.enumerated().dropFirst() {
            let label = "\(name): node \(id) (\(node.name), \(node.operation.kindName))"
            guard node.operation != .input else { throw ShapeError("\(label) is a second input; only node 0 may be the input") }
            guard node.inputs.count == node.operation.arity else {
                throw ShapeError("\(label) takes \(node.operation.arity) inputs, it lists \(node.inputs.count)")
            }
            if let bad = node.inputs.first(where: { $0 < 0 || $0 >= id }) {
                throw ShapeError("\(label) reads node \(bad): nodes may only read earlier nodes (no cycles, no forward references)")
            }
            let derived: FeatureShape
            do { derived = try node.operation.outputShape(for: node.inputs.map { nodes[$0].shape }) } catch {
                throw ShapeError("\(label): \(error.message)")
            }
            guard derived == node.shape else { throw ShapeError("\(label) stores shape \(node.shape), its inputs give \(derived)") }
        }
    }

    private enum CodingKeys: String, CodingKey { case name, nodes, output, stages }

    /// Decodes a graph and validates it (`validate()`), so a decoded graph is as safe as a built one.
    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        self.init(name: try c.decode(String.self, forKey: .name), nodes: try c.decode([Node].self, forKey: .nodes),
                  output: try c.decode(NodeID.self, forKey: .output), stages: try c.decode([StageRecord].self, forKey: .stages))
        try validate()
    }
}
