import Foundation
import RegNet

/// Options shared by `run` and `bench`: which network, its weights, shape and threads.
struct RunOptions {
    /// The network as the model flags (or the weights file, or an ONNX file) declare it.
    var model: SelectedModel
    var weightsPath: String?
    var bgr: Bool
    var seed: UInt64
    var batch: Int
    var height: Int
    var width: Int
    var threads: Int?
    var kernels: KernelSet
    var precision: Precision
    /// For int8: where the calibration images come from, how many, and how they become scales.
    var calibration: String?
    var calibrationImages: Int
    var calibrationMethod: CalibrationMethod
    /// Whether --batch, and --resolution/--height/--width, were given (an input's own shape must then agree).
    var batchGiven = false, sizeGiven = false

    static let usage = """
    \(ModelSelection.usage)
      --weights W.safetensors weights with timm, pycls or torchvision names (detected);
                              default: pycls initialisation from --seed
      --bgr                   the checkpoint's stem expects BGR (original pycls weights): flip it to RGB
      --seed S                initialisation seed (default 0)
      --batch N               images per run (default 1)
      --resolution R          input size (default: the one --weights records, else 224); --height/--width
                              for non-square inputs
      --threads T             worker threads (default: active processors)
      --isa avx512|avx2|neon|portable   force a micro-kernel set (default: the best this CPU runs)
      --precision fp32|bf16|int8  convolution arithmetic (default fp32); bf16 needs AVX-512 BF16 (arm64:
                              BF16), int8 AVX-512 VNNI (arm64: I8MM or DotProd); elsewhere fp32, with a note
      --calibration D         int8: calibrate on the training images of D (what `regnet train --data`
                              takes: cifar10:DIR, folder:DIR, npy:…, digits) or `random` (seeded
                              noise, with a warning); not needed with a quantised weights file
      --calibration-images N  images to calibrate on (default 128)
      --calibration-method minmax|percentile[:P]   scale from the largest value (default) or the
                              P-th percentile (default 99.99)
    """

    static func parse(_ args: inout Arguments) throws -> RunOptions {
        let weightsPath = try args.option("--weights")
        let bgr = args.flag("--bgr")
        let seed = UInt64(try args.int("--seed", range: 0...Int.max) ?? 0)
        let batchOption = try args.int("--batch")
        let resolutionOption = try args.int("--resolution"), heightOption = try args.int("--height"), widthOption = try args.int("--width")
        let batch = batchOption ?? 1
        let threads = try args.int("--threads", range: 1...CompiledModel.maxThreads)
        var kernels = KernelSet.best
        if let isa = try args.option("--isa") {
            guard let chosen = KernelSet(named: isa) else {
                throw RuntimeError("this CPU cannot run the '\(isa)' kernels (available: \(KernelSet.available.map(\.name).joined(separator: ", ")))")
            }
            kernels = chosen
        }
        let precision = try Precision.parse(&args)
        let calibration = try args.option("--calibration")
        let calibrationImages = try args.int("--calibration-images", range: 1...100_000) ?? 128
        var method = CalibrationMethod.minMax
        if let text = try args.option("--calibration-method") {
            if text == "minmax" {
                method = .minMax
            } else if text == "percentile" || text.hasPrefix("percentile:") {
                let p = text == "percentile" ? 99.99 : Double(text.dropFirst("percentile:".count))
                guard let p, p > 0, p <= 100 else { throw UsageError("--calibration-method percentile:P takes P in (0, 100] (got '\(text)')") }
                method = .percentile(p)
            } else {
                throw UsageError("unknown calibration method '\(text)' (expected minmax or percentile[:P])")
            }
        }
        if precision != .int8 && calibration != nil { throw UsageError("--calibration applies to --precision int8 only") }
        let model = try ModelSelection.parse(&args, weights: weightsPath)
        // The size: as given, else the one the weights were made at (when their file says), else 224.
        let resolution = resolutionOption.map { ($0, $0) } ?? model.recordedSize ?? (224, 224)
        let height = heightOption ?? resolution.0
        let width = widthOption ?? resolution.1
        return RunOptions(model: model, weightsPath: weightsPath, bgr: bgr, seed: seed, batch: batch,
                          height: height, width: width, threads: threads, kernels: kernels, precision: precision, calibration: calibration,
                          calibrationImages: calibrationImages, calibrationMethod: method, batchGiven: batchOption != nil,
                          sizeGiven: resolutionOption != nil || heightOption != nil || widthOption != nil)
    }

    /// The weights and, from a quantised weights file (`regnet quantize`), their int8 quantisation.
    func loadWeightsAndQuantization(for graph: Graph) throws -> (WeightSet, Quantization?) {
        if let weightsPath, Quantization.isQuantizedFile(URL(fileURLWithPath: weightsPath)) {
            do { return try Quantization.read(contentsOf: URL(fileURLWithPath: weightsPath)) } catch { throw RuntimeError(error.description) }
        }
        return (try loadWeights(for: graph), nil)
    }

    /// The graph at the size asked for.
    func graph() throws -> Graph { try model.graph(height: height, width: width) }

    /// The weights: the checkpoint (any naming family, renamed to timm's), an ONNX model's own, or a
    /// seeded initialisation.
    func loadWeights(for graph: Graph) throws -> WeightSet {
        if weightsPath == nil, let embedded = model.embeddedWeights { return embedded }
        guard let weightsPath else {
            do { try WeightSet.checkMemory(for: graph, copies: 2) } catch { throw RuntimeError(error.message) }
            return WeightSet.initialized(for: graph, seed: seed)
        }
        do {
            return try WeightSet.load(contentsOf: URL(fileURLWithPath: weightsPath), reverseStemChannels: bgr).weights
        } catch {
            throw RuntimeError(error.description)
        }
    }

    /// Lowers, loads the weights and compiles (saying so on stderr when the precision asked for falls back).
    func compile() throws -> CompiledModel {
        let graph = try graph()
        let (weights, stored) = try loadWeightsAndQuantization(for: graph)
        if stored != nil && calibration != nil {
            throw UsageError("--weights \(weightsPath ?? "") is already quantised; --calibration would replace its scales (drop one)")
        }
        // Where the kernels cannot run the precision asked for, the model runs in fp32 (with a note), uncalibrated.
        let used = kernels.supports(precision) ? precision : .float32
        if used != precision { printError(Precision.fallbackNote(precision, kernels: kernels)) }
        let quantization = used == .int8 ? try stored ?? calibrate(graph, weights) : nil
        do {
            return try CompiledModel(graph: graph, weights: weights, batch: batch, threads: threads, kernels: kernels, precision: used,
                                     quantization: quantization)
        } catch {
            throw RuntimeError(error.description)
        }
    }
}

extension RunOptions {
    /// The int8 input scales: calibrated on `--calibration` images (or seeded noise).
    func calibrate(_ graph: Graph, _ weights: WeightSet) throws -> Quantization {
        guard let calibration else {
            throw UsageError("--precision int8 needs --calibration D (a dataset, or random) or a quantised weights file")
        }
        let shape = graph.inputShape
        var loader: BatchLoader?
        if calibration == "random" {
            printError("warning: calibrating on random inputs; the scales will not fit real images (pass --calibration D)")
        } else {
            guard var data = try DataOptions.parse(from: calibration) else { throw UsageError("--calibration: no dataset") }
            data.augment = false
            data.resolution = nil
            loader = try data.loader(try data.open().train, spec: data.train, height: shape.height, width: shape.width,
                                     batch: min(calibrationImages, 32), training: false, seed: seed)
        }
        return try calibrateInt8(graph, weights, loader: loader, images: calibrationImages, method: calibrationMethod, seed: seed, threads: threads)
    }
}

/// Calibrates `graph` for int8 on the first `images` images of `loader` (test-time transform), or on
/// seeded normal noise without one.
func calibrateInt8(_ graph: Graph, _ weights: WeightSet, loader: BatchLoader?, images count: Int, method: CalibrationMethod,
                   seed: UInt64, threads: Int?) throws -> Quantization {
    let shape = graph.inputShape, imageSize = shape.channels * shape.height * shape.width, perBatch = min(count, 32)
    do {
        let (bytes, overflow) = count.multipliedReportingOverflow(by: imageSize * 8)   // the images, then their batches
        try MemoryBudget.check(overflow ? Int.max : bytes, for: "\(count) calibration images of \(shape.height)x\(shape.width)")
    } catch { throw RuntimeError(error.message) }
    var images: [Float] = []
    if let loader {
        let batches = loader.epoch(0)
        do {
            while images.count < count * imageSize, let batch = try batches.next() { images += batch.images }
        } catch { throw RuntimeError(error.message) }
        guard !images.isEmpty else { throw RuntimeError("calibration: \(loader.dataset.name) has no images") }
    } else {
        images = syntheticInput(shape: [count, shape.channels, shape.height, shape.width], seed: seed &+ 1).scalars
    }
    // Whole batches of perBatch images; fewer images than that make one smaller batch.
    let available = min(images.count / imageSize, count), batch = min(perBatch, available)
    let batches = stride(from: 0, to: available - available % batch, by: batch).map {
        Array(images[($0 * imageSize)..<(($0 + batch) * imageSize)])
    }
    do {
        return try Quantization.calibrate(graph: graph, weights: weights, batches: batches, batch: batch, method: method, threads: threads)
    } catch { throw RuntimeError(error.description) }
}

/// A deterministic input (seeded normal values), for runs without `--input`.
func syntheticInput(shape: [Int], seed: UInt64) -> Tensor {
    var rng = SeededGenerator(seed: seed &+ 0x5EED)
    return Tensor(shape: shape, scalars: (0..<shape.reduce(1, *)).map { _ in Float(rng.nextGaussian()) })
}

/// Seconds elapsed while running `body`.
func measure(_ body: () throws -> Void) rethrows -> Double {
    let start = ContinuousClock.now
    try body()
    let elapsed = ContinuousClock.now - start
    return Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
}

/// Peak resident memory of this process, in bytes.
func peakResidentBytes() -> Int { MemoryBudget.peakResidentBytes }

extension Precision {
    /// `--precision fp32|bf16` (default fp32).
    static func parse(_ args: inout Arguments) throws -> Precision {
        guard let name = try args.option("--precision") else { return .float32 }
        guard let precision = Precision(rawValue: name) else {
            throw UsageError("unknown precision '\(name)' (expected \(Precision.allCases.map(\.rawValue).joined(separator: " or ")))")
        }
        return precision
    }

    /// What to tell the user when `kernels` cannot run `precision` and the model runs in fp32.
    static func fallbackNote(_ precision: Precision, kernels: KernelSet) -> String {
        "note: \(precision.rawValue) needs \(precision.requiredInstructions ?? "nothing"), which "
            + (KernelSet.best.name == kernels.name ? "this CPU lacks" : "the \(kernels.name) kernels lack") + "; running in fp32"
    }

    /// What to tell the user when a training run asked for `precision` trains in fp32 (`TrainingProgram.unavailability`).
    static func trainingFallbackNote(_ precision: Precision, kernels: KernelSet) -> String {
        "note: \(TrainingProgram.unavailability(of: precision, kernels: kernels) ?? "\(precision.rawValue) is unavailable"); training in fp32"
    }
}
