/// Squeeze-and-excitation: pool, reduce to `width` with ReLU, expand with sigmoid, scale the channels.
public struct SqueezeExcite: Layer {
    /// Width of the reduced representation.
    public var width: Int
    /// Parameter scope (`se` gives `se.fc1`, `se.fc2`).
    public var name: String
    /// Where the layer was written, for errors.
    public var location: SourceLocation

    /// An SE layer reducing to `width` channels.
    public init(width: Int, name: String = "se", fileID: String = #fileID, filePath: String = #filePath, line: Int = #line, column: Int = #column) {
        self.width = width
        self.name = name
        location = SourceLocation(fileID: fileID, filePath: filePath, line: line, column: column)
    }

    /// Appends this layer's operations after `graph.current` (see `Layer`).
    public func lower(into graph: inout GraphBuilder) throws(LoweringError) {
        try graph.at(location) { (g: inout GraphBuilder) throws(LoweringError) in try lowerGate(into: &g) }
    }

    private func lowerGate(into graph: inout GraphBuilder) throws(LoweringError) {
        guard width > 0, width <= Limits.channels else {
            throw graph.error("squeeze-excite width must be in 1...\(Limits.channels) (got \(width))", at: name)
        }
        let input = graph.current
        let channels = graph.currentShape.channels
        let scale = try graph.withScope(path: name, prefix: name) { (g: inout GraphBuilder) throws(LoweringError) -> NodeID in
            try g.append(.globalAveragePool, name: "pool")
            try g.append(.convolution(Convolution(inChannels: channels, outChannels: width, kernel: 1, bias: true)), name: "fc1")
            try g.append(.unary(.relu), name: "relu")
            try g.append(.convolution(Convolution(inChannels: width, outChannels: channels, kernel: 1, bias: true)), name: "fc2")
            return try g.append(.unary(.sigmoid), name: "gate")
        }
        try graph.append(.channelScale, inputs: [input, scale], name: "\(name).scale")
    }
}
