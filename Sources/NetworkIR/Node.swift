/// Index of a node (and of the value it produces) in a `Graph`.
public typealias NodeID = Int

/// Where a node sits in the declaration: used for errors, summaries and per-stage complexity.
public struct Scope: Hashable, Sendable, Codable {
    /// Human-readable path, outermost first (`["stage 2", "block 1"]`).
    public var path: [String] = []
    /// Parameter-name prefix components (`["s2", "b1"]`), joined with dots.
    public var parameterPrefix: [String] = []
    /// 1-based stage index, nil for stem and head.
    public var stage: Int?
    /// 1-based block index within the stage.
    public var block: Int?
    /// The declaration that produced the node.
    public var location: SourceLocation?

    /// An empty scope (top level).
    public init() {}
}

/// One operation in the graph; it produces exactly one value, identified by the node's index.
public struct Node: Hashable, Sendable, Codable {
    /// The computation.
    public var operation: Operation
    /// Producer nodes of the inputs, in the operation's argument order.
    public var inputs: [NodeID]
    /// Inferred output shape for one image.
    public var shape: FeatureShape
    /// Parameter name (`s1.b1.conv1.conv`) for operations with weights, otherwise a descriptive name.
    public var name: String
    /// Where the node came from.
    public var scope: Scope

    /// A node.
    public init(operation: Operation, inputs: [NodeID], shape: FeatureShape, name: String, scope: Scope) {
        self.operation = operation
        self.inputs = inputs
        self.shape = shape
        self.name = name
        self.scope = scope
    }
}
