import Foundation
import Testing
import Weights

/// Replays the fuzzing corpus (Fuzz/corpus): every input must load or fail with a WeightError.
@Suite struct WeightsFuzzCorpusTests {
    static func corpus(_ target: String) throws -> [URL] {
        let folder = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("Fuzz/corpus/\(target)")
        return try FileManager.default.contentsOfDirectory(at: folder, includingPropertiesForKeys: nil)
    }

    @Test func safetensorsCorpus() throws {
        let files = try Self.corpus("safetensors")
        #expect(!files.isEmpty)
        let loaded = files.filter { (try? SafeTensors.read(Data(contentsOf: $0))) != nil }
        #expect(loaded.count >= 2)
    }

    @Test func npyCorpus() throws {
        let files = try Self.corpus("npy")
        #expect(!files.isEmpty)
        let loaded = files.filter { (try? NumPyArray.read(Data(contentsOf: $0))) != nil }
        #expect(loaded.count >= 2)
    }
}
