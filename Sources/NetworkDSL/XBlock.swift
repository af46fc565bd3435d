/// The RegNetX block: residual bottleneck with a grouped 3x3 convolution (pycls `ResBottleneckBlock`).
///
/// Parameter names follow timm (`conv1.conv`, `conv2.bn`, `downsample.conv`, …).
public struct XBlock: Block {
    /// Where the block was declared.
    public let sourceLocation: SourceLocation?

    /// An X block.
    public init(fileID: String = #fileID, filePath: String = #filePath, line: Int = #line, column: Int = #column) {
        sourceLocation = SourceLocation(fileID: fileID, filePath: filePath, line: line, column: column)
    }

    /// The block's layers for one instantiation (see `Block`).
    public func body(_ c: BlockContext) -> some Layer {
        Residual(projectionName: "downsample") {
            Conv(c.bottleneckWidth, kernel: 1, name: "conv1.conv")
            BatchNorm(name: "conv1.bn")
            ReLU()
            Conv(c.bottleneckWidth, kernel: 3, stride: c.stride, groups: c.groups, name: "conv2.conv")
            BatchNorm(name: "conv2.bn")
            ReLU()
            Conv(c.outputWidth, kernel: 1, name: "conv3.conv")
            BatchNorm(name: "conv3.bn")
        }
        ReLU()
    }
}
