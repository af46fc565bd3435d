import Foundation
import RegNet

/// `regnet eval`: loss and top-1/top-5 error of weights on a dataset.
enum EvalCommand {
    static let usage = """
    usage: regnet eval [<model | --depth … | --stages … | --declaration …>] --weights W --data D
           regnet eval MODEL.onnx --data D
                       [--batch N] [--ema] [--threads T] [--precision fp32|bf16|int8] [--json]

    Evaluates the weights on the data's test split (CIFAR's test file, a folder's val/, the arrays):
    mean cross-entropy and top-1/top-5 error in percent, as pycls reports them. --json adds the
    per-class accuracy; its keys are pycls's (top1_err, top5_err, loss).

    \(ModelSelection.usage)
      --weights W             the weights (timm, pycls or torchvision names; a training checkpoint's
                              model, or its EMA with --ema)
    \(DataOptions.usage)
      --batch N               images per batch (default 200)
      --threads T             worker threads (default: active processors)
      --precision fp32|bf16|int8  convolution arithmetic (default fp32; bf16 and int8 fall back to
                              fp32 with a note where the CPU lacks their dot products). int8 uses
                              the scales of a quantised weights file (`regnet quantize`), or calibrates
                              on the data's training images (test-time transform)
      --calibration-images N  int8: training images to calibrate on (default 128)
      --json                  one JSON object
    """

    struct Report: Encodable {
        var model: String, data: String, images: Int, precision: String
        var top1_err: Double, top5_err: Double, loss: Double
        var class_accuracy: [Double]
    }

    static func run(_ args: inout Arguments) throws {
        let weightsPath = try args.option("--weights")
        let ema = args.flag("--ema")
        let batch = try args.int("--batch", range: 1...65_536) ?? 200
        let threads = try args.int("--threads", range: 1...CompiledModel.maxThreads)
        let json = args.flag("--json")
        let precision = try Precision.parse(&args)
        let calibrationImages = try args.int("--calibration-images", range: 1...100_000) ?? 128
        guard let data = try DataOptions.parse(&args) else { return }
        let model = try ModelSelection.parse(&args, weights: weightsPath)
        try args.finish()
        let (trainSet, testSet) = try data.open()
        let (height, width) = data.inputSize(of: trainSet, recorded: model.recordedSize)
        let graph = try model.graph(height: height, width: width)
        var weights: WeightSet, quantization: Quantization?
        if let weightsPath {
            let url = URL(fileURLWithPath: weightsPath)
            let quantized = Quantization.isQuantizedFile(url)
            if quantized && ema { throw RuntimeError("--ema: \(weightsPath) is a quantised file, which holds one set of weights and no EMA") }
            do {
                if quantized {
                    (weights, quantization) = try Quantization.read(contentsOf: url)
                } else {
                    weights = try WeightSet.load(contentsOf: url, ema: ema).weights
                }
            } catch { throw RuntimeError(error.description) }
        } else {
            guard let embedded = model.embeddedWeights else { throw UsageError("--weights is required") }
            if ema { throw RuntimeError("--ema: \(model.arguments[0]) holds one set of weights and no EMA") }
            weights = embedded
        }
        let used = KernelSet.best.supports(precision) ? precision : .float32
        if precision == .int8 && used == .int8 && quantization == nil {
            do { try weights.validate(for: graph) } catch { throw RuntimeError(error.description) }
            let calibrationLoader = try data.loader(trainSet, spec: data.train, height: height, width: width, batch: 32, training: false, seed: 0)
            quantization = try calibrateInt8(graph, weights, loader: calibrationLoader, images: calibrationImages, method: .minMax,
                                             seed: 0, threads: threads)
        }
        let loader = try data.loader(testSet, spec: data.test ?? data.train, height: height, width: width, batch: batch, training: false, seed: 0)
        let result: LoaderEvaluation
        do {
            try weights.validate(for: graph)
            result = try LoaderEvaluation(graph: graph, weights: weights, loader: loader, threads: threads, precision: used,
                                          quantization: quantization)
        } catch let error as TrainingError { throw RuntimeError(error.message) } catch let error as WeightError { throw RuntimeError(error.message) }
        if used != precision { printError(Precision.fallbackNote(precision, kernels: .best)) }
        let perClass = zip(result.classCorrect, result.classImages).map { $1 > 0 ? 100 * Double($0) / Double($1) : 0 }
        if json {
            return try printJSON(Report(model: graph.name, data: (data.test ?? data.train).description, images: result.count, precision: used.rawValue,
                                        top1_err: result.top1Error, top5_err: result.top5Error, loss: result.loss, class_accuracy: perClass))
        }
        print("\(graph.name) on \((data.test ?? data.train).description) (\(result.count) images, \(used.rawValue))")
        print(String(format: "top-1 error %.2f%%, top-5 error %.2f%%, loss %.4f", result.top1Error, result.top5Error, result.loss))
    }
}
