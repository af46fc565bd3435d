/// Inference batch normalisation over the current channels (folded into the convolution before it when executed).
public struct BatchNorm: Layer {
    /// Added to the variance.
    public var epsilon: Float
    /// Parameter name relative to the block (`conv1.bn`); nil picks `bn1`, `bn2`, …
    public var name: String?

    /// A batch norm; pycls and PyTorch use epsilon 1e-5.
    public init(epsilon: Float = 1e-5, name: String? = nil) {
        self.epsilon = epsilon
        self.name = name
    }

    /// Appends this layer's operations after `graph.current` (see `Layer`).
    public func lower(into graph: inout GraphBuilder) throws(LoweringError) {
        try graph.append(.batchNorm(channels: graph.currentShape.channels, epsilon: epsilon), name: name ?? graph.uniqueName("bn"))
    }
}
