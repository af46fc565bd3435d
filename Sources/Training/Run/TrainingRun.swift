import Data
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
        /// The run's directory: `stdout.log`, `checkpoints/`; nil writes nothing.
        public var directory: URL?
        /// Checkpoints kept (the newest; older ones are deleted once a newer one is written).
        public var keepCheckpoints = 3
        /// A directory with no output (nothing written).
        public init(directory: URL? = nil, keepCheckpoints: Int = 3) {
            self.directory = directory
            self.keepCheckpoints = keepCheckpoints
        }
    }

    /// What the caller is told as the run goes.
    public enum Event: Sendable {
        /// After each step: epoch (0-based), iteration, iterations per epoch, the step's result, images/s so far.
        case step(epoch: Int, iteration: Int, of: Int, result: Trainer.StepResult, imagesPerSecond: Double, eta: Double)
        /// A finished epoch's record (`train_epoch`, `test_epoch`, `test_ema_epoch`) and its line.
        case record(type: String, values: [String: StatsLog.Value])
        /// Information worth a line (resuming, skipped images).
        case note(String)
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

    var logURL: URL? { output.directory?.appendingPathComponent("stdout.log") }
    var checkpointDirectory: URL? { output.directory?.appendingPathComponent("checkpoints") }

    /// Checkpoint file of epoch `epoch` (1-based, as pycls names them).
    func checkpointURL(epoch: Int) -> URL? {
        checkpointDirectory?.appendingPathComponent(String(format: "model_epoch_%04d.safetensors", epoch))
    }

    /// The newest checkpoint in the output directory, if any.
    public func latestCheckpoint() -> URL? {
        guard let dir = checkpointDirectory,
              let names = try? FileManager.default.contentsOfDirectory(atPath: dir.path) else { return nil }
        return names.filter { $0.hasPrefix("model_epoch_") && $0.hasSuffix(".safetensors") }.sorted().last.map { dir.appendingPathComponent($0) }
    }

    /// Runs every epoch not yet done; with `resume`, first restores the newest checkpoint of the
    /// output directory. Returns the last test evaluation (nil without test data).
    @discardableResult
    public func run(resume: Bool = false, events: (Event) -> Void = { _ in }) throws(TrainingError) -> LoaderEvaluation? {
        try prepareOutput()
        let iterations = trainLoader.batchesPerEpoch
        var firstEpoch = 0, firstBatch = 0
        if resume, let latest = latestCheckpoint() {
            let metadata = try trainer.restore(from: latest)
            // A checkpoint written when --steps stopped a run mid-epoch continues that epoch.
            if trainer.iteration < trainer.iterationsPerEpoch {
                (firstEpoch, firstBatch) = (trainer.epoch, trainer.iteration)
            } else {
                firstEpoch = trainer.epoch + 1
            }
            for (key, value) in [("best_top1", \TrainingRun.bestTop1), ("best_top5", \.bestTop5), ("best_ema_top1", \.bestEMATop1), ("best_ema_top5", \.bestEMATop5)] {
                if let text = metadata["regnet.\(key)"], let v = Double(text) { self[keyPath: value] = v }
            }
            // Records written after the checkpoint (an epoch cut short) are written again as it reruns.
            if let text = metadata["regnet.log_bytes"], let bytes = UInt64(text) { try truncateLog(to: bytes) }
            events(.note("resumed from \(latest.lastPathComponent): epoch \(firstEpoch + 1) of \(trainer.recipe.epochs)"
                         + (firstBatch > 0 ? ", from batch \(firstBatch + 1)" : "") + " next"))
        } else {
            // Resuming with no checkpoint yet starts over: a log from the interrupted start goes.
            if resume { try truncateLog(to: 0) }
            try log(StatsLog.line("cfg", configuration))
            let cx = trainer.graph.complexity
            try log(StatsLog.line("complexity", ["flops": .integer(cx.flops), "params": .integer(cx.params), "acts": .integer(cx.acts)]))
        }
        let epochs = trainer.recipe.epochs
        var last: LoaderEvaluation?
        for epoch in firstEpoch..<epochs {
            if let maxSteps, trainer.totalSteps >= maxSteps { break }
            try trainEpoch(epoch, of: epochs, iterations: iterations, from: epoch == firstEpoch ? firstBatch : 0, events: events)
            // Stopped by --steps inside the epoch: keep its position for --resume, skip the epoch's end.
            if trainer.iteration < iterations {
                try checkpoint(epoch: epoch)
                break
            }
            if trainer.recipe.preciseBatchNorm { try preciseStatistics(epoch: epoch) }
            if let testLoader {
                last = try test(testLoader, epoch: epoch, of: epochs, ema: false, events: events)
                if trainer.emaWeights != nil { _ = try test(testLoader, epoch: epoch, of: epochs, ema: true, events: events) }
            }
            try checkpoint(epoch: epoch)
        }
        return last
    }

    /// Trains epoch `epoch` from batch `first` (0, or where a stopped run left off; the trainer's own
    /// position is then the restored one).
    func trainEpoch(_ epoch: Int, of epochs: Int, iterations: Int, from first: Int = 0, events: (Event) -> Void) throws(TrainingError) {
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
        guard images > 0, iteration == iterations else { return }
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
    }

    /// pycls's precise statistics: up to `preciseBatchNormSamples` training images (augmented, in an
    /// order of their own), for the model and for its EMA.
    func preciseStatistics(epoch: Int) throws(TrainingError) {
        let count = min(max(1, trainer.recipe.preciseBatchNormSamples / trainer.batch), trainLoader.batchesPerEpoch)
        var batches: [[Float]] = []
        let source = trainLoader.epoch(1_000_000 + epoch)
        do {
            while batches.count < count, let batch = try source.next() { batches.append(batch.images) }
        } catch { throw TrainingError(.data, error.message) }
        try trainer.recomputeBatchNormStatistics(batches)
        if trainer.emaWeights != nil { try trainer.recomputeBatchNormStatistics(batches, ema: true) }
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

    func checkpoint(epoch: Int) throws(TrainingError) {
        guard let url = checkpointURL(epoch: epoch + 1) else { return }
        var extra = ["regnet.best_top1": String(bestTop1), "regnet.best_top5": String(bestTop5),
                     "regnet.best_ema_top1": String(bestEMATop1), "regnet.best_ema_top5": String(bestEMATop5)]
        if let log = logURL, let size = (try? FileManager.default.attributesOfItem(atPath: log.path))?[.size] as? NSNumber {
            extra["regnet.log_bytes"] = size.stringValue
        }
        try trainer.saveCheckpoint(to: url, extra: extra)
        // Keep the newest `keepCheckpoints`.
        guard let dir = checkpointDirectory, let names = try? FileManager.default.contentsOfDirectory(atPath: dir.path) else { return }
        let old = names.filter { $0.hasPrefix("model_epoch_") && $0.hasSuffix(".safetensors") }.sorted().dropLast(max(1, output.keepCheckpoints))
        for name in old { try? FileManager.default.removeItem(at: dir.appendingPathComponent(name)) }
    }

    func prepareOutput() throws(TrainingError) {
        guard let dir = checkpointDirectory else { return }
        do {
            try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        } catch {
            throw TrainingError(.fileAccess(path: dir.path), "cannot create \(dir.path): \((error as NSError).localizedDescription)")
        }
        guard FileManager.default.isWritableFile(atPath: dir.path) else { throw TrainingError(.fileAccess(path: dir.path), "\(dir.path) is not writable") }
    }

    /// Appends `line` to `stdout.log` (and flushes it), when the run has an output directory.
    func log(_ line: String) throws(TrainingError) {
        guard let url = logURL else { return }
        let data = Data((line + "\n").utf8)
        if !FileManager.default.fileExists(atPath: url.path) {
            guard FileManager.default.createFile(atPath: url.path, contents: nil) else { throw TrainingError(.fileAccess(path: url.path), "cannot create \(url.path)") }
        }
        do {
            let handle = try FileHandle(forWritingTo: url)
            defer { try? handle.close() }
            try handle.seekToEnd()
            try handle.write(contentsOf: data)
        } catch {
            throw TrainingError(.fileAccess(path: url.path), "cannot write \(url.path): \((error as NSError).localizedDescription)")
        }
    }

    /// Cuts `stdout.log` back to its first `bytes` bytes (when it is longer).
    func truncateLog(to bytes: UInt64) throws(TrainingError) {
        guard let url = logURL, FileManager.default.fileExists(atPath: url.path) else { return }
        do {
            let handle = try FileHandle(forWritingTo: url)
            defer { try? handle.close() }
            if try handle.seekToEnd() > bytes { try handle.truncate(atOffset: bytes) }
        } catch {
            throw TrainingError(.fileAccess(path: url.path), "cannot rewind \(url.path): \((error as NSError).localizedDescription)")
        }
    }

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
