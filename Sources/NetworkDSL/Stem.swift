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
        try graph.topLevel("stem", location: location) { (g: inout GraphBuilder) throws(LoweringError) in
            try Conv(width, kernel: kernel, stride: stride, name: "conv").lower(into: &g)
            try BatchNorm(name: "bn").lower(into: &g)
            try ReLU().lower(into: &g)
        }
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
        try graph.topLevel("head", location: location) { (g: inout GraphBuilder) throws(LoweringError) in
            guard classes >= 1 else { throw g.error("classes must be positive (got \(classes))") }
            try GlobalAveragePool().lower(into: &g)
            try Linear(classes, name: "fc").lower(into: &g)
        }
    }
}

extension GraphBuilder {
    /// Runs `body` in the top-level scope `name` (path and parameter prefix), declared at `location`.
    mutating func topLevel(_ name: String, location: SourceLocation,
                           _ body: (inout GraphBuilder) throws(LoweringError) -> Void) throws(LoweringError) {
        scope = Scope()
        scope.path = [name]
        scope.parameterPrefix = [name]
        scope.location = location
        defer { scope = Scope() }
        try body(&self)
    }
}
