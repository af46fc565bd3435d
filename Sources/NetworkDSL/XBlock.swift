/// The RegNetX block: residual bottleneck with a grouped 3x3 convolution (pycls `ResBottleneckBlock`).
///
/// Parameter names follow timm (`conv1.conv`, `conv2.bn`, `downsample.conv`, …). It is the Y block
/// without squeeze-excite, and like it uses only the public layer API.
public struct XBlock: Block {
    /// Where the block was declared.
    public let sourceLocation: SourceLocation?

    /// An X block.
    public init(fileID: String = #fileID, filePath: String = #filePath, line: Int = #line, column: Int = #column) {
        sourceLocation = SourceLocation(fileID: fileID, filePath: filePath, line: line, column: column)
    }

    /// The grouped 3x3 convolution reads the stage's group width.
    public var needsGroupWidth: Bool { true }

    /// The block's layers for one instantiation (see `Block`).
    public func body(_ c: BlockContext) -> some Layer {
        YBlock(seRatio: 0).body(c)
    }
}
