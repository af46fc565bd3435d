/// `branch(x) + shortcut(x)`, where the shortcut is the identity when shapes agree and otherwise a
/// strided 1x1 convolution with batch norm (the projection), inserted automatically.
public struct Residual: Layer {
    /// When the shortcut may be a projection.
    public enum Shortcut: Sendable, Hashable {
        /// Identity when shapes agree, projection otherwise (the default).
        case automatic
        /// Always the identity; shapes must agree.
        case identity
    }

    /// The residual branch.
    public var branch: Sequential
    /// Parameter scope of the projection (`downsample` gives `downsample.conv` and `downsample.bn`).
    public var projectionName: String
    /// Shortcut policy.
    public var shortcut: Shortcut
    /// Where the layer was written, for errors.
    public var location: SourceLocation

    /// A residual connection around `branch`.
    public init(projectionName: String = "shortcut", shortcut: Shortcut = .automatic,
                fileID: String = #fileID, filePath: String = #filePath, line: Int = #line, column: Int = #column, @LayerBuilder _ branch: () -> Sequential) {
        self.branch = branch()
        self.projectionName = projectionName
        self.shortcut = shortcut
        location = SourceLocation(fileID: fileID, filePath: filePath, line: line, column: column)
    }

    /// Appends this layer's operations after `graph.current` (see `Layer`).
    public func lower(into graph: inout GraphBuilder) throws(LoweringError) {
        try graph.at(location) { (g: inout GraphBuilder) throws(LoweringError) in try lowerBranches(into: &g) }
    }

    private func lowerBranches(into graph: inout GraphBuilder) throws(LoweringError) {
        let input = graph.current
        try branch.lower(into: &graph)
        let output = graph.current
        let from = graph.shape(of: input), to = graph.shape(of: output)
        var other = input
        if from != to {
            guard shortcut == .automatic else {
                throw graph.error("residual branches disagree: the branch maps \(from) to \(to) but the shortcut is the identity")
            }
            guard let stride = (1...max(from.height, from.width, 1)).first(where: {
                (from.height - 1) / $0 + 1 == to.height && (from.width - 1) / $0 + 1 == to.width
            }) else {
                throw graph.error("residual branches disagree: no strided 1x1 projection maps \(from) to \(to)")
            }
            graph.current = input
            other = try graph.withScope(path: projectionName, prefix: projectionName) { (g: inout GraphBuilder) throws(LoweringError) -> NodeID in
                try g.append(.convolution(Convolution(inChannels: from.channels, outChannels: to.channels, kernel: 1, stride: stride)), name: "conv")
                return try g.append(.batchNorm(channels: to.channels, epsilon: 1e-5), name: "bn")
            }
        }
        try graph.append(.add, inputs: [output, other], name: graph.uniqueName("add"))
    }
}
