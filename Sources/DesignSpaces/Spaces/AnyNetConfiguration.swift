/// One stage of an AnyNet network: the four free parameters of the paper's AnyNetX.
public struct AnyNetStage: Hashable, Sendable, Codable {
    /// Blocks d_i.
    public var depth: Int
    /// Width w_i.
    public var width: Int
    /// Bottleneck ratio b_i (bottleneck width = w_i / b_i).
    public var bottleneckRatio: Int
    /// Group width g_i.
    public var groupWidth: Int

    /// A stage.
    public init(depth: Int, width: Int, bottleneckRatio: Int, groupWidth: Int) {
        self.depth = depth
        self.width = width
        self.bottleneckRatio = bottleneckRatio
        self.groupWidth = groupWidth
    }

    /// Whether the group width divides the bottleneck width.
    public var isCompatible: Bool {
        width % bottleneckRatio == 0 && (width / bottleneckRatio) % groupWidth == 0
    }
}

/// A network of the AnyNetX family: stem, stages of X blocks (each with its own d, w, b, g), head.
public struct AnyNetConfiguration: Hashable, Sendable, Codable {
    /// The stages, in order.
    public var stages: [AnyNetStage]
    /// Stem width.
    public var stemWidth: Int
    /// Classifier outputs.
    public var classes: Int

    /// A configuration; pycls's stem of 32 and 1000 classes by default.
    public init(stages: [AnyNetStage], stemWidth: Int = 32, classes: Int = 1000) {
        self.stages = stages
        self.stemWidth = stemWidth
        self.classes = classes
    }

    /// The network, declared through the DSL.
    public func network(name: String = "AnyNetX") -> Network {
        Network(name) {
            Stem(stemWidth)
            Body {
                for s in stages {
                    Stage(depth: s.depth, width: s.width, groupWidth: s.groupWidth, bottleneckRatio: Double(s.bottleneckRatio))
                }
            }
            Head(classes: classes)
        }
    }
}

extension RegNetConfiguration {
    /// The same network seen as AnyNet stages (every RegNet is an AnyNet), when b is an integer.
    public func anyNet() throws(RegNetError) -> AnyNetConfiguration {
        let b = Int(bottleneckRatio)
        guard Double(b) == bottleneckRatio else { throw RegNetError(.invalidParameters, "bottleneck ratio \(bottleneckRatio) is not an integer") }
        let stages = try stages().map { AnyNetStage(depth: $0.depth, width: $0.width, bottleneckRatio: b, groupWidth: $0.groupWidth) }
        return AnyNetConfiguration(stages: stages, stemWidth: stemWidth, classes: classes)
    }
}
