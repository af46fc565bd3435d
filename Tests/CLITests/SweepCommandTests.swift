import Foundation
#if canImport(FoundationXML)
#if canImport(FoundationXML)
import FoundationXML
#endif
#endif
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// `regnet sweep` end to end on small generated data: setup, shards run concurrently, a run killed
/// mid-epoch and restarted, collect — each checked against an uninterrupted single-process run
/// (training is deterministic, so the errors must be equal).
@Suite struct SweepCommandTests {
    /// A folder with `images` 8×8 RGB images of 4 classes (npy) and a sweep of `count` small RegNetX
    /// models trained for `epochs` epochs on them.
    func makeSweep(count: Int, epochs: Int, images: Int = 24, emaAlpha: Double = 0) throws -> (folder: URL, sweep: URL) {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("regnet-sweep-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        var pixels: [UInt8] = [], labels: [Int64] = []
        for i in 0..<images {
            let label = i % 4
            labels.append(Int64(label))
            for p in 0..<(8 * 8 * 3) { pixels.append(UInt8((p * (label + 1) * 37 + i * 11) % 256)) }
        }
        let x = folder.appendingPathComponent("x.npy"), y = folder.appendingPathComponent("y.npy")
        try npy(uint8: pixels, shape: [images, 8, 8, 3]).write(to: x)
        try npy(int64: labels, shape: [images]).write(to: y)
        let description: [String: Any] = [
            "name": "tiny", "seed": 3,
            "samples": [["space": "RegNetX", "count": count,
                         "ranges": ["depth": [2, 4], "w0": [8, 16], "wa": [8, 16], "group_width": [8, 8], "stage_count": [1, 4]]]],
            "constraints": ["resolution": 8],
            "model": ["classes": 4, "stem_width": 8],
            "train": ["data": "npy:\(x.path),\(y.path)", "epochs": epochs, "batch": 8, "test-batch": 12, "lr": 0.05,
                      "no-precise-bn": true, "ema-alpha": emaAlpha, "label-smoothing": 0.1],
            "samplers": ["weight-decay": ["low": 0.0001, "high": 0.001, "quantum": 0.0001]],
        ]
        let file = folder.appendingPathComponent("sweep.json")
        try JSONSerialization.data(withJSONObject: description).write(to: file)
        return (folder, file)
    }

    /// A short sweep with pycls's EMA rate: setup says the EMA will barely move and which rate would
    /// suit; with that rate, it says nothing.
    @Test func setupWarnsWhenTheEMACannotFollowShortRuns() throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("regnet-ema-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        func setup(_ train: String) throws -> String {
            let file = folder.appendingPathComponent("sweep.json"), out = folder.appendingPathComponent(UUID().uuidString)
            try Data(("""
                {"name": "short", "seed": 0, "samples": [{"space": "RegNetX", "count": 2, "ranges": {"depth": [6, 12], "w0": [16, 64], "wa": [8, 32]}}],
                 "constraints": {"flops": [2000000, 12000000], "resolution": 32}, "model": {"classes": 10, "stem_width": 16},
                 "train": {"data": "digits", "epochs": 3, "batch": 32\(train)}}
                """).utf8).write(to: file)
            let r = try CLI.run(["sweep", "setup", file.path, "--out", out.path])
            #expect(r.status == 0, "\(r.err)")
            return r.out
        }
        let pycls = try setup("")
        let note = try #require(pycls.split(separator: "\n").first { $0.hasPrefix("note: in 2 of 2 models the EMA will still be up to ") },
                                "\(pycls)")
        let alpha = try #require(note.split(separator: " ").drop { $0 != "about" }.dropFirst().first.map(String.init))
        #expect(Double(alpha) != nil, "\(note)")
        #expect(!(try setup(", \"ema-alpha\": \(alpha)")).contains("note: "), "with the suggested rate")
    }

    func setup(_ file: URL, into dir: URL) throws {
        let r = try CLI.run(["sweep", "setup", file.path, "--out", dir.path])
        #expect(r.status == 0, "\(r.err)")
    }

    /// The errors of every model from `collect`'s results.csv, by name.
    func errors(_ dir: URL) throws -> [String: [String]] {
        let r = try CLI.run(["sweep", "collect", dir.path])
        #expect(r.status == 0, "\(r.err)")
        let lines = try String(contentsOf: dir.appendingPathComponent("results.csv"), encoding: .utf8).split(separator: "\n")
        let header = lines[0].split(separator: ",", omittingEmptySubsequences: false).map(String.init)
        let columns = ["error", "best_error", "epochs_done", "done"].map { header.firstIndex(of: $0)! }
        return Dictionary(uniqueKeysWithValues: lines.dropFirst().map { line in
            let cells = line.split(separator: ",", omittingEmptySubsequences: false).map(String.init)
            return (cells[0], columns.map { cells[$0] })
        })
    }

    /// Each model's log holds one configuration record and exactly one train and test record per epoch.
    /// Each finished model has one record per epoch, its final weights, and its checkpoints deleted
    /// (or, with `keptCheckpoints`, the last epoch's only: resume needs no other).
    func expectCleanLogs(_ dir: URL, models: Int, epochs: Int, keptCheckpoints: Bool = false) throws {
        for index in 0..<models {
            let logs = dir.appendingPathComponent(String(format: "logs/%06d", index))
            #expect(FileManager.default.fileExists(atPath: logs.appendingPathComponent("final.safetensors").path), "model \(index): final weights")
            let checkpoints = try? FileManager.default.contentsOfDirectory(atPath: logs.appendingPathComponent("checkpoints").path)
            #expect(checkpoints == (keptCheckpoints ? [String(format: "model_epoch_%04d.safetensors", epochs)] : nil),
                    "model \(index): checkpoints left \(checkpoints ?? [])")
            let log = dir.appendingPathComponent(String(format: "logs/%06d/stdout.log", index))
            let text = try String(contentsOf: log, encoding: .utf8)
            func epochsOf(_ type: String) -> [String] {
                text.split(separator: "\n").filter { $0.contains("\"_type\": \"\(type)\"") }.compactMap { line in
                    line.range(of: #""epoch": "[0-9]+/[0-9]+""#, options: .regularExpression).map { String(line[$0]) }
                }
            }
            #expect(text.components(separatedBy: "\"_type\": \"cfg\"").count == 2, "model \(index): one cfg record")
            let wanted = (1...epochs).map { "\"epoch\": \"\($0)/\(epochs)\"" }
            #expect(epochsOf("train_epoch") == wanted, "model \(index): train records \(epochsOf("train_epoch"))")
            #expect(epochsOf("test_epoch") == wanted, "model \(index): test records \(epochsOf("test_epoch"))")
        }
    }

    @Test func setupDrawsDistinctModelsAndWritesPyclsConfigs() throws {
        let (folder, file) = try makeSweep(count: 6, epochs: 1)
        defer { try? FileManager.default.removeItem(at: folder) }
        let dir = folder.appendingPathComponent("sweep")
        try setup(file, into: dir)
        let cfgs = try FileManager.default.contentsOfDirectory(atPath: dir.appendingPathComponent("cfgs").path).sorted()
        #expect(cfgs == (0..<6).flatMap { [String(format: "%06d.json", $0), String(format: "%06d.yaml", $0)] })
        let jobs = try cfgs.filter { $0.hasSuffix(".json") }.map { name in
            try JSONSerialization.jsonObject(with: Data(contentsOf: dir.appendingPathComponent("cfgs/\(name)"))) as! [String: Any]
        }
        let configurations = jobs.map { "\($0["configuration"]!)" }
        #expect(Set(configurations).count == 6, "duplicates were not removed")
        let yaml = try String(contentsOf: dir.appendingPathComponent("cfgs/000000.yaml"), encoding: .utf8)
        for key in ["MODEL:", "TYPE: regnet", "NUM_CLASSES: 4", "REGNET:", "DEPTH:", "W0:", "WA:", "WM:", "GROUP_W: 8", "OPTIM:", "WEIGHT_DECAY:"] {
            #expect(yaml.contains(key), "000000.yaml lacks \(key)")
        }
        // A second setup into the same directory is refused and leaves it as it was.
        let again = try CLI.run(["sweep", "setup", file.path, "--out", dir.path])
        #expect(again.status == 1 && again.err.contains("already holds files"))
        // Bad descriptions: clear errors, nothing written.
        let bad = folder.appendingPathComponent("bad.json"), out = folder.appendingPathComponent("never")
        for (text, message) in [(#"{"name": "x", "seed": 0, "samples": [], "train": {"data": "digits"}}"#, "samples is empty"),
                                (#"{"name": "x", "seed": 0, "samples": [{"space": "AnyNetXZ", "count": 2}], "train": {"data": "digits"}}"#, "unknown design space"),
                                (#"{"name": "x", "seed": 0, "samples": [{"space": "RegNetX", "count": 2}], "train": {"data": "digits", "out": "/tmp"}}"#, "set by the sweep"),
                                (#"{"name": "x", "seed": 0, "samples": [{"space": "RegNetX", "count": 2}], "train": {"data": "digits", "lr": -1}}"#, "--lr must be non-negative"),
                                (#"{"name": "x", "samples": [{"space": "RegNetX", "count": 2}], "train": {"data": "digits"}}"#, "missing 'seed'"),
                                ("not json", "not JSON")] {
            try Data(text.utf8).write(to: bad)
            let r = try CLI.run(["sweep", "setup", bad.path, "--out", out.path])
            #expect(r.status == 1 && r.err.contains(message), "\(text): \(r.err)")
            #expect(!FileManager.default.fileExists(atPath: out.path))
        }
    }

    @Test func concurrentShardsCoverTheSweepOnceAndMatchOneProcess() throws {
        let (folder, file) = try makeSweep(count: 4, epochs: 2)
        defer { try? FileManager.default.removeItem(at: folder) }
        let single = folder.appendingPathComponent("single"), sharded = folder.appendingPathComponent("sharded")
        try setup(file, into: single)
        try setup(file, into: sharded)
        let one = try CLI.run(["sweep", "run", single.path, "--threads", "1"])
        #expect(one.status == 0, "\(one.err)")
        // Two shard processes at once.
        let shards = try [0, 1].map { shard -> Process in
            let p = Process()
            p.executableURL = try CLI.executable()
            p.arguments = ["sweep", "run", sharded.path, "--shard", "\(shard)/2", "--threads", "1"]
            p.standardOutput = FileHandle.nullDevice
            p.standardError = FileHandle.nullDevice
            try p.run()
            return p
        }
        for p in shards { p.waitUntilExit(); #expect(p.terminationStatus == 0) }
        try expectCleanLogs(sharded, models: 4, epochs: 2)
        let expected = try errors(single), got = try errors(sharded)
        #expect(expected.count == 4 && got == expected)
        #expect(got.values.allSatisfy { $0[2] == "2" && $0[3] == "1" })
        // The analysis page: every chart inline and as a file, each a well-formed SVG.
        let analyze = try CLI.run(["sweep", "analyze", sharded.path, "--best", "2"])
        #expect(analyze.status == 0, "\(analyze.err)")
        let html = try String(contentsOf: sharded.appendingPathComponent("analysis.html"), encoding: .utf8)
        let files = try FileManager.default.contentsOfDirectory(atPath: sharded.appendingPathComponent("analysis").path).sorted()
        for file in ["edf.svg", "error_vs_depth.svg", "error_vs_flops.svg", "error_vs_weight-decay.svg", "curves_test.svg", "curves_train.svg"] {
            #expect(files.contains(file), "analysis/ lacks \(file)")
        }
        // Parameters that did not vary (group width 8 throughout, bottleneck ratio 1) get no chart.
        #expect(!files.contains("error_vs_group_width.svg") && !files.contains("error_vs_bottleneck_ratio.svg"), "\(files)")
        #expect(html.components(separatedBy: "<figure").count - 1 == files.count)
        #expect(!html.contains("src=\"http") && !html.contains("href=\"http"), "the page fetches something")
        for file in files {
            let svg = try Data(contentsOf: sharded.appendingPathComponent("analysis/\(file)"))
            #expect(XMLParser(data: svg).parse(), "\(file) is not well-formed")
        }
        let curves = try String(contentsOf: sharded.appendingPathComponent("analysis/curves_test.svg"), encoding: .utf8)
        #expect(curves.components(separatedBy: "<polyline class=\"curve\"").count - 1 == 2)
        // Done models are never trained again.
        let rerun = try CLI.run(["sweep", "run", sharded.path, "--threads", "1"])
        #expect(rerun.status == 0 && rerun.out.contains("0 of 4 models to train"), "\(rerun.out)")
    }

    @Test func killedRunResumesWithNothingLostOrDuplicated() throws {
        let (folder, file) = try makeSweep(count: 2, epochs: 3, images: 480)
        defer { try? FileManager.default.removeItem(at: folder) }
        let reference = folder.appendingPathComponent("reference"), killed = folder.appendingPathComponent("killed")
        try setup(file, into: reference)
        try setup(file, into: killed)
        let whole = try CLI.run(["sweep", "run", reference.path, "--threads", "1", "--keep-checkpoints"])
        #expect(whole.status == 0, "\(whole.err)")
        try expectCleanLogs(reference, models: 2, epochs: 3, keptCheckpoints: true)
        // Kill `sweep run` once model 0 has its first epoch checkpoint; its job stops at the next step.
        let p = Process()
        p.executableURL = try CLI.executable()
        p.arguments = ["sweep", "run", killed.path, "--threads", "1"]
        p.standardOutput = FileHandle.nullDevice
        p.standardError = FileHandle.nullDevice
        try p.run()
        let checkpoints = killed.appendingPathComponent("logs/000000/checkpoints").path
        let deadline = Date().addingTimeInterval(300)
        while Date() < deadline, p.isRunning, ((try? FileManager.default.contentsOfDirectory(atPath: checkpoints)) ?? []).isEmpty {
            usleep(20_000)
        }
        kill(p.processIdentifier, SIGKILL)
        p.waitUntilExit()
        // The orphaned job notices within a step; wait for its lock to be free.
        usleep(2_000_000)
        let partial = try errors(killed)
        #expect(partial.values.allSatisfy { $0[3] == "0" }, "the kill came after model 0 was done; nothing was tested")
        let resumed = try CLI.run(["sweep", "run", killed.path, "--threads", "1"])
        #expect(resumed.status == 0, "\(resumed.err)")
        try expectCleanLogs(killed, models: 2, epochs: 3)
        #expect(try errors(killed) == (try errors(reference)))
    }

    /// With an EMA, pycls's error is the EMA's; the page puts each group's own model errors beside it.
    @Test func analysisShowsTheModelsOwnErrorsBesideTheEMAs() throws {
        let (folder, file) = try makeSweep(count: 2, epochs: 1, emaAlpha: 0.01)
        defer { try? FileManager.default.removeItem(at: folder) }
        let dir = folder.appendingPathComponent("sweep")
        try setup(file, into: dir)
        #expect(try CLI.run(["sweep", "run", dir.path, "--threads", "1"]).status == 0)
        let analyze = try CLI.run(["sweep", "analyze", dir.path])
        #expect(analyze.status == 0, "\(analyze.err)")
        let html = try String(contentsOf: dir.appendingPathComponent("analysis.html"), encoding: .utf8)
        #expect(html.contains("<th>model's own: min</th><th>mean</th>") && html.contains("the EMA's lowest test error"))
        let row = try #require(html.split(separator: "\n").first { $0.hasPrefix("<tr><td>RegNetX</td>") })
        #expect(row.components(separatedBy: "<td>").count - 1 == 7, "\(row)")
    }

    @Test func slurmWritesAnArrayScriptOverShards() throws {
        let (folder, file) = try makeSweep(count: 2, epochs: 1)
        defer { try? FileManager.default.removeItem(at: folder) }
        let dir = folder.appendingPathComponent("sweep")
        try setup(file, into: dir)
        let r = try CLI.run(["sweep", "slurm", dir.path, "--array", "3", "--cpus-per-task", "2", "--partition", "debug", "--time", "01:00:00"])
        #expect(r.status == 0, "\(r.err)")
        let script = try String(contentsOf: dir.appendingPathComponent("slurm/sweep.sbatch"), encoding: .utf8)
        for line in ["#SBATCH --array=0-2", "#SBATCH --cpus-per-task=2", "#SBATCH --partition=debug", "#SBATCH --time=01:00:00",
                     "sweep run '\(dir.path)' --shard \"${SLURM_ARRAY_TASK_ID}/3\" --threads 2"] {
            #expect(script.contains(line), "sweep.sbatch lacks \(line)")
        }
        let wait = try CLI.run(["sweep", "slurm", dir.path, "--array", "3", "--wait"])
        #expect(wait.status == 2 && wait.err.contains("--wait goes with --submit"))
        let shard = try CLI.run(["sweep", "run", dir.path, "--shard", "2/2"])
        #expect(shard.status == 1 && shard.err.contains("0 <= I < N"))
    }

    @Test func collectReadsASweepPyclsMadeAndWritesPyclsSweepJSON() throws {
        // Written by pycls itself: its config dump, its trainer and logger, and expected.json from its
        // tools/sweep_collect.py and analysis (scripts/make_pycls_sweep_fixture.py).
        let fixture = try #require(Bundle.module.url(forResource: "Fixtures/pycls-sweep", withExtension: nil))
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("regnet-pycls-\(UUID().uuidString)")
        try FileManager.default.copyItem(at: fixture, to: dir)
        defer { try? FileManager.default.removeItem(at: dir) }
        let expected = try JSONSerialization.jsonObject(with: Data(contentsOf: dir.appendingPathComponent("expected.json"))) as! [String: Any]
        let r = try CLI.run(["sweep", "collect", dir.path])
        #expect(r.status == 0, "\(r.err)")
        #expect(r.out.contains(expected["status"] as! String), "\(r.out)")
        // Beside pycls's error (the EMA's), the models' own; pycls's EMA rate barely moved in these short
        // runs, and collect says so.
        #expect(r.out.contains("RegNet: n 1, min error 90.00%, mean 90.00%; the models' own best: min 33.00%"), "\(r.out)")
        #expect(r.out.contains("note: 2 of 2 models' error (pycls's rule: the EMA's) is more than 10 points above"), "\(r.out)")
        let got = try errors(dir)
        let wanted = expected["errors"] as! [String: Double]
        #expect(got.count == wanted.count)
        for (id, error) in wanted {
            let row = got.first { $0.key.hasSuffix(id) }
            #expect(row.map { Double($0.value[0]) } == error, "\(id): \(String(describing: row))")
        }
        #expect(got["RegNet-000000"]?[3] == "1" && got["AnyNet-000001"]?[3] == "0")
        // Our sweep.json is pycls's: per started model, metrics over epochs with epoch_ind and epoch_max.
        let sweep = try JSONSerialization.jsonObject(with: Data(contentsOf: dir.appendingPathComponent("sweep.json"))) as! [[String: Any]]
        #expect(sweep.count == 2)
        let test = sweep[0]["test_epoch"] as? [String: Any]
        #expect(test?["epoch_ind"] as? [Int] == [1, 2] && test?["epoch_max"] as? [Int] == [2, 2])
        #expect((sweep[0]["cfg"] as? [String: Any])?["REGNET"] != nil && sweep[0]["err"] as? String == "")
        let analyze = try CLI.run(["sweep", "analyze", dir.path])
        #expect(analyze.status == 0, "\(analyze.err)")
    }
}
