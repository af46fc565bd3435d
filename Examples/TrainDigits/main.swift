// Trains a small RegNet, declared with the DSL, on the bundled handwritten digits; prints the test
// error per epoch; saves the weights; loads them back and classifies test digits with the inference
// executor; compares the test error of the fp32, bf16 and int8 inference paths.
import Foundation
import RegNet

let network = Network("TinyDigits") {
    Stem(16, stride: 1)                                   // pycls's CIFAR stem: 3x3, stride 1
    Body {
        Stage(depth: 2, width: 32, groupWidth: 8, block: YBlock(seRatio: 0.25))
        Stage(depth: 4, width: 64, groupWidth: 8, block: YBlock(seRatio: 0.25))
    }
    Head(classes: 10)
}

var recipe = TrainingRecipe()          // pycls's defaults, then:
recipe.epochs = 12
recipe.learningRate = 0.1
recipe.warmupEpochs = 1
recipe.labelSmoothing = 0.1
recipe.emaAlpha = 0.01                 // an EMA that moves within a short run (α = 0.01 · 32 / 12 · 8 per
recipe.emaUpdatePeriod = 8             // update); it is evaluated after each epoch too

let digits = DatasetSpecification(format: .cifar10, path: BundledDigits.directory.path)
let train = try digits.trainingSet(), test = try digits.testSet()
let transform = ImageTransform(kind: .cifar, height: 32, width: 32)   // normalise; flip + pad-4 crop when training
let trainer = try network.trainer(resolution: 32, batch: 32, recipe: recipe, seed: 1)
let run = try TrainingRun(trainer: trainer,
                          trainLoader: try BatchLoader(dataset: train, transform: transform, batchSize: 32, training: true, seed: 1),
                          testLoader: try BatchLoader(dataset: test, transform: transform, batchSize: 100, training: false))
try run.run { event in
    if case .epoch(let report) = event { print(report) }   // epoch 3/12: loss …, train top-1 …; test top-1 … (EMA …)
}

// Save the weights (timm names, batch-norm statistics included), read them back, run inference.
let file = FileManager.default.temporaryDirectory.appendingPathComponent("tiny-digits.safetensors")
try trainer.weights.write(to: file)
let (weights, _) = try WeightSet.load(contentsOf: file)
let model = try network.compile(resolution: 32, weights: weights, batch: 10)
var rng = SeededGenerator(seed: 0)
var input: [Float] = [], labels: [Int] = []
for i in 0..<10 {
    input += try transform(try test.image(i), training: false, using: &rng)
    labels.append(test.label(i))
}
let predicted = try model(Tensor(shape: [10, 3, 32, 32], scalars: input)).argmax()
print("saved to \(file.path) and reloaded; true labels \(labels), predicted \(predicted)")
try? FileManager.default.removeItem(at: file)

// The same weights in bf16 and in int8 (calibrated on 128 training images): where the CPU runs them,
// the test error must stay within 0.5 points of fp32.
let graph = try network.lower(height: 32, width: 32)
let calibrationLoader = try BatchLoader(dataset: train, transform: transform, batchSize: 32, training: false)
let epoch = calibrationLoader.epoch(0)
let calibration = try (0..<4).map { _ in try epoch.next()!.images }
let quantization = try Quantization.calibrate(graph: graph, weights: weights, batches: calibration, batch: 32)
func testError(_ precision: Precision) throws -> Double {
    let loader = try BatchLoader(dataset: test, transform: transform, batchSize: 100, training: false)
    return try LoaderEvaluation(graph: graph, weights: weights, loader: loader, threads: nil, precision: precision,
                                quantization: quantization).top1Error
}
let fp32 = try testError(.float32)
for precision in [Precision.bfloat16, .int8] {
    guard KernelSet.best.supports(precision) else {
        print("\(precision.rawValue) comparison not run: this CPU lacks its instructions (models compile in fp32)")
        continue
    }
    let error = try testError(precision)
    print(String(format: "test error over %d digits: fp32 %.2f%%, %@ %.2f%%", test.count, fp32, precision.rawValue, error))
    guard abs(error - fp32) <= 0.5 else {
        print("FAIL: \(precision.rawValue) changes the test error by more than 0.5 points")
        exit(1)
    }
}
