/// max(x, 0).
public struct ReLU: Layer {
    /// A ReLU.
    public init() {}
    /// Appends this layer's operations after `graph.current` (see `Layer`).
    public func lower(into graph: inout GraphBuilder) throws(LoweringError) {
        try graph.append(.unary(.relu), name: graph.uniqueName("relu"))
    }
}

/// The logistic function.
public struct Sigmoid: Layer {
    /// A sigmoid.
    public init() {}
    /// Appends this layer's operations after `graph.current` (see `Layer`).
    public func lower(into graph: inout GraphBuilder) throws(LoweringError) {
        try graph.append(.unary(.sigmoid), name: graph.uniqueName("sigmoid"))
    }
}

/// x · sigmoid(x) (SiLU, also called swish).
public struct SiLU: Layer {
    /// A SiLU.
    public init() {}
    /// Appends this layer's operations after `graph.current` (see `Layer`).
    public func lower(into graph: inout GraphBuilder) throws(LoweringError) {
        try graph.append(.unary(.silu), name: graph.uniqueName("silu"))
    }
}

/// min(max(x, 0), 6), MobileNet's activation.
public struct ReLU6: Layer {
    /// A ReLU6.
    public init() {}
    /// Appends this layer's operations after `graph.current` (see `Layer`).
    public func lower(into graph: inout GraphBuilder) throws(LoweringError) {
        try graph.append(.unary(.clamp(lower: 0, upper: 6)), name: graph.uniqueName("relu6"))
    }
}

/// x · min(max(x + 3, 0), 6) / 6, MobileNetV3's hard swish.
public struct HardSwish: Layer {
    /// A hard swish.
    public init() {}
    /// Appends this layer's operations after `graph.current` (see `Layer`).
    public func lower(into graph: inout GraphBuilder) throws(LoweringError) {
        try graph.append(.unary(.hardSwish), name: graph.uniqueName("hardswish"))
    }
}

/// min(max(x + 3, 0), 6) / 6, MobileNetV3's hard sigmoid (its squeeze-excite gate).
public struct HardSigmoid: Layer {
    /// A hard sigmoid.
    public init() {}
    /// Appends this layer's operations after `graph.current` (see `Layer`).
    public func lower(into graph: inout GraphBuilder) throws(LoweringError) {
        try graph.append(.unary(.hardSigmoid), name: graph.uniqueName("hardsigmoid"))
    }
}
