/// The input stem: a strided convolution, batch norm and ReLU (pycls `simple_stem_in`).
public struct Stem: Sendable {
    /// Output width.
    public var width: Int
    /// Kernel size.
    public var kernel: Int
    /// Stride.
    public var stride: Int
    /// Where the stem was declared.
    public var location: SourceLocation

    /// A stem of `width` channels; defaults are RegNet's 3x3, stride 2.
    public init(_ width: Int, kernel: Int = 3, stride: Int = 2, fileID: String = #fileID, filePath: String = #filePath,
                line: Int = #line, column: Int = #column) {
        self.width = width
        self.kernel = kernel
        self.stride = stride
        location = SourceLocation(fileID: fileID, filePath: filePath, line: line, column: column)
    }

    /// Appends the stem (names `stem.conv`, `stem.bn`).
    public func lower(into graph: inout GraphBuilder) throws(LoweringError) {
        graph.scope.path = ["stem"]
        graph.scope.parameterPrefix = ["stem"]
        graph.scope.location = location
        defer { graph.scope = Scope() }
        try Conv(width, kernel: kernel, stride: stride, name: "conv").lower(into: &graph)
        try BatchNorm(name: "bn").lower(into: &graph)
        try ReLU().lower(into: &graph)
    }
}

/// The classifier: global average pool and a linear layer (`head.fc`).
public struct Head: Sendable {
    /// Output classes.
    public var classes: Int
    /// Where the head was declared.
    public var location: SourceLocation

    /// A head with `classes` outputs.
    public init(classes: Int, fileID: String = #fileID, filePath: String = #filePath, line: Int = #line, column: Int = #column) {
        self.classes = classes
        location = SourceLocation(fileID: fileID, filePath: filePath, line: line, column: column)
    }

    /// Appends the head.
    public func lower(into graph: inout GraphBuilder) throws(LoweringError) {
        graph.scope.path = ["head"]
        graph.scope.parameterPrefix = ["head"]
        graph.scope.location = location
        defer { graph.scope = Scope() }
        guard classes >= 1 else { throw graph.error("classes must be positive (got \(classes))") }
        try GlobalAveragePool().lower(into: &graph)
        try Linear(classes, name: "fc").lower(into: &graph)
    }
}
