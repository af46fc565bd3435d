/// The input stem: whatever layers run before the first stage. `Stem(32)` is RegNet's (pycls
/// `simple_stem_in`: a 3x3 stride-2 convolution, batch norm, ReLU, named `stem.conv`, `stem.bn`);
/// any other is written with layers, as a block body is:
/// ```swift
/// Stem { Conv(64, kernel: 7, stride: 2, name: "conv"); BatchNorm(name: "bn"); ReLU()   // ResNet's
///        MaxPool(kernel: 3, stride: 2, padding: 1) }
/// ```
/// Its parameters are named under `stem.`.
public struct Stem: Sendable {
    /// The stem's layers.
    public var layers: Sequential
    /// Where the stem was declared.
    public var location: SourceLocation

    /// RegNet's stem of `width` channels: a `kernel`×`kernel` convolution with `stride`, batch norm, ReLU.
    public init(_ width: Int, kernel: Int = 3, stride: Int = 2, fileID: String = #fileID, filePath: String = #filePath,
                line: Int = #line, column: Int = #column) {
        self.init(fileID: fileID, filePath: filePath, line: line, column: column) {
            Conv(width, kernel: kernel, stride: stride, name: "conv")
            BatchNorm(name: "bn")
            ReLU()
        }
    }

    /// A stem of your own layers.
    public init(fileID: String = #fileID, filePath: String = #filePath, line: Int = #line, column: Int = #column,
                @LayerBuilder _ layers: () -> Sequential) {
        self.layers = layers()
        location = SourceLocation(fileID: fileID, filePath: filePath, line: line, column: column)
    }

    /// Appends the stem under the `stem` scope.
    public func lower(into graph: inout GraphBuilder) throws(LoweringError) {
        try graph.topLevel("stem", location: location) { (g: inout GraphBuilder) throws(LoweringError) in
            try layers.lower(into: &g)
        }
    }
}

/// The classifier: whatever layers run after the last stage. `Head(classes:)` is RegNet's (global
/// average pool and a linear layer `head.fc`); any other is written with layers:
/// ```swift
/// Head { GlobalAveragePool(); Dropout(0.2); Linear(1000, name: "fc") }
/// ```
/// Its parameters are named under `head.`.
public struct Head: Sendable {
    /// The head's layers.
    public var layers: Sequential
    /// Where the head was declared.
    public var location: SourceLocation
    /// The classes of `Head(classes:)`, checked when lowering.
    var classes: Int?

    /// RegNet's head with `classes` outputs.
    public init(classes: Int, fileID: String = #fileID, filePath: String = #filePath, line: Int = #line, column: Int = #column) {
        self.init(fileID: fileID, filePath: filePath, line: line, column: column) {
            GlobalAveragePool()
            Linear(classes, name: "fc")
        }
        self.classes = classes
    }

    /// A head of your own layers.
    public init(fileID: String = #fileID, filePath: String = #filePath, line: Int = #line, column: Int = #column,
                @LayerBuilder _ layers: () -> Sequential) {
        self.layers = layers()
        location = SourceLocation(fileID: fileID, filePath: filePath, line: line, column: column)
    }

    /// Appends the head under the `head` scope.
    public func lower(into graph: inout GraphBuilder) throws(LoweringError) {
        try graph.topLevel("head", location: location) { (g: inout GraphBuilder) throws(LoweringError) in
            if let classes, classes < 1 { throw g.error("classes must be positive (got \(classes))") }
            try layers.lower(into: &g)
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
