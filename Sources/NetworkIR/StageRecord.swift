/// What the declaration said about one stage, kept in the graph so summaries need only the IR.
public struct StageRecord: Hashable, Sendable, Codable {
    /// 1-based stage index.
    public var index: Int
    /// Number of blocks.
    public var depth: Int
    /// Output width (channels).
    public var width: Int
    /// Channels per group in the grouped convolution.
    public var groupWidth: Int
    /// Bottleneck ratio b (bottleneck width = width / b).
    public var bottleneckRatio: Double
    /// Stride of the first block.
    public var stride: Int
    /// Name of the block type (`XBlock`, `YBlock`, or a user type).
    public var blockName: String

    /// A stage record.
    public init(index: Int, depth: Int, width: Int, groupWidth: Int, bottleneckRatio: Double, stride: Int, blockName: String) {
        self.index = index
        self.depth = depth
        self.width = width
        self.groupWidth = groupWidth
        self.bottleneckRatio = bottleneckRatio
        self.stride = stride
        self.blockName = blockName
    }
}
