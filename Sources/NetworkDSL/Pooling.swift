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
    /// Where the layer was written, for errors.
    public var location: SourceLocation

    /// A linear layer producing `outFeatures`.
    public init(_ outFeatures: Int, bias: Bool = true, name: String? = nil,
                fileID: String = #fileID, filePath: String = #filePath, line: Int = #line, column: Int = #column) {
        self.outFeatures = outFeatures
        self.bias = bias
        self.name = name
        location = SourceLocation(fileID: fileID, filePath: filePath, line: line, column: column)
    }

    /// Appends this layer's operations after `graph.current` (see `Layer`).
    public func lower(into graph: inout GraphBuilder) throws(LoweringError) {
        try graph.at(location) { (g: inout GraphBuilder) throws(LoweringError) in
            try g.append(.linear(inFeatures: g.currentShape.elementCount, outFeatures: outFeatures, bias: bias), name: name ?? g.uniqueName("fc"))
        }
    }
}

/// The maximum over `kernel`×`kernel` windows (a ResNet stem's 3×3, stride 2, padding 1).
public struct MaxPool: Layer {
    /// The window.
    public var window: PoolingWindow
    /// Where the layer was written, for errors.
    public var location: SourceLocation

    /// A max pool; stride defaults to the kernel, as in PyTorch.
    public init(kernel: Int, stride: Int? = nil, padding: Int = 0,
                fileID: String = #fileID, filePath: String = #filePath, line: Int = #line, column: Int = #column) {
        window = PoolingWindow(kernel: kernel, stride: stride, padding: padding)
        location = SourceLocation(fileID: fileID, filePath: filePath, line: line, column: column)
    }

    /// Appends this layer's operations after `graph.current` (see `Layer`).
    public func lower(into graph: inout GraphBuilder) throws(LoweringError) {
        try graph.at(location) { (g: inout GraphBuilder) throws(LoweringError) in try g.append(.maxPool(window), name: g.uniqueName("maxpool")) }
    }
}

/// The mean over `kernel`×`kernel` windows, padded positions counted as zeros (PyTorch's default).
public struct AvgPool: Layer {
    /// The window.
    public var window: PoolingWindow
    /// Where the layer was written, for errors.
    public var location: SourceLocation

    /// An average pool; stride defaults to the kernel, as in PyTorch.
    public init(kernel: Int, stride: Int? = nil, padding: Int = 0,
                fileID: String = #fileID, filePath: String = #filePath, line: Int = #line, column: Int = #column) {
        window = PoolingWindow(kernel: kernel, stride: stride, padding: padding)
        location = SourceLocation(fileID: fileID, filePath: filePath, line: line, column: column)
    }

    /// Appends this layer's operations after `graph.current` (see `Layer`).
    public func lower(into graph: inout GraphBuilder) throws(LoweringError) {
        try graph.at(location) { (g: inout GraphBuilder) throws(LoweringError) in try g.append(.averagePool(window), name: g.uniqueName("avgpool")) }
    }
}
