import Foundation
import RegNet

/// Options shared by `run` and `bench`: which network, its weights, shape and threads.
struct RunOptions {
    var network: Network
    var weightsPath: String?
    var bgr: Bool
    var seed: UInt64
    var batch: Int
    var height: Int
    var width: Int
    var threads: Int?
    var kernels: KernelSet
    var precision: Precision
    /// Whether --batch, and --resolution/--height/--width, were given (an input's own shape must then agree).
    var batchGiven = false, sizeGiven = false

    static let usage = """
    \(ModelSelection.usage)
      --weights W.safetensors weights with timm, pycls or torchvision names (detected);
                              default: pycls initialisation from --seed
      --bgr                   the checkpoint's stem expects BGR (original pycls weights): flip it to RGB
      --seed S                initialisation seed (default 0)
      --batch N               images per run (default 1)
      --resolution R          input size (default 224); --height/--width for non-square inputs
      --threads T             worker threads (default: active processors)
      --isa avx512|avx2|portable   force a micro-kernel set (default: the best this CPU runs)
      --precision fp32|bf16   convolution arithmetic (default fp32); bf16 needs AVX-512 BF16 and
                              falls back to fp32 elsewhere, with a note
    """

    static func parse(_ args: inout Arguments) throws -> RunOptions {
        let weightsPath = try args.option("--weights")
        let bgr = args.flag("--bgr")
        let seed = UInt64(try args.int("--seed", range: 0...Int.max) ?? 0)
        let batchOption = try args.int("--batch")
        let resolutionOption = try args.int("--resolution"), heightOption = try args.int("--height"), widthOption = try args.int("--width")
        let batch = batchOption ?? 1
        let resolution = resolutionOption ?? 224
        let height = heightOption ?? resolution
        let width = widthOption ?? resolution
        let threads = try args.int("--threads", range: 1...CompiledModel.maxThreads)
        var kernels = KernelSet.best
        if let isa = try args.option("--isa") {
            guard let chosen = KernelSet(named: isa) else {
                throw RuntimeError("this CPU cannot run the '\(isa)' kernels (available: \(KernelSet.available.map(\.name).joined(separator: ", ")))")
            }
            kernels = chosen
        }
        let precision = try Precision.parse(&args)
        let network = try ModelSelection.parse(&args)
        return RunOptions(network: network, weightsPath: weightsPath, bgr: bgr, seed: seed, batch: batch,
                          height: height, width: width, threads: threads, kernels: kernels, precision: precision, batchGiven: batchOption != nil,
                          sizeGiven: resolutionOption != nil || heightOption != nil || widthOption != nil)
    }

    /// The weights: the checkpoint (any naming family, renamed to timm's) or a seeded initialisation.
    func loadWeights(for graph: Graph) throws -> WeightSet {
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
        let graph = try ModelSelection.lower(network, height: height, width: width)
        let weights = try loadWeights(for: graph)
        let model: CompiledModel
        do {
            model = try CompiledModel(graph: graph, weights: weights, batch: batch, threads: threads, kernels: kernels, precision: precision)
        } catch {
            throw RuntimeError(error.description)
        }
        if model.precision != precision { printError(Precision.fallbackNote(precision, kernels: kernels)) }
        return model
    }
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
        "note: \(precision.rawValue) needs AVX-512 BF16, which "
            + (kernels.name == "avx512" ? "this CPU lacks" : "the \(kernels.name) kernels lack") + "; running in fp32"
    }
}
