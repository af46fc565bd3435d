import Foundation
import RegNet
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// `regnet sweep`: the paper's experiment as pycls runs it — set up a sweep of sampled models, train
/// them (here, J at a time, or as disjoint shards on a Slurm cluster), collect their errors.
enum SweepCommand {
    static let usage = """
    usage: regnet sweep setup SWEEP.json --out DIR
           regnet sweep run DIR [--jobs J] [--threads T] [--shard I/N] [--keep-checkpoints]
           regnet sweep slurm DIR --array N [--cpus-per-task C] [--partition P] [--time T] [--keep-checkpoints]
                              [--submit [--wait]]
           regnet sweep collect DIR
           regnet sweep analyze DIR [--by FIELD] [--best K]

    setup    draws the sweep's models (seeded; duplicates removed, as pycls's sweep_setup) and writes
             DIR/sweep_cfg.json, DIR/cfgs/NNNNNN.json (the job) and DIR/cfgs/NNNNNN.yaml (pycls's config keys).
    run      trains every model of the sweep (or of shard I of N: models with index mod N = I) that is
             not done, J at a time (default 1) with T threads each (default: active processors / J).
             Each model trains in its own process into DIR/logs/NNNNNN (pycls's stdout.log, stderr.log,
             the last epoch's checkpoint, final.safetensors) and marks itself done last, atomically;
             a finished model's checkpoint is then deleted (--keep-checkpoints keeps it). Killing
             `sweep run` stops its jobs within a step; running it again resumes them from their last
             epoch checkpoint and never retrains a finished model. A model being trained by another
             process is left to it.
    slurm    writes DIR/slurm/sweep.sbatch, an array job of N tasks whose task I runs
             `regnet sweep run DIR --shard I/N`; --submit hands it to sbatch (--wait: until it ends).
    collect  writes DIR/results.csv (one row per model with a test error; `regnet edf` reads it; error
             is pycls's: the lowest test top-1 error of the EMA, or of the model without one) and
             DIR/results.json (with per-epoch curves), and prints pycls's status counts.
    analyze  collects, then writes DIR/analysis.html (self-contained: inline SVG, nothing fetched) and
             DIR/analysis/*.svg: error EDFs per group (--by, default space) with KS distances, error
             against every sampled parameter that varied, each stage's depth, width, bottleneck and
             group width (d1, w1, b1, g1, …) and flops/params/acts with each group's bootstrap good
             range shaded and labelled, and the training and test curves of the best K runs (default 3).

    The sweep file is JSON: name, seed, samples (space, count, optional RegNet ranges), constraints
    (flops/params/acts windows, resolution), model (classes, stem_width), train (`regnet train`
    options without dashes, data required) and samplers (log-uniform recipe fields). See Examples/Sweeps.
    """

    static func run(_ args: inout Arguments) throws {
        guard let verb = args.positional() else { throw UsageError("name a step: setup, run, slurm, collect or analyze") }
        switch verb {
        case "setup": try setup(&args)
        case "run": try runJobs(&args)
        case "job": try job(&args)
        case "slurm": try slurm(&args)
        case "collect": try collect(&args)
        case "analyze": try analyze(&args)
        default: throw UsageError("unknown sweep step '\(verb)' (setup, run, slurm, collect or analyze)")
        }
    }

    /// The sweep directory named by the next positional argument.
    static func directory(_ args: inout Arguments) throws -> SweepDirectory {
        guard let path = args.positional() else { throw UsageError("name the sweep directory") }
        return SweepDirectory(URL(fileURLWithPath: path).standardizedFileURL)
    }

    static func setup(_ args: inout Arguments) throws {
        guard let out = try args.option("--out") else { throw UsageError("--out DIR is required") }
        guard let path = args.positional() else { throw UsageError("name the sweep file") }
        try args.finish()
        let description = try sweepError { () throws(SweepError) in try SweepDescription.read(contentsOf: URL(fileURLWithPath: path)) }
        // The recipe must be one `regnet train` accepts, and every sampler must draw one of its
        // numeric options, before anything is drawn.
        let trainOptions = Arguments.optionNames(in: TrainCommand.usage)
        for key in (description.samplers ?? [:]).keys.sorted() {
            guard trainOptions.contains("--" + key), !SweepDescription.reservedOptions.contains(key) else {
                let hint = closest(to: "--" + key, among: trainOptions).map { " (did you mean '\($0.dropFirst(2))'?)" } ?? ""
                throw RuntimeError("\(path): samplers: '\(key)' is not a `regnet train` option a sweep can draw\(hint)")
            }
        }
        do { _ = try jobOptions(description.train) } catch let error as UsageError { throw RuntimeError("\(path): train: \(error)") }
        var lastReport = Date()
        let jobs = try sweepError { () throws(SweepError) in
            try description.jobs { space, accepted, draws in
                guard Date().timeIntervalSince(lastReport) >= 2 else { return }
                lastReport = Date()
                printError("drawing \(space): \(accepted) models kept after \(draws) draws")
            }
        }
        // Each model as its job will train it: options (drawn values included), data, network, loaders.
        var opened: [String: (train: any ImageDataset, test: any ImageDataset)] = [:]
        var lagging: [EMAReach] = []   // jobs whose EMA will still hold much of its starting weights
        for job in jobs {
            do {
                let options = try jobOptions(job.train)
                let key = "\(options.data.train)|\(options.data.test.map(\.description) ?? "")"
                if opened[key] == nil { opened[key] = try options.data.open() }
                let network: Network
                do { network = try job.configuration.network(name: job.name) } catch { throw RuntimeError("\(error)") }
                let setup = try TrainCommand.Setup(network, options, datasets: opened[key])
                if let reach = options.recipe.emaReach(batch: options.batch, iterationsPerEpoch: setup.trainLoader.batchesPerEpoch), reach.lags {
                    lagging.append(reach)
                }
            } catch {
                let reason = "\(error)".replacingOccurrences(of: "use --classes", with: "set model.classes to")
                throw RuntimeError("\(path): model \(job.id) (\(job.name)) cannot train: \(reason)")
            }
        }
        let sweep = try sweepError { () throws(SweepError) in
            try SweepDirectory.create(at: URL(fileURLWithPath: out).standardizedFileURL, description: description, jobs: jobs)
        }
        let spaces = Dictionary(grouping: jobs, by: \.space).map { "\($0.value.count) \($0.key)" }.sorted()
        print("\(description.name): \(jobs.count) models (\(spaces.joined(separator: ", "))) in \(sweep.url.path)")
        if let worst = lagging.max(by: { $0.startingShare < $1.startingShare }) {
            print(String(format: "note: in %d of %d models the EMA will still be up to %.0f%% the weights it starts from when training ends, "
                         + "and pycls's rule reports the EMA's error: set train's \"ema-alpha\" to about %.3g for these runs "
                         + "(pycls's 1e-5 suits ImageNet-length runs)", lagging.count, jobs.count, worst.startingShare * 100, worst.suggestedAlpha))
        }
    }

    /// The `regnet train` options a job with `train` passes (its network aside), checked as `train` checks them.
    static func jobOptions(_ train: [String: SweepDescription.OptionValue]) throws -> TrainCommand.Options {
        var args = Arguments(SweepJob.arguments(train))
        try args.rejectUnknownOptions(Arguments.optionNames(in: TrainCommand.usage))
        let options = try TrainCommand.Options(&args)
        try args.finish()
        return options
    }

    static func runJobs(_ args: inout Arguments) throws {
        let parallel = try args.int("--jobs", range: 1...256) ?? 1
        let threads = try args.int("--threads", range: 1...CompiledModel.maxThreads)
            ?? max(1, min(CompiledModel.maxThreads, ProcessInfo.processInfo.activeProcessorCount / parallel))
        let shardText = try args.option("--shard")
        let shard = try shardText.map { text in try sweepError { () throws(SweepError) in try SweepShard(parsing: text) } } ?? .all
        let keepCheckpoints = args.flag("--keep-checkpoints")
        let sweep = try directory(&args)
        try args.finish()
        let jobs = try sweepError { () throws(SweepError) in _ = try sweep.description(); return try sweep.jobs() }
        let mine = jobs.filter { shard.contains($0.index) }
        let pending = mine.filter { !sweep.isDone($0.index) }
        say("\(pending.count) of \(mine.count) models to train (shard \(shard.index)/\(shard.count)), \(parallel) at a time, \(threads) threads each")
        guard let executable = Bundle.main.executableURL else { throw RuntimeError("cannot find the regnet executable to start jobs") }
        var queue = pending[...]
        var running: [(job: SweepJob, process: Process)] = []
        var failed: [String] = [], busy: [String] = []
        while !queue.isEmpty || !running.isEmpty {
            while running.count < parallel, let job = queue.popFirst() {
                let process = Process()
                process.executableURL = executable
                process.arguments = ["sweep", "job", sweep.url.path, String(job.index), "--threads", String(threads)]
                    + (keepCheckpoints ? ["--keep-checkpoints"] : [])
                var environment = ProcessInfo.processInfo.environment
                environment["REGNET_SWEEP_PARENT"] = String(getpid())
                process.environment = environment
                let logs = sweep.logDirectory(job.index)
                try FileManager.default.createDirectory(at: logs, withIntermediateDirectories: true)
                let stderrURL = logs.appendingPathComponent("stderr.log")
                if !FileManager.default.fileExists(atPath: stderrURL.path) { _ = FileManager.default.createFile(atPath: stderrURL.path, contents: nil) }
                let stderrHandle = try FileHandle(forWritingTo: stderrURL)
                _ = try stderrHandle.seekToEnd()
                process.standardError = stderrHandle
                process.standardOutput = FileHandle.nullDevice
                try process.run()
                try? stderrHandle.close()
                say("started \(job.id) \(job.name)")
                running.append((job, process))
            }
            Thread.sleep(forTimeInterval: 0.1)
            for (job, process) in running where !process.isRunning {
                switch process.terminationStatus {
                case 0 where sweep.isDone(job.index): say("done \(job.id) \(job.name)")
                case SweepCommand.busyStatus: busy.append(job.id); say("\(job.id) is being trained by another process; left to it")
                default:
                    failed.append(job.id)
                    say("failed \(job.id) \(job.name) (exit \(process.terminationStatus)); see \(sweep.logDirectory(job.index).path)/stderr.log")
                }
            }
            running.removeAll { !$0.process.isRunning }
        }
        let done = mine.filter { sweep.isDone($0.index) }.count
        say("\(done) of \(mine.count) models of shard \(shard.index)/\(shard.count) done"
            + (busy.isEmpty ? "" : "; \(busy.count) being trained by other processes (\(busy.joined(separator: ", ")))"))
        if !failed.isEmpty { throw RuntimeError("\(failed.count) models failed: \(failed.joined(separator: ", "))") }
    }

    /// Exit status of a job whose model another process holds.
    static let busyStatus: Int32 = 75

    /// One model, in its own process (started by `sweep run`).
    static func job(_ args: inout Arguments) throws {
        let threads = try args.int("--threads", range: 1...CompiledModel.maxThreads)
        let keepCheckpoints = args.flag("--keep-checkpoints")
        let sweep = try directory(&args)
        guard let text = args.positional(), let index = Int(text) else { throw UsageError("name the model index") }
        try args.finish()
        let jobs = try sweepError { () throws(SweepError) in try sweep.jobs() }
        guard jobs.indices.contains(index) else { throw UsageError("the sweep has models 0..<\(jobs.count) (got \(index))") }
        let job = jobs[index], logs = sweep.logDirectory(index)
        guard !sweep.isDone(index) else { return }
        try FileManager.default.createDirectory(at: logs, withIntermediateDirectories: true)
        // One process per model: the run directory's lock, held until this process ends, however it
        // ends (the run inside takes it again; the same process may).
        let lock: RunDirectoryLock?
        do { lock = try RunDirectoryLock.acquire(logs) } catch { throw RuntimeError(error.message) }
        guard let lock else { exit(busyStatus) }
        defer { withExtendedLifetime(lock) {} }
        guard !sweep.isDone(index) else { return }
        let start = Date()
        // Resume needs the last checkpoint only (a digits sweep kept 877 MB with three per model).
        var words = job.trainArguments + ["--out", logs.path, "--resume", "--quiet", "--keep", "1"]
        if let threads { words += ["--threads", String(threads)] }
        var trainArgs = Arguments(words)
        let options = try TrainCommand.Options(&trainArgs)
        try trainArgs.finish()
        let network: Network
        do { network = try job.configuration.network(name: job.name) } catch { throw RuntimeError("\(job.id): \(error)") }
        // Started by `sweep run`: stop as soon as it is gone (the last checkpoint stays for the next run).
        let parent = ProcessInfo.processInfo.environment["REGNET_SWEEP_PARENT"].flatMap { pid_t($0) }
        try TrainCommand.train(network, options, modelConfiguration: job.pyclsModelSections) {
            if let parent, getppid() != parent { exit(3) }
        }
        try sweepError { () throws(SweepError) in try sweep.markDone(index, record: ["seconds": Date().timeIntervalSince(start)]) }
        // Done (marked first, so a crash here never costs the model): nothing will resume from it.
        if !keepCheckpoints { try? FileManager.default.removeItem(at: logs.appendingPathComponent("checkpoints")) }
    }

    static func slurm(_ args: inout Arguments) throws {
        guard let tasks = try args.int("--array", range: 1...100_000) else { throw UsageError("--array N (the number of tasks) is required") }
        let cpus = try args.int("--cpus-per-task", range: 1...CompiledModel.maxThreads) ?? 2
        let partition = try args.option("--partition"), time = try args.option("--time")
        let submit = args.flag("--submit"), wait = args.flag("--wait"), keepCheckpoints = args.flag("--keep-checkpoints")
        let sweep = try directory(&args)
        try args.finish()
        if wait && !submit { throw UsageError("--wait goes with --submit") }
        let description = try sweepError { () throws(SweepError) in try sweep.description() }
        guard let executable = Bundle.main.executableURL else { throw RuntimeError("cannot find the regnet executable for the job script") }
        for value in [partition, time].compactMap({ $0 }) where value.contains(where: { $0.isWhitespace || $0 == "'" }) {
            throw UsageError("'\(value)' holds spaces or quotes")
        }
        let slurmDir = sweep.url.appendingPathComponent("slurm")
        // sbatch reads a directive's value up to white space unless it is in double quotes, and
        // expands %-patterns in file names (%% is a literal %); nothing can carry a double quote or a
        // line break there.
        guard !slurmDir.path.contains(where: { $0 == "\"" || $0.isNewline }) else {
            throw RuntimeError("\(sweep.url.path): a sweep directory whose path holds a double quote or a line break cannot be named in an sbatch script")
        }
        let outputs = "\"" + slurmDir.path.replacingOccurrences(of: "%", with: "%%") + "/task-%a"
        try FileManager.default.createDirectory(at: slurmDir, withIntermediateDirectories: true)
        var lines = ["#!/bin/bash", "#SBATCH --job-name=regnet-\(description.name)", "#SBATCH --array=0-\(tasks - 1)",
                     "#SBATCH --cpus-per-task=\(cpus)", "#SBATCH --ntasks=1",
                     "#SBATCH --output=\(outputs).out\"", "#SBATCH --error=\(outputs).err\""]
        if let partition { lines.append("#SBATCH --partition=\(partition)") }
        if let time { lines.append("#SBATCH --time=\(time)") }
        lines.append("exec \(shellQuoted(executable.path)) sweep run \(shellQuoted(sweep.url.path)) --shard \"${SLURM_ARRAY_TASK_ID}/\(tasks)\" --threads \(cpus)"
                     + (keepCheckpoints ? " --keep-checkpoints" : ""))
        let script = slurmDir.appendingPathComponent("sweep.sbatch")
        do { try writeAtomically(Data((lines.joined(separator: "\n") + "\n").utf8), to: script) } catch { throw RuntimeError(error.description) }
        print("wrote \(script.path)")
        guard submit else { return }
        fflush(nil)   // our lines before sbatch's
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["sbatch"] + (wait ? ["--wait"] : []) + [script.path]
        do { try process.run() } catch { throw RuntimeError("cannot run sbatch: \(error.localizedDescription)") }
        process.waitUntilExit()
        guard process.terminationStatus == 0 else { throw RuntimeError("sbatch exited with status \(process.terminationStatus)") }
    }

    static func collect(_ args: inout Arguments) throws {
        let sweep = try directory(&args)
        try args.finish()
        let collection = try sweepError { () throws(SweepError) in
            let collection = try SweepCollection(sweep)
            try collection.write(to: sweep)
            return collection
        }
        warnAboutUnreadableRecords(collection)
        let withError = collection.results.filter { $0.error != nil }
        func mean(_ values: [Double]) -> Double { values.reduce(0, +) / Double(values.count) }
        for (space, results) in Dictionary(grouping: withError, by: \.space).sorted(by: { $0.key < $1.key }) {
            let errors = results.compactMap(\.error), own = results.compactMap(\.bestError)
            print(String(format: "%@: n %d, min error %.2f%%, mean %.2f%%", space, errors.count, errors.min()!, mean(errors))
                  + (own.isEmpty ? "" : String(format: "; the models' own best: min %.2f%%, mean %.2f%%", own.min()!, mean(own))))
        }
        // pycls's rule takes the EMA's error when there is one; on short runs with pycls's EMA rate the EMA
        // barely moves and that error says little about the models.
        let lagging = withError.filter { r in r.emaError != nil && r.bestError.map { r.error! > $0 + 10 } == true }
        if !lagging.isEmpty {
            print("note: \(lagging.count) of \(withError.count) models' error (pycls's rule: the EMA's) is more than 10 points above "
                  + "the model's own best; the EMA rate is too small for runs this short (regnet train says which --ema-alpha would suit)")
        }
        print(collection.statusLine)
        print("wrote \(sweep.url.path)/results.csv (\(withError.count) models) and results.json")
    }

    static func analyze(_ args: inout Arguments) throws {
        let by = try args.option("--by") ?? "space"
        let best = try args.int("--best", range: 1...100) ?? 3
        let sweep = try directory(&args)
        try args.finish()
        let (collection, analysis) = try sweepError { () throws(SweepError) in
            let collection = try SweepCollection(sweep)
            try collection.write(to: sweep)
            let analysis = try SweepAnalysis(collection, name: sweep.name(), groupBy: by, best: best)
            try analysis.write(to: sweep)
            return (collection, analysis)
        }
        warnAboutUnreadableRecords(collection)
        print("wrote \(sweep.url.path)/analysis.html and \(analysis.charts.count) charts in \(sweep.url.path)/analysis/")
    }

    /// `text` as one word for the shell, whatever it holds: in single quotes, each of its own single
    /// quotes written as '\''.
    static func shellQuoted(_ text: String) -> String { "'" + text.replacingOccurrences(of: "'", with: "'\\''") + "'" }

    /// One warning per log record a collection left out (the results come from the rest).
    static func warnAboutUnreadableRecords(_ collection: SweepCollection) {
        for problem in collection.results.flatMap(\.problems) { printError("warning: \(problem); left out") }
    }

    /// Prints `line` at once (a sweep's progress is read from logs while it runs).
    static func say(_ line: String) {
        print(line)
        fflush(nil)
    }

    /// Runs `body`, turning a sweep error into a runtime error.
    static func sweepError<T>(_ body: () throws(SweepError) -> T) throws -> T {
        do { return try body() } catch { throw RuntimeError(error.message) }
    }
}
