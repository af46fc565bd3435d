import Foundation
import Testing
import DesignSpaces
@testable import Executor
import Weights

/// bf16 plans against float32: the PyTorch fixture cases (logits from PyTorch in float32) and zoo
/// models with seeded weights must keep a cosine similarity of at least 0.999 per image; top-1
/// agreement is reported. Where the CPU has no bf16 instructions, a bf16 request must compile to the
/// float32 plan and say so through `precision`.
@Suite struct ReducedPrecisionTests {
    static let bf16Available = BFloat16Kernels.available != nil

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
        #expect(best.precision == (Self.bf16Available && KernelSet.best.name == "avx512" ? .bfloat16 : .float32))
        #expect(KernelSet.best.supports(.bfloat16) == (best.precision == .bfloat16))
        for name in ["avx2", "portable"] {
            guard let kernels = KernelSet(named: name) else { continue }
            let model = try CompiledModel(graph: graph, weights: weights, kernels: kernels, precision: .bfloat16)
            #expect(model.precision == .float32, "the \(name) kernels have no bf16 path")
            #expect(!kernels.supports(.bfloat16))
        }
        #expect(try CompiledModel(graph: graph, weights: weights, precision: .float32).precision == .float32)
    }

    @Test(arguments: try parityCases())
    func bf16LogitsFollowPyTorch(_ c: ParityCase) throws {
        let graph = try c.configuration.network().lower(height: c.height, width: c.width)
        let (weights, _) = try WeightSet.load(contentsOf: fixtureURL("\(c.name).safetensors"), reverseStemChannels: c.reverse_stem_channels)
        let input = try NumPyArray.read(contentsOf: fixtureURL(c.input ?? "\(c.name).input.npy"))
        let expected = try NumPyArray.read(contentsOf: fixtureURL(c.logits ?? "\(c.name).logits.npy")).scalars
        var outputs: [[Float]] = []
        for threads in [1, 2] {
            let model = try CompiledModel(graph: graph, weights: weights, batch: c.batch, threads: threads, precision: .bfloat16)
            outputs.append(try model.run(input).scalars)
        }
        let cosines = Self.cosines(outputs[0], expected, classes: c.classes)
        let agree = zip(Self.top1(outputs[0], classes: c.classes), Self.top1(expected, classes: c.classes)).filter { $0 == $1 }.count
        print("bf16 \(c.name): cosine with PyTorch fp32 min \(cosines.min()!), top-1 agreement \(agree)/\(c.batch)")
        #expect(cosines.allSatisfy { $0 >= 0.999 }, "\(c.name): cosine similarities \(cosines)")
        // The threads split the same work differently; each value is computed the same way.
        #expect(outputs[0] == outputs[1], "\(c.name): bf16 logits differ between 1 and 2 threads")
        if c.batch > 1 {
            // Every step over one image at a time (image-group scheduling forced on): the same logits.
            let perImage = try CompiledModel(graph: graph, weights: weights, batch: c.batch, threads: 2, kernels: .best,
                                             precision: .bfloat16, groupBudgetBytes: 0)
            #expect(perImage.perImageStepCount == perImage.stepCount)
            #expect(try perImage.run(input.scalars) == outputs[0], "\(c.name): bf16 logits differ with image groups")
        }
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
