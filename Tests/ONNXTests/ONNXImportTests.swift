import DesignSpaces
import Executor
import Foundation
import NetworkDSL
import NetworkIR
@testable import ONNX
import Testing
import Weights

/// Reading ONNX files: our own exports back bit for bit, PyTorch's exports of timm's and
/// torchvision's RegNets against PyTorch's logits, and clear errors for what is not supported or malformed.
@Suite struct ONNXImportTests {
    static func logits(_ graph: Graph, _ weights: WeightSet, _ input: [Float]) throws -> [Float] {
        try CompiledModel(graph: graph, weights: weights, batch: input.count / graph.inputShape.elementCount, threads: 1).run(input)
    }

    static func input(_ graph: Graph, images: Int) -> [Float] {
        var rng = SeededGenerator(seed: 5)
        return (0..<images * graph.inputShape.elementCount).map { _ in Float(rng.nextGaussian()) }
    }

    @Test(arguments: ["regnetx_002", "regnety_004", "every layer"])
    func ourExportsReadBackBitForBit(_ model: String) throws {
        let network = model == "every layer" ? ONNXExportTests.net : try Zoo.model(named: model).network(classes: 10)
        let graph = try network.lower(resolution: model == "every layer" ? 16 : 64)
        let weights = WeightSet.initialized(for: graph, seed: 9)
        let data = try graph.onnxModel(weights: weights, options: ONNXExportOptions(batch: nil))
        let imported = try ONNXImport(data, name: graph.name)
        let x = Self.input(graph, images: 2)
        #expect(try Self.logits(imported.graph, imported.weights, x) == Self.logits(graph, weights, x))
        #expect(imported.graph.complexity == graph.complexity)
    }

    /// Batch norms folded into their convolutions on export: no BatchNormalization, the same logits.
    @Test func foldedBatchNormsGiveTheSameLogits() throws {
        let graph = try Zoo.model(named: "regnety_004").network(classes: 10).lower(resolution: 64)
        var weights = WeightSet.initialized(for: graph, seed: 9)
        for p in graph.parameters where p.role == .runningVariance || p.role == .runningMean {   // statistics that matter
            weights[p.name] = Tensor(shape: p.shape, scalars: (0..<p.shape[0]).map { Float($0 % 7) * 0.1 + (p.role == .runningVariance ? 0.5 : -0.2) })
        }
        let data = try graph.onnxModel(weights: weights, options: ONNXExportOptions(foldBatchNorm: true))
        let imported = try ONNXImport(data, name: graph.name)
        #expect(!imported.graph.nodes.contains { if case .batchNorm = $0.operation { true } else { false } })
        let x = Self.input(graph, images: 1)
        let (a, b) = (try Self.logits(imported.graph, imported.weights, x), try Self.logits(graph, weights, x))
        let scale = b.map(abs).max()!
        #expect(zip(a, b).allSatisfy { abs($0 - $1) <= 1e-5 * scale })
    }

    /// Files `torch.onnx.export` wrote from small timm and torchvision RegNets (scripts/make_onnx_fixtures.py),
    /// with PyTorch's logits on a seeded input.
    @Test(arguments: ["timm_regnety", "torchvision_regnetx"])
    func pytorchExportsRunWithPyTorchsLogits(_ name: String) throws {
        let folder = try #require(Bundle.module.url(forResource: "Fixtures", withExtension: nil))
        let imported = try ONNXImport(contentsOf: folder.appendingPathComponent("\(name).onnx"))
        let x = try NumPyArray.read(contentsOf: folder.appendingPathComponent("\(name).input.npy"))
        let expected = try NumPyArray.read(contentsOf: folder.appendingPathComponent("\(name).logits.npy")).scalars
        let got = try Self.logits(imported.graph, imported.weights, x.scalars)
        let scale = expected.map(abs).max()!
        let error = zip(got, expected).map { abs($0 - $1) }.max()! / scale
        #expect(got.count == expected.count && error <= 1e-4, "\(name): \(error) relative")
    }

    @Test func malformedAndUnsupportedFilesAreClearErrors() throws {
        let graph = try ONNXExportTests.net.lower(resolution: 16)
        let good = try graph.onnxModel(weights: .initialized(for: graph))
        for cut in [1, 7, good.count / 2, good.count - 1] {
            #expect(throws: ONNXError.self, "truncated at \(cut)") { try ONNXImport(good.prefix(cut), name: "cut") }
        }
        #expect { try ONNXImport(Data([0x0A, 0xFF, 0xFF, 0xFF, 0xFF, 0x0F]), name: "huge") } throws: { "\($0)".contains("bytes") }
        #expect { try ONNXImport(Data([0x0B]), name: "group") } throws: { "\($0)".contains("wire type") }
        #expect { try ONNXImport(Data("hello".utf8), name: "text") } throws: { _ in true }
        // An operator outside the set: named with the node.
        let swapped = Data(good.map { $0 })   // "Relu" → "Elu_" keeps the length
        var bytes = [UInt8](swapped)
        if let at = bytes.indices.first(where: { Array(bytes[$0..<min($0 + 4, bytes.count)]) == Array("Clip".utf8) }) {
            bytes.replaceSubrange(at..<at + 4, with: Array("Ceil".utf8))
        }
        #expect { try ONNXImport(Data(bytes), name: "ceil") } throws: { "\($0)".contains("(Ceil): the operator is not supported (supported: Add") }
    }
}

/// Replays the fuzzing corpus (Fuzz/corpus/onnx, with the inputs that once crashed the reader):
/// every input must load or fail with an ONNXError.
@Suite struct ONNXFuzzCorpusTests {
    @Test func onnxCorpus() throws {
        let folder = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("Fuzz/corpus/onnx")
        let files = try FileManager.default.contentsOfDirectory(at: folder, includingPropertiesForKeys: nil)
        #expect(files.count >= 2)
        var loaded = 0
        for file in files {
            do { _ = try ONNXImport(Data(contentsOf: file), name: "corpus", size: (16, 16)); loaded += 1 } catch is ONNXError {}
        }
        #expect(loaded >= 1, "the corpus's well-formed model loads")
    }
}
