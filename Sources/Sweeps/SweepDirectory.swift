import Foundation
import Weights

/// A sweep on disk, in pycls's layout: `sweep_cfg.json` (the description; pycls's is `sweep_cfg.yaml`),
/// `cfgs/NNNNNN.json` and `cfgs/NNNNNN.yaml` (our job, and the same with pycls's config keys),
/// `logs/NNNNNN/` per model (`stdout.log` with `json_stats` lines, `stderr.log`, `checkpoints/`, and
/// `done.json`, written last and atomically), and `results.csv` and `results.json` from collect.
public struct SweepDirectory: Sendable {
    /// The sweep's root.
    public let url: URL

    /// The sweep at `url`.
    public init(_ url: URL) { self.url = url }

    var descriptionURL: URL { url.appendingPathComponent("sweep_cfg.json") }
    var configsURL: URL { url.appendingPathComponent("cfgs") }
    /// A model's log directory (what `regnet train --out` writes).
    public func logDirectory(_ index: Int) -> URL { url.appendingPathComponent("logs").appendingPathComponent(SweepJob.id(index)) }
    /// A model's completion marker.
    public func doneURL(_ index: Int) -> URL { logDirectory(index).appendingPathComponent("done.json") }
    func configURL(_ index: Int) -> URL { configsURL.appendingPathComponent(SweepJob.id(index) + ".json") }

    /// Writes a new sweep: its description and one config per job. The directory must not exist or
    /// be empty; everything is written beside it first and moved into place at once, so a failed
    /// setup leaves nothing behind.
    public static func create(at url: URL, description: SweepDescription, jobs: [SweepJob]) throws(SweepError) -> SweepDirectory {
        let fm = FileManager.default
        if let existing = try? fm.contentsOfDirectory(atPath: url.path), !existing.isEmpty {
            throw SweepError("\(url.path) already holds files; choose a new directory (a sweep is set up once)")
        }
        let staging = url.deletingLastPathComponent().appendingPathComponent(".\(url.lastPathComponent).setup-\(getpid())")
        do {
            try? fm.removeItem(at: staging)
            try fm.createDirectory(at: staging.appendingPathComponent("cfgs"), withIntermediateDirectories: true)
            try fm.createDirectory(at: staging.appendingPathComponent("logs"), withIntermediateDirectories: true)
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
            try encoder.encode(description).write(to: staging.appendingPathComponent("sweep_cfg.json"))
            for job in jobs {
                try encoder.encode(job).write(to: staging.appendingPathComponent("cfgs/\(job.id).json"))
                try Data(PyclsConfig.yaml(for: job, sweep: description).utf8).write(to: staging.appendingPathComponent("cfgs/\(job.id).yaml"))
            }
            if fm.fileExists(atPath: url.path) { try fm.removeItem(at: url) }
            try fm.moveItem(at: staging, to: url)
        } catch {
            try? fm.removeItem(at: staging)
            throw SweepError("cannot write the sweep to \(url.path): \(error.localizedDescription)")
        }
        return SweepDirectory(url)
    }

    /// The sweep's description.
    public func description() throws(SweepError) -> SweepDescription {
        guard FileManager.default.fileExists(atPath: descriptionURL.path) else {
            throw SweepError("\(url.path) is not a sweep directory (no sweep_cfg.json); make one with `regnet sweep setup`")
        }
        return try SweepDescription.read(contentsOf: descriptionURL)
    }

    /// Every job, in index order.
    public func jobs() throws(SweepError) -> [SweepJob] {
        let names: [String]
        do { names = try FileManager.default.contentsOfDirectory(atPath: configsURL.path) } catch {
            throw SweepError("\(url.path) is not a sweep directory (no cfgs/); make one with `regnet sweep setup`")
        }
        let indices = names.filter { $0.hasSuffix(".json") }.compactMap { Int($0.dropLast(5)) }.sorted()
        var jobs: [SweepJob] = []
        for index in indices {
            do {
                let job = try JSONDecoder().decode(SweepJob.self, from: Data(contentsOf: configURL(index)))
                guard job.index == index else { throw SweepError("it says it is config \(job.index)") }
                jobs.append(job)
            } catch {
                throw SweepError("\(configURL(index).path) is damaged: \(SweepDescription.explain(error))")
            }
        }
        guard !jobs.isEmpty else { throw SweepError("\(configsURL.path) holds no configs") }
        guard jobs.map(\.index) == Array(0..<jobs.count) else { throw SweepError("\(configsURL.path) misses configs (indices are not 0..<\(jobs.count))") }
        return jobs
    }

    /// Whether model `index` finished.
    public func isDone(_ index: Int) -> Bool { FileManager.default.fileExists(atPath: doneURL(index).path) }

    /// Marks model `index` finished (atomically: the marker is complete or absent).
    public func markDone(_ index: Int, record: [String: Double]) throws(SweepError) {
        do {
            let data = try JSONSerialization.data(withJSONObject: record, options: [.sortedKeys])
            try writeAtomically(data, to: doneURL(index))
        } catch {
            throw SweepError("cannot mark model \(SweepJob.id(index)) done: \(error)")
        }
    }
}

/// `I/N`: the I-th (0-based) of N disjoint slices of a sweep, by index modulo N, so N processes cover
/// every model exactly once.
public struct SweepShard: Sendable, Hashable {
    /// This slice.
    public var index: Int
    /// Slices in all.
    public var count: Int

    /// Parses `I/N` with 0 <= I < N.
    public init(parsing text: String) throws(SweepError) {
        let parts = text.split(separator: "/")
        guard parts.count == 2, let i = Int(parts[0]), let n = Int(parts[1]), n >= 1, (0..<n).contains(i) else {
            throw SweepError("--shard takes I/N with 0 <= I < N (got '\(text)')")
        }
        (index, count) = (i, n)
    }

    /// Everything, as one slice.
    public static let all = try! SweepShard(parsing: "0/1")

    /// Whether model `job` is in this slice.
    public func contains(_ job: Int) -> Bool { job % count == index }
}
