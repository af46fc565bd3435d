/// The RegNetY block: the X block with squeeze-excite on the bottleneck.
///
/// The SE width is `round(seRatio × block input width)` (half to even), as pycls and timm compute it,
/// so a stage's first block differs from the rest. A ratio of 0 omits SE; a ratio whose width rounds to
/// zero or below is reported when the network is lowered.
public struct YBlock: Block {
    /// SE width relative to the block's input width.
    public var seRatio: Double
    /// Where the block was declared.
    public let sourceLocation: SourceLocation?

    /// A Y block; RegNetY uses `seRatio` 0.25.
    public init(seRatio: Double = 0.25, fileID: String = #fileID, filePath: String = #filePath, line: Int = #line, column: Int = #column) {
        self.seRatio = seRatio
        sourceLocation = SourceLocation(fileID: fileID, filePath: filePath, line: line, column: column)
    }

    /// SE width for a block reading `inputWidth` channels (one past `Limits.channels` when the ratio is absurd).
    public func seWidth(inputWidth: Int) -> Int {
        Limits.integer((seRatio * Double(inputWidth)).rounded(.toNearestOrEven)) ?? Limits.channels + 1
    }

    /// The grouped 3x3 convolution reads the stage's group width.
    public var needsGroupWidth: Bool { true }

    /// The block's layers for one instantiation (see `Block`).
    public func body(_ c: BlockContext) -> some Layer {
        Residual(projectionName: "downsample") {
            Conv(c.bottleneckWidth, kernel: 1, name: "conv1.conv")
            BatchNorm(name: "conv1.bn")
            ReLU()
            Conv(c.bottleneckWidth, kernel: 3, stride: c.stride, groups: c.groups, name: "conv2.conv")
            BatchNorm(name: "conv2.bn")
            ReLU()
            if seRatio != 0 {
                SqueezeExcite(width: seWidth(inputWidth: c.inputWidth), name: "se")
            }
            Conv(c.outputWidth, kernel: 1, name: "conv3.conv")
            BatchNorm(name: "conv3.bn")
        }
        ReLU()
    }
}
