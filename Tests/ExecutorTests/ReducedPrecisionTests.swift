import Foundation
import Testing
import DesignSpaces
@testable import Executor
import Weights

/// bf16 and int8 plans against float32: the PyTorch fixture cases (logits from PyTorch in float32)
/// and zoo models with seeded weights must keep a cosine similarity of at least 0.999 per image; top-1
/// agreement is reported. Where the CPU lacks the instructions, a request must compile to the float32
/// plan and say so through `precision`. Quantised weights files round-trip exactly.
@Suite struct ReducedPrecisionTests {
    static let bf16Available = BFloat16Kernels.available != nil
    static let int8Available = Int8Kernels.available != nil
    /// The float32 sets whose tables name bf16 and int8 companions (the others run those precisions in fp32).
    static let setsWithCompanions = ["avx512", "neon"]

    /// Seeded normal values: `count` images' worth.
    static func noise(_ count: Int, seed: UInt64) -> [Float] {
        var rng = SeededGenerator(seed: seed)
        return (0..<count).map { _ in Float(rng.nextGaussian()) }
    }

    /// Cosine similarity of each image's logits.
    static func cosines(_ a: [Float], _ b: [Float], classes: Int) -> [Double] {
        stride(from: 0, to: a.count, by: classes).map { start in
            let x = a[start..<(start + classes)].map(Double.init), y = b[start..<(start + classes)].map(Double.init)
            let dot = zip(x, y).reduce(0) { $0 + $1.0 * $1.1 }
            return dot / (sqrt(x.reduce(0) { $0 + $1 * $1 }) * sqrt(y.reduce(0) { $0 + $1 * $1 }))
        }
    }

    static func top1(_ logits: [Float], classes: Int) -> [Int] {
        stride(from: 0, to: logits.count, by: classes).map { s in (0..<classes).max { logits[s + $0] < logits[s + $1] }! }
    }

    @Test func precisionIsWhatTheKernelsCanRun() throws {
        let graph = try Zoo.models[0].network(classes: 10).lower(height: 32, width: 32)
        let weights = WeightSet.initialized(for: graph, seed: 1)
        let best = try CompiledModel(graph: graph, weights: weights, kernels: .best, precision: .bfloat16)
        #expect(best.precision == (Self.bf16Available && Self.setsWithCompanions.contains(KernelSet.best.name) ? .bfloat16 : .float32))
        #expect(KernelSet.best.supports(.bfloat16) == (best.precision == .bfloat16))
        for name in ["avx2", "portable"] {
            guard let kernels = KernelSet(named: name) else { continue }
            let model = try CompiledModel(graph: graph, weights: weights, kernels: kernels, precision: .bfloat16)
            #expect(model.precision == .float32, "the \(name) kernels have no bf16 path")
            #expect(!kernels.supports(.bfloat16))
        }
        #expect(try CompiledModel(graph: graph, weights: weights, precision: .float32).precision == .float32)
    }

    @Test(arguments: try parityCases(), [Precision.bfloat16, .int8])
    func reducedPrecisionLogitsFollowPyTorch(_ c: ParityCase, _ precision: Precision) throws {
        let graph = try c.configuration.network().lower(height: c.height, width: c.width)
        let (weights, _) = try WeightSet.load(contentsOf: fixtureURL("\(c.name).safetensors"), reverseStemChannels: c.reverse_stem_channels)
        let input = try NumPyArray.read(contentsOf: fixtureURL(c.input ?? "\(c.name).input.npy"))
        let expected = try NumPyArray.read(contentsOf: fixtureURL(c.logits ?? "\(c.name).logits.npy")).scalars
        // int8 is calibrated on the images it then runs: these tiny random networks see few values, so
        // held-out calibration would test coverage rather than the int8 arithmetic (the zoo test below
        // calibrates on held-out images).
        let quantization = precision == .int8
            ? try Quantization.calibrate(graph: graph, weights: weights, batches: [input.scalars], batch: c.batch) : nil
        func compile(threads: Int, groupBudgetBytes: Double = PlanCompiler.defaultGroupBudgetBytes) throws -> CompiledModel {
            try CompiledModel(graph: graph, weights: weights, batch: c.batch, threads: threads, kernels: .best, precision: precision,
                              quantization: quantization, groupBudgetBytes: groupBudgetBytes)
        }
        // The precision that ran: the one asked for where the CPU has its instructions (CI requires them
        // wherever /proc/cpuinfo lists them), float32 otherwise.
        let ran = try compile(threads: 1).precision
        #expect(ran == (KernelSet.best.supports(precision) ? precision : .float32), "\(c.name): \(precision.rawValue) ran as \(ran.rawValue)")
        let outputs = try [1, 2].map { try compile(threads: $0).run(input).scalars }
        let cosines = Self.cosines(outputs[0], expected, classes: c.classes)
        let agree = zip(Self.top1(outputs[0], classes: c.classes), Self.top1(expected, classes: c.classes)).filter { $0 == $1 }.count
        print("\(precision.rawValue) \(c.name): cosine with PyTorch fp32 min \(cosines.min()!), top-1 agreement \(agree)/\(c.batch)")
        #expect(cosines.allSatisfy { $0 >= 0.999 }, "\(c.name) \(precision.rawValue): cosine similarities \(cosines)")
        // The threads split the same work differently; each value is computed the same way.
        #expect(outputs[0] == outputs[1], "\(c.name): \(precision.rawValue) logits differ between 1 and 2 threads")
        if c.batch > 1 {
            // Every step over one image at a time (image-group scheduling forced on): the same logits.
            let perImage = try compile(threads: 2, groupBudgetBytes: 0)
            #expect(perImage.perImageStepCount == perImage.stepCount)
            #expect(try perImage.run(input.scalars) == outputs[0], "\(c.name): \(precision.rawValue) logits differ with image groups")
        }
    }

    @Test func int8NeedsACalibrationAndFallsBackWithoutVNNI() throws {
        let graph = try Zoo.models[0].network(classes: 10).lower(height: 32, width: 32)
        let weights = WeightSet.initialized(for: graph, seed: 1)
        #expect(throws: ExecutorError.self) { try CompiledModel(graph: graph, weights: weights, precision: .int8) }
        let quantization = try Quantization.calibrate(graph: graph, weights: weights, batches: [Self.noise(2 * 3 * 32 * 32, seed: 2)], batch: 2)
        #expect(!quantization.inputScales.isEmpty && quantization.inputScales["stem.conv"] == nil, "the stem's input can be negative")
        let best = try CompiledModel(graph: graph, weights: weights, precision: .int8, quantization: quantization)
        #expect(best.precision == (Self.int8Available && Self.setsWithCompanions.contains(KernelSet.best.name) ? .int8 : .float32))
        #expect(best.int8Layers.count == (best.precision == .int8 ? quantization.inputScales.count : 0))
        for name in ["avx2", "portable"] {
            guard let kernels = KernelSet(named: name) else { continue }
            #expect(try CompiledModel(graph: graph, weights: weights, kernels: kernels, precision: .int8, quantization: quantization).precision == .float32)
        }
        #expect(throws: ExecutorError.self) {
            try Quantization.calibrate(graph: graph, weights: weights, batches: [], batch: 2)
        }
        #expect(throws: ExecutorError.self) {
            try Quantization.calibrate(graph: graph, weights: weights, batches: [Self.noise(2 * 3 * 32 * 32, seed: 2)], batch: 2, method: .percentile(0))
        }
    }

    @Test func layersThatLoseTooMuchStayFloat32() throws {
        let graph = try Zoo.models.first { $0.name == "RegNetX-400MF" }!.network(classes: 10).lower(height: 32, width: 32)
        let weights = WeightSet.initialized(for: graph, seed: 8)
        let batches = [Self.noise(4 * 3 * 32 * 32, seed: 9)]
        let all = try Quantization.calibrate(graph: graph, weights: weights, batches: batches, batch: 4)
        let none = try Quantization.calibrate(graph: graph, weights: weights, batches: batches, batch: 4, maximumInputError: 0)
        // With no error allowed every candidate stays float32, each with the error it measured.
        #expect(none.inputScales.isEmpty && Set(none.excluded.keys) == Set(all.inputScales.keys).union(all.excluded.keys))
        #expect(none.excluded.values.allSatisfy { $0 > 0 && $0 < 0.05 }, "\(none.excluded.values.max() ?? 0)")
        print("int8 input errors, RegNetX-400MF at 32x32 on noise: largest \(none.excluded.values.max() ?? 0), median \(none.excluded.values.sorted()[none.excluded.count / 2])")
        let model = try CompiledModel(graph: graph, weights: weights, precision: .int8, quantization: none)
        #expect(model.int8Layers.isEmpty)
        // A threshold between the errors splits the layers.
        let middle = Double(none.excluded.values.sorted()[none.excluded.count / 2])
        let some = try Quantization.calibrate(graph: graph, weights: weights, batches: batches, batch: 4, maximumInputError: middle)
        #expect(!some.inputScales.isEmpty && !some.excluded.isEmpty && some.excluded.values.allSatisfy { Double($0) >= middle * 0.999 })
    }

    @Test func quantisedWeightsFilesRoundTripExactly() throws {
        let graph = try Zoo.models.first { $0.name == "RegNetY-200MF" }!.network(classes: 10).lower(height: 32, width: 32)
        let weights = WeightSet.initialized(for: graph, seed: 4)
        var quantization = try Quantization.calibrate(graph: graph, weights: weights, batches: [Self.noise(4 * 3 * 32 * 32, seed: 5)], batch: 4,
                                                      method: .percentile(99.9))
        // One layer left in float32 by the calibration: the file records it.
        let dropped = try #require(quantization.inputScales.keys.sorted().last)
        quantization.inputScales[dropped] = nil
        quantization.weightScales[dropped] = nil
        quantization.excluded[dropped] = 0.25
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("regnet-int8-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        let file = folder.appendingPathComponent("q.safetensors")
        try quantization.write(weights, graph: graph, to: file)
        let (loaded, stored) = try Quantization.read(contentsOf: file)
        #expect(stored == quantization)
        try loaded.validate(for: graph)
        // int8 tensors are stored as such: the file is about a quarter of float32's for the quantised layers.
        let header = try SafeTensors.metadata(contentsOf: file)
        #expect(header[Quantization.metadataKey] == "int8")
        let input = Self.noise(2 * 3 * 32 * 32, seed: 6)
        let original = try CompiledModel(graph: graph, weights: weights, batch: 2, precision: .int8, quantization: quantization).run(input)
        let reloaded = try CompiledModel(graph: graph, weights: loaded, batch: 2, precision: .int8, quantization: stored).run(input)
        #expect(original == reloaded, "a model compiled from the quantised file must compute what the calibrated one did")
        // A plain float file reads back with no quantisation.
        let plain = folder.appendingPathComponent("plain.safetensors")
        try SafeTensors.write(weights, to: plain)
        #expect(try Quantization.read(contentsOf: plain).quantization == nil)
        // Malformed quantised files are refused with a clear error, and nothing is half-read.
        let bad = try SafeTensors.read(contentsOf: file)
        let layer = try #require(quantization.inputScales.keys.sorted().first)
        for (name, tensor, message) in [("\(layer).input_zero_point", Tensor(shape: [1], scalars: [3]), "zero points of 0"),
                                        ("\(layer).weight_scale", Tensor(shape: [1], scalars: [1]), "weight_scale must hold"),
                                        ("\(layer).input_scale", Tensor(shape: [1], scalars: [-1]), "input_scale must be")] {
            var tensors = bad.tensors
            tensors[name] = tensor
            let broken = folder.appendingPathComponent("broken.safetensors")
            try SafeTensors.write(WeightSet(tensors), to: broken, metadata: [Quantization.metadataKey: "int8"],
                                  integers: ["\(layer).weight": .i8, "\(layer).input_zero_point": .u8])
            #expect { try Quantization.read(contentsOf: broken) } throws: { ($0 as? WeightError)?.message.contains(message) == true }
        }
    }

    @Test(arguments: ["RegNetX-400MF", "RegNetY-800MF", "RegNetX-1.6GF"])
    func zooModelsInInt8MatchFloat32(_ name: String) throws {
        let zoo = try #require(Zoo.models.first { $0.name == name })
        let graph = try zoo.network().lower(height: 64, width: 64)
        let weights = WeightSet.initialized(for: graph, seed: 7)
        let batch = 2, classes = graph.outputShape.channels, imageSize = 3 * 64 * 64
        let quantization = try Quantization.calibrate(graph: graph, weights: weights,
                                                      batches: (0..<4).map { Self.noise(4 * imageSize, seed: UInt64(20 + $0)) }, batch: 4)
        let input = Self.noise(batch * imageSize, seed: 3)
        let fp32 = try CompiledModel(graph: graph, weights: weights, batch: batch, threads: 2).run(input)
        let model = try CompiledModel(graph: graph, weights: weights, batch: batch, threads: 2, precision: .int8, quantization: quantization)
        let int8 = try model.run(input)
        guard model.precision == .int8 else {
            #expect(int8 == fp32, "\(name): an int8 request without int8 kernels must run the float32 plan")
            return
        }
        let cosines = Self.cosines(int8, fp32, classes: classes)
        let agree = zip(Self.top1(int8, classes: classes), Self.top1(fp32, classes: classes)).filter { $0 == $1 }.count
        print("int8 \(name) (seeded weights, 64x64, calibrated on 16 noise images): cosine with fp32 min \(cosines.min()!), top-1 agreement \(agree)/\(batch), \(model.int8Layers.count) int8 layers")
        #expect(cosines.allSatisfy { $0 >= 0.999 }, "\(name): cosine similarities \(cosines)")
        #expect(model.int8Layers.count == quantization.inputScales.count)
    }

    @Test(arguments: ["RegNetX-400MF", "RegNetY-800MF", "RegNetX-1.6GF"])
    func zooModelsInBF16MatchFloat32(_ name: String) throws {
        let zoo = try #require(Zoo.models.first { $0.name == name })
        let graph = try zoo.network().lower(height: 64, width: 64)
        let weights = WeightSet.initialized(for: graph, seed: 7)
        let batch = 2, classes = graph.outputShape.channels
        var rng = SeededGenerator(seed: 3)
        let input = (0..<(batch * 3 * 64 * 64)).map { _ in Float(rng.nextGaussian()) }
        let fp32 = try CompiledModel(graph: graph, weights: weights, batch: batch, threads: 2).run(input)
        let model = try CompiledModel(graph: graph, weights: weights, batch: batch, threads: 2, precision: .bfloat16)
        let bf16 = try model.run(input)
        guard model.precision == .bfloat16 else {
            #expect(bf16 == fp32, "\(name): a bf16 request without bf16 kernels must run the float32 plan")
            return
        }
        let cosines = Self.cosines(bf16, fp32, classes: classes)
        let agree = zip(Self.top1(bf16, classes: classes), Self.top1(fp32, classes: classes)).filter { $0 == $1 }.count
        print("bf16 \(name) (seeded weights, 64x64): cosine with fp32 min \(cosines.min()!), top-1 agreement \(agree)/\(batch)")
        #expect(cosines.allSatisfy { $0 >= 0.999 }, "\(name): cosine similarities \(cosines)")
        #expect(bf16 != fp32, "\(name): the bf16 plan gave float32's exact logits, so it did not run in bf16")
    }
}
