import Data
import Executor
import Foundation
import NetworkIR
import Weights

/// pycls's `train_model` loop around a `Trainer`: per epoch, train on every batch of the training
/// loader (the rate set at the epoch's start), precise batch-norm statistics for the model and its
/// EMA, evaluation of both on the test loader, a checkpoint; pycls's `json_stats` records in
/// `stdout.log`; resuming from the last checkpoint of the output directory.
public final class TrainingRun {
    /// Where and how often a run writes.
    public struct Output: Sendable {
        /// The run's directory: `run.json`, `stdout.log`, `checkpoints/`, `final.safetensors` (the weights
    /// when the run stops); nil writes nothing.
        public var directory: URL?
        /// Checkpoints kept (the newest; older ones are deleted once a newer one is written).
        public var keepCheckpoints = 3
        /// Written into the metadata of every weights file of the run (checkpoints and the final
        /// weights): what the caller wants the files to say, such as how to declare the network again.
        public var metadata: [String: String] = [:]
        /// A directory with no output (nothing written).
        public init(directory: URL? = nil, keepCheckpoints: Int = 3, metadata: [String: String] = [:]) {
            self.directory = directory
            self.keepCheckpoints = keepCheckpoints
            self.metadata = metadata
        }
    }

    /// What the caller is told as the run goes.
    public enum Event: Sendable {
        /// After each step: epoch (0-based), iteration, iterations per epoch, the step's result, images/s so far.
        case step(epoch: Int, iteration: Int, of: Int, result: Trainer.StepResult, imagesPerSecond: Double, eta: Double)
        /// A finished epoch, typed: its training metrics and the evaluations of the model and its EMA.
        case epoch(EpochReport)
        /// A checkpoint was written (before the epoch's evaluation, as pycls writes them).
        case checkpoint(URL)
        /// A pycls `json_stats` record as logged (`train_epoch`, `test_epoch`, `test_ema_epoch`): the same
        /// numbers as `.epoch`, keyed as pycls's log readers expect.
        case record(type: String, values: [String: StatsLog.Value])
        /// Information worth a line (resuming, skipped images).
        case note(String)
    }

    /// What one epoch's training measured over its batches (the `train_epoch` record's numbers).
    public struct TrainingMetrics: Sendable, Hashable {
        /// Mean loss, and top-1/top-5 errors in percent, over the epoch's images (as trained: mixed, augmented).
        public var loss: Double, top1Error: Double, top5Error: Double
        /// The learning rate of the epoch.
        public var learningRate: Double
        /// Seconds the epoch's steps took.
        public var seconds: Double
    }

    /// A finished epoch (`Event.epoch`).
    public struct EpochReport: Sendable, CustomStringConvertible {
        /// The epoch, from 1, of `epochs`.
        public var epoch: Int, epochs: Int
        /// The training metrics; nil for an epoch trained before a resume and only evaluated again.
        public var training: TrainingMetrics?
        /// The evaluation of the model and of its EMA on the test data (nil without test data or EMA).
        public var test: LoaderEvaluation?, emaTest: LoaderEvaluation?

        /// `epoch 3/10: loss 0.4521, train top-1 12.30%; test top-1 4.71% (EMA 5.05%)`.
        public var description: String {
            var parts: [String] = []
            if let t = training { parts.append(String(format: "loss %.4f, train top-1 %.2f%%", t.loss, t.top1Error)) }
            if let test { parts.append(String(format: "test top-1 %.2f%%", test.top1Error) + (emaTest.map { String(format: " (EMA %.2f%%)", $0.top1Error) } ?? "")) }
            return "epoch \(epoch)/\(epochs)" + (parts.isEmpty ? "" : ": " + parts.joined(separator: "; "))
        }
    }

    /// The trainer the run drives.
    public let trainer: Trainer
    /// Training batches (shuffled, augmented).
    public let trainLoader: BatchLoader
    /// Test batches, evaluated after each epoch.
    public let testLoader: BatchLoader?
    /// Where the run writes.
    public let output: Output
    /// Stop after this many steps in all (nil: the recipe's epochs).
    public let maxSteps: Int?
    /// Extra records for the `cfg` line (the command line, the data).
    public let configuration: [String: StatsLog.Value]
    private var bestTop1 = 100.0, bestTop5 = 100.0, bestEMATop1 = 100.0, bestEMATop5 = 100.0

    /// A run of `trainer` on `trainLoader`, evaluated on `testLoader` after each epoch.
    public init(trainer: Trainer, trainLoader: BatchLoader, testLoader: BatchLoader?, output: Output = Output(),
                maxSteps: Int? = nil, configuration: [String: StatsLog.Value] = [:]) throws(TrainingError) {
        guard trainLoader.batchSize == trainer.batch else {
            throw TrainingError(.invalidArgument, "the training loader's batch (\(trainLoader.batchSize)) differs from the trainer's (\(trainer.batch))")
        }
        let classes = trainer.graph.outputShape.channels
        for (loader, role) in [(trainLoader, "training"), (testLoader, "test")] {
            guard let loader else { continue }
            guard loader.dataset.classes <= classes else {
                throw TrainingError(.invalidArgument, "the \(role) data (\(loader.dataset.name)) has \(loader.dataset.classes) classes but the network has \(classes) outputs; declare it with --classes \(loader.dataset.classes)")
            }
            let input = trainer.graph.inputShape
            guard loader.transform.height == input.height, loader.transform.width == input.width else {
                throw TrainingError(.invalidArgument, "the \(role) data gives \(loader.transform.height)x\(loader.transform.width) inputs; the network takes \(input.height)x\(input.width)")
            }
        }
        self.trainer = trainer
        self.trainLoader = trainLoader
        self.testLoader = testLoader
        self.output = output
        self.maxSteps = maxSteps
        self.configuration = configuration
    }

    /// The output directory while `run` goes (nil without one).
    private var directory: RunDirectory?

    /// The newest checkpoint in the output directory, if any.
    public func latestCheckpoint() -> URL? {
        guard let url = output.directory else { return nil }
        let folder = url.appendingPathComponent("checkpoints")
        let names = (try? FileManager.default.contentsOfDirectory(atPath: folder.path)) ?? []
        return names.compactMap { name -> (Int, String)? in
            guard name.hasPrefix("model_epoch_"), name.hasSuffix(".safetensors"),
                  let epoch = Int(name.dropFirst("model_epoch_".count).dropLast(".safetensors".count)) else { return nil }
            return (epoch, name)
        }.max { $0.0 < $1.0 }.map { folder.appendingPathComponent($0.1) }
    }

    /// Runs every epoch not yet done. The output directory, when there is one, belongs to this run
    /// alone: it is locked while the run goes, and one holding another run's records is refused.
    /// With `resume`, the newest checkpoint there is restored first — only when it was written by this
    /// same run (network, batch, seed, recipe and data; the differences are named otherwise) — and,
    /// since a checkpoint is written before its epoch's evaluation (pycls's order), that evaluation
    /// runs again. Everything the run needs is checked before its first step, the evaluation's memory
    /// included. Returns the last test evaluation (nil without test data).
    @discardableResult
    public func run(resume: Bool = false, events: (Event) -> Void = { _ in }) throws(TrainingError) -> LoaderEvaluation? {
        directory = try output.directory.map { url throws(TrainingError) in try RunDirectory(url) }
        defer { directory = nil }
        let identity = RunIdentity(trainer: trainer, trainLoader: trainLoader, testLoader: testLoader)
        let latest = resume ? directory?.checkpoints().last?.url : nil
        if let directory, latest == nil {
            let records = directory.records()
            if !records.isEmpty {
                guard resume else {
                    throw TrainingError(.fileAccess(path: directory.url.path), "\(directory.url.path) holds a run's records (\(records.joined(separator: ", "))); continue that run with --resume, or choose a new directory")
                }
                // Started, stopped before its first checkpoint: only that same run may start it over.
                guard let recorded = try directory.recordedIdentity() else {
                    throw TrainingError(.fileAccess(path: directory.url.path), "\(directory.url.path) holds \(records.joined(separator: ", ")) but no run.json saying which run wrote them; choose a new directory")
                }
                try checkSameRun(identity, recorded, directory.url.path)
            }
        }
        try checkEvaluationMemory()
        let iterations = trainLoader.batchesPerEpoch
        var firstEpoch = 0, firstBatch = 0, evaluateFirst: Int?
        if let latest {
            (firstEpoch, firstBatch) = try restore(from: latest, identity: identity)
            if firstBatch == 0 { evaluateFirst = firstEpoch - 1 }
            let epochs = trainer.recipe.epochs
            events(.note("resumed from \(latest.lastPathComponent): " + (firstEpoch >= epochs
                ? "all \(epochs) epochs are trained; nothing left to train (the last epoch is evaluated again)"
                : "epoch \(firstEpoch + 1) of \(epochs)" + (firstBatch > 0 ? ", from batch \(firstBatch + 1)" : "") + " next")))
        } else {
            try directory?.truncateLog(to: 0)
            try directory?.record(identity)
            try log(StatsLog.line("cfg", configuration))
            let cx = trainer.graph.complexity
            try log(StatsLog.line("complexity", ["flops": .integer(cx.flops), "params": .integer(cx.params), "acts": .integer(cx.acts)]))
        }
        let epochs = trainer.recipe.epochs
        var last: LoaderEvaluation?
        do {
            if let epoch = evaluateFirst {
                let (test, ema) = try evaluate(epoch, of: epochs, events: events)
                last = test
                events(.epoch(EpochReport(epoch: epoch + 1, epochs: epochs, training: nil, test: test, emaTest: ema)))
            }
            for epoch in firstEpoch..<max(firstEpoch, epochs) {
                if let maxSteps, trainer.totalSteps >= maxSteps { break }
                let training = try trainEpoch(epoch, of: epochs, iterations: iterations, from: epoch == firstEpoch ? firstBatch : 0, events: events)
                // Stopped by --steps inside the epoch: keep its position for --resume, skip the epoch's end.
                if trainer.iteration < iterations {
                    try checkpoint(epoch: epoch, events: events)
                    break
                }
                if trainer.recipe.preciseBatchNorm { try preciseStatistics(epoch: epoch) }
                try checkpoint(epoch: epoch, events: events)
                let (test, ema) = try evaluate(epoch, of: epochs, events: events)
                last = test ?? last
                events(.epoch(EpochReport(epoch: epoch + 1, epochs: epochs, training: training, test: test, emaTest: ema)))
            }
            try directory?.writeFinal(trainer.weights, metadata: output.metadata)
        } catch {
            guard case .nonFinite = error.kind else { throw error }
            let kept = directory?.checkpoints().last.map { "the last checkpoint, \($0.url.path) (epoch \($0.epoch)), is kept" } ?? "no checkpoint was written"
            throw TrainingError(error.kind, "the training diverged: \(error.message); \(kept)")
        }
        return last
    }

    /// Throws, naming each difference, unless `identity` is `recorded` (the run that wrote `path`).
    private func checkSameRun(_ identity: RunIdentity, _ recorded: RunIdentity, _ path: String) throws(TrainingError) {
        let differences = identity.differences(from: recorded)
        guard differences.isEmpty else {
            throw TrainingError(.checkpoint(path: path), "\(path) holds another run (\(differences.joined(separator: "; "))); resume it with its own settings, or choose a new directory")
        }
    }

    /// Restores the checkpoint at `url` (written by this run, checked) and the run's bests and log
    /// position with it; returns the epoch and batch to continue from.
    private func restore(from url: URL, identity: RunIdentity) throws(TrainingError) -> (epoch: Int, batch: Int) {
        func damaged(_ why: String) -> TrainingError { TrainingError(.checkpoint(path: url.path), "\(url.path) is damaged: \(why)") }
        let recorded: [String: String]
        do { recorded = try SafeTensors.metadata(contentsOf: url) } catch { throw TrainingError(.checkpoint(path: url.path), "\(url.path): \(error.message)") }
        if let text = recorded[Self.identityKey] {
            guard let run = RunIdentity(json: text) else { throw damaged("its run record cannot be read") }
            try checkSameRun(identity, run, directory?.url.path ?? url.path)
        }
        let metadata = try trainer.restore(from: url)
        guard trainer.iterationsPerEpoch == trainLoader.batchesPerEpoch else {
            throw TrainingError(.checkpoint(path: url.path), "\(url.path) was written with \(trainer.iterationsPerEpoch) batches per epoch, the data now gives \(trainLoader.batchesPerEpoch); resume with the same data")
        }
        for (key, value) in [("best_top1", \TrainingRun.bestTop1), ("best_top5", \.bestTop5), ("best_ema_top1", \.bestEMATop1), ("best_ema_top5", \.bestEMATop5)] {
            guard let text = metadata["regnet.\(key)"] else { continue }
            guard let v = Double(text), (0...100).contains(v) else { throw damaged("its \(key) '\(text)' is not an error in 0...100") }
            self[keyPath: value] = v
        }
        // Records written after the checkpoint (the epoch's evaluation, an epoch cut short) are written again as it reruns.
        if let directory, let text = metadata["regnet.log_bytes"] {
            let size = try directory.logSize()
            guard let bytes = Int(text), (1...size).contains(bytes), try directory.logHasLineBreak(before: bytes) else {
                throw damaged("its log position '\(text)' is not the end of a record in \(directory.logURL.path) (\(size) bytes)")
            }
            try directory.truncateLog(to: bytes)
        }
        return trainer.iteration < trainer.iterationsPerEpoch ? (trainer.epoch, trainer.iteration) : (trainer.epoch + 1, 0)
    }

    /// Metadata key of the run's identity in its checkpoints.
    static let identityKey = "regnet.run"

    /// Compiles the evaluation's models for the test loader's batch sizes once, so a run that could
    /// not evaluate (memory) fails before its first step rather than after its first epoch.
    private func checkEvaluationMemory() throws(TrainingError) {
        guard let testLoader else { return }
        let count = testLoader.dataset.count, size = min(testLoader.batchSize, count)
        for batch in Set([size, count % size].filter { $0 > 0 }) {
            do throws(ExecutorError) {
                _ = try CompiledModel(graph: trainer.graph, weights: trainer.weights, batch: batch, threads: trainer.threads, kernels: trainer.kernels)
            } catch {
                throw TrainingError(error.kind == .tooLarge ? .tooLarge : .invalidNetwork, "the evaluation after each epoch cannot run: \(error.message)")
            }
        }
    }

    /// The test evaluations of the model and its EMA after epoch `epoch` (nil without test data or EMA).
    private func evaluate(_ epoch: Int, of epochs: Int, events: (Event) -> Void) throws(TrainingError) -> (LoaderEvaluation?, LoaderEvaluation?) {
        guard let testLoader else { return (nil, nil) }
        let result = try test(testLoader, epoch: epoch, of: epochs, ema: false, events: events)
        let ema = trainer.emaWeights == nil ? nil : try test(testLoader, epoch: epoch, of: epochs, ema: true, events: events)
        return (result, ema)
    }

    /// Trains epoch `epoch` from batch `first` (0, or where a stopped run left off; the trainer's own
    /// position is then the restored one); returns its metrics when it completes.
    @discardableResult
    func trainEpoch(_ epoch: Int, of epochs: Int, iterations: Int, from first: Int = 0, events: (Event) -> Void) throws(TrainingError) -> TrainingMetrics? {
        if first == 0 { trainer.startEpoch(epoch, iterations: iterations) }
        let batches = trainLoader.epoch(epoch, startingAt: first)
        var loss = 0.0, top1 = 0.0, top5 = 0.0, images = 0
        let start = ContinuousClock.now
        var iteration = first
        while true {
            if let maxSteps, trainer.totalSteps >= maxSteps { break }
            let batch: BatchLoader.Batch?
            do { batch = try batches.next() } catch { throw TrainingError(.data, error.message) }
            guard let batch else { break }
            let result = try trainer.step(images: batch.images, labels: batch.labels)
            let n = Double(batch.count)
            loss += result.loss * n
            top1 += result.top1Error * n
            top5 += result.top5Error * n
            images += batch.count
            iteration += 1
            let elapsed = seconds(since: start)
            let remaining = Double(iterations - iteration + (epochs - epoch - 1) * iterations) * elapsed / Double(iteration - first)
            events(.step(epoch: epoch, iteration: iteration, of: iterations, result: result,
                         imagesPerSecond: Double(images) / max(elapsed, 1e-9), eta: remaining))
        }
        // An epoch stopped by --steps is recorded when it completes (after --resume), as pycls records epochs.
        guard images > 0, iteration == iterations else { return nil }
        let elapsed = seconds(since: start)
        let timeAverage = elapsed / Double(iteration - first)
        let eta = timeAverage * Double((epochs - epoch - 1) * iterations)
        let record: [String: StatsLog.Value] = [
            "epoch": .text("\(epoch + 1)/\(epochs)"), "time_avg": .number(timeAverage), "time_epoch": .number(elapsed),
            "eta": .text(StatsLog.timeString(eta)), "top1_err": .number(top1 / Double(images)),
            "top5_err": .number(top5 / Double(images)), "loss": .number(loss / Double(images)),
            "lr": .number(trainer.learningRate(forEpoch: epoch)), "mem": .integer(memoryMiB()),
        ]
        try log(StatsLog.line("train_epoch", record))
        events(.record(type: "train_epoch", values: record))
        if trainLoader.skippedImages > 0 { events(.note("\(trainLoader.skippedImages) images failed to decode and were skipped")) }
        return TrainingMetrics(loss: loss / Double(images), top1Error: top1 / Double(images), top5Error: top5 / Double(images),
                               learningRate: trainer.learningRate(forEpoch: epoch), seconds: elapsed)
    }

    /// pycls's precise statistics: up to `preciseBatchNormSamples` training images (augmented, in an
    /// order of their own), for the model and for its EMA, batch by batch.
    func preciseStatistics(epoch: Int) throws(TrainingError) {
        let count = min(max(1, trainer.recipe.preciseBatchNormSamples / trainer.batch), trainLoader.batchesPerEpoch)
        let source = trainLoader.epoch(1_000_000 + epoch)
        try trainer.recomputeBatchNormStatistics(batchCount: count, ema: trainer.emaWeights != nil) { () throws(TrainingError) in
            do throws(DataError) { return try source.next()?.images } catch { throw TrainingError(.data, error.message) }
        }
    }

    func test(_ loader: BatchLoader, epoch: Int, of epochs: Int, ema: Bool, events: (Event) -> Void) throws(TrainingError) -> LoaderEvaluation {
        let start = ContinuousClock.now
        let result = try trainer.evaluate(loader, ema: ema)
        let elapsed = seconds(since: start)
        if ema {
            bestEMATop1 = min(bestEMATop1, result.top1Error)
            bestEMATop5 = min(bestEMATop5, result.top5Error)
        } else {
            bestTop1 = min(bestTop1, result.top1Error)
            bestTop5 = min(bestTop5, result.top5Error)
        }
        let type = ema ? "test_ema_epoch" : "test_epoch"
        let record: [String: StatsLog.Value] = [
            "epoch": .text("\(epoch + 1)/\(epochs)"), "time_avg": .number(elapsed / Double(max(1, loader.batchesPerEpoch))),
            "time_epoch": .number(elapsed), "top1_err": .number(result.top1Error), "top5_err": .number(result.top5Error),
            "min_top1_err": .number(ema ? bestEMATop1 : bestTop1), "min_top5_err": .number(ema ? bestEMATop5 : bestTop5),
            "mem": .integer(memoryMiB()),
        ]
        try log(StatsLog.line(type, record))
        events(.record(type: type, values: record))
        return result
    }

    /// Writes epoch `epoch`'s checkpoint (with the run's identity, bests and log position) and keeps
    /// the newest `keepCheckpoints`.
    func checkpoint(epoch: Int, events: (Event) -> Void) throws(TrainingError) {
        guard let directory else { return }
        var extra = ["regnet.best_top1": String(bestTop1), "regnet.best_top5": String(bestTop5),
                     "regnet.best_ema_top1": String(bestEMATop1), "regnet.best_ema_top5": String(bestEMATop5),
                     "regnet.log_bytes": String(try directory.logSize()),
                     Self.identityKey: RunIdentity(trainer: trainer, trainLoader: trainLoader, testLoader: testLoader).json]
        extra.merge(output.metadata) { mine, _ in mine }
        let url = directory.checkpointURL(epoch: epoch + 1)
        try trainer.saveCheckpoint(to: url, extra: extra)
        directory.pruneCheckpoints(keep: output.keepCheckpoints)
        events(.checkpoint(url))
    }

    /// Appends `line` to `stdout.log`, when the run has an output directory.
    func log(_ line: String) throws(TrainingError) { try directory?.log(line) }

    func seconds(since start: ContinuousClock.Instant) -> Double {
        let d = ContinuousClock.now - start
        return Double(d.components.seconds) + Double(d.components.attoseconds) / 1e18
    }

    /// Peak resident memory in MiB (pycls logs its GPU peak as `mem`).
    func memoryMiB() -> Int { MemoryBudget.peakResidentBytes / 1_048_576 }
}

extension Trainer {
    /// The rate of epoch `epoch` as pycls's trainer sets it (the epoch's start).
    public func learningRate(forEpoch epoch: Int) -> Double { recipe.learningRate(atEpoch: Double(epoch)) }
}
