/// `depth` blocks of one width: the first has the stage stride (and a projection when the shape changes), the rest stride 1.
public struct Stage: Sendable {
    /// Number of blocks.
    public var depth: Int
    /// Output width.
    public var width: Int
    /// Channels per group; nil for blocks without grouped convolutions (see `Block.needsGroupWidth`).
    public var groupWidth: Int?
    /// The paper's b: bottleneck width = width / b.
    public var bottleneckRatio: Double
    /// Stride of the first block.
    public var stride: Int
    /// The block repeated `depth` times.
    public var block: any Block
    /// Where the stage was declared.
    public var location: SourceLocation

    /// A stage of `depth` X blocks (or `block`) of `width` channels.
    public init(depth: Int, width: Int, groupWidth: Int? = nil, bottleneckRatio: Double = 1, stride: Int = 2,
                block: any Block = XBlock(), fileID: String = #fileID, filePath: String = #filePath,
                line: Int = #line, column: Int = #column) {
        self.depth = depth
        self.width = width
        self.groupWidth = groupWidth
        self.bottleneckRatio = bottleneckRatio
        self.stride = stride
        self.block = block
        self.location = SourceLocation(fileID: fileID, filePath: filePath, line: line, column: column)
    }

    /// Appends the stage's blocks as stage `index`.
    public func lower(into graph: inout GraphBuilder, index: Int) throws(LoweringError) {
        let fail = { (message: String) in LoweringError(path: ["stage \(index)"], message: message, location: location) }
        guard depth >= 1 else { throw fail("depth must be at least 1 (got \(depth))") }
        guard depth <= Limits.depth else { throw fail("depth \(depth) exceeds the limit of \(Limits.depth)") }
        guard width <= Limits.channels, (groupWidth ?? 1) <= Limits.channels else {
            throw fail("width \(width) and group width \(groupWidth ?? 1) must be at most \(Limits.channels)")
        }
        guard width >= 1 else { throw fail("width must be positive (got \(width))") }
        guard stride >= 1 else { throw fail("stride must be positive (got \(stride))") }
        guard bottleneckRatio > 0, bottleneckRatio.isFinite else { throw fail("bottleneck ratio must be positive (got \(bottleneckRatio))") }
        // A block with grouped convolutions needs the group width; one without never reads it.
        guard groupWidth != nil || !block.needsGroupWidth else {
            throw fail("\(block.blockName) needs a group width: Stage(depth: \(depth), width: \(width), groupWidth: …)")
        }
        let groupWidth = groupWidth ?? 0
        if block.needsGroupWidth {
            guard groupWidth >= 1 else { throw fail("group width must be positive (got \(groupWidth))") }
        }
        let probe = BlockContext(inputWidth: width, outputWidth: width, stride: 1, groupWidth: groupWidth, bottleneckRatio: bottleneckRatio)
        guard probe.bottleneckWidth >= 1 else { throw fail("width \(width) / bottleneck ratio \(bottleneckRatio) leaves no bottleneck channels") }
        guard probe.bottleneckWidth <= Limits.channels else {
            throw fail("width \(width) / bottleneck ratio \(bottleneckRatio) exceeds the limit of \(Limits.channels) channels")
        }
        if block.needsGroupWidth, probe.bottleneckWidth % groupWidth != 0 {
            let hint = groupWidth > probe.bottleneckWidth ? " (the group width exceeds the bottleneck width)" : ""
            throw fail("bottleneck width \(probe.bottleneckWidth) is not divisible by group width \(groupWidth)\(hint)")
        }
        graph.stages.append(StageRecord(index: index, depth: depth, width: width, groupWidth: groupWidth,
                                        bottleneckRatio: bottleneckRatio, stride: stride, blockName: block.blockName))
        for j in 1...depth {
            let context = BlockContext(inputWidth: graph.currentShape.channels, outputWidth: width,
                                       stride: j == 1 ? stride : 1, groupWidth: groupWidth,
                                       bottleneckRatio: bottleneckRatio, stageIndex: index, blockIndex: j)
            let saved = graph.scope
            graph.scope.path = ["stage \(index)", "block \(j)"]
            graph.scope.parameterPrefix = ["s\(index)", "b\(j)"]
            graph.scope.stage = index
            graph.scope.block = j
            graph.scope.location = block.sourceLocation ?? location
            defer { graph.scope = saved }
            let input = graph.currentShape
            try block.body(context).lower(into: &graph)
            guard graph.currentShape.channels == width else {
                throw LoweringError(path: graph.scope.path, message: "\(block.blockName) produced \(graph.currentShape.channels) channels but the stage width is \(width)", location: graph.scope.location)
            }
            // A block that ignores the stage's stride would leave the map too large, silently. (Smaller
            // is allowed: unpadded convolutions shrink it.)
            let expected = ((input.height - 1) / context.stride + 1, (input.width - 1) / context.stride + 1)
            guard graph.currentShape.height <= expected.0, graph.currentShape.width <= expected.1 else {
                throw LoweringError(path: graph.scope.path, message: "\(block.blockName) produced \(graph.currentShape.height)x\(graph.currentShape.width) "
                                    + "from \(input.height)x\(input.width) but the block's stride is \(context.stride), which gives at most "
                                    + "\(expected.0)x\(expected.1): does the block read context.stride?", location: graph.scope.location)
            }
        }
    }
}

/// Collects the stages of a `Body`; only `Stage` values, `for` and `if` are accepted.
@resultBuilder
public enum BodyBuilder {
    /// A stage.
    public static func buildExpression(_ stage: Stage) -> [Stage] { [stage] }
    /// A Head inside a Body is a structural mistake.
    @available(*, unavailable, message: "Head(classes:) belongs after Body { ... }, not inside it")
    public static func buildExpression(_ head: Head) -> [Stage] { [] }
    /// A Stem inside a Body is a structural mistake.
    @available(*, unavailable, message: "Stem(_:) belongs before Body { ... }, not inside it")
    public static func buildExpression(_ stem: Stem) -> [Stage] { [] }
    /// Anything else.
    @available(*, unavailable, message: "Only Stage(...) values may appear inside Body { ... }")
    public static func buildExpression<T>(_ other: T) -> [Stage] { [] }
    /// Statements in order.
    public static func buildBlock(_ parts: [Stage]...) -> [Stage] { parts.flatMap { $0 } }
    /// `for … in` loops.
    public static func buildArray(_ parts: [[Stage]]) -> [Stage] { parts.flatMap { $0 } }
    /// `if` without `else`.
    public static func buildOptional(_ part: [Stage]?) -> [Stage] { part ?? [] }
    /// `if`/`else`, first branch.
    public static func buildEither(first: [Stage]) -> [Stage] { first }
    /// `if`/`else`, second branch.
    public static func buildEither(second: [Stage]) -> [Stage] { second }
}

/// The stages of a network, in order.
public struct Body: Sendable {
    /// The stages.
    public var stages: [Stage]
    /// A body from a builder closure.
    public init(@BodyBuilder _ content: () -> [Stage]) { stages = content() }
    /// A body from an array of stages (for generated networks).
    public init(stages: [Stage]) { self.stages = stages }
}
