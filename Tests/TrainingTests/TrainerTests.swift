import DesignSpaces
import Executor
import Foundation
import NetworkIR
import Testing
@testable import Training
import Weights

/// Reproducibility, resuming, precise batch-norm statistics, bad input and the other trainer duties.
@Suite struct TrainerTests {
    /// A small RegNetY on random batches, with mixup so the trainer's own random draws matter; SGD, or AdamW.
    func run(threads: Int, steps: Range<Int>, trainer existing: Trainer? = nil, seed: UInt64 = 3, adamW: Bool = false) throws -> Trainer {
        let c = try #require(try trainingCases(kind: "sgd").first)
        var recipe = TrainingRecipe()
        recipe.learningRate = 0.01
        recipe.epochs = 3
        recipe.warmupEpochs = 1
        recipe.mixupAlpha = 0.2
        recipe.labelSmoothing = 0.1
        recipe.emaAlpha = 0.01
        recipe.emaUpdatePeriod = 2
        if adamW { (recipe.adamW, recipe.learningRate, recipe.weightDecay) = (TrainingRecipe.AdamW(), 1e-3, 0.05) }
        let trainer = try existing ?? Trainer(graph: c.graph(), batch: c.batch, recipe: recipe, seed: seed, threads: threads)
        for step in steps {
            if step % 4 == 0 { trainer.startEpoch(step / 4, iterations: 4) }
            let (images, labels) = try c.batch(step % 4)
            try trainer.step(images: images, labels: labels)
        }
        return trainer
    }

    @Test(arguments: [false, true])
    func sameSeedGivesTheSameWeightsForAnyThreadCount(adamW: Bool) throws {
        let one = try run(threads: 1, steps: 0..<6, adamW: adamW).weights, two = try run(threads: 2, steps: 0..<6, adamW: adamW).weights
        let again = try run(threads: 2, steps: 0..<6, adamW: adamW).weights
        #expect(two.tensors == again.tensors, "same seed and threads: bit-identical")
        #expect(one.tensors == two.tensors, "1 and 2 threads: bit-identical (every reduction has a fixed order)")
        let other = try run(threads: 2, steps: 0..<6, seed: 4, adamW: adamW).weights
        #expect(other.tensors != two.tensors, "another seed starts elsewhere")
    }

    /// Evaluation keeps one compiled model per batch size and gives it the trainer's weights of the
    /// moment: after more steps (and for the EMA) it must give what a model compiled afresh from those
    /// weights gives, bit for bit.
    @Test func evaluationFollowsTheWeightsOfTheMoment() throws {
        let c = try #require(try trainingCases(kind: "sgd").first)
        let (images, labels) = try c.batch(0)
        let trainer = try run(threads: 2, steps: 0..<2)
        func fresh(_ weights: WeightSet) throws -> [Float] {
            try CompiledModel(graph: trainer.graph, weights: weights, batch: labels.count, threads: trainer.threads,
                              kernels: trainer.kernels).run(images)
        }
        let early = try trainer.evaluate(images: images, labels: labels)
        #expect(early.logits == (try fresh(trainer.weights)))
        _ = try run(threads: 2, steps: 2..<4, trainer: trainer)
        let late = try trainer.evaluate(images: images, labels: labels)
        #expect(late.logits == (try fresh(trainer.weights)) && late.logits != early.logits, "evaluation after more steps")
        let ema = try trainer.evaluate(images: images, labels: labels, ema: true)
        #expect(ema.logits == (try fresh(try #require(trainer.emaWeights))) && ema.logits != late.logits, "the EMA's evaluation")
        // Printed, an evaluation is one line, not its logits.
        #expect("\(late)".hasPrefix("top-1 error ") && "\(late)".contains("(\(late.logits.count) logits)") && !"\(late)".contains("\n"))
    }

    @Test(arguments: [false, true])
    func resumingEqualsAnUninterruptedRun(adamW: Bool) throws {
        let whole = try run(threads: 2, steps: 0..<8, adamW: adamW)
        let first = try run(threads: 2, steps: 0..<4, adamW: adamW)
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("resume-\(UUID().uuidString).safetensors")
        defer { try? FileManager.default.removeItem(at: file) }
        try first.saveCheckpoint(to: file)
        let c = try #require(try trainingCases(kind: "sgd").first)
        // A new trainer starts from other weights (another seed); the checkpoint replaces all of its state.
        let resumed = try Trainer(graph: c.graph(), batch: c.batch, recipe: first.recipe, seed: 99, threads: 1)
        try resumed.restore(from: file)
        #expect(resumed.totalSteps == 4 && resumed.epoch == 0 && resumed.iteration == 4)
        _ = try run(threads: 1, steps: 4..<8, trainer: resumed)
        #expect(resumed.weights.tensors == whole.weights.tensors)
        #expect(resumed.emaWeights!.tensors == whole.emaWeights!.tensors)
        #expect(resumed.momentumBuffers.tensors == whole.momentumBuffers.tensors)
        #expect(resumed.secondMoments?.tensors == whole.secondMoments?.tensors && (whole.secondMoments != nil) == adamW)
        // The checkpoint is a model file too: the loader gives the weights (or the EMA) and drops the optimizer state.
        let (weights, family) = try WeightSet.load(contentsOf: file)
        #expect(family == .timm)
        #expect(weights.tensors == first.weights.tensors)
        #expect(try WeightSet.load(contentsOf: file, ema: true).weights.tensors == first.emaWeights!.tensors)
    }

    @Test func restoreRefusesAnotherRunsCheckpoint() throws {
        let first = try run(threads: 2, steps: 0..<1)
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("other-\(UUID().uuidString).safetensors")
        defer { try? FileManager.default.removeItem(at: file) }
        try first.saveCheckpoint(to: file)
        let c = try #require(try trainingCases(kind: "sgd").first)
        var recipe = first.recipe
        recipe.learningRate = 0.5
        let other = try Trainer(graph: c.graph(), batch: c.batch, recipe: recipe, threads: 1)
        #expect { try other.restore(from: file) } throws: { ($0 as? TrainingError)?.kind == .checkpoint(path: file.path) }
        let plain = FileManager.default.temporaryDirectory.appendingPathComponent("plain-\(UUID().uuidString).safetensors")
        defer { try? FileManager.default.removeItem(at: plain) }
        try first.weights.write(to: plain)
        #expect(throws: TrainingError.self) { try first.restore(from: plain) }
    }

    @Test func preciseBatchNormStatisticsMatchPycls() throws {
        let c = try #require(try trainingCases(kind: "sgd").first)
        let trainer = try Trainer(graph: c.graph(), batch: c.batch, weights: c.initialWeights(), threads: 2)
        try trainer.recomputeBatchNormStatistics((0..<4).map { try c.batch($0).images })
        let reference = try c.reference(".precise_bn.safetensors")
        #expect(!reference.tensors.isEmpty)
        for (name, tensor) in reference.tensors {
            let mine = try #require(trainer.weights[name])
            #expect(relativeError(mine.scalars, tensor.scalars) <= 1e-4, "\(name)")
        }
    }

    @Test func nonFiniteInputStopsTheStepAndKeepsTheWeights() throws {
        let c = try #require(try trainingCases(kind: "sgd").first)
        let trainer = try Trainer(graph: c.graph(), batch: c.batch, threads: 2)
        let before = trainer.weights
        var (images, labels) = try c.batch(0)
        images[17] = .nan
        #expect {
            try trainer.step(images: images, labels: labels)
        } throws: { error in
            (error as? TrainingError)?.kind == .nonFinite(step: 1) && (error as? TrainingError)?.message.contains("not finite") == true
                && (error as? TrainingError)?.message.contains("step 1") == true
        }
        #expect(trainer.weights.tensors == before.tensors)
        #expect(trainer.totalSteps == 0)
        labels[0] = 99
        images[17] = 0
        #expect { try trainer.step(images: images, labels: labels) } throws: { ($0 as? TrainingError)?.kind == .invalidBatch }
        #expect { try trainer.step(images: Array(images.dropLast()), labels: labels) } throws: { ($0 as? TrainingError)?.kind == .invalidBatch }
    }

    @Test func cutmixPastesTheBoxAndWeighsLabelsByArea() throws {
        // pycls: inputs[:, :, y0:y1, x0:x1] = inputs[P, :, y0:y1, x0:x1]; labels = m·y + (1 − m)·y[P].
        let draw = Mixing.Draw(weight: 1 - 6.0 / 16, permutation: [1, 0], box: Mixing.Box(x0: 1, y0: 0, x1: 3, y1: 3))
        var images = (0..<(2 * 2 * 4 * 4)).map(Float.init)
        let original = images
        var targets: [Float] = [1, 0, 0, 1]
        Mixing.apply(draw, images: &images, channels: 2, height: 4, width: 4, targets: &targets, classes: 2)
        for n in 0..<2 {
            for ch in 0..<2 {
                for y in 0..<4 {
                    for x in 0..<4 {
                        let i = ((n * 2 + ch) * 4 + y) * 4 + x, partner = (((1 - n) * 2 + ch) * 4 + y) * 4 + x
                        let inside = (1..<3).contains(x) && (0..<3).contains(y)
                        #expect(images[i] == (inside ? original[partner] : original[i]))
                    }
                }
            }
        }
        #expect(targets == [0.625, 0.375, 0.375, 0.625])
        // Draws are in range and reproducible from the seed.
        var a = SeededGenerator(seed: 5), b = SeededGenerator(seed: 5)
        for _ in 0..<50 {
            let d = try #require(Mixing.draw(batch: 8, height: 32, width: 32, mixupAlpha: 0.2, cutmixAlpha: 1, using: &a))
            #expect(d == Mixing.draw(batch: 8, height: 32, width: 32, mixupAlpha: 0.2, cutmixAlpha: 1, using: &b))
            #expect((0...1).contains(d.weight) && d.permutation.sorted() == Array(0..<8))
        }
    }

    @Test func zeroInitFinalGammaZeroesTheLastBatchNormOfEachBranch() throws {
        let c = try #require(try trainingCases(kind: "sgd").first)
        var recipe = TrainingRecipe()
        recipe.zeroInitFinalGamma = true
        let trainer = try Trainer(graph: c.graph(), batch: 1, recipe: recipe, threads: 1)
        let finals = Trainer.finalBatchNorms(of: trainer.graph)
        #expect(finals.contains("s1.b1.conv3.bn.weight") && !finals.contains("s1.b1.downsample.bn.weight") && !finals.contains("stem.bn.weight"))
        for name in finals { #expect(trainer.weights[name]!.scalars.allSatisfy { $0 == 0 }) }
        #expect(trainer.weights["s1.b1.conv2.bn.weight"]!.scalars.allSatisfy { $0 == 1 })
    }
}
