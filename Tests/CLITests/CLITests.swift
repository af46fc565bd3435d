import Foundation
import Testing

/// Runs the built `regnet` executable (next to the test binary) and checks its contract: exit status
/// 0 ok, 1 runtime error, 2 usage error; errors on standard error; the JSON fields the issues name.
struct CLI {
    /// What the fallback note says bf16 and int8 need (`Precision.requiredInstructions`), per architecture.
    #if arch(arm64)
    static let bf16Instructions = "the Arm BF16 extension (bfdot)", int8Instructions = "Arm 8-bit dot products (I8MM usdot or DotProd sdot)"
    #else
    static let bf16Instructions = "AVX-512 BF16", int8Instructions = "AVX-512 VNNI"
    #endif

    static func executable() throws -> URL {
        var candidates: [URL] = []
        if let exe = try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe") {
            candidates.append(URL(fileURLWithPath: exe).deletingLastPathComponent().appendingPathComponent("regnet"))
        }
        candidates.append(Bundle.main.bundleURL.deletingLastPathComponent().appendingPathComponent("regnet"))
        guard let found = candidates.first(where: { FileManager.default.isExecutableFile(atPath: $0.path) }) else {
            throw CocoaError(.fileNoSuchFile, userInfo: [NSLocalizedDescriptionKey: "no regnet binary in \(candidates)"])
        }
        return found
    }

    static func run(_ arguments: [String]) throws -> (status: Int32, out: String, err: String) {
        let process = Process()
        process.executableURL = try executable()
        process.arguments = arguments
        let out = Pipe(), err = Pipe()
        process.standardOutput = out
        process.standardError = err
        try process.run()
        // Both pipes are drained at once (a child filling one while we wait on the other would block),
        // with read(2) retried on EINTR: tests run in parallel, and other children's SIGCHLD interrupt
        // reads, which FileHandle.readDataToEndOfFile turns into a crash.
        let e = Drain(err.fileHandleForReading.fileDescriptor)
        let o = drain(out.fileHandleForReading.fileDescriptor)
        process.waitUntilExit()
        return (process.terminationStatus, String(decoding: o, as: UTF8.self), String(decoding: e.wait(), as: UTF8.self))
    }

    /// Reads `fd` to its end.
    static func drain(_ fd: Int32) -> Data {
        var data = Data(), buffer = [UInt8](repeating: 0, count: 65536)
        while true {
            let n = buffer.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
            if n > 0 { data.append(contentsOf: buffer[0..<n]) } else if n < 0 && errno == EINTR { continue } else { break }
        }
        return data
    }

    /// Drains a descriptor on a thread of its own.
    final class Drain: @unchecked Sendable {
        private var data = Data()
        private let done = DispatchSemaphore(value: 0)
        init(_ fd: Int32) {
            Thread { [self] in data = CLI.drain(fd); done.signal() }.start()
        }
        func wait() -> Data { done.wait(); return data }
    }
}

@Suite struct CLITests {
    @Test func helpForEveryCommand() throws {
        let top = try CLI.run(["--help"])
        #expect(top.status == 0 && top.out.contains("commands:"))
        for command in ["models", "summary", "run", "bench", "export-weights", "sample", "edf", "train", "eval"] {
            let r = try CLI.run([command, "--help"])
            #expect(r.status == 0 && r.out.hasPrefix("usage: regnet \(command)"), "\(command)")
        }
    }

    @Test func exitCodesAndStandardError() throws {
        let unknownModel = try CLI.run(["summary", "regnetx_04"])
        #expect(unknownModel.status == 1 && unknownModel.err.contains("did you mean RegNetX-400MF") && unknownModel.out.isEmpty)
        let badOption = try CLI.run(["summary", "regnetx_002", "--bogus"])
        #expect(badOption.status == 2 && badOption.err.contains("unknown option '--bogus'") && badOption.out.isEmpty)
        let badValue = try CLI.run(["summary", "--depth", "13", "--w0", "20", "--wa", "36.44", "--wm", "2.49", "--group-width", "8"])
        #expect(badValue.status == 1 && badValue.err.contains("w0 must be a positive multiple of 8"))
        let unknownCommand = try CLI.run(["frobnicate"])
        #expect(unknownCommand.status == 2 && unknownCommand.err.contains("unknown command"))
    }

    @Test func everyWayToNameAModel() throws {
        // Explicit stages with pycls's CIFAR stem: 32x32 stays 32x32 after a stride-1 stem.
        let stages = try CLI.run(["summary", "--stages", "2x32,4x64", "--group-width", "8", "--se-ratio", "0.25", "--stem-width", "16",
                                  "--stem-stride", "1", "--classes", "10", "--resolution", "32", "--json"])
        #expect(stages.status == 0, "\(stages.err)")
        let object = try #require(try JSONSerialization.jsonObject(with: Data(stages.out.utf8)) as? [String: Any])
        let first = try #require((object["stages"] as? [[String: Any]])?.first)
        #expect(first["outputHeight"] as? Int == 16 && first["width"] as? Int == 32)
        // A declaration file, by name; an unknown name lists the known ones.
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("regnet-decl-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        let file = folder.appendingPathComponent("Models.regnet")
        try "Cifar: stages=2x32,4x64 group_width=8 se_ratio=0.25 stem=16 stem_stride=1 classes=10\n".write(to: file, atomically: true, encoding: .utf8)
        let declared = try CLI.run(["summary", "--declaration", "\(file.path):Cifar", "--resolution", "32", "--json"])
        #expect(declared.status == 0 && declared.out.contains("\"flops\""), "\(declared.err)")
        let sameFlops = { (text: String) in (try? JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any])?["flops"] as? Int }
        #expect(sameFlops(declared.out) == sameFlops(stages.out))
        let unknown = try CLI.run(["summary", "--declaration", "\(file.path):Other"])
        #expect(unknown.status == 1 && unknown.err.contains("declares no network 'Other'") && unknown.err.contains("Cifar"))
        let mixed = try CLI.run(["summary", "regnetx_002", "--stages", "1x8", "--group-width", "8"])
        #expect(mixed.status == 2)
        // Invalid stages: the message, once, without the line and column of a line the user never wrote.
        let invalid = try CLI.run(["summary", "--stages", "1x16,2x30", "--group-width", "8"])
        #expect(invalid.status == 1 && invalid.err == "regnet summary: error: the model flags: stage 2: bottleneck width 30 is not divisible by group width 8\n",
                "\(invalid.err)")
    }

    @Test func summaryJSONHasTheNamedFields() throws {
        let r = try CLI.run(["summary", "regnetx_002", "--json"])
        #expect(r.status == 0)
        let object = try #require(try JSONSerialization.jsonObject(with: Data(r.out.utf8)) as? [String: Any])
        for key in ["name", "params", "flops", "acts", "resolution", "stages"] { #expect(object[key] != nil, "\(key)") }
        #expect(object["flops"] as? Int == 199_040_872)
        let stage = try #require((object["stages"] as? [[String: Any]])?.first)
        for key in ["depth", "width", "groupWidth", "bottleneckRatio", "seWidth", "outputHeight", "outputWidth"] {
            #expect(stage[key] != nil, "\(key)")
        }
    }

    @Test func benchJSONAndRunRoundTrip() throws {
        let bench = try CLI.run(["bench", "regnetx_002", "--resolution", "32", "--iterations", "1", "--warmup", "0", "--json"])
        #expect(bench.status == 0)
        let report = try #require(try JSONSerialization.jsonObject(with: Data(bench.out.utf8)) as? [String: Any])
        for key in ["median_ms", "min_ms", "images_per_second", "peak_rss_bytes", "batch", "threads"] { #expect(report[key] != nil, "\(key)") }

        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("regnet-cli-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        let output = folder.appendingPathComponent("logits.npy")
        let run = try CLI.run(["run", "--depth", "4", "--w0", "8", "--wa", "8", "--wm", "2", "--group-width", "8", "--classes", "5",
                               "--resolution", "32", "--batch", "2", "--output", output.path])
        #expect(run.status == 0 && FileManager.default.fileExists(atPath: output.path))
        // Without --weights the classes come from random weights, and the run says so.
        #expect(run.err.contains("no --weights") && run.err.contains("seeded random weights"), "\(run.err)")
        // A failing run writes nothing.
        let junk = folder.appendingPathComponent("junk.png")
        try Data("not an image".utf8).write(to: junk)
        let failed = folder.appendingPathComponent("never.npy")
        let bad = try CLI.run(["run", "regnetx_002", "--image", junk.path, "--output", failed.path])
        #expect(bad.status == 1 && bad.err.contains("unrecognised image format"))
        #expect(!FileManager.default.fileExists(atPath: failed.path))
    }

    @Test func precisionOption() throws {
        let bench = try CLI.run(["bench", "regnetx_002", "--resolution", "32", "--iterations", "1", "--warmup", "0", "--json", "--precision", "bf16"])
        #expect(bench.status == 0)
        let report = try #require(try JSONSerialization.jsonObject(with: Data(bench.out.utf8)) as? [String: Any])
        let precision = try #require(report["precision"] as? String)
        // bf16 where the CPU has bf16 dot products; elsewhere fp32, with a note saying why.
        #expect(precision == "bf16" || (precision == "fp32" && bench.err.contains("needs \(CLI.bf16Instructions), which this CPU lacks")))
        for precision in ["bf16", "int8"] {
            let forced = try CLI.run(["run", "regnetx_002", "--resolution", "32", "--isa", "portable", "--precision", precision]
                                     + (precision == "int8" ? ["--calibration", "random"] : []))
            #expect(forced.status == 0 && forced.err.contains("the portable kernels lack") && forced.out.contains("(portable, fp32)"), "\(forced.err)")
        }
        let unknown = try CLI.run(["run", "regnetx_002", "--precision", "fp16"])
        #expect(unknown.status == 2 && unknown.err.contains("unknown precision 'fp16'") && unknown.out.isEmpty)
    }

    @Test func int8QuantiseOnceThenRun() throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("regnet-int8-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        let model = ["regnetx_002", "--resolution", "32", "--classes", "10"]
        let uncalibrated = try CLI.run(["run"] + model + ["--precision", "int8"])
        #expect(uncalibrated.status == 2 && uncalibrated.err.contains("needs --calibration"))
        let misplaced = try CLI.run(["run"] + model + ["--calibration", "random"])
        #expect(misplaced.status == 2 && misplaced.err.contains("--precision int8 only"))
        let file = folder.appendingPathComponent("q.safetensors")
        let quantize = try CLI.run(["quantize"] + model + ["--calibration", "digits", "--calibration-images", "40", "--output", file.path])
        #expect(quantize.status == 0 && quantize.out.contains("convolutions in int8") && quantize.out.contains("stem.conv"), "\(quantize.err)")
        // Calibrating again on the same images gives the logits the file gives, with no calibration.
        let fromFile = folder.appendingPathComponent("file.npy"), calibrated = folder.appendingPathComponent("calibrated.npy")
        let run1 = try CLI.run(["run"] + model + ["--weights", file.path, "--precision", "int8", "--batch", "2", "--output", fromFile.path])
        let run2 = try CLI.run(["run"] + model + ["--precision", "int8", "--calibration", "digits", "--calibration-images", "40",
                                                  "--batch", "2", "--output", calibrated.path])
        #expect(run1.status == 0 && run2.status == 0)
        if run1.out.contains("int8") {
            #expect(try Data(contentsOf: fromFile) == Data(contentsOf: calibrated))
        } else {
            #expect(run1.err.contains("needs \(CLI.int8Instructions), which this CPU lacks"))
        }
        let twice = try CLI.run(["run"] + model + ["--weights", file.path, "--precision", "int8", "--calibration", "random"])
        #expect(twice.status == 2 && twice.err.contains("already quantised"))
        let badData = try CLI.run(["quantize"] + model + ["--calibration", "cifar10:/nonexistent", "--output", folder.appendingPathComponent("x.safetensors").path])
        #expect(badData.status != 0 && !FileManager.default.fileExists(atPath: folder.appendingPathComponent("x.safetensors").path))
        let badMethod = try CLI.run(["quantize"] + model + ["--calibration", "random", "--calibration-method", "entropy", "--output", file.path])
        #expect(badMethod.status == 2 && badMethod.err.contains("unknown calibration method"))
    }
}
