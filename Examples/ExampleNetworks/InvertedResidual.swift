// Networks the examples declare in Swift. The RegNetCheck build step lowers every one of them while
// the examples build, so a mistake here (a width the group width does not divide, a block that
// produces the wrong width) fails the build at the Swift line that declares it.
import RegNet

/// MobileNetV2's block: 1x1 expansion by `expansion`, 3x3 depthwise convolution carrying the stride,
/// linear 1x1 projection, with a residual connection (a projection when the shape changes).
/// Written with the same public API as the built-in XBlock and YBlock.
public struct InvertedResidual: Block {
    /// Hidden width relative to the block's input width.
    public var expansion: Int

    /// A block expanding by `expansion`.
    public init(expansion: Int = 4) { self.expansion = expansion }

    public func body(_ c: BlockContext) -> some Layer {
        let hidden = c.inputWidth * expansion
        Residual {
            Conv(hidden, kernel: 1, name: "expand.conv"); BatchNorm(name: "expand.bn"); ReLU()
            Conv(hidden, kernel: 3, stride: c.stride, groups: hidden, name: "depthwise.conv"); BatchNorm(name: "depthwise.bn"); ReLU()
            Conv(c.outputWidth, kernel: 1, name: "project.conv"); BatchNorm(name: "project.bn")
        }
    }
}

/// The examples' Swift-declared networks, checked at build time.
public enum ExampleNetworks {
    /// A small network of inverted residual blocks.
    public static let invertedResidualNet = Network("InvertedResidualNet") {
        Stem(16)
        Body {
            Stage(depth: 1, width: 24, groupWidth: 24, block: InvertedResidual(expansion: 2))
            for width in [32, 64, 96] {
                Stage(depth: 2, width: width, groupWidth: width, block: InvertedResidual())
            }
        }
        Head(classes: 10)
    }

    /// RegNetX-200MF written out stage by stage.
    public static let regNetX200MF = Network("RegNetX-200MF (by hand)") {
        Stem(32)
        Body {
            Stage(depth: 1, width: 24, groupWidth: 8)
            Stage(depth: 1, width: 56, groupWidth: 8)
            Stage(depth: 4, width: 152, groupWidth: 8)
            Stage(depth: 7, width: 368, groupWidth: 8)
        }
        Head(classes: 1000)
    }

    /// Every layer kind the DSL has, in a custom stem and head around inverted residual and Y blocks:
    /// hard swish, max and average pooling, SiLU, ReLU6, hard sigmoid, dropout, squeeze-excite and a
    /// two-layer head (what the ONNX export check runs through ONNX Runtime).
    public static let everyLayerNet = Network("EveryLayerNet") {
        Stem { Conv(16, kernel: 3, stride: 2, name: "conv"); BatchNorm(name: "bn"); HardSwish(); MaxPool(kernel: 3, stride: 2, padding: 1) }
        Body {
            Stage(depth: 2, width: 24, groupWidth: 24, block: InvertedResidual(expansion: 2))
            Stage(depth: 1, width: 32, groupWidth: 8, block: YBlock(seRatio: 0.25))
        }
        Head {
            Conv(64, kernel: 1, name: "pre.conv"); SiLU(); AvgPool(kernel: 3, stride: 1, padding: 1)
            GlobalAveragePool(); Linear(32, name: "fc1"); ReLU6(); Dropout(0.2); Linear(10, name: "fc2"); HardSigmoid()
        }
    }

    /// Every network above, with the resolution it is used at.
    public static let all: [(network: Network, resolution: Int)] = [(invertedResidualNet, 160), (regNetX200MF, 224), (everyLayerNet, 64)]
}
