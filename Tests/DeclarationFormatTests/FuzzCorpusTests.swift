import Foundation
import Testing
import DeclarationFormat

/// Replays the .regnet fuzzing corpus: parsing and generation must never trap.
@Suite struct DeclarationsFuzzCorpusTests {
    @Test func corpusReplays() throws {
        let folder = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("Fuzz/corpus/regnet")
        let files = try FileManager.default.contentsOfDirectory(at: folder, includingPropertiesForKeys: nil)
        #expect(!files.isEmpty)
        var errors = 0
        for file in files {
            let parsed = DeclarationFile(parsing: String(decoding: try Data(contentsOf: file), as: UTF8.self))
            _ = SwiftGenerator.source(for: parsed, sourceName: file.lastPathComponent)
            errors += parsed.diagnostics.filter { $0.severity == .error }.count
        }
        #expect(errors >= 3, "the seed corpus has invalid declarations that must be reported")
    }
}
