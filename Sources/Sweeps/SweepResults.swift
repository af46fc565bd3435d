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
    /// Whether its last test epoch is its last epoch (pycls's rule).
    public var done: Bool
    /// The last epoch with a test evaluation, and the epochs the run has in all (0 before any).
    public var epochsDone: Int
    public var epochsPlanned: Int
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
    /// Log records that could not be read and were left out ("stdout.log line N: why"): the
    /// results above come from the rest.
    public var problems: [String] = []
}

/// `regnet sweep collect`: every started model's result, and pycls's status counts. Reads sweeps made
/// here and sweeps made by pycls (whose models come from the `cfg` record of each log).
public struct SweepCollection: Sendable {
    /// One result per started model, in index order.
    public var results: [SweepResult]
    /// Models in the sweep (config files).
    public var total: Int
    /// pycls's `sweep.json`: per started model, its log as `load_log_data` and `sort_log_data` give it,
    /// with `log_file`, `err_file` and `err`.
    let pyclsSweep: Data

    /// pycls's status line: jobs started and done (test epochs complete) of all, epochs done of all.
    public var statusLine: String {
        let done = results.filter(\.done).count, epochs = results.reduce(0) { $0 + $1.epochsDone }
        let planned = results.reduce(0) { $0 + max($1.epochsPlanned, 1) }
        let damaged = results.filter { !$0.problems.isEmpty }.count
        return "Status: jobs_started=\(results.count)/\(total), jobs_done=\(done)/\(total), epochs_done=\(epochs)/\(planned)"
            + (damaged > 0 ? ", logs_with_unreadable_records=\(damaged)" : "")
    }

    /// Reads every started model's log in `sweep`.
    public init(_ sweep: SweepDirectory) throws(SweepError) {
        let jobs = try sweep.jobs()
        var results: [SweepResult] = [], records: [[String: Any]] = []
        for job in jobs {
            let logURL = sweep.logDirectory(job.index).appendingPathComponent("stdout.log")
            guard let contents = try? Data(contentsOf: logURL) else { continue }
            let log = PyclsLog(contents: contents)
            var result = Self.result(of: job, log: log)
            result.problems = log.problems.map { "\(logURL.path) \($0)" }
            results.append(result)
            var record = log.data as [String: Any]
            let errURL = sweep.logDirectory(job.index).appendingPathComponent("stderr.log")
            record["log_file"] = logURL.path
            record["err_file"] = errURL.path
            record["err"] = (try? String(contentsOf: errURL, encoding: .utf8)) ?? ""
            records.append(record)
        }
        self.results = results
        total = sweep.configCount()
        do { pyclsSweep = try JSONSerialization.data(withJSONObject: records, options: [.sortedKeys]) } catch {
            throw SweepError(.invalidDirectory, "cannot encode the logs as pycls's sweep.json: \(error)")
        }
    }

    static func result(of job: SweepJob, log: PyclsLog) -> SweepResult {
        let test = log.numbers("test_epoch", "top1_err"), ema = log.numbers("test_ema_epoch", "top1_err")
        let seconds = ["train_epoch", "test_epoch", "test_ema_epoch"].reduce(0) { $0 + log.numbers($1, "time_epoch").reduce(0, +) }
        var fields = Dictionary(job.configuration.fields, uniquingKeysWith: { a, _ in a })
        for (key, value) in job.sampled { fields[key] = String(value) }
        let progress = log.progress
        return SweepResult(index: job.index, name: job.name, space: job.space, flops: job.complexity.flops, params: job.complexity.params,
                           acts: job.complexity.acts, done: progress.epoch > 0 && progress.epoch == progress.of,
                           epochsDone: progress.epoch, epochsPlanned: progress.epoch > 0 ? progress.of : 0,
                           error: ema.min() ?? test.min(), finalError: test.last, bestError: test.min(), emaError: ema.last,
                           wallSeconds: seconds, trainLoss: log.numbers("train_epoch", "loss"),
                           trainError: log.numbers("train_epoch", "top1_err"), testError: test, fields: fields)
    }

    /// `results.csv`: one row per model with a test error (what `regnet edf` reads), columns
    /// name, space, error, final_error, best_error, ema_error, epochs_done, done, flops, params, acts,
    /// wall_seconds, log_problems (records of its log that could not be read), then every
    /// configuration and drawn field.
    public var csv: String {
        let extra = Set(results.flatMap(\.fields.keys)).sorted()
        let header = ["name", "space", "error", "final_error", "best_error", "ema_error", "epochs_done", "done", "flops", "params", "acts", "wall_seconds", "log_problems"] + extra
        func cell(_ d: Double?) -> String { d.map { String(format: "%.4f", $0) } ?? "" }
        let rows = results.filter { $0.error != nil }.map { r in
            ([r.name, r.space, cell(r.error), cell(r.finalError), cell(r.bestError), cell(r.emaError), String(r.epochsDone), r.done ? "1" : "0",
              String(r.flops), String(r.params), String(r.acts), String(format: "%.1f", r.wallSeconds), String(r.problems.count)]
             + extra.map { r.fields[$0] ?? "" }).joined(separator: ",")
        }
        return ([header.joined(separator: ",")] + rows).joined(separator: "\n") + "\n"
    }

    /// Writes `results.csv`, `results.json` and pycls's `sweep.json` into the sweep (each atomically).
    public func write(to sweep: SweepDirectory) throws(SweepError) {
        do {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
            try writeAtomically(Data(csv.utf8), to: sweep.url.appendingPathComponent("results.csv"))
            try writeAtomically(try encoder.encode(results), to: sweep.url.appendingPathComponent("results.json"))
            try writeAtomically(pyclsSweep, to: sweep.url.appendingPathComponent("sweep.json"))
        } catch {
            throw SweepError(.invalidDirectory, "cannot write the results into \(sweep.url.path): \(error)")
        }
    }
}
