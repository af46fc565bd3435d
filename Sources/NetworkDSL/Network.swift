/// A whole network: exactly a Stem, a Body and a Head, in that order (enforced at compile time).
///
/// ```swift
/// let net = Network("Tiny") {
///     Stem(32)
///     Body {
///         Stage(depth: 1, width: 24, groupWidth: 8)
///         Stage(depth: 2, width: 56, groupWidth: 8, block: YBlock(seRatio: 0.25))
///     }
///     Head(classes: 10)
/// }
/// let graph = try net.lower(resolution: 224)
/// ```
public struct Network: Sendable {
    /// Name used in summaries.
    public var name: String
    /// The stem.
    public var stem: Stem
    /// The stages.
    public var body: Body
    /// The classifier.
    public var head: Head

    /// A network declared with the builder.
    public init(_ name: String = "Network", @NetworkBuilder _ content: () -> NetworkParts) {
        let parts = content()
        self.init(name: name, stem: parts.stem, body: parts.body, head: parts.head)
    }

    /// A network from its parts.
    public init(name: String, stem: Stem, body: Body, head: Head) {
        self.name = name
        self.stem = stem
        self.body = body
        self.head = head
    }

    /// Lowers to the IR for a square `resolution` input with 3 channels, checking every value.
    public func lower(resolution: Int = 224) throws(LoweringError) -> Graph {
        try lower(height: resolution, width: resolution)
    }

    /// Lowers to the IR for a `height` × `width` input with `inputChannels` channels.
    public func lower(height: Int, width: Int, inputChannels: Int = 3) throws(LoweringError) -> Graph {
        guard height >= 1, width >= 1, inputChannels >= 1 else {
            throw LoweringError(path: ["input"], message: "input size must be positive (got \(inputChannels)x\(height)x\(width))")
        }
        guard height <= Limits.resolution, width <= Limits.resolution, inputChannels <= Limits.channels else {
            throw LoweringError(path: ["input"], message: "input \(inputChannels)x\(height)x\(width) exceeds the limits (\(Limits.resolution) pixels a side, \(Limits.channels) channels)")
        }
        guard !body.stages.isEmpty else {
            throw LoweringError(path: ["body"], message: "Body must contain at least one Stage", location: stem.location)
        }
        var graph = GraphBuilder(input: FeatureShape(channels: inputChannels, height: height, width: width))
        try stem.lower(into: &graph)
        for (i, stage) in body.stages.enumerated() {
            try stage.lower(into: &graph, index: i + 1)
        }
        try head.lower(into: &graph)
        return graph.build(name: name)
    }

    /// Lowers and summarises at a square `resolution`.
    public func summary(resolution: Int = 224) throws(LoweringError) -> Summary {
        Summary(try lower(resolution: resolution))
    }
}

/// The three parts a `Network` closure must produce.
public struct NetworkParts: Sendable {
    /// The stem.
    public var stem: Stem
    /// The body.
    public var body: Body
    /// The head.
    public var head: Head
}

/// Accepts exactly `Stem`, `Body`, `Head`; every other arrangement fails to compile with a message saying what is expected.
@resultBuilder
public enum NetworkBuilder {
    /// The one valid arrangement.
    public static func buildBlock(_ stem: Stem, _ body: Body, _ head: Head) -> NetworkParts {
        NetworkParts(stem: stem, body: body, head: head)
    }

    /// Head forgotten.
    @available(*, unavailable, message: "Network is missing Head(classes:) after Body { ... }")
    public static func buildBlock(_ stem: Stem, _ body: Body) -> NetworkParts { fatalError("unavailable") }

    /// Stem forgotten.
    @available(*, unavailable, message: "Network is missing Stem(_:) before Body { ... }")
    public static func buildBlock(_ body: Body, _ head: Head) -> NetworkParts { fatalError("unavailable") }

    /// Body forgotten.
    @available(*, unavailable, message: "Network is missing Body { ... } between Stem and Head")
    public static func buildBlock(_ stem: Stem, _ head: Head) -> NetworkParts { fatalError("unavailable") }

    /// Everything else: wrong order, extra parts, stages at the top level, an empty network.
    @available(*, unavailable, message: "A Network must contain exactly Stem(_:), Body { ... }, Head(classes:) in this order; Stages go inside Body")
    public static func buildBlock<each Part>(_ parts: repeat each Part) -> NetworkParts { fatalError("unavailable") }
}
