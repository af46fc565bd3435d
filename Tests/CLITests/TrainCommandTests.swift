import Foundation
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// `regnet train` and `regnet eval` end to end on the bundled digits and on small generated data:
/// pycls's log format, checkpoints, resume, evaluation, and every bad-input case named by the issue.
@Suite struct TrainCommandTests {
    /// A tiny network on the digits: small enough for a debug build.
    static let tiny = ["--stages", "1x8,1x16", "--group-width", "8", "--stem-width", "8", "--stem-stride", "1", "--classes", "10"]

    func temporaryFolder() throws -> URL {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("regnet-train-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        return folder
    }

    func records(_ type: String, in log: URL) throws -> [[String: Any]] {
        let text = try String(contentsOf: log, encoding: .utf8)
        return text.split(separator: "\n").compactMap { line in
            guard let r = line.range(of: "json_stats: ") else { return nil }
            let object = try? JSONSerialization.jsonObject(with: Data(line[r.upperBound...].utf8)) as? [String: Any]
            return object?["_type"] as? String == type ? object : nil
        }
    }

    /// Copies the safetensors file `source` to `destination` without its metadata, as a file written by
    /// another tool (or before files recorded their network) would be.
    static func withoutMetadata(_ source: URL, to destination: URL) throws {
        let data = try Data(contentsOf: source)
        let length = data.prefix(8).enumerated().reduce(0) { $0 | Int($1.element) << (8 * $1.offset) }
        var header = try #require(try JSONSerialization.jsonObject(with: data.subdata(in: 8..<(8 + length))) as? [String: Any])
        #expect(header.removeValue(forKey: "__metadata__") != nil)
        let json = try JSONSerialization.data(withJSONObject: header)
        var file = Data((0..<8).map { UInt8((json.count >> (8 * $0)) & 0xFF) })
        file.append(json)
        file.append(data.subdata(in: (8 + length)..<data.count))
        try file.write(to: destination)
    }

    @Test func trainWritesPyclsLogsCheckpointsAndWeightsThatEvalReads() throws {
        let folder = try temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let out = folder.appendingPathComponent("run"), saved = folder.appendingPathComponent("final.safetensors")
        let r = try CLI.run(["train"] + Self.tiny + ["--data", "digits", "--epochs", "2", "--batch", "50", "--test-batch", "100",
                                                     "--ema-alpha", "0.01", "--ema-period", "4", "--out", out.path, "--save", saved.path, "--keep", "1"])
        #expect(r.status == 0, "\(r.err)")
        let log = out.appendingPathComponent("stdout.log")
        #expect(try records("cfg", in: log).count == 1)
        #expect(try records("complexity", in: log).first?["flops"] as? Int != nil)
        let train = try records("train_epoch", in: log), test = try records("test_epoch", in: log), ema = try records("test_ema_epoch", in: log)
        #expect(train.count == 2 && test.count == 2 && ema.count == 2)
        for key in ["epoch", "time_avg", "time_epoch", "eta", "top1_err", "top5_err", "loss", "lr", "mem"] { #expect(train[0][key] != nil, "train_epoch.\(key)") }
        for key in ["epoch", "time_avg", "time_epoch", "top1_err", "top5_err", "min_top1_err", "min_top5_err", "mem"] { #expect(test[1][key] != nil, "test_epoch.\(key)") }
        #expect(train[1]["epoch"] as? String == "2/2")
        let errors = test.map { $0["top1_err"] as! Double }
        #expect(test[1]["min_top1_err"] as? Double == errors.min())
        // The last checkpoint only (--keep 1), and the final weights in both places.
        let checkpoints = try FileManager.default.contentsOfDirectory(atPath: out.appendingPathComponent("checkpoints").path)
        #expect(checkpoints == ["model_epoch_0002.safetensors"])
        #expect(FileManager.default.fileExists(atPath: out.appendingPathComponent("final.safetensors").path))
        // eval reads the saved weights and reports the same test error as the log's last test epoch.
        let eval = try CLI.run(["eval"] + Self.tiny + ["--weights", saved.path, "--data", "digits", "--json"])
        #expect(eval.status == 0, "\(eval.err)")
        let report = try #require(try JSONSerialization.jsonObject(with: Data(eval.out.utf8)) as? [String: Any])
        #expect(abs((report["top1_err"] as? Double ?? -1) - errors.last!) < 1e-3)
        #expect((report["class_accuracy"] as? [Double])?.count == 10 && report["top5_err"] != nil && report["loss"] != nil)
        // The EMA of the checkpoint evaluates too.
        let emaEval = try CLI.run(["eval"] + Self.tiny + ["--weights", out.appendingPathComponent("checkpoints/model_epoch_0002.safetensors").path,
                                                          "--ema", "--data", "digits"])
        #expect(emaEval.status == 0 && emaEval.out.contains("top-1 error"))
        // The same weights in bf16 and int8 (calibrated on the training split, or from a quantised file).
        for precision in ["bf16", "int8"] {
            let reduced = try CLI.run(["eval"] + Self.tiny + ["--weights", saved.path, "--data", "digits", "--json", "--precision", precision])
            #expect(reduced.status == 0, "\(reduced.err)")
            let r = try #require(try JSONSerialization.jsonObject(with: Data(reduced.out.utf8)) as? [String: Any])
            #expect(r["precision"] as? String == precision || reduced.err.contains("which this CPU lacks"))
            // A loose bound: this 2-epoch, 8-channel network is far more fragile than a trained one (the
            // 0.5-point check runs on TrainDigits' model in CI).
            #expect(abs((r["top1_err"] as? Double ?? -1) - errors.last!) <= 3, "\(precision) eval far from fp32's test error")
        }
        let quantized = folder.appendingPathComponent("q.safetensors")
        #expect(try CLI.run(["quantize"] + Self.tiny + ["--weights", saved.path, "--calibration", "digits", "--output", quantized.path]).status == 0)
        let fromFile = try CLI.run(["eval"] + Self.tiny + ["--weights", quantized.path, "--data", "digits", "--precision", "int8"])
        #expect(fromFile.status == 0 && fromFile.out.contains("top-1 error"), "\(fromFile.err)")

        // Every file written records its network: --weights alone is enough, for eval, run and quantize.
        let checkpoint = out.appendingPathComponent("checkpoints/model_epoch_0002.safetensors")
        for file in [saved, out.appendingPathComponent("final.safetensors"), checkpoint, quantized] {
            let alone = try CLI.run(["eval", "--weights", file.path, "--data", "digits", "--json"])
            #expect(alone.status == 0, "\(file.lastPathComponent): \(alone.err)")
            let r = try JSONSerialization.jsonObject(with: Data(alone.out.utf8)) as? [String: Any]
            if file != quantized { #expect(abs((r?["top1_err"] as? Double ?? -1) - errors.last!) < 1e-3, "\(file.lastPathComponent)") }
        }
        let requantized = folder.appendingPathComponent("q2.safetensors"), logits = folder.appendingPathComponent("logits.npy")
        #expect(try CLI.run(["quantize", "--weights", saved.path, "--calibration", "digits", "--output", requantized.path]).status == 0)
        #expect(try Data(contentsOf: requantized) == Data(contentsOf: quantized), "quantize with --weights alone writes the same file")
        let runs = try CLI.run(["run", "--weights", saved.path, "--batch", "2", "--output", logits.path])
        #expect(runs.status == 0 && runs.out.contains("batch 2 at 32x32"), "run uses the recorded network and size: \(runs.out) \(runs.err)")
        // Flags that declare another network are an error naming both; a file that records none needs flags.
        let other = try CLI.run(["eval", "--stages", "1x8,1x24", "--group-width", "8", "--classes", "10", "--weights", saved.path, "--data", "digits"])
        #expect(other.status == 1 && other.err.contains("--stages 1x8,1x24") && other.err.contains("--stages 1x8,1x16"), "\(other.err)")
        let plain = folder.appendingPathComponent("plain.safetensors")
        try Self.withoutMetadata(saved, to: plain)
        let bare = try CLI.run(["eval", "--weights", plain.path, "--data", "digits"])
        #expect(bare.status == 2 && bare.err.contains("does not record its network"), "\(bare.err)")
    }

    /// pycls's EMA rate (1e-5) barely moves the EMA in a short run: `train` says so and what rate would
    /// do; with that rate the note is gone. Here: 2 epochs of 15 steps, an update every 32 iterations
    /// of an epoch, so 2 updates of α = 1e-5 · 100 / 2 · 32 = 0.016, leaving (1 − 0.016)² = 97%.
    @Test func aShortRunWarnsThatTheEMACannotFollow() throws {
        let common = Self.tiny + ["--data", "digits", "--epochs", "2", "--batch", "100", "--steps", "1"]
        let short = try CLI.run(["train"] + common)
        #expect(short.status == 0, "\(short.err)")
        let note = try #require(short.out.split(separator: "\n").first { $0.hasPrefix("note: the EMA gets ") }, "\(short.out)")
        #expect(note.contains("gets 2 updates") && note.contains("will still be 97%"), "\(note)")
        let suggested = try #require(note.split(separator: " ").drop { $0 != "--ema-alpha" }.dropFirst().first.map(String.init))
        let tuned = try CLI.run(["train"] + common + ["--ema-alpha", suggested])
        #expect(tuned.status == 0 && !tuned.out.contains("note: the EMA"), "\(tuned.out)")
    }

    @Test func adamWIsAnOptionAndItsParametersNeedIt() throws {
        let common = Self.tiny + ["--data", "digits", "--epochs", "1", "--batch", "100", "--steps", "2", "--ema-alpha", "0", "--quiet"]
        let folder = try temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let adamW = try CLI.run(["train"] + common + ["--adamw", "--beta2", "0.99", "--lr", "1e-3", "--out", folder.path])
        #expect(adamW.status == 0, "\(adamW.err)")
        let log = try String(contentsOf: folder.appendingPathComponent("stdout.log"), encoding: .utf8)
        #expect(log.contains("\"OPTIMIZER\": \"adamw\"") || log.contains("\"OPTIMIZER\":\"adamw\""), "the cfg record names the optimizer")
        let orphan = try CLI.run(["train"] + common + ["--beta2", "0.99"])
        #expect(orphan.status == 2 && orphan.err.contains("add --adamw"), "\(orphan.err)")
        let bad = try CLI.run(["train"] + common + ["--adamw", "--beta1", "1"])
        #expect(bad.status != 0 && bad.err.contains("beta1 must be in 0..<1"), "\(bad.err)")
    }

    @Test func resumedRunEndsWithTheSameWeights() throws {
        let folder = try temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let common = Self.tiny + ["--data", "digits", "--epochs", "3", "--batch", "100", "--mixup", "0.2", "--quiet"]
        let whole = folder.appendingPathComponent("whole"), parts = folder.appendingPathComponent("parts")
        #expect(try CLI.run(["train"] + common + ["--out", whole.path]).status == 0)
        // Stopped after one epoch (15 steps), then resumed from its checkpoint.
        #expect(try CLI.run(["train"] + common + ["--out", parts.path, "--steps", "15"]).status == 0)
        let resumed = try CLI.run(["train"] + common + ["--out", parts.path, "--resume"])
        #expect(resumed.status == 0, "\(resumed.err)")
        let a = try Data(contentsOf: whole.appendingPathComponent("final.safetensors"))
        let b = try Data(contentsOf: parts.appendingPathComponent("final.safetensors"))
        #expect(a == b, "resumed weights differ from the uninterrupted run's")
        #expect(try records("train_epoch", in: parts.appendingPathComponent("stdout.log")).count == 3)
        // Stopped in the middle of the second epoch (22 steps of 15 per epoch), then resumed from there.
        let middle = folder.appendingPathComponent("middle")
        #expect(try CLI.run(["train"] + common + ["--out", middle.path, "--steps", "22"]).status == 0)
        let continued = try CLI.run(["train"] + common + ["--out", middle.path, "--resume"])
        #expect(continued.status == 0, "\(continued.err)")
        #expect(try Data(contentsOf: middle.appendingPathComponent("final.safetensors")) == a, "mid-epoch resume differs")
        let epochs = try records("train_epoch", in: middle.appendingPathComponent("stdout.log")).map { $0["epoch"] as? String }
        #expect(epochs == ["1/3", "2/3", "3/3"])
    }

    /// `--precision bf16`: recorded in pycls's cfg record and the run's identity (a resume must ask for the
    /// same), resumed runs end with the same weights as uninterrupted ones, the checkpoints hold float32
    /// master weights that load anywhere; int8 is refused. On a CPU without bf16 dot products it trains in
    /// fp32 and says so.
    @Test func bf16RunsRecordTheirPrecisionAndResume() throws {
        let folder = try temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let common = Self.tiny + ["--data", "digits", "--epochs", "1", "--batch", "100", "--precision", "bf16", "--quiet"]
        let whole = folder.appendingPathComponent("whole"), parts = folder.appendingPathComponent("parts")
        let first = try CLI.run(["train"] + common + ["--out", whole.path])
        #expect(first.status == 0, "\(first.err)")
        // The fallback note where bf16 training is unavailable (checked on such kernels in MixedPrecisionTests).
        let bf16 = !first.err.contains("note: bf16 training")
        let log = try String(contentsOf: whole.appendingPathComponent("stdout.log"), encoding: .utf8)
        #expect(log.contains("\"PRECISION\": \"\(bf16 ? "bf16" : "fp32")\""), "the cfg record names the precision")
        // Stopped mid-epoch (8 of 15 steps), then resumed from there.
        #expect(try CLI.run(["train"] + common + ["--out", parts.path, "--steps", "8"]).status == 0)
        let refused = try CLI.run(["train"] + common.filter { $0 != "bf16" && $0 != "--precision" } + ["--out", parts.path, "--resume"])
        #expect(refused.status != 0 && refused.err.contains("precision"), "\(refused.err)")
        let resumed = try CLI.run(["train"] + common + ["--out", parts.path, "--resume"])
        #expect(resumed.status == 0, "\(resumed.err)")
        let final = whole.appendingPathComponent("final.safetensors")
        #expect(try Data(contentsOf: final) == Data(contentsOf: parts.appendingPathComponent("final.safetensors")), "resumed bf16 weights differ")
        let evaluation = try CLI.run(["eval", "--weights", final.path, "--data", "digits", "--json"])
        #expect(evaluation.status == 0 && evaluation.out.contains("\"top1_err\""), "float32 master weights load as any file: \(evaluation.err)")
        let int8 = try CLI.run(["train"] + Self.tiny + ["--data", "digits", "--epochs", "1", "--precision", "int8"])
        #expect(int8.status == 2 && int8.err.contains("int8 is for inference"), "\(int8.err)")
    }

    @Test func badDataIsAClearErrorAndNothingIsLost() throws {
        let folder = try temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        func train(_ extra: [String]) throws -> (status: Int32, out: String, err: String) {
            try CLI.run(["train"] + Self.tiny + ["--epochs", "1", "--batch", "4", "--quiet"] + extra)
        }
        // A CIFAR file of the wrong length.
        let cifar = folder.appendingPathComponent("cifar")
        try FileManager.default.createDirectory(at: cifar, withIntermediateDirectories: true)
        for i in 1...5 { try Data(count: 3073 * 2 + (i == 3 ? 5 : 0)).write(to: cifar.appendingPathComponent("data_batch_\(i).bin")) }
        let short = try train(["--data", "cifar10:\(cifar.path)"])
        #expect(short.status == 1 && short.err.contains("data_batch_3.bin") && short.err.contains("not a whole number"))
        // A missing directory, and a malformed --data.
        let missing = try train(["--data", "cifar10:\(folder.appendingPathComponent("nope").path)"])
        #expect(missing.status == 1 && missing.err.contains("is not a directory"))
        #expect(try train(["--data", "imagenet:/x"]).status == 2)
        #expect(try train([]).status == 2)
        // Image folders: an empty class folder; an image that does not decode (named), or skipped and counted.
        let images = folder.appendingPathComponent("images")
        for (split, classes) in [("train", ["a", "b"]), ("val", ["a", "b"])] {
            for c in classes {
                let dir = images.appendingPathComponent("\(split)/\(c)")
                try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
                for i in 0..<4 { try ppm(value: UInt8(i * 40 + (c == "a" ? 0 : 100))).write(to: dir.appendingPathComponent("\(i).ppm")) }
            }
        }
        try FileManager.default.createDirectory(at: images.appendingPathComponent("train/empty"), withIntermediateDirectories: true)
        let empty = try train(["--data", "folder:\(images.path)", "--resolution", "16"])
        #expect(empty.status == 1 && empty.err.contains("'empty' has no images"))
        try FileManager.default.removeItem(at: images.appendingPathComponent("train/empty"))
        let corrupt = images.appendingPathComponent("train/b/0bad.png")
        try Data("not a png".utf8).write(to: corrupt)
        let bad = try train(["--data", "folder:\(images.path)", "--resolution", "16", "--no-shuffle"])
        #expect(bad.status == 1 && bad.err.contains("0bad.png"))
        let skipped = try CLI.run(["train"] + Self.tiny + ["--epochs", "1", "--batch", "4", "--data", "folder:\(images.path)",
                                                           "--resolution", "16", "--skip-bad-images", "--no-precise-bn"])
        #expect(skipped.status == 0 && skipped.out.contains("1 images failed to decode and were skipped"), "\(skipped.err)")
        // Arrays: labels outside the network's classes; mismatched counts; an input the network cannot take.
        let x = folder.appendingPathComponent("x.npy"), y = folder.appendingPathComponent("y.npy"), y3 = folder.appendingPathComponent("y3.npy")
        try npy(uint8: [UInt8](repeating: 7, count: 8 * 16 * 16 * 3), shape: [8, 16, 16, 3]).write(to: x)
        try npy(int64: [0, 1, 2, 3, 4, 5, 6, 12], shape: [8]).write(to: y)
        try npy(int64: [0, 1, 2], shape: [3]).write(to: y3)
        let outside = try train(["--data", "npy:\(x.path),\(y.path)"])
        #expect(outside.status == 1 && outside.err.contains("13 classes") && outside.err.contains("10 outputs"))
        let mismatched = try train(["--data", "npy:\(x.path),\(y3.path)"])
        #expect(mismatched.status == 1 && mismatched.err.contains("3 labels for 8 images"))
        let wrongSize = try train(["--data", "digits", "--resolution", "64"])
        #expect(wrongSize.status == 1 && wrongSize.err.contains("32x32 images") && wrongSize.err.contains("not 64x64"))
        // An unwritable --out: a path below a regular file.
        let file = folder.appendingPathComponent("file")
        try Data().write(to: file)
        let unwritable = try train(["--data", "digits", "--out", file.appendingPathComponent("run").path])
        #expect(unwritable.status == 1 && unwritable.err.contains("cannot create"))
    }

    @Test func nonFiniteLossStopsNamingTheStepAndKeepsTheLastCheckpoint() throws {
        let folder = try temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        // A float32 array whose last images hold huge values: the loss overflows once the shuffle reaches them.
        let x = folder.appendingPathComponent("x.npy"), y = folder.appendingPathComponent("y.npy")
        var values = [Float](repeating: 0.5, count: 8 * 3 * 32 * 32)
        for i in (6 * 3 * 32 * 32)..<values.count { values[i] = 3e38 }
        try npy(float32: values, shape: [8, 3, 32, 32]).write(to: x)
        try npy(int64: [0, 1, 2, 3, 4, 5, 6, 7], shape: [8]).write(to: y)
        let out = folder.appendingPathComponent("run")
        let r = try CLI.run(["train"] + Self.tiny + ["--data", "npy:\(x.path),\(y.path)", "--epochs", "2", "--batch", "2", "--no-shuffle",
                                                     "--no-precise-bn", "--out", out.path, "--quiet"])
        #expect(r.status == 1 && r.err.contains("not finite") && r.err.contains("step 4"), "\(r.err)")
        #expect(!FileManager.default.fileExists(atPath: out.appendingPathComponent("final.safetensors").path))
    }
}

/// A 16×16 binary PPM of one grey value.
func ppm(value: UInt8) -> Data {
    Data("P6\n16 16\n255\n".utf8) + Data(repeating: value, count: 16 * 16 * 3)
}

/// A .npy file (format 1.0) with the given dtype and raw little-endian bytes.
func npy(descr: String, shape: [Int], bytes: Data) -> Data {
    let shapeText = shape.count == 1 ? "(\(shape[0]),)" : "(" + shape.map(String.init).joined(separator: ", ") + ")"
    var header = "{'descr': '\(descr)', 'fortran_order': False, 'shape': \(shapeText), }"
    let version2 = header.count > 60_000    // format 2.0 has a 4-byte header length
    while ((version2 ? 12 : 10) + header.count + 1) % 64 != 0 { header += " " }
    header += "\n"
    let n = header.count
    var data = Data([0x93]) + Data("NUMPY".utf8)
    data += version2 ? Data([2, 0, UInt8(n & 0xFF), UInt8(n >> 8 & 0xFF), UInt8(n >> 16 & 0xFF), UInt8(n >> 24)])
                     : Data([1, 0, UInt8(n & 0xFF), UInt8(n >> 8)])
    data += Data(header.utf8)
    return data + bytes
}

func npy(uint8 values: [UInt8], shape: [Int]) -> Data { npy(descr: "|u1", shape: shape, bytes: Data(values)) }

func npy(int64 values: [Int64], shape: [Int]) -> Data {
    npy(descr: "<i8", shape: shape, bytes: values.withUnsafeBytes { Data($0) })
}

func npy(float32 values: [Float], shape: [Int]) -> Data {
    npy(descr: "<f4", shape: shape, bytes: values.withUnsafeBytes { Data($0) })
}

/// A full disk while checkpointing: the write fails with a clear error and the previous checkpoint
/// survives. Needs a small tmpfs, which only root may mount (CI runs as root).
@Suite struct FullDiskTests {
    @Test(.enabled(if: getuid() == 0, "mounting a small tmpfs needs root"))
    func fullDiskKeepsThePreviousCheckpoint() throws {
        let mountPoint = FileManager.default.temporaryDirectory.appendingPathComponent("regnet-full-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: mountPoint, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: mountPoint) }
        let mount = Process()
        mount.executableURL = URL(fileURLWithPath: "/bin/mount")
        mount.arguments = ["-t", "tmpfs", "-o", "size=512k", "tmpfs", mountPoint.path]
        try mount.run()
        mount.waitUntilExit()
        try #require(mount.terminationStatus == 0, "mount -t tmpfs failed")
        defer {
            let umount = Process()
            umount.executableURL = URL(fileURLWithPath: "/bin/umount")
            umount.arguments = [mountPoint.path]
            try? umount.run()
            umount.waitUntilExit()
        }
        let out = mountPoint.appendingPathComponent("run")
        let common = TrainCommandTests.tiny + ["--data", "digits", "--batch", "100", "--no-precise-bn", "--quiet", "--out", out.path]
        #expect(try CLI.run(["train"] + common + ["--epochs", "2", "--steps", "15"]).status == 0)
        let checkpoint = out.appendingPathComponent("checkpoints/model_epoch_0001.safetensors")
        let before = try Data(contentsOf: checkpoint)
        // Fill the disk, then continue: the next checkpoint cannot be written.
        let filler = mountPoint.appendingPathComponent("filler")
        _ = FileManager.default.createFile(atPath: filler.path, contents: nil)
        let handle = try FileHandle(forWritingTo: filler)
        while (try? handle.write(contentsOf: Data(count: 16 * 1024))) != nil {}
        try? handle.close()
        let r = try CLI.run(["train"] + common + ["--epochs", "2", "--resume"])
        #expect(r.status == 1 && r.err.contains("cannot write"), "\(r.err)")
        #expect(try Data(contentsOf: checkpoint) == before, "the previous checkpoint survives")
        let leftovers = try FileManager.default.contentsOfDirectory(atPath: out.appendingPathComponent("checkpoints").path)
        #expect(leftovers == ["model_epoch_0001.safetensors"], "no partial or temporary file left: \(leftovers)")
    }
}
