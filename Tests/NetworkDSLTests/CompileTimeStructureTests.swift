import Foundation
import Testing

/// Type-checks snippets against the built `NetworkDSL` module and asserts that wrong structure fails
/// to compile with the builder's message on the expected line.
@Suite struct CompileTimeStructureTests {
    /// The folder holding the built `.swiftmodule` files, next to the test binary.
    static func modulesDirectory() throws -> URL {
        var candidates: [URL] = []
        if let exe = try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe") {
            candidates.append(URL(fileURLWithPath: exe).deletingLastPathComponent().appendingPathComponent("Modules"))
        }
        candidates.append(Bundle.main.bundleURL.appendingPathComponent("Modules"))
        candidates.append(Bundle.main.bundleURL.deletingLastPathComponent().appendingPathComponent("Modules"))
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        candidates.append(root.appendingPathComponent(".build/debug/Modules"))
        for url in candidates where FileManager.default.fileExists(atPath: url.appendingPathComponent("NetworkDSL.swiftmodule").path) {
            return url
        }
        throw CocoaError(.fileNoSuchFile, userInfo: [NSLocalizedDescriptionKey: "no NetworkDSL.swiftmodule in \(candidates.map(\.path))"])
    }

    static func typecheck(_ snippet: String) throws -> (status: Int32, output: String) {
        let source = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Snippets/\(snippet)")
        let copy = FileManager.default.temporaryDirectory.appendingPathComponent("regnet-\(UUID().uuidString).swift")
        try FileManager.default.copyItem(at: source, to: copy)
        defer { try? FileManager.default.removeItem(at: copy) }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["swiftc", "-typecheck", "-swift-version", "6", "-I", try modulesDirectory().path, copy.path]
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = pipe
        try process.run()
        let data = pipe.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return (process.terminationStatus, String(decoding: data, as: UTF8.self))
    }

    @Test func validDeclarationsTypecheck() throws {
        let result = try Self.typecheck("Valid.swift.txt")
        #expect(result.status == 0, "\(result.output)")
    }

    @Test func structuralMistakesFailWithTheirMessages() throws {
        let result = try Self.typecheck("StructureErrors.swift.txt")
        #expect(result.status != 0)
        let source = try String(contentsOf: URL(fileURLWithPath: #filePath).deletingLastPathComponent()
            .appendingPathComponent("Snippets/StructureErrors.swift.txt"), encoding: .utf8)
        let lines = source.components(separatedBy: "\n")
        let errors = result.output.components(separatedBy: "\n").filter { $0.contains(": error: ") }
        var expectations = 0
        for (index, line) in lines.enumerated() {
            guard let range = line.range(of: "// EXPECT: ") else { continue }
            expectations += 1
            let message = String(line[range.upperBound...])
            let target = index + 2   // the declaration on the next line (1-based)
            let hit = errors.contains { $0.contains(".swift:\(target):") && $0.contains(message) }
            #expect(hit, "line \(target): expected '\(message)' in:\n\(errors.joined(separator: "\n"))")
        }
        #expect(expectations == 9)
    }
}
