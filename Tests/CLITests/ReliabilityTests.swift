import Foundation
import Testing
import Weights
#if canImport(Glibc)
import Glibc
#endif

/// The cases of the reliability issue (training runs, checkpoints, sweeps), each run as the issue
/// wrote it: every one ends in a clear error or does what was asked, and nothing is lost or replaced.
@Suite struct RunReliabilityTests {
    /// The issue's network, on 8×8 images (stride-1 stem; two stride-2 stages).
    static let network = ["--stages", "1x16,1x32", "--group-width", "8", "--stem-width", "8", "--stem-stride", "1", "--classes", "10"]

    /// A folder with 32 8×8 RGB uint8 images of 10 classes as npy arrays; `images` overrides the count.
    func dataFolder(images: Int = 32) throws -> (folder: URL, data: String) {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("regnet-reliability-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        try writeArrays(in: folder, images: images)
        return (folder, "npy:\(folder.path)/x.npy,\(folder.path)/y.npy")
    }

    func writeArrays(in folder: URL, images: Int) throws {
        var pixels: [UInt8] = [], labels: [Int64] = []
        for i in 0..<images {
            labels.append(Int64(i % 10))
            for p in 0..<(8 * 8 * 3) { pixels.append(UInt8((p * (i % 10 + 1) * 29 + i * 7) % 256)) }
        }
        try npy(uint8: pixels, shape: [images, 8, 8, 3]).write(to: folder.appendingPathComponent("x.npy"))
        try npy(int64: labels, shape: [images]).write(to: folder.appendingPathComponent("y.npy"))
    }

    /// `regnet train` of the issue's network on `data` into `out`, 8 images per step, 2 epochs unless
    /// `extra` says otherwise.
    func train(_ data: String, _ out: URL, _ extra: [String] = []) throws -> (status: Int32, out: String, err: String) {
        try CLI.run(["train"] + Self.network + ["--data", data, "--batch", "8", "--test-batch", "16", "--no-precise-bn", "--quiet",
                                                "--out", out.path] + (extra.contains("--epochs") ? [] : ["--epochs", "2"]) + extra)
    }

    /// Trains as `train` does and expects success, showing the error otherwise.
    func expectTrained(_ data: String, _ out: URL, _ extra: [String] = [], sourceLocation: SourceLocation = #_sourceLocation) throws {
        let r = try train(data, out, extra)
        #expect(r.status == 0, "\(r.err)", sourceLocation: sourceLocation)
    }

    /// Checkpoint `url` rewritten by `change` (its metadata and tensors), with its checksum made
    /// valid again unless `keepChecksum` — so a test reaches the check behind the checksum.
    func tamper(_ url: URL, keepChecksum: Bool = false, _ change: (inout [String: String], inout [String: Tensor]) throws -> Void) throws {
        var metadata = try SafeTensors.metadata(contentsOf: url), tensors = try SafeTensors.read(contentsOf: url).tensors
        let checksum = metadata.removeValue(forKey: "regnet.checksum")
        try change(&metadata, &tensors)
        metadata["regnet.checksum"] = keepChecksum ? checksum : Checksum.of(tensors, metadata: metadata)
        try SafeTensors.write(WeightSet(tensors), to: url, metadata: metadata)
    }

    /// The trainer state in a checkpoint's metadata, changed by `change`.
    func editState(_ metadata: inout [String: String], _ change: (inout [String: Any]) -> Void) throws {
        var state = try #require(try JSONSerialization.jsonObject(with: Data(metadata["regnet.trainer"]!.utf8)) as? [String: Any])
        change(&state)
        metadata["regnet.trainer"] = String(decoding: try JSONSerialization.data(withJSONObject: state, options: [.sortedKeys]), as: UTF8.self)
    }

    @Test func testTimeResizeSmallerThanTheCropIsAnErrorNotACrash() throws {
        let (folder, _) = try dataFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        for split in ["train/a", "train/b", "val/a", "val/b"] {
            let dir = folder.appendingPathComponent("images/\(split)")
            try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
            try pngGrey(width: 40, height: 40).write(to: dir.appendingPathComponent("1.png"))
        }
        let data = "folder:\(folder.path)/images"
        let eval = try CLI.run(["eval"] + Self.network + ["--weights", "none.safetensors", "--data", data, "--resolution", "32", "--test-resize", "16"])
        #expect(eval.status == 2 && eval.err.contains("--test-resize 16 is smaller than the 32x32 centre crop"), "\(eval.err)")
        let train = try CLI.run(["train"] + Self.network + ["--data", data, "--resolution", "32", "--test-resize", "16", "--batch", "2"])
        #expect(train.status == 2 && train.err.contains("--test-resize"), "\(train.err)")
        // Without --resolution the library's own check names it (the default crop of a folder is 224).
        let library = try CLI.run(["train"] + Self.network + ["--data", data, "--test-resize", "16", "--batch", "2", "--epochs", "1"])
        #expect(library.status == 1 && library.err.contains("smaller than the 224x224 centre crop"), "\(library.err)")
    }

    @Test func resumingAfterTheDataChangedNamesTheDifference() throws {
        let (folder, data) = try dataFolder(images: 64)
        defer { try? FileManager.default.removeItem(at: folder) }
        let out = folder.appendingPathComponent("run")
        try expectTrained(data, out, ["--steps", "5"])
        try writeArrays(in: folder, images: 24)
        let r = try train(data, out, ["--resume"])
        #expect(r.status == 1 && r.err.contains("holds another run") && r.err.contains("data images: this run 24, the directory's 64"), "\(r.err)")
    }

    @Test func damagedCheckpointsAreRefusedBeforeAnyStep() throws {
        let (folder, data) = try dataFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let out = folder.appendingPathComponent("run")
        try expectTrained(data, out, ["--steps", "6"])
        let checkpoint = out.appendingPathComponent("checkpoints/model_epoch_0002.safetensors")
        let original = try Data(contentsOf: checkpoint), log = try Data(contentsOf: out.appendingPathComponent("stdout.log"))
        func expectRefused(_ message: String, keepChecksum: Bool = false, _ change: (inout [String: String], inout [String: Tensor]) throws -> Void) throws {
            try original.write(to: checkpoint)
            try tamper(checkpoint, keepChecksum: keepChecksum, change)
            let r = try train(data, out, ["--resume"])
            #expect(r.status == 1 && r.err.contains(message), "\(message): \(r.err)")
            #expect(try Data(contentsOf: out.appendingPathComponent("stdout.log")) == log, "\(message): the log changed")
        }
        // A flipped exponent bit mid-file: the checksum.
        try expectRefused("the checksum does not match", keepChecksum: true) { _, tensors in
            var t = tensors["s1.b1.conv1.conv.weight"]!
            t.scalars[3] = Float(bitPattern: t.scalars[3].bitPattern ^ 0x4000_0000)
            tensors["s1.b1.conv1.conv.weight"] = t
        }
        // Positions the recipe cannot reach (checksums valid: the state itself is checked).
        for (key, value) in [("epoch", 99), ("epoch", -5), ("iteration", 1_000_000), ("iteration", -1)] {
            try expectRefused("is not one this recipe reaches") { metadata, _ in try editState(&metadata) { $0[key] = value } }
        }
        try expectRefused("random state 'x' is not a 64-bit number") { metadata, _ in try editState(&metadata) { $0["random"] = "x" } }
        // Momentum buffers and the EMA are checked like the weights, and named as what they are.
        try expectRefused("the momentum buffer of s1.b1.conv1.conv.weight has a non-finite value") { _, tensors in
            var t = tensors["momentum.s1.b1.conv1.conv.weight"]!
            t.scalars[0] = .nan
            tensors["momentum.s1.b1.conv1.conv.weight"] = t
        }
        try expectRefused("log position '0'") { metadata, _ in metadata["regnet.log_bytes"] = "0" }
        try expectRefused("best_top1 'nan'") { metadata, _ in metadata["regnet.best_top1"] = "nan" }
        // The original resumes and finishes.
        try original.write(to: checkpoint)
        let r = try train(data, out, ["--resume"])
        #expect(r.status == 0, "\(r.err)")
        let emaRun = folder.appendingPathComponent("ema")
        try expectTrained(data, emaRun, ["--steps", "6", "--ema-alpha", "0.01"])
        let emaCheckpoint = emaRun.appendingPathComponent("checkpoints/model_epoch_0002.safetensors")
        try tamper(emaCheckpoint) { _, tensors in
            var t = tensors["ema.stem.conv.weight"]!
            t.scalars[1] = .infinity
            tensors["ema.stem.conv.weight"] = t
        }
        let ema = try train(data, emaRun, ["--resume", "--ema-alpha", "0.01"])
        #expect(ema.status == 1 && ema.err.contains("its EMA (ema.* tensors)") && ema.err.contains("stem.conv.weight"), "\(ema.err)")
    }

    @Test func aHugeDatasetFileIsAMemoryErrorNotAnAbort() throws {
        let (folder, _) = try dataFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let cifar = folder.appendingPathComponent("cifar")
        try FileManager.default.createDirectory(at: cifar, withIntermediateDirectories: true)
        // Sparse files: the first holds more records than this machine's memory.
        let records = Int(ProcessInfo.processInfo.physicalMemory) / 3073 + 1_000_000
        for (name, count) in [("data_batch_1.bin", records)] + (2...5).map { ("data_batch_\($0).bin", 1) } + [("test_batch.bin", 1)] {
            let url = cifar.appendingPathComponent(name)
            #expect(FileManager.default.createFile(atPath: url.path, contents: nil) && truncate(url.path, off_t(count * 3073)) == 0)
        }
        let r = try CLI.run(["train"] + Self.network + ["--data", "cifar10:\(cifar.path)", "--epochs", "1"])
        #expect(r.status == 1 && r.err.contains("needs") && r.err.contains("more than"), "\(r.err)")
    }

    @Test func aFIFOOrLinkOrDirectoryAsTheLogIsAnErrorNotAHang() throws {
        let (folder, data) = try dataFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let fifoRun = folder.appendingPathComponent("fifo")
        try FileManager.default.createDirectory(at: fifoRun, withIntermediateDirectories: true)
        #expect(mkfifo(fifoRun.appendingPathComponent("stdout.log").path, 0o600) == 0)
        let start = Date()
        let fifo = try train(data, fifoRun)
        #expect(fifo.status == 1 && fifo.err.contains("holds a run's records (stdout.log)"), "\(fifo.err)")
        #expect(Date().timeIntervalSince(start) < 60)
        // The run's own directory with its log replaced by a FIFO: the log is refused, nothing hangs.
        let own = folder.appendingPathComponent("own")
        try expectTrained(data, own, ["--steps", "2"])
        let log = own.appendingPathComponent("stdout.log")
        try FileManager.default.removeItem(at: log)
        #expect(mkfifo(log.path, 0o600) == 0)
        let resumed = try train(data, own, ["--resume"])
        #expect(resumed.status == 1 && resumed.err.contains("is a FIFO, not a regular file"), "\(resumed.err)")
        // --resume with no checkpoint never truncates through a link.
        let linked = folder.appendingPathComponent("linked"), victim = folder.appendingPathComponent("victim.log")
        try FileManager.default.createDirectory(at: linked, withIntermediateDirectories: true)
        try Data("keep me\n".utf8).write(to: victim)
        #expect(symlink(victim.path, linked.appendingPathComponent("stdout.log").path) == 0)
        let link = try train(data, linked, ["--resume"])
        #expect(try link.status == 1 && Data(contentsOf: victim) == Data("keep me\n".utf8), "\(link.err)")
        // A directory as the log, and a file as --out.
        let withDirectory = folder.appendingPathComponent("dir-log")
        try FileManager.default.createDirectory(at: withDirectory.appendingPathComponent("stdout.log"), withIntermediateDirectories: true)
        try Data(#"{"network": "x"}"#.utf8).write(to: withDirectory.appendingPathComponent("run.json"))
        let directoryLog = try train(data, withDirectory, ["--resume"])
        #expect(directoryLog.status == 1 && !directoryLog.err.contains("NSCocoaErrorDomain"), "\(directoryLog.err)")
        let file = folder.appendingPathComponent("a-file")
        try Data("notes".utf8).write(to: file)
        let asFile = try train(data, file)
        #expect(try asFile.status == 1 && asFile.err.contains("exists and is not a directory") && Data(contentsOf: file) == Data("notes".utf8))
    }

    @Test func aRunOwnsItsDirectory() throws {
        let (folder, data) = try dataFolder(images: 64)
        defer { try? FileManager.default.removeItem(at: folder) }
        let out = folder.appendingPathComponent("run")
        try expectTrained(data, out, ["--epochs", "4"])
        let final = try Data(contentsOf: out.appendingPathComponent("final.safetensors"))
        let log = try Data(contentsOf: out.appendingPathComponent("stdout.log"))
        // A shorter run into the longer run's directory: refused, nothing pruned or replaced.
        let again = try train(data, out, ["--epochs", "1"])
        #expect(again.status == 1 && again.err.contains("holds a run's records") && again.err.contains("--resume"), "\(again.err)")
        // Resuming it with another seed or recipe: refused, naming what differs.
        let other = try train(data, out, ["--epochs", "4", "--seed", "3", "--resume"])
        #expect(other.status == 1 && other.err.contains("seed: this run 3, the directory's 0"), "\(other.err)")
        let recipe = try train(data, out, ["--epochs", "5", "--resume"])
        #expect(recipe.status == 1 && recipe.err.contains("recipe epochs: this run 5, the directory's 4"), "\(recipe.err)")
        let checkpoints = try FileManager.default.contentsOfDirectory(atPath: out.appendingPathComponent("checkpoints").path).sorted()
        #expect(checkpoints == ["model_epoch_0002.safetensors", "model_epoch_0003.safetensors", "model_epoch_0004.safetensors"])
        #expect(try Data(contentsOf: out.appendingPathComponent("final.safetensors")) == final)
        #expect(try Data(contentsOf: out.appendingPathComponent("stdout.log")) == log)
        // Resuming the finished run itself: says so, trains nothing, leaves one record per epoch.
        let finished = try CLI.run(["train"] + Self.network + ["--data", data, "--batch", "8", "--test-batch", "16", "--epochs", "4",
                                                              "--no-precise-bn", "--out", out.path, "--resume"])
        #expect(finished.status == 0 && finished.out.contains("all 4 epochs are trained; nothing left to train"), "\(finished.out)")
        let text = try String(contentsOf: out.appendingPathComponent("stdout.log"), encoding: .utf8)
        #expect(text.components(separatedBy: "\"_type\": \"test_epoch\"").count - 1 == 4)
        #expect(text.components(separatedBy: "\"_type\": \"train_epoch\"").count - 1 == 4)
        // Two runs on one directory at once: one trains, the other is refused.
        let shared = folder.appendingPathComponent("shared")
        let first = Process()
        first.executableURL = try CLI.executable()
        first.arguments = ["train"] + Self.network + ["--data", data, "--batch", "8", "--epochs", "40", "--quiet", "--out", shared.path]
        first.standardOutput = FileHandle.nullDevice
        first.standardError = FileHandle.nullDevice
        try first.run()
        let deadline = Date().addingTimeInterval(120)
        while Date() < deadline, !FileManager.default.fileExists(atPath: shared.appendingPathComponent("stdout.log").path) { usleep(20_000) }
        let second = try train(data, shared, ["--resume"])
        first.terminate()
        first.waitUntilExit()
        #expect(second.status == 1 && second.err.contains("is in use by another run"), "\(second.err)")
        // A checkpoint save killed midway left a temporary file: the run's next start removes it.
        let temporary = out.appendingPathComponent("checkpoints/.model_epoch_0005.safetensors.\(UUID().uuidString).tmp")
        try Data(count: 1024).write(to: temporary)
        try expectTrained(data, out, ["--epochs", "4", "--resume"])
        #expect(!FileManager.default.fileExists(atPath: temporary.path))
    }

    @Test func divergenceSaysWhenAndWhatWasKept() throws {
        let (folder, data) = try dataFolder(images: 64)
        defer { try? FileManager.default.removeItem(at: folder) }
        let out = folder.appendingPathComponent("run")
        let r = try train(data, out, ["--lr", "60", "--epochs", "6"])
        #expect(r.status == 1 && r.err.contains("the training diverged") && r.err.contains("at step"), "\(r.err)")
        #expect(r.err.contains("is kept") || r.err.contains("no checkpoint was written"), "\(r.err)")
        #expect(!r.err.contains("weights do not fit"), "\(r.err)")
        let log = try String(contentsOf: out.appendingPathComponent("stdout.log"), encoding: .utf8)
        #expect(!log.lowercased().contains("nan") && !log.contains("Infinity"), "a non-finite value reached the log")
    }

    @Test func theEvaluationsMemoryIsCheckedBeforeTheFirstStepAndCheckpointsComeFirst() throws {
        let (folder, _) = try dataFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let images = folder.appendingPathComponent("images")
        for split in ["train/a", "train/b", "val/a"] {
            try FileManager.default.createDirectory(at: images.appendingPathComponent(split), withIntermediateDirectories: true)
        }
        let png = pngGrey(width: 8, height: 8)
        for i in 0..<2 { try png.write(to: images.appendingPathComponent("train/\(i % 2 == 0 ? "a" : "b")/\(i).png")) }
        for i in 0..<520 { try png.write(to: images.appendingPathComponent("val/a/\(i).png")) }
        // 520 test images of 1024x1024 at once need more than 16 GiB for one activation: known before training.
        let out = folder.appendingPathComponent("run")
        let r = try CLI.run(["train"] + Self.network + ["--data", "folder:\(images.path)", "--resolution", "1024", "--batch", "1",
                                                        "--test-batch", "520", "--epochs", "1", "--no-precise-bn", "--out", out.path])
        #expect(r.status == 1 && r.err.contains("the evaluation after each epoch cannot run") && r.err.contains("GiB"), "\(r.err)")
        #expect(!FileManager.default.fileExists(atPath: out.appendingPathComponent("stdout.log").path), "a step ran before the check")
        // An evaluation that fails after the epoch (an image that does not decode) finds the epoch's checkpoint written.
        try Data("not an image".utf8).write(to: images.appendingPathComponent("val/a/0.png"))
        let small = folder.appendingPathComponent("small")
        let failed = try CLI.run(["train"] + Self.network + ["--data", "folder:\(images.path)", "--resolution", "16", "--batch", "1",
                                                             "--test-batch", "8", "--epochs", "1", "--no-precise-bn", "--out", small.path])
        #expect(failed.status == 1 && failed.err.contains("0.png"), "\(failed.err)")
        #expect(FileManager.default.fileExists(atPath: small.appendingPathComponent("checkpoints/model_epoch_0001.safetensors").path))
    }

    @Test func smallerDefects() throws {
        let (folder, data) = try dataFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        // A class folder that is a loop of links is an error naming it, not a class silently missing.
        let images = folder.appendingPathComponent("images")
        for split in ["train/a", "val/a"] {
            try FileManager.default.createDirectory(at: images.appendingPathComponent(split), withIntermediateDirectories: true)
            try pngGrey(width: 8, height: 8).write(to: images.appendingPathComponent("\(split)/1.png"))
        }
        let loop = images.appendingPathComponent("train/loop")
        #expect(symlink(loop.path, loop.path) == 0)
        let looped = try CLI.run(["train"] + Self.network + ["--data", "folder:\(images.path)", "--resolution", "8", "--batch", "1"])
        #expect(looped.status == 1 && looped.err.contains("train/loop") && looped.err.contains("loop of symbolic links"), "\(looped.err)")
        // Quantised files with implausible input scales; --ema with a quantised file.
        let weights = folder.appendingPathComponent("w.safetensors"), quantised = folder.appendingPathComponent("q.safetensors")
        let out = folder.appendingPathComponent("run")
        try expectTrained(data, out, ["--epochs", "1", "--save", weights.path])
        let q = try CLI.run(["quantize"] + Self.network + ["--weights", weights.path, "--resolution", "8", "--calibration", data,
                                                           "--calibration-images", "8", "--output", quantised.path])
        guard q.status == 0 else {
            #expect(q.err.contains("VNNI") || q.err.contains("int8"), "\(q.err)")
            return
        }
        let ema = try CLI.run(["eval"] + Self.network + ["--weights", quantised.path, "--data", data, "--ema"])
        #expect(ema.status == 1 && ema.err.contains("--ema") && ema.err.contains("quantised"), "\(ema.err)")
        for scale: Float in [1e-38, 1e30] {
            var tensors = try SafeTensors.read(contentsOf: quantised).tensors
            let metadata = try SafeTensors.metadata(contentsOf: quantised)
            let key = try #require(tensors.keys.sorted().first { $0.hasSuffix(".input_scale") })
            tensors[key] = Tensor(shape: [1], scalars: [scale])
            let bad = folder.appendingPathComponent("bad.safetensors")
            var integers: [String: SafeTensors.DType] = [:]
            for name in tensors.keys where name.hasSuffix(".input_scale") {
                let layer = name.dropLast(".input_scale".count)
                integers[layer + ".weight"] = .i8
                integers[layer + ".input_zero_point"] = .u8
            }
            try SafeTensors.write(WeightSet(tensors), to: bad, metadata: metadata, integers: integers)
            let r = try CLI.run(["eval"] + Self.network + ["--weights", bad.path, "--data", data])
            #expect(r.status == 1 && r.err.contains("input_scale"), "\(scale): \(r.err)")
        }
    }

    @Test func unknownOptionsAreNamed() throws {
        let bogus = try CLI.run(["train", "--stages", "1x32", "--group-width", "8", "--bogus"])
        #expect(bogus.status == 2 && bogus.err.contains("unknown option '--bogus'"), "\(bogus.err)")
        // An option of inference commands that training does not take.
        let calibration = try CLI.run(["train", "--stages", "1x32", "--group-width", "8", "--data", "digits", "--calibration", "digits"])
        #expect(calibration.status == 2 && calibration.err.contains("unknown option '--calibration'"), "\(calibration.err)")
        let typo = try CLI.run(["train", "--stages", "1x32", "--group-width", "8", "--data", "digits", "--lr-step", "3"])
        #expect(typo.status == 2 && typo.err.contains("did you mean '--lr-steps'"), "\(typo.err)")
        let stray = try CLI.run(["train", "--stages", "1x32", "--group-width", "8", "--data", "digits", "bf16"])
        #expect(stray.status == 2 && stray.err.contains("the model name 'bf16' and --stages"), "\(stray.err)")
        for command in ["run", "bench", "eval", "export-weights", "quantize", "summary", "sample", "edf", "sweep", "models"] {
            let r = try CLI.run([command, "--no-such-option"])
            #expect(r.status == 2 && r.err.contains("unknown option '--no-such-option'"), "\(command): \(r.err)")
        }
    }
}

/// The reliability issue's sweep cases: setup's output and validation, collect's reading of logs,
/// a hostile sweep directory, Slurm quoting.
@Suite struct SweepReliabilityTests {
    func folder() throws -> URL {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("regnet-sweep-reliability-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        return url
    }

    /// A small digits sweep description with `change` applied, written into `folder`.
    func description(in folder: URL, _ change: (inout [String: Any]) -> Void = { _ in }) throws -> URL {
        var d: [String: Any] = [
            "name": "reliability", "seed": 0,
            "samples": [["space": "RegNetX", "count": 3, "ranges": ["depth": [2, 4], "w0": [8, 16], "wa": [8, 16], "group_width": [8, 8]]]],
            "constraints": ["resolution": 32],
            "model": ["classes": 10, "stem_width": 8],
            "train": ["data": "digits", "epochs": 2, "batch": 50, "lr": 0.05],
            "samplers": ["weight-decay": ["low": 0.0001, "high": 0.001, "quantum": 0.0001]],
        ]
        change(&d)
        let url = folder.appendingPathComponent("sweep-\(UUID().uuidString).json")
        try JSONSerialization.data(withJSONObject: d).write(to: url)
        return url
    }

    func fileType(_ path: String) -> mode_t {
        var info = stat()
        return lstat(path, &info) == 0 ? info.st_mode & S_IFMT : 0
    }

    @Test func setupNeverReplacesWhatIsAtOut() throws {
        let dir = try folder()
        defer { try? FileManager.default.removeItem(at: dir) }
        let sweep = try description(in: dir)
        let file = dir.appendingPathComponent("notes.txt"), fifo = dir.appendingPathComponent("fifo"), link = dir.appendingPathComponent("link")
        try Data("notes".utf8).write(to: file)
        #expect(mkfifo(fifo.path, 0o600) == 0 && symlink(dir.appendingPathComponent("nowhere").path, link.path) == 0)
        let full = dir.appendingPathComponent("full")
        try FileManager.default.createDirectory(at: full, withIntermediateDirectories: true)
        try Data("x".utf8).write(to: full.appendingPathComponent("keep"))
        for (target, message) in [(file, "is not a directory"), (fifo, "is not a directory"), (link, "is a symbolic link"), (full, "already holds files")] {
            let r = try CLI.run(["sweep", "setup", sweep.path, "--out", target.path])
            #expect(r.status == 1 && r.err.contains(message), "\(target.lastPathComponent): \(r.err)")
        }
        #expect(try Data(contentsOf: file) == Data("notes".utf8) && fileType(fifo.path) == S_IFIFO && fileType(link.path) == S_IFLNK)
        #expect(try FileManager.default.contentsOfDirectory(atPath: full.path) == ["keep"])
        if getuid() == 0 {
            let null = try CLI.run(["sweep", "setup", sweep.path, "--out", "/dev/null"])
            #expect(null.status == 1 && fileType("/dev/null") == S_IFCHR)
        }
        // An empty directory is used, and nothing is left beside it.
        let empty = dir.appendingPathComponent("empty")
        try FileManager.default.createDirectory(at: empty, withIntermediateDirectories: true)
        let ok = try CLI.run(["sweep", "setup", sweep.path, "--out", empty.path])
        #expect(ok.status == 0 && FileManager.default.fileExists(atPath: empty.appendingPathComponent("sweep_cfg.json").path), "\(ok.err)")
        #expect(try FileManager.default.contentsOfDirectory(atPath: dir.path).allSatisfy { !$0.contains(".setup-") })
    }

    @Test func setupRefusesSweepsThatCannotTrain() throws {
        let dir = try folder()
        defer { try? FileManager.default.removeItem(at: dir) }
        let out = dir.appendingPathComponent("out")
        let cases: [(String, (inout [String: Any]) -> Void)] = [
            ("'bogus' is not a `regnet train` option", { $0["samplers"] = ["bogus": ["low": 1, "high": 2, "quantum": 0.1]] }),
            ("--batch expects an integer", { $0["samplers"] = ["batch": ["low": 0.5, "high": 0.9, "quantum": 0.01]] }),
            ("set model.classes to 10", { d in var m = d["model"] as! [String: Any]; m["classes"] = 5; d["model"] = m }),
            ("fewer than one training batch of 5000", { d in var t = d["train"] as! [String: Any]; t["batch"] = 5000; d["train"] = t }),
            ("is not a directory", { d in var t = d["train"] as! [String: Any]; t["data"] = "cifar10:/nonexistent"; d["train"] = t }),
            ("'seed' must be a whole number", { $0["seed"] = -1 }),
            ("models in all; a sweep holds at most", { d in
                d["samples"] = (0..<3).map { _ in ["space": "RegNetX", "count": 5000] as [String: Any] } }),
        ]
        for (message, change) in cases {
            let r = try CLI.run(["sweep", "setup", try description(in: dir, change).path, "--out", out.path])
            #expect(r.status == 1 && r.err.contains(message), "\(message): \(r.err)")
            #expect(!FileManager.default.fileExists(atPath: out.path), "\(message): something was written")
        }
    }

    /// A set-up sweep whose models have fabricated logs (no training): `logs[i]` is model i's stdout.log.
    func sweepWithLogs(_ dir: URL, _ logs: [Data]) throws -> URL {
        let sweep = dir.appendingPathComponent("sweep")
        let r = try CLI.run(["sweep", "setup", try description(in: dir).path, "--out", sweep.path])
        try #require(r.status == 0, "\(r.err)")
        for (i, log) in logs.enumerated() {
            let folder = sweep.appendingPathComponent(String(format: "logs/%06d", i))
            try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
            try log.write(to: folder.appendingPathComponent("stdout.log"))
        }
        return sweep
    }

    /// A log with test epochs of the given errors (of `epochs.count` in all).
    func log(_ errors: [Double]) -> String {
        errors.enumerated().map { i, e in
            "json_stats: {\"_type\": \"test_epoch\", \"epoch\": \"\(i + 1)/\(errors.count)\", \"top1_err\": \(e), \"top5_err\": 1.0}\n"
        }.joined()
    }

    @Test func collectReportsEveryUnreadableRecord() throws {
        let dir = try folder()
        defer { try? FileManager.default.removeItem(at: dir) }
        var badByte = Data(log([20, 9.43]).utf8)
        badByte.insert(0xFF, at: badByte.count - 3)
        var truncated = log([20, 9.43, 13.13])
        truncated.removeLast(12)
        let records = log([30, 25]) + "json_stats: {\"_type\": \"test_epoch\", \"epoch\": \"3/4\", \"top1_err\": NaN}\n"
            + "json_stats: {\"_type\": \"test_epoch\", \"epoch\": \"4/4\", \"top1_err\": \"abc\"}\n"
            + "json_stats: {\"_type\": \"test_epoch\", \"epoch\": \"4/4\", \"top1_err\": -50}\n"
            + "json_stats: {\"_type\": \"test_epoch\", \"epoch\": \"4/4\", \"top1_err\": 1e999}\n"
        let sweep = try sweepWithLogs(dir, [badByte, Data(truncated.utf8), Data(records.utf8)])
        let r = try CLI.run(["sweep", "collect", sweep.path])
        #expect(r.status == 0, "\(r.err)")
        #expect(r.out.contains("jobs_started=3/3") && r.out.contains("logs_with_unreadable_records=3"), "\(r.out)")
        for (model, line, why) in [("000000", 2, "not UTF-8"), ("000001", 3, "cut short"), ("000002", 3, "not a complete JSON record"),
                                   ("000002", 4, "top1_err is not a finite number"), ("000002", 5, "-50 is outside 0...100")] {
            #expect(r.err.contains("logs/\(model)/stdout.log line \(line): ") && r.err.contains(why), "\(model) line \(line): \(r.err)")
        }
        let csv = try String(contentsOf: sweep.appendingPathComponent("results.csv"), encoding: .utf8).split(separator: "\n")
        let header = csv[0].split(separator: ",").map(String.init)
        let (error, problems) = (try #require(header.firstIndex(of: "error")), try #require(header.firstIndex(of: "log_problems")))
        let rows = csv.dropFirst().map { $0.split(separator: ",", omittingEmptySubsequences: false).map(String.init) }
        #expect(rows.map { $0[problems] } == ["1", "1", "4"])
        #expect(rows[1][error] == "9.4300", "the cut-short record changed the error: \(rows[1])")
        #expect(rows.allSatisfy { Double($0[error]).map { (0...100).contains($0) } == true })
        // A deleted config is noticed, not a smaller sweep.
        try FileManager.default.removeItem(at: sweep.appendingPathComponent("cfgs/000002.json"))
        let missing = try CLI.run(["sweep", "collect", sweep.path])
        #expect(missing.status == 1 && missing.err.contains("misses configs") && missing.err.contains("000002.json"), "\(missing.err)")
    }

    @Test func aHostileSweepDirectoryStaysInsideAndIsEscaped() throws {
        let dir = try folder()
        defer { try? FileManager.default.removeItem(at: dir) }
        let sweep = try sweepWithLogs(dir, [Data(log([20, 12]).utf8), Data(log([30, 18]).utf8), Data(log([25, 15]).utf8)])
        let keys = ["x/../../../../escaped", "a\"><img src=x onerror=alert(1)>"]
        for i in 0..<3 {
            let url = sweep.appendingPathComponent(String(format: "cfgs/%06d.json", i))
            var job = try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: url)) as? [String: Any])
            job["sampled"] = Dictionary(uniqueKeysWithValues: keys.map { ($0, Double(i + 1)) })
            try JSONSerialization.data(withJSONObject: job).write(to: url)
        }
        try FileManager.default.createDirectory(at: sweep.appendingPathComponent("analysis/error_vs_x"), withIntermediateDirectories: true)
        let r = try CLI.run(["sweep", "analyze", sweep.path])
        #expect(r.status == 0, "\(r.err)")
        let escaped = dir.deletingLastPathComponent().appendingPathComponent("escaped.svg")
        #expect(!FileManager.default.fileExists(atPath: escaped.path) && !FileManager.default.fileExists(atPath: dir.appendingPathComponent("escaped.svg").path))
        let files = try FileManager.default.contentsOfDirectory(atPath: sweep.appendingPathComponent("analysis").path)
        #expect(files.allSatisfy { $0.allSatisfy { $0.isLetter || $0.isNumber || "_-.".contains($0) } }, "\(files)")
        let html = try String(contentsOf: sweep.appendingPathComponent("analysis.html"), encoding: .utf8)
        #expect(!html.contains("<img") && html.contains("&lt;img"), "the key reached the page unescaped")
    }

    @Test func slurmScriptsQuoteHostilePaths() throws {
        let dir = try folder()
        defer { try? FileManager.default.removeItem(at: dir) }
        let sweep = dir.appendingPathComponent("bob's sweep $(touch injected) 50%")
        let r = try CLI.run(["sweep", "setup", try description(in: dir).path, "--out", sweep.path])
        try #require(r.status == 0, "\(r.err)")
        let s = try CLI.run(["sweep", "slurm", sweep.path, "--array", "2"])
        #expect(s.status == 0, "\(s.err)")
        let script = sweep.appendingPathComponent("slurm/sweep.sbatch")
        func bash(_ arguments: [String], input: String? = nil) throws -> (Int32, String) {
            let p = Process(), out = Pipe()
            p.executableURL = URL(fileURLWithPath: "/bin/bash")
            p.arguments = arguments
            p.currentDirectoryURL = dir
            p.environment = ["SLURM_ARRAY_TASK_ID": "1", "PATH": "/usr/bin:/bin"]
            p.standardOutput = out
            let stdin = Pipe()
            p.standardInput = stdin
            try p.run()
            if let input { stdin.fileHandleForWriting.write(Data(input.utf8)) }
            try stdin.fileHandleForWriting.close()
            let data = out.fileHandleForReading.readDataToEndOfFile()
            p.waitUntilExit()
            return (p.terminationStatus, String(decoding: data, as: UTF8.self))
        }
        #expect(try bash(["-n", script.path]).0 == 0)
        // The job's command, printed word by word instead of run: the path is one word, nothing ran.
        let text = try String(contentsOf: script, encoding: .utf8).replacingOccurrences(of: "\nexec ", with: "\nprintf '[%s]\\n' ")
        let (status, words) = try bash(["-s"], input: text)
        #expect(status == 0 && words.contains("[\(sweep.path)]") && words.contains("[1/2]"), "\(words)")
        #expect(!FileManager.default.fileExists(atPath: dir.appendingPathComponent("injected").path))
        // sbatch reads the output directives in double quotes, with % doubled.
        let directives = try String(contentsOf: script, encoding: .utf8)
        #expect(directives.contains("#SBATCH --output=\"\(sweep.path.replacingOccurrences(of: "%", with: "%%"))/slurm/task-%a.out\""))
    }
}
