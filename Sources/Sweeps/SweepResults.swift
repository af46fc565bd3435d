import DesignSpaces
import Foundation
import Training
import Weights

/// What one model of a sweep reached, read from its `stdout.log` (pycls's `json_stats` records).
public struct SweepResult: Codable, Sendable, Hashable {
    public var index: Int
    public var name: String
    public var space: String
    public var flops: Int
    public var params: Int
    public var acts: Int
    /// Whether the job marked itself done.
    public var done: Bool
    /// Epochs with a test evaluation.
    public var epochsDone: Int
    /// The run's error as pycls's analysis takes it (%): the lowest test top-1 error of the EMA when
    /// the recipe keeps one, else of the model.
    public var error: Double?
    /// Test top-1 error after the last epoch, and the lowest over all epochs (%).
    public var finalError: Double?
    public var bestError: Double?
    /// The EMA's test top-1 error after the last epoch (%), when the recipe keeps an EMA.
    public var emaError: Double?
    /// Seconds spent in training and test epochs.
    public var wallSeconds: Double
    /// Per epoch: training loss, training and test top-1 error.
    public var trainLoss: [Double]
    public var trainError: [Double]
    public var testError: [Double]
    /// The configuration's fields (depth, w0, …) and the drawn recipe values.
    public var fields: [String: String]
}

/// `regnet sweep collect`: every model's result, and pycls's status counts.
public struct SweepCollection: Sendable {
    /// One result per config, in index order.
    public var results: [SweepResult]

    /// Jobs with a log, jobs done, epochs done over all jobs (pycls's sweep status line).
    public var status: (started: Int, done: Int, epochs: Int) {
        (results.filter { $0.epochsDone > 0 || $0.done || $0.wallSeconds > 0 }.count, results.filter(\.done).count,
         results.reduce(0) { $0 + $1.epochsDone })
    }

    /// Reads every job's log in `sweep`.
    public init(_ sweep: SweepDirectory) throws(SweepError) {
        results = try sweep.jobs().map { job throws(SweepError) in try Self.result(of: job, in: sweep) }
    }

    static func result(of job: SweepJob, in sweep: SweepDirectory) throws(SweepError) -> SweepResult {
        let log = sweep.logDirectory(job.index).appendingPathComponent("stdout.log")
        let text = (try? String(contentsOf: log, encoding: .utf8)) ?? ""
        func numbers(_ type: String, _ key: String) -> [Double] {
            StatsLog.records(type, in: text).compactMap { ($0[key] as? NSNumber)?.doubleValue }
        }
        let test = numbers("test_epoch", "top1_err"), ema = numbers("test_ema_epoch", "top1_err")
        let seconds = numbers("train_epoch", "time_epoch").reduce(0, +) + numbers("test_epoch", "time_epoch").reduce(0, +)
            + numbers("test_ema_epoch", "time_epoch").reduce(0, +)
        var fields = Dictionary(job.configuration.fields, uniquingKeysWith: { a, _ in a })
        for (key, value) in job.sampled { fields[key] = String(value) }
        return SweepResult(index: job.index, name: job.name, space: job.space, flops: job.complexity.flops, params: job.complexity.params,
                           acts: job.complexity.acts, done: sweep.isDone(job.index), epochsDone: test.count, error: ema.min() ?? test.min(),
                           finalError: test.last, bestError: test.min(), emaError: ema.last, wallSeconds: seconds,
                           trainLoss: numbers("train_epoch", "loss"), trainError: numbers("train_epoch", "top1_err"), testError: test,
                           fields: fields)
    }

    /// `results.csv`: one row per model with a test error (what `regnet edf` reads), columns
    /// name, space, error, final_error, best_error, ema_error, epochs_done, done, flops, params, acts,
    /// wall_seconds, then every configuration and drawn field.
    public var csv: String {
        let extra = Set(results.flatMap(\.fields.keys)).sorted()
        let header = ["name", "space", "error", "final_error", "best_error", "ema_error", "epochs_done", "done", "flops", "params", "acts", "wall_seconds"] + extra
        func cell(_ d: Double?) -> String { d.map { String(format: "%.4f", $0) } ?? "" }
        let rows = results.filter { $0.error != nil }.map { r in
            ([r.name, r.space, cell(r.error), cell(r.finalError), cell(r.bestError), cell(r.emaError), String(r.epochsDone), r.done ? "1" : "0",
              String(r.flops), String(r.params), String(r.acts), String(format: "%.1f", r.wallSeconds)]
             + extra.map { r.fields[$0] ?? "" }).joined(separator: ",")
        }
        return ([header.joined(separator: ",")] + rows).joined(separator: "\n") + "\n"
    }

    /// Writes `results.csv` and `results.json` into the sweep (atomically).
    public func write(to sweep: SweepDirectory) throws(SweepError) {
        do {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
            try writeAtomically(Data(csv.utf8), to: sweep.url.appendingPathComponent("results.csv"))
            try writeAtomically(try encoder.encode(results), to: sweep.url.appendingPathComponent("results.json"))
        } catch {
            throw SweepError("cannot write the results into \(sweep.url.path): \(error)")
        }
    }
}
