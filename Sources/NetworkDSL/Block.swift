/// What a block is told when its stage instantiates it.
public struct BlockContext: Hashable, Sendable {
    /// Channels entering the block (the previous stage's width for a stage's first block).
    public var inputWidth: Int
    /// Channels the block must produce (the stage width).
    public var outputWidth: Int
    /// Stride of this block (the stage stride for the first block, 1 for the rest).
    public var stride: Int
    /// Channels per group in the grouped convolution; 0 when the stage gave none (only blocks whose
    /// `needsGroupWidth` is false run without one).
    public var groupWidth: Int
    /// The paper's b: bottleneck width = output width / b.
    public var bottleneckRatio: Double
    /// 1-based stage index.
    public var stageIndex: Int
    /// 1-based block index within the stage.
    public var blockIndex: Int

    /// A context; stages create these, tests and nested blocks may too.
    public init(inputWidth: Int, outputWidth: Int, stride: Int, groupWidth: Int, bottleneckRatio: Double = 1,
                stageIndex: Int = 1, blockIndex: Int = 1) {
        self.inputWidth = inputWidth
        self.outputWidth = outputWidth
        self.stride = stride
        self.groupWidth = groupWidth
        self.bottleneckRatio = bottleneckRatio
        self.stageIndex = stageIndex
        self.blockIndex = blockIndex
    }

    /// Width inside the bottleneck: `round(outputWidth / b)`, half to even as in pycls
    /// (one past `Limits.channels` when the ratio is absurd, so lowering reports it).
    public var bottleneckWidth: Int {
        Limits.integer((Double(outputWidth) / bottleneckRatio).rounded(.toNearestOrEven)) ?? Limits.channels + 1
    }
    /// Groups of the grouped convolution: bottleneck width / group width.
    public var groups: Int { groupWidth > 0 ? bottleneckWidth / groupWidth : 0 }
}

/// A reusable block: its body, built from layers, is instantiated once per stage block.
///
/// `XBlock` and `YBlock` are written with nothing but this protocol and the public layers; a custom
/// block is declared the same way:
/// ```swift
/// struct BasicBlock: Block {
///     func body(_ c: BlockContext) -> some Layer {
///         Residual { Conv(c.outputWidth, kernel: 3, stride: c.stride); BatchNorm(); ReLU()
///                    Conv(c.outputWidth, kernel: 3); BatchNorm() }
///         ReLU()
///     }
/// }
/// ```
public protocol Block: Sendable {
    /// The layer type the body produces (inferred from `some Layer`).
    associatedtype Content: Layer
    /// The block's layers for one instantiation.
    @LayerBuilder func body(_ context: BlockContext) -> Content
    /// Where the block value was written, for errors; nil falls back to the stage's location.
    var sourceLocation: SourceLocation? { get }
    /// Name shown in summaries.
    var blockName: String { get }
    /// Whether the body reads `context.groupWidth` (or `groups`), so a stage must give one. False by
    /// default: a block without grouped convolutions is declared without `groupWidth:`.
    var needsGroupWidth: Bool { get }
}

extension Block {
    /// No location unless the block records one.
    public var sourceLocation: SourceLocation? { nil }
    /// The type's name.
    public var blockName: String { String(describing: Self.self) }
    /// No group width needed unless the block says so.
    public var needsGroupWidth: Bool { false }
}
