/// Inference batch normalisation over the current channels (folded into the convolution before it when executed).
public struct BatchNorm: Layer {
    /// Added to the variance.
    public var epsilon: Float
    /// Parameter name relative to the block (`conv1.bn`); nil picks `bn1`, `bn2`, …
    public var name: String?
    /// Where the layer was written, for errors.
    public var location: SourceLocation

    /// A batch norm; pycls and PyTorch use epsilon 1e-5.
    public init(epsilon: Float = 1e-5, name: String? = nil, fileID: String = #fileID, filePath: String = #filePath, line: Int = #line, column: Int = #column) {
        self.epsilon = epsilon
        self.name = name
        location = SourceLocation(fileID: fileID, filePath: filePath, line: line, column: column)
    }

    /// Appends this layer's operations after `graph.current` (see `Layer`).
    public func lower(into graph: inout GraphBuilder) throws(LoweringError) {
        try graph.at(location) { (g: inout GraphBuilder) throws(LoweringError) in
            try g.append(.batchNorm(channels: g.currentShape.channels, epsilon: epsilon), name: name ?? g.uniqueName("bn"))
        }
    }
}
