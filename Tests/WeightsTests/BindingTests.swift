import Foundation
import Testing
import NetworkDSL
@testable import Weights

@Suite struct BindingTests {
    let graph = try! Network("Tiny") {
        Stem(8)
        Body { Stage(depth: 1, width: 16, groupWidth: 8) }
        Head(classes: 3)
    }.lower(resolution: 16)

    func message(_ w: WeightSet) -> String? {
        do { try w.validate(for: graph); return nil } catch { return error.message }
    }

    @Test func initialisedWeightsFitAndFollowPycls() throws {
        let w = WeightSet.initialized(for: graph, seed: 7)
        #expect(message(w) == nil)
        #expect(Set(w.tensors.keys) == Set(graph.parameters.map(\.name)))
        #expect(w["stem.bn.weight"]?.scalars.allSatisfy { $0 == 1 } == true)
        #expect(w["head.fc.bias"]?.scalars.allSatisfy { $0 == 0 } == true)
        // conv weights ~ N(0, sqrt(2 / (k k out))): for the 3x3 stem with 8 outputs, std = 1/6.
        let stem = try #require(w["stem.conv.weight"]).scalars
        let std = (stem.map { Double($0 * $0) }.reduce(0, +) / Double(stem.count)).squareRoot()
        #expect(abs(std - 1.0 / 6.0) < 0.05)
        #expect(WeightSet.initialized(for: graph, seed: 7)["s1.b1.conv2.conv.weight"] == w["s1.b1.conv2.conv.weight"])
        #expect(WeightSet.initialized(for: graph, seed: 8)["s1.b1.conv2.conv.weight"] != w["s1.b1.conv2.conv.weight"])
    }

    @Test func problemsNameTheTensorAndExpectedShape() {
        var w = WeightSet.initialized(for: graph)
        w["stem.conv.weight"] = nil
        w["s1.b1.conv1.conv.weight"] = Tensor(shape: [16, 8], repeating: 0)
        w["head.fc.bias"] = Tensor(shape: [3], scalars: [0, .nan, 0])
        w["s1.b1.conv2.bn.running_var"] = Tensor(shape: [16], scalars: [-1] + Array(repeating: 1, count: 15))
        w["extra.weight"] = Tensor(shape: [1], repeating: 0)
        w["stem.bn.num_batches_tracked"] = Tensor(shape: [1], repeating: 0)
        let text = message(w) ?? ""
        #expect(text.contains("missing tensor 'stem.conv.weight' (expected shape [8, 3, 3, 3])"))
        #expect(text.contains("tensor 's1.b1.conv1.conv.weight' has shape [16, 8], expected [16, 8, 1, 1]"))
        #expect(text.contains("tensor 'head.fc.bias' has a non-finite value"))
        #expect(text.contains("negative variance"))
        #expect(text.contains("unexpected tensor 'extra.weight'"))
        #expect(!text.contains("num_batches_tracked"))
    }

    @Test func atomicWriteReplacesAndNeverLeavesPartialFiles() throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("regnet-atomic-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        let url = folder.appendingPathComponent("w.safetensors")
        try SafeTensors.write(WeightSet(["a": Tensor(shape: [1], scalars: [1])]), to: url)
        try SafeTensors.write(WeightSet(["a": Tensor(shape: [1], scalars: [2])]), to: url)
        #expect(try SafeTensors.read(contentsOf: url)["a"]?.scalars == [2])
        #expect(try FileManager.default.contentsOfDirectory(atPath: folder.path) == ["w.safetensors"])
        // A destination that cannot be written: an error, and nothing left behind.
        let blocked = folder.appendingPathComponent("missing-dir/w.npy")
        #expect(throws: WeightError.self) { try NumPyArray.write(Tensor(shape: [1], scalars: [1]), to: blocked) }
        #expect(try FileManager.default.contentsOfDirectory(atPath: folder.path) == ["w.safetensors"])
    }
}
