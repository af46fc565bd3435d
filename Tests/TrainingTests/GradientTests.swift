@testable import Executor
import Foundation
import NetworkIR
import Testing
@testable import Training
import Weights
import DesignSpaces

/// Gradients of one forward/backward pass in train mode against PyTorch autograd (in float64) on the
/// same weights and batch (scripts/make_training_fixtures.py), on every kernel set this CPU runs.
@Suite struct GradientTests {
    static let kernelSets = KernelSet.available.map(\.name)

    @Test(arguments: try trainingCases(kind: "gradients"), kernelSets)
    func gradientsMatchPyTorch(_ c: TrainingCase, kernels: String) throws {
        var recipe = TrainingRecipe()
        recipe.labelSmoothing = 0.1
        let trainer = try Trainer(graph: c.graph(), batch: c.batch, recipe: recipe, weights: c.initialWeights(), threads: 2,
                                  kernels: try #require(KernelSet(named: kernels)))
        let (images, labels) = try c.batch(0)
        let (loss, _) = try trainer.computeGradients(images: images, labels: labels, mix: nil)
        let reference = try c.reference(".grads.safetensors")
        #expect(abs(loss - Double(reference["loss"]!.scalars[0])) <= 1e-5 * max(1, abs(loss)))
        // The portable set has no fused multiply-add on baseline x86-64: its rounding differs more, within
        // what PyTorch's own float32 gradients reach on these fixtures (2e-4 of a tensor's largest value).
        try expectGradients(trainer.gradients, equal: reference, case: c.name, tolerance: kernels == "portable" ? 2e-4 : 1e-4)
    }

    /// Full-size zoo models when `REGNET_TRAINING_FIXTURES` names their fixtures (a local check; the
    /// worst error per tensor kind is printed for the record). At 224 with pycls's initialisation some
    /// deep weight gradients cancel badly in float32: the bound is PyTorch's own float32 error there.
    @Test(arguments: try extraTrainingCases())
    func fullSizeGradientsMatchPyTorch(_ c: TrainingCase) throws {
        var recipe = TrainingRecipe()
        recipe.labelSmoothing = 0.1
        let trainer = try Trainer(graph: c.graph(), batch: c.batch, recipe: recipe, weights: c.initialWeights())
        let (images, labels) = try c.batch(0)
        _ = try trainer.computeGradients(images: images, labels: labels, mix: nil)
        let reference = try c.reference(".grads.safetensors")
        var worst: [String: Float] = [:]
        for (key, tensor) in reference.tensors where key.hasPrefix("grad.") {
            let name = String(key.dropFirst(5)), mine = try #require(trainer.gradients[name])
            let kind = name.split(separator: ".").suffix(2).joined(separator: ".").replacingOccurrences(of: "conv.weight", with: "conv")
            let scale = max(tensor.scalars.map(abs).max() ?? 0, 1e-30)
            worst[kind] = max(worst[kind] ?? 0, zip(mine.scalars, tensor.scalars).map { abs($0 - $1) }.max()! / scale)
        }
        print("\(c.name): worst relative gradient error per tensor kind: " + worst.sorted { $0.key < $1.key }.map { "\($0.key) \(String(format: "%.1e", $0.value))" }.joined(separator: ", "))
        let pytorch = Float(c.pytorch_float32_error ?? 0)
        print("\(c.name): ours \(String(format: "%.2e", worst.values.max()!)), PyTorch float32 \(String(format: "%.2e", pytorch)) (both against float64)")
        #expect(worst.values.max()! <= max(1e-3, 1.5 * pytorch))
    }

    @Test func mixupGradientsMatchPyTorch() throws {
        let c = try #require(try trainingCases(kind: "mixup").first)
        var recipe = TrainingRecipe()
        recipe.labelSmoothing = 0.1
        let trainer = try Trainer(graph: c.graph(), batch: c.batch, recipe: recipe, weights: c.initialWeights(), threads: 2)
        let reference = try c.reference(".grads.safetensors")
        let draw = Mixing.Draw(weight: Double(reference["mix.weight"]!.scalars[0]),
                               permutation: reference["mix.permutation"]!.scalars.map { Int($0) })
        let (images, labels) = try c.batch(0)
        let (loss, _) = try trainer.computeGradients(images: images, labels: labels, mix: draw)
        #expect(abs(loss - Double(reference["loss"]!.scalars[0])) <= 1e-5 * max(1, abs(loss)))
        try expectGradients(trainer.gradients, equal: reference, case: c.name)
    }

    /// The cases with eval-mode logits, at inference: SiLU, ReLU6, max and average pooling and dropout
    /// (the identity at inference, p = 0.3 in both) in `layers`; hard swish and hard sigmoid in
    /// `hard_activations` — run by the executor, equal to PyTorch's logits.
    @Test(arguments: ["layers", "hard_activations"], kernelSets)
    func casesRunAsPyTorchAtInference(_ name: String, kernels: String) throws {
        let c = try #require(try trainingCases(kind: "gradients").first { $0.name == name })
        let graph = name == "layers" ? try TrainingCase.layersNetwork(dropout: 0.3).lower(height: c.height, width: c.width) : try c.graph()
        let model = try CompiledModel(graph: graph, weights: c.initialWeights(), batch: c.batch, threads: 2,
                                      kernels: try #require(KernelSet(named: kernels)))
        let logits = try model.run(try c.batch(0).images)
        let expected = try NumPyArray.read(contentsOf: c.url(".logits.npy")).scalars
        let scale = expected.map(abs).max()!
        let error = zip(logits, expected).map { abs($0 - $1) }.max()! / scale
        #expect(logits.count == expected.count && error <= 1e-5, "\(name), \(kernels): logits differ from PyTorch by \(error) of the largest")
    }

    /// Dropout in training: about p of the values are zeroed, the rest scaled by 1 / (1 − p), the
    /// gradient takes the same mask, the masks change from step to step, and the same seed and step
    /// give the same mask for any thread count.
    @Test func dropoutMasksScaleReproduceAndFollowTheGradient() throws {
        let p = 0.25
        // input → ReLU → dropout: the ReLU's value and gradient are the dropout's input and its gradient
        // (the dropout is the output: its gradient is the one the backward is handed).
        var builder = GraphBuilder(input: FeatureShape(channels: 3, height: 32, width: 32))
        try builder.append(.unary(.relu), name: "relu")
        try builder.append(.dropout(probability: p), name: "drop")
        let graph = builder.build(name: "dropout")
        /// The dropout's forward of ones (its mask times 1 / (1 − p)), after checking its backward of ones equals it.
        func mask(threads: Int, seed: UInt64) throws -> [Float] {
            let program = try TrainingProgram(graph: graph, batch: 4, threads: threads, kernels: .best, batchNormMomentum: 0.1)
            let count = 4 * graph.inputShape.elementCount
            // Ones through the ReLU are ones at the dropout: its output is the mask times 1 / (1 − p).
            let kept = Array(program.forward(images: [Float](repeating: 1, count: count), seed: seed))
            program.backward(outputGradient: [Float](repeating: 1, count: count))
            #expect(Array(UnsafeBufferPointer(start: try #require(program.grad(1)), count: count)) == kept, "the gradient takes the forward's mask")
            return kept
        }
        let one = try mask(threads: 1, seed: 7), two = try mask(threads: 2, seed: 7), next = try mask(threads: 2, seed: 8)
        #expect(one == two, "the mask depends on the seed, not the thread count")
        #expect(one != next, "another step draws another mask")
        let zeros = Double(one.filter { $0 == 0 }.count) / Double(one.count)
        #expect(abs(zeros - p) < 0.02, "dropped \(zeros), expected about \(p)")
        #expect(one.allSatisfy { $0 == 0 || $0 == Float(1 / (1 - p)) })
    }

    /// Each gradient within `tolerance` of its tensor's largest float64 value. A gradient that is zero in exact
    /// arithmetic (a bias before a batch norm in train mode) is float noise in both: its scale is then
    /// 1% of the largest gradient of the network.
    func expectGradients(_ ours: WeightSet, equal reference: WeightSet, case name: String, tolerance: Float = 1e-4) throws {
        let expected = reference.tensors.filter { $0.key.hasPrefix("grad.") }
        let networkScale = expected.values.map { $0.scalars.map(abs).max() ?? 0 }.max() ?? 0
        #expect(expected.count == ours.tensors.count, "every parameter has a gradient")
        for (key, tensor) in expected {
            let parameter = String(key.dropFirst("grad.".count))
            let mine = try #require(ours[parameter], "\(name): no gradient for \(parameter)")
            #expect(mine.shape == tensor.shape)
            let scale = max(tensor.scalars.map(abs).max() ?? 0, 1e-2 * networkScale)
            let error = zip(mine.scalars, tensor.scalars).map { abs($0 - $1) }.max()! / scale
            #expect(error <= tolerance, "\(name): \(parameter) differs from PyTorch (float64) by \(error) of its largest gradient")
        }
    }
}
