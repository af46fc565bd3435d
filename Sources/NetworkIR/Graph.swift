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
            node.operation.parameterShapes.map { ParameterSpec(name: "\(node.name).\($0.suffix)", shape: $0.shape) }
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

/// A learned tensor the graph expects: its name and PyTorch shape.
public struct ParameterSpec: Hashable, Sendable, Codable {
    /// Full parameter name, timm style (`stem.conv.weight`).
    public var name: String
    /// Shape in PyTorch order.
    public var shape: [Int]
    /// Number of elements.
    public var elementCount: Int { shape.reduce(1, *) }

    /// A parameter spec.
    public init(name: String, shape: [Int]) {
        self.name = name
        self.shape = shape
    }
}
