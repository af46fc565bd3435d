/// A 2-D convolution from the current width to `outChannels`.
public struct Conv: Layer {
    /// Output channels.
    public var outChannels: Int
    /// Square kernel size.
    public var kernel: Int
    /// Stride.
    public var stride: Int
    /// Padding; nil means `(kernel - 1) / 2`.
    public var padding: Int?
    /// Groups (1 dense; the input width for depthwise).
    public var groups: Int
    /// Whether a bias is added.
    public var bias: Bool
    /// Parameter name relative to the block (`conv1.conv`); nil picks `conv1`, `conv2`, …
    public var name: String?
    /// Where the layer was written, for errors.
    public var location: SourceLocation

    /// A convolution producing `outChannels`.
    public init(_ outChannels: Int, kernel: Int = 1, stride: Int = 1, padding: Int? = nil, groups: Int = 1,
                bias: Bool = false, name: String? = nil, fileID: String = #fileID, filePath: String = #filePath, line: Int = #line, column: Int = #column) {
        self.outChannels = outChannels
        self.kernel = kernel
        self.stride = stride
        self.padding = padding
        self.groups = groups
        self.bias = bias
        self.name = name
        location = SourceLocation(fileID: fileID, filePath: filePath, line: line, column: column)
    }

    /// Appends this layer's operations after `graph.current` (see `Layer`).
    public func lower(into graph: inout GraphBuilder) throws(LoweringError) {
        let conv = Convolution(inChannels: graph.currentShape.channels, outChannels: outChannels, kernel: kernel,
                               stride: stride, padding: padding, groups: groups, bias: bias)
        try graph.at(location) { (g: inout GraphBuilder) throws(LoweringError) in
            try g.append(.convolution(conv), name: name ?? g.uniqueName("conv"))
        }
    }
}
