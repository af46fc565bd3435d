import Foundation
import Testing
import Images

/// Replays the fuzzing corpus (Fuzz/corpus, kept by scripts/fuzz.sh): every input must decode or fail
/// with an ImageError, never trap.
@Suite struct ImageFuzzCorpusTests {
    static func corpus(_ target: String) throws -> [URL] {
        let folder = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("Fuzz/corpus/\(target)")
        return try FileManager.default.contentsOfDirectory(at: folder, includingPropertiesForKeys: nil)
    }

    @Test(arguments: ["png", "jpeg", "ppm"])
    func corpusReplays(_ target: String) throws {
        let files = try Self.corpus(target)
        #expect(!files.isEmpty)
        var decoded = 0
        for file in files {
            if (try? ImageFile.decode([UInt8](Data(contentsOf: file)))) != nil { decoded += 1 }
        }
        // The seeds are valid images; corpus additions from fuzzing may be invalid ones.
        #expect(decoded >= 4, "only \(decoded) of \(files.count) \(target) corpus files decode")
    }
}
