/// Zeroes each value with probability `p` while training and scales the rest by 1 / (1 − p); the
/// identity at inference (PyTorch's `Dropout`).
public struct Dropout: Layer {
    /// Probability of zeroing a value, in [0, 1).
    public var probability: Double
    /// Where the layer was written, for errors.
    public var location: SourceLocation

    /// Dropout with probability `p`.
    public init(_ p: Double, fileID: String = #fileID, filePath: String = #filePath, line: Int = #line, column: Int = #column) {
        probability = p
        location = SourceLocation(fileID: fileID, filePath: filePath, line: line, column: column)
    }

    /// Appends this layer's operations after `graph.current` (see `Layer`).
    public func lower(into graph: inout GraphBuilder) throws(LoweringError) {
        try graph.at(location) { (g: inout GraphBuilder) throws(LoweringError) in
            try g.append(.dropout(probability: probability), name: g.uniqueName("dropout"))
        }
    }
}
