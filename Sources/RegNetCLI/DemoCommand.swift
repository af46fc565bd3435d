import Foundation
import RegNet

/// The no-argument main job: declare a small RegNet with the DSL, summarise it, train it on the
/// bundled handwritten digits, and classify test digits with the trained weights on the inference
/// executor.
enum DemoCommand {
    static let usage = """
    usage: regnet [demo] [--epochs E] [--threads T]

    Declares a small RegNet with the DSL (a stride-1 stem as pycls's CIFAR models, two stages of
    Y blocks), prints its summary, trains it on the bundled handwritten digits (1,500 real 8x8 scans
    upsampled to 32x32, shipped with the package) with pycls's recipe, prints the test error after
    each epoch, then compiles the trained weights for inference and classifies a few test digits,
    with their true labels and the latency. Nothing is fetched.
    """

    /// The network the demo trains: pycls's CIFAR stem, two stages of Y blocks.
    static let network = Network("DigitsRegNet") {
        Stem(16, stride: 1)
        Body {
            Stage(depth: 2, width: 32, groupWidth: 8, block: YBlock(seRatio: 0.25))
            Stage(depth: 4, width: 64, groupWidth: 8, block: YBlock(seRatio: 0.25))
        }
        Head(classes: 10)
    }

    static func run(_ args: inout Arguments) throws {
        let epochs = try args.int("--epochs", range: 1...1000) ?? 10
        let threads = try args.int("--threads", range: 1...CompiledModel.maxThreads)
        try args.finish()
        let graph = try ModelSelection.lower(network, height: 32, width: 32)
        print(Summary(graph).table)

        var recipe = TrainingRecipe()
        recipe.epochs = epochs
        recipe.learningRate = 0.1
        recipe.warmupEpochs = 1
        recipe.labelSmoothing = 0.1
        recipe.emaAlpha = 0
        let batch = 32
        let start = ContinuousClock.now
        let trainer: Trainer, test: any ImageDataset, result: LoaderEvaluation?
        do {
            let data = DatasetSpecification(format: .cifar10, path: BundledDigits.directory.path)
            let train = try data.trainingSet()
            test = try data.testSet()
            let transform = ImageTransform(kind: .cifar, height: 32, width: 32)
            trainer = try Trainer(graph: graph, batch: batch, recipe: recipe, seed: 0, threads: threads)
            let run = try TrainingRun(trainer: trainer,
                                      trainLoader: try BatchLoader(dataset: train, transform: transform, batchSize: batch, training: true),
                                      testLoader: try BatchLoader(dataset: test, transform: transform, batchSize: 100, training: false))
            print("\ntraining on the bundled digits: \(train.count) images, \(epochs) epochs of \(train.count / batch) steps (batch \(batch)), "
                  + "\(trainer.threads) threads, \(trainer.kernels.name) kernels")
            result = try run.run { event in
                if case .record(let type, let values) = event, type == "test_epoch", case .text(let epoch)? = values["epoch"],
                   case .number(let error)? = values["top1_err"] {
                    print(String(format: "  epoch %@: test error %5.2f%%", epoch, error))
                }
            }
        } catch let error as DataError {
            throw RuntimeError(error.message)
        } catch let error as TrainingError {
            throw RuntimeError(error.message)
        }
        let trainingTime = ContinuousClock.now - start
        if let result {
            print(String(format: "trained in %.1f s: test error %.2f%% on %d held-out digits", Double(trainingTime.components.seconds)
                         + Double(trainingTime.components.attoseconds) / 1e18, result.top1Error, result.count))
        }

        // Inference: the trained weights compiled into a CompiledModel (batch-norm folded, fused).
        let count = 8
        let model = try CompiledModel(graph: graph, weights: trainer.weights, batch: count, threads: threads)
        var input: [Float] = [], labels: [Int] = []
        var rng = SeededGenerator(seed: 0)
        let transform = ImageTransform(kind: .cifar, height: 32, width: 32)
        for i in 0..<count {
            let index = i * 37 % test.count
            input += try transform(try test.image(index), training: false, using: &rng)
            labels.append(test.label(index))
        }
        var logits: [Float] = []
        var times: [Double] = []
        for _ in 0..<20 { try times.append(measure { logits = try model.run(input) }) }
        print("\nclassifying \(count) test digits with the trained weights (inference executor):")
        for n in 0..<count {
            let row = Array(logits[(n * 10)..<((n + 1) * 10)])
            let peak = row.max()!, exps = row.map { exp($0 - peak) }, total = exps.reduce(0, +)
            let best = row.indices.max { row[$0] < row[$1] }!
            print(String(format: "  digit %d -> predicted %d (%.1f%%)%@", labels[n], best, 100 * exps[best] / total, best == labels[n] ? "" : "  wrong"))
        }
        let median = times.sorted()[times.count / 2]
        print(String(format: "forward pass, batch %d: median %.3f ms (%.0f images/s)", count, median * 1000, Double(count) / median))
    }
}
