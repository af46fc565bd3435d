import DesignSpaces
import Testing
@testable import Executor
import Weights

/// Biased convolutions and ReLUs only, so inference has nothing to fold: a grouped 3x3 (groups of 8
/// in the first stage, which run as pairs of groups; of 16 in the second), a 1x1 whose residual add
/// inference fuses into its epilogue, and a strided projection shortcut.
struct PlainBlock: Block {
    func body(_ c: BlockContext) -> some Layer {
        Conv(c.outputWidth, kernel: 3, stride: c.stride, groups: c.groups, bias: true); ReLU()
        Residual { Conv(c.outputWidth, kernel: 3, groups: c.groups, bias: true); ReLU(); Conv(c.outputWidth, kernel: 1, bias: true) }
        ReLU()
    }
}

/// Each operation kind's forward is written once (the training operations run the inference steps),
/// so where inference folds nothing the two plans compute the same bits.
@Suite struct SharedForwardTests {
    static let network = Network {
        Stem { Conv(16, kernel: 3, stride: 2, bias: true, name: "conv"); ReLU(); MaxPool(kernel: 3, stride: 2, padding: 1) }
        Body {
            Stage(depth: 2, width: 32, groupWidth: 8, stride: 1, block: PlainBlock())
            Stage(depth: 1, width: 64, groupWidth: 16, block: PlainBlock())
        }
        Head { GlobalAveragePool(); Linear(7, name: "fc") }
    }

    @Test(arguments: KernelSet.available.map(\.name))
    func trainingAndInferenceForwardsAgreeBitForBit(_ kernels: String) throws {
        let kernels = try #require(KernelSet(named: kernels)), batch = 3
        let graph = try Self.network.lower(height: 29, width: 27)
        let weights = randomWeights(for: graph, seed: 3)
        var rng = SeededGenerator(seed: 11)
        let images = (0..<(batch * graph.inputShape.elementCount)).map { _ in Float(rng.nextGaussian()) }
        for threads in [1, 2] {
            let model = try CompiledModel(graph: graph, weights: weights, batch: batch, threads: threads, kernels: kernels)
            let program = try TrainingProgram(graph: graph, batch: batch, threads: threads, kernels: kernels, batchNormMomentum: 0.1)
            program.parameters.load(weights)
            let trained = Array(program.forward(images: images, seed: 0)), inferred = try model.run(images)
            let differing = zip(trained, inferred).filter { $0 != $1 }.count
            #expect(trained.count == inferred.count && differing == 0,
                    "\(kernels.name), \(threads) threads: \(differing) of \(inferred.count) logits differ")
        }
    }
}
