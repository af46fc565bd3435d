import Foundation
import Testing
import DesignSpaces
@testable import Executor
import Weights

/// ResNet basic block: dense 3x3 convolutions.
struct BasicBlock: Block {
    func body(_ c: BlockContext) -> some Layer {
        Residual {
            Conv(c.outputWidth, kernel: 3, stride: c.stride); BatchNorm(); ReLU()
            Conv(c.outputWidth, kernel: 3); BatchNorm()
        }
        ReLU()
    }
}

/// Inverted residual with a 5x5 depthwise convolution, a sigmoid gate and an unfusable batch norm.
struct InvertedResidual: Block {
    func body(_ c: BlockContext) -> some Layer {
        Residual {
            Conv(c.inputWidth * 2, kernel: 1); ReLU()
            BatchNorm()                                       // after an activation: cannot be folded
            Conv(c.inputWidth * 2, kernel: 5, stride: c.stride, groups: c.inputWidth * 2)
            BatchNorm(); Sigmoid()
            SqueezeExcite(width: 4)
            Conv(c.outputWidth, kernel: 1, bias: true)
            ReLU()                                            // the add cannot fuse into this conv's epilogue
        }
    }
}

/// An unpadded convolution and a plain (identity-shortcut) residual.
struct ValidConvBlock: Block {
    func body(_ c: BlockContext) -> some Layer {
        Conv(c.outputWidth, kernel: 3, stride: c.stride, padding: 0); ReLU()
        Residual(shortcut: .identity) { Conv(c.outputWidth, kernel: 3, groups: c.groups); BatchNorm() }
    }
}

@Suite struct CustomNetworkTests {
    static let networks: [(String, Network, Int, Int, Int)] = [
        ("basic", Network { Stem(8); Body { Stage(depth: 2, width: 16, groupWidth: 16, block: BasicBlock()); Stage(depth: 1, width: 24, groupWidth: 24, block: BasicBlock()) }; Head(classes: 5) }, 2, 19, 23),
        ("inverted", Network { Stem(8); Body { Stage(depth: 2, width: 16, groupWidth: 8, block: InvertedResidual()) }; Head(classes: 4) }, 1, 17, 17),
        ("valid", Network { Stem(8, stride: 1); Body { Stage(depth: 1, width: 16, groupWidth: 4, stride: 1, block: ValidConvBlock()); Stage(depth: 1, width: 32, groupWidth: 8, block: ValidConvBlock()) }; Head(classes: 3) }, 3, 14, 12),
        // ResNet's stem (7x7 stride 2, max pool) and a head with dropout, SiLU and ReLU6 in it.
        ("resnet stem", Network {
            Stem { Conv(16, kernel: 7, stride: 2, name: "conv"); BatchNorm(name: "bn"); ReLU(); MaxPool(kernel: 3, stride: 2, padding: 1) }
            Body { Stage(depth: 1, width: 16, groupWidth: 16, stride: 1, block: BasicBlock()) }
            Head { AvgPool(kernel: 2); Conv(24, kernel: 1, name: "pre"); SiLU(); ReLU6(); GlobalAveragePool(); Dropout(0.2); Linear(6, name: "fc") }
        }, 2, 29, 31),
        // A linear layer over a map (no pooling): its features are PyTorch's flattened NCHW order.
        ("flattened head", Network {
            Stem(8); Body { Stage(depth: 1, width: 16, groupWidth: 8, block: BasicBlock()) }
            Head { Conv(6, kernel: 1, name: "pre"); ReLU(); Linear(5, name: "fc") }
        }, 2, 16, 12),
    ]

    @Test(arguments: 0..<networks.count)
    func matchesReferenceInterpreter(_ index: Int) throws {
        let (name, network, batch, height, width) = Self.networks[index]
        let graph = try network.lower(height: height, width: width)
        let weights = randomWeights(for: graph, seed: UInt64(index + 1))
        var rng = SeededGenerator(seed: 99)
        let input = (0..<(batch * 3 * height * width)).map { _ in Float(rng.nextGaussian()) }
        let expected = referenceRun(graph, weights: weights, input: input, batch: batch)
        for kernels in KernelSet.available {
            for threads in [1, 2, 3] {
                let model = try CompiledModel(graph: graph, weights: weights, batch: batch, threads: threads, kernels: kernels)
                let error = relativeError(try model.run(input), expected)
                #expect(error <= 1e-4, "\(name) on \(kernels.name) with \(threads) threads: relative error \(error)")
            }
        }
        // One image at a time, with in-segment buffers sharing one image slot.
        let model = try CompiledModel(graph: graph, weights: weights, batch: batch, threads: 2, kernels: .best, groupBudgetBytes: 0)
        let error = relativeError(try model.run(input), expected)
        #expect(error <= 1e-4, "\(name) one image at a time: relative error \(error)")
    }

    @Test func openStemAndHeadNameTheirParameters() throws {
        let graph = try Self.networks[3].1.lower(height: 29, width: 31)
        let names = graph.parameters.map(\.name)
        for name in ["stem.conv.weight", "stem.bn.running_var", "head.pre.weight", "head.fc.weight", "head.fc.bias"] {
            #expect(names.contains(name), "no parameter \(name)")
        }
        // 29x31 → conv 7x7/2 → 15x16 → max pool 3/2 → 8x8 → stage (stride 1) → 8x8 → avg pool 2 → 4x4.
        #expect(graph.nodes.first { $0.name == "head.pre" }?.shape == FeatureShape(channels: 24, height: 4, width: 4))
        #expect(graph.outputShape == FeatureShape(channels: 6, height: 1, width: 1))
    }

    @Test func memoryIsReusedAndSmallerThanWithoutPlanning() throws {
        let graph = try Zoo.model(named: "RegNetY-200MF").network().lower(resolution: 64)
        let model = try CompiledModel(graph: graph, weights: .initialized(for: graph), batch: 2, threads: 1)
        #expect(model.arenaBytes < model.unplannedActivationBytes / 2)
        // Batch norm folded, ReLU and residual adds fused: far fewer steps than IR nodes.
        #expect(model.stepCount < graph.nodes.count / 2)
    }

    @Test func concurrentRunsAgreeWithASequentialRun() async throws {
        let graph = try CustomNetworkTests.networks[0].1.lower(height: 19, width: 23)
        let model = try CompiledModel(graph: graph, weights: randomWeights(for: graph, seed: 5), batch: 2, threads: 2)
        let inputs: [[Float]] = (0..<6).map { k in (0..<model.inputShape.reduce(1, *)).map { Float(($0 * 7 + k * 13) % 17) / 17 - 0.5 } }
        let sequential = try inputs.map { try model.run($0) }
        let concurrent = try await withThrowingTaskGroup(of: (Int, [Float]).self) { group in
            for (k, input) in inputs.enumerated() { group.addTask { (k, try model.run(input)) } }
            var results = [[Float]](repeating: [], count: inputs.count)
            for try await (k, output) in group { results[k] = output }
            return results
        }
        #expect(concurrent == sequential)
    }

    /// A model given other weights (a trainer's next epoch) runs as one compiled with them, in every
    /// precision this CPU runs; weights that do not fit the graph are refused.
    @Test(arguments: [Precision.float32, .bfloat16, .int8])
    func modelWithOtherWeightsRunsAsOneCompiledWithThem(_ precision: Precision) throws {
        let graph = try Self.networks[0].1.lower(height: 19, width: 23)
        let first = randomWeights(for: graph, seed: 1), second = randomWeights(for: graph, seed: 2)
        var rng = SeededGenerator(seed: 4)
        let input = (0..<(2 * 3 * 19 * 23)).map { _ in Float(rng.nextGaussian()) }
        let quantization = precision == .int8 ? try Quantization.calibrate(graph: graph, weights: first, batches: [input], batch: 2) : nil
        let model = try CompiledModel(graph: graph, weights: first, batch: 2, threads: 2, precision: precision, quantization: quantization)
        let fresh = try CompiledModel(graph: graph, weights: second, batch: 2, threads: 2, precision: precision, quantization: quantization)
        let refreshed = try model.withWeights(second)
        #expect(refreshed.precision == fresh.precision)
        #expect(try refreshed.run(input) == fresh.run(input))
        #expect(try model.run(input) != refreshed.run(input), "the original keeps its weights")
        var broken = second
        broken["stem.conv.weight"] = Tensor(shape: [1], scalars: [0])
        #expect {
            try model.withWeights(broken)
        } throws: { ($0 as? ExecutorError)?.message.contains("stem.conv.weight") == true }
    }

    @Test func badInputsAreErrorsNotCrashes() throws {
        let graph = try CustomNetworkTests.networks[0].1.lower(height: 19, width: 23)
        let weights = WeightSet.initialized(for: graph)
        let model = try CompiledModel(graph: graph, weights: weights, batch: 2, threads: 1)
        #expect(throws: ExecutorError.self) { try model.run([Float](repeating: 0, count: 10)) }
        #expect(throws: ExecutorError.self) { try model.run(Tensor(shape: [1, 3, 19, 22], repeating: 0)) }
        #expect(try model.run(Tensor(shape: [1, 3, 19, 23], repeating: 0)).shape[0] == 1, "another batch size compiles on first use")
        #expect(throws: ExecutorError.self) { try CompiledModel(graph: graph, weights: weights, batch: 0) }
        #expect(throws: ExecutorError.self) { try CompiledModel(graph: graph, weights: weights, threads: 0) }
        var broken = weights
        broken["stem.conv.weight"] = nil
        #expect {
            try CompiledModel(graph: graph, weights: broken)
        } throws: { ($0 as? ExecutorError)?.message.contains("missing tensor 'stem.conv.weight'") == true }
    }
}

@Suite struct ExecutorLimitTests {
    @Test func activationsThatCannotBeAllocatedAreRefused() throws {
        let graph = try Network { Stem(8); Body { Stage(depth: 1, width: 16, groupWidth: 8) }; Head(classes: 3) }.lower(resolution: 4096)
        #expect {
            try CompiledModel(graph: graph, weights: .initialized(for: graph), batch: 1 << 20)
        } throws: { ($0 as? ExecutorError)?.message.contains("GiB of activations") == true }
    }
}
