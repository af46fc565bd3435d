/// Averages each channel over the spatial dimensions (C×H×W → C×1×1).
public struct GlobalAveragePool: Layer {
    /// A global average pool.
    public init() {}
    /// Appends this layer's operations after `graph.current` (see `Layer`).
    public func lower(into graph: inout GraphBuilder) throws(LoweringError) {
        try graph.append(.globalAveragePool, name: graph.uniqueName("pool"))
    }
}

/// A fully connected layer over a pooled (C×1×1) input.
public struct Linear: Layer {
    /// Output features.
    public var outFeatures: Int
    /// Whether a bias is added.
    public var bias: Bool
    /// Parameter name (`fc`); nil picks `fc1`, `fc2`, …
    public var name: String?

    /// A linear layer producing `outFeatures`.
    public init(_ outFeatures: Int, bias: Bool = true, name: String? = nil) {
        self.outFeatures = outFeatures
        self.bias = bias
        self.name = name
    }

    /// Appends this layer's operations after `graph.current` (see `Layer`).
    public func lower(into graph: inout GraphBuilder) throws(LoweringError) {
        try graph.append(.linear(inFeatures: graph.currentShape.elementCount, outFeatures: outFeatures, bias: bias),
                         name: name ?? graph.uniqueName("fc"))
    }
}
