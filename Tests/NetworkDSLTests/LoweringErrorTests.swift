import Testing
import NetworkDSL

/// A ResNet basic block written with the public API only.
struct BasicBlock: Block {
    func body(_ c: BlockContext) -> some Layer {
        Residual {
            Conv(c.outputWidth, kernel: 3, stride: c.stride, name: "conv1")
            BatchNorm(name: "bn1")
            ReLU()
            Conv(c.outputWidth, kernel: 3, name: "conv2")
            BatchNorm(name: "bn2")
        }
        ReLU()
    }
}

/// A block whose grouped convolution uses a fixed, wrong group count.
struct BadGroupsBlock: Block {
    static let convLine = #line + 3
    func body(_ c: BlockContext) -> some Layer {
        Conv(c.outputWidth, kernel: 1, name: "conv a")
        Conv(c.outputWidth, kernel: 3, groups: 7, name: "conv b")
    }
}

/// A block that forgets to produce the stage width.
struct WrongWidthBlock: Block {
    func body(_ c: BlockContext) -> some Layer { Conv(c.outputWidth / 2, kernel: 1) }
}

/// MobileNetV2's inverted residual with expansion 4, as a newcomer writes it.
struct ExpandBlock: Block {
    func body(_ c: BlockContext) -> some Layer {
        Residual {
            Conv(4 * c.inputWidth, kernel: 1); BatchNorm(); ReLU()
            Conv(4 * c.inputWidth, kernel: 3, stride: c.stride, groups: 4 * c.inputWidth); BatchNorm(); ReLU()
            Conv(c.outputWidth, kernel: 1); BatchNorm()
        }
    }
}

/// A block that never reads the stage's stride.
struct WrongStrideBlock: Block {
    func body(_ c: BlockContext) -> some Layer { Conv(c.outputWidth, kernel: 3); BatchNorm(); ReLU() }
}

/// A residual whose branch changes the shape while the shortcut is forced to be the identity.
struct IdentityMismatchBlock: Block {
    static let residualLine = #line + 2
    func body(_ c: BlockContext) -> some Layer {
        Residual(shortcut: .identity) { Conv(c.outputWidth, kernel: 3, stride: c.stride) }
    }
}

/// A valid-looking block whose unpadded large kernel collapses small inputs.
struct BigKernelBlock: Block {
    func body(_ c: BlockContext) -> some Layer { Conv(c.outputWidth, kernel: 9, padding: 0) }
}

func lowering(_ net: Network, resolution: Int = 32) -> LoweringError? {
    do { _ = try net.lower(resolution: resolution); return nil } catch { return error }
}

@Suite struct LoweringErrorTests {
    @Test func widthNotDivisibleByGroupWidthNamesStageAndLine() throws {
        let line = #line + 4
        let net = Network {
            Stem(16)
            Body {
                Stage(depth: 1, width: 60, groupWidth: 8)
            }
            Head(classes: 10)
        }
        let error = try #require(lowering(net))
        #expect(error.path == ["stage 1"])
        #expect(error.message.contains("bottleneck width 60 is not divisible by group width 8"))
        #expect(error.location?.line == line)
        #expect(error.location?.fileID.hasSuffix("LoweringErrorTests.swift") == true)
        #expect(error.description.contains("LoweringErrorTests.swift:\(line): stage 1: "))
    }

    @Test func badGroupsInsideACustomBlockNameTheLayer() throws {
        let net = Network {
            Stem(16)
            Body {
                Stage(depth: 1, width: 24, groupWidth: 8)
                Stage(depth: 2, width: 48, groupWidth: 8, block: BadGroupsBlock())
            }
            Head(classes: 10)
        }
        let error = try #require(lowering(net))
        #expect(error.path == ["stage 2", "block 1", "conv b"])
        #expect(error.message.contains("not divisible by 7 groups"))
        // The error points at the Conv's own line, not the Stage's.
        #expect(error.location?.line == BadGroupsBlock.convLine)
        #expect(error.description.hasPrefix("NetworkDSLTests/LoweringErrorTests.swift:\(BadGroupsBlock.convLine): stage 2, block 1, conv b: "))
    }

    @Test func blockMustProduceStageWidth() throws {
        let net = Network { Stem(16); Body { Stage(depth: 1, width: 32, groupWidth: 8, block: WrongWidthBlock()) }; Head(classes: 10) }
        let error = try #require(lowering(net))
        #expect(error.path == ["stage 1", "block 1"])
        #expect(error.message.contains("produced 16 channels but the stage width is 32"))
    }

    @Test func residualBranchesThatDisagree() throws {
        let net = Network { Stem(16); Body { Stage(depth: 1, width: 32, groupWidth: 8, block: IdentityMismatchBlock()) }; Head(classes: 10) }
        let error = try #require(lowering(net))
        #expect(error.message.contains("residual branches disagree"))
        #expect(error.path.starts(with: ["stage 1", "block 1"]))
        #expect(error.location?.line == IdentityMismatchBlock.residualLine)
    }

    @Test func resolutionThatCollapsesToZero() throws {
        let net = Network { Stem(16); Body { Stage(depth: 1, width: 32, groupWidth: 8, block: BigKernelBlock()) }; Head(classes: 10) }
        // At 64, the unpadded 9x9 convolution leaves 24x24 where the stage's stride 2 asks for 16x16.
        let shrunk = try #require(lowering(net, resolution: 64))
        #expect(shrunk.message.contains("BigKernelBlock produced 24x24 from 32x32 but the block's stride is 2, which gives at most 16x16"))
        #expect(shrunk.path == ["stage 1", "block 1"])
        let error = try #require(lowering(net, resolution: 8))
        #expect(error.message.contains("resolution collapses to zero"))
        #expect(lowering(net, resolution: 0)?.path == ["input"])
    }

    @Test func nonPositiveValues() throws {
        let cases: [(Network, String)] = [
            (Network { Stem(16); Body { Stage(depth: 0, width: 32, groupWidth: 8) }; Head(classes: 10) }, "depth must be at least 1"),
            (Network { Stem(16); Body { Stage(depth: 1, width: -8, groupWidth: 8) }; Head(classes: 10) }, "width must be positive"),
            (Network { Stem(16); Body { Stage(depth: 1, width: 32, groupWidth: 0) }; Head(classes: 10) }, "group width must be positive"),
            (Network { Stem(16); Body { Stage(depth: 1, width: 32, groupWidth: 8) }; Head(classes: 0) }, "classes must be positive"),
            (Network { Stem(0); Body { Stage(depth: 1, width: 32, groupWidth: 8) }; Head(classes: 10) }, "must be positive"),
            (Network { Stem(16); Body { Stage(depth: 1, width: 32, groupWidth: 8, block: YBlock(seRatio: -1)) }; Head(classes: 10) }, "squeeze-excite width must be in 1...1048576 (got -16)"),
        ]
        for (net, message) in cases {
            let error = lowering(net)
            #expect(error?.message.contains(message) == true, "\(String(describing: error)) should contain \(message)")
        }
    }

    @Test func blockIgnoringTheStrideIsAnError() throws {
        let net = Network { Stem(16); Body { Stage(depth: 2, width: 32, groupWidth: 8, block: WrongStrideBlock()) }; Head(classes: 10) }
        let error = try #require(lowering(net))
        #expect(error.path == ["stage 1", "block 1"])
        #expect(error.message.contains("WrongStrideBlock produced 16x16 from 16x16 but the block's stride is 2, which gives at most 8x8"))
        let strideOne = Network { Stem(16); Body { Stage(depth: 2, width: 32, groupWidth: 8, stride: 1, block: WrongStrideBlock()) }; Head(classes: 10) }
        #expect(lowering(strideOne) == nil)
    }

    @Test func groupWidthIsRequiredOnlyByBlocksThatReadIt() throws {
        let basic = Network { Stem(16); Body { Stage(depth: 2, width: 32, block: BasicBlock()) }; Head(classes: 10) }
        #expect(lowering(basic) == nil)
        let line = #line + 1
        let x = Network { Stem(16); Body { Stage(depth: 2, width: 32) }; Head(classes: 10) }
        let error = try #require(lowering(x))
        #expect(error.message.contains("XBlock needs a group width: Stage(depth: 2, width: 32, groupWidth: …)"))
        #expect(error.location?.line == line)
    }

    @Test func aBadLinearInACustomHeadPointsAtItsLine() throws {
        let line = #line + 1
        let net = Network { Stem(16); Body { Stage(depth: 1, width: 32, groupWidth: 8) }; Head { GlobalAveragePool(); Linear(0) } }
        let error = try #require(lowering(net))
        #expect(error.path.first == "head" && error.message.contains("linear sizes must be positive"))
        #expect(error.location?.line == line)
    }

    @Test func groupWidthLargerThanBottleneckIsExplained() throws {
        let net = Network { Stem(16); Body { Stage(depth: 1, width: 24, groupWidth: 32) }; Head(classes: 10) }
        #expect(lowering(net)?.message.contains("exceeds the bottleneck width") == true)
    }
}

@Suite struct CustomBlockTests {
    @Test func basicBlockLowersWithHandCountedComplexity() throws {
        let net = Network("Basic") {
            Stem(16, kernel: 3, stride: 1)
            Body { Stage(depth: 2, width: 32, groupWidth: 32, block: BasicBlock()) }
            Head(classes: 10)
        }
        let graph = try net.lower(resolution: 16)
        // stem: 3x3 3->16 at 16x16; block 1: two 3x3 convs (16->32 s2, 32->32) at 8x8 + projection 1x1 16->32;
        // block 2: two 3x3 32->32 at 8x8; head 32->10 with bias.
        let stem = 9 * 3 * 16 * 256
        let b1 = 9 * 16 * 32 * 64 + 9 * 32 * 32 * 64 + 16 * 32 * 64
        let b2 = 2 * 9 * 32 * 32 * 64
        let head = 32 * 10 + 10
        #expect(graph.complexity.flops == stem + b1 + b2 + head)
        let params = 9 * 3 * 16 + 32 + (9 * 16 * 32 + 9 * 32 * 32 + 16 * 32) + 3 * 64 + 2 * 9 * 32 * 32 + 2 * 64 + head
        #expect(graph.complexity.params == params)
        #expect(graph.complexity.acts == 16 * 256 + 3 * 32 * 64 + 2 * 32 * 64 + 10)
        #expect(graph.parameters.map(\.name).contains("s1.b1.shortcut.conv.weight"))
        #expect(graph.parameters.map(\.name).contains("s1.b2.conv2.weight"))
        #expect(graph.outputShape == FeatureShape(channels: 10, height: 1, width: 1))
        // The summary reads groups and bottleneck from the lowered graph: a basic block has two 3x3
        // convolutions and no single bottleneck, so those columns say "–".
        let row = try net.summary(resolution: 16).stages[0]
        #expect(row.groups == nil && row.groupWidth == nil && row.bottleneckRatio == nil && row.bottleneckWidth == nil)
        #expect(try net.summary(resolution: 16).table.contains("–"))
    }

    @Test func summaryColumnsComeFromTheLoweredBlock() throws {
        // An inverted residual (expand 4x, depthwise 3x3, project) at width 16: the depthwise
        // convolution works at the hidden width 64, one channel per group.
        let net = Network("MBv2") {
            Stem(16, kernel: 3, stride: 1)
            Body { Stage(depth: 2, width: 16, groupWidth: 1, stride: 1, block: ExpandBlock()) }
            Head(classes: 10)
        }
        let row = try net.summary(resolution: 16).stages[0]
        #expect(row.groups == 64 && row.groupWidth == 1 && row.bottleneckWidth == 64 && row.bottleneckRatio == 0.25)
    }

    @Test func xBlockParameterNamesFollowTimm() throws {
        let net = Network { Stem(32); Body { Stage(depth: 2, width: 24, groupWidth: 8, block: YBlock()) }; Head(classes: 5) }
        let names = try net.lower(resolution: 32).parameters.map(\.name)
        for expected in ["stem.conv.weight", "stem.bn.running_var", "s1.b1.conv1.conv.weight", "s1.b1.conv2.bn.bias",
                         "s1.b1.se.fc1.weight", "s1.b1.se.fc2.bias", "s1.b1.conv3.conv.weight", "s1.b1.downsample.conv.weight",
                         "s1.b1.downsample.bn.running_mean", "head.fc.weight", "head.fc.bias"] {
            #expect(names.contains(expected), "\(expected)")
        }
        #expect(!names.contains("s1.b2.downsample.conv.weight"))
    }

    @Test func oddAndNonSquareResolutions() throws {
        let net = Network { Stem(16); Body { Stage(depth: 1, width: 24, groupWidth: 8); Stage(depth: 1, width: 48, groupWidth: 8) }; Head(classes: 3) }
        let graph = try net.lower(height: 33, width: 20)
        let last = graph.nodes.last { $0.scope.stage == 2 }!
        // 33 -> 17 -> 9 -> 5 ; 20 -> 10 -> 5 -> 3
        #expect(last.shape == FeatureShape(channels: 48, height: 5, width: 3))
    }

    @Test func explicitReturnDoesNotDropLayers() throws {
        // Body with only builder statements: every layer lowers (guards against the return pitfall).
        let graph = try Network { Stem(8); Body { Stage(depth: 1, width: 16, groupWidth: 8, block: BasicBlock()) }; Head(classes: 2) }.lower(resolution: 8)
        #expect(graph.nodes.filter { if case .convolution = $0.operation { true } else { false } }.count == 1 + 3)
    }
}
