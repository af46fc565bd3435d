/// max(x, 0).
public struct ReLU: Layer {
    /// A ReLU.
    public init() {}
    /// Appends this layer's operations after `graph.current` (see `Layer`).
    public func lower(into graph: inout GraphBuilder) throws(LoweringError) {
        try graph.append(.relu, name: graph.uniqueName("relu"))
    }
}

/// The logistic function.
public struct Sigmoid: Layer {
    /// A sigmoid.
    public init() {}
    /// Appends this layer's operations after `graph.current` (see `Layer`).
    public func lower(into graph: inout GraphBuilder) throws(LoweringError) {
        try graph.append(.sigmoid, name: graph.uniqueName("sigmoid"))
    }
}
