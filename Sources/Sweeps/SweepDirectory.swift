import Foundation
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import NetworkIR
import Training
import Weights

/// A sweep on disk, in pycls's layout: `sweep_cfg.json` (the description) and `sweep_cfg.yaml` (pycls's
/// sweep config naming the directory, for pycls's tools),
/// `cfgs/NNNNNN.json` and `cfgs/NNNNNN.yaml` (our job, and the same with pycls's config keys),
/// `logs/NNNNNN/` per model (`stdout.log` with `json_stats` lines, `stderr.log`, `checkpoints/`, and
/// `done.json`, written last and atomically), and `results.csv`, `results.json` and pycls's
/// `sweep.json` from collect.
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

    /// Writes a new sweep: its description and one config per job. `url` must be absent or an empty
    /// directory (anything else — a file, a link, a FIFO, a device, a directory with files — is
    /// refused and left as it is); everything is written into a new directory beside it first and
    /// renamed into place at once, so a failed setup leaves nothing behind and removes nothing it did
    /// not create.
    public static func create(at url: URL, description: SweepDescription, jobs: [SweepJob]) throws(SweepError) -> SweepDirectory {
        let fm = FileManager.default
        var info = stat()
        if lstat(url.path, &info) == 0 {
            switch info.st_mode & S_IFMT {
            case S_IFDIR:
                let existing: [String]
                do { existing = try fm.contentsOfDirectory(atPath: url.path) } catch {
                    throw SweepError(.invalidDirectory, "cannot list \(url.path): \(error.localizedDescription)")
                }
                guard existing.isEmpty else {
                    throw SweepError(.invalidDirectory, "\(url.path) already holds files; choose a new directory (a sweep is set up once)")
                }
            case S_IFLNK:
                throw SweepError(.invalidDirectory, "\(url.path) is a symbolic link; give a new directory or an empty one")
            default:
                throw SweepError(.invalidDirectory, "\(url.path) exists and is not a directory; give a new directory or an empty one")
            }
        } else if errno != ENOENT {
            throw SweepError(.invalidDirectory, "cannot use \(url.path): \(String(cString: strerror(errno)))")
        }
        let staging = url.deletingLastPathComponent().appendingPathComponent(".\(url.lastPathComponent).setup-\(UUID().uuidString)")
        do {
            try fm.createDirectory(at: staging, withIntermediateDirectories: false)
        } catch {
            throw SweepError(.invalidDirectory, "cannot write the sweep beside \(url.path): \(error.localizedDescription)")
        }
        do {
            try fm.createDirectory(at: staging.appendingPathComponent("cfgs"), withIntermediateDirectories: true)
            try fm.createDirectory(at: staging.appendingPathComponent("logs"), withIntermediateDirectories: true)
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
            try encoder.encode(description).write(to: staging.appendingPathComponent("sweep_cfg.json"))
            // pycls's sweep config, for its tools (`--sweep-cfg DIR/sweep_cfg.yaml`): the sweep is ROOT_DIR/NAME;
            // its analysis plots error against complexity and the best runs' curves.
            let pyclsSweep: [String: StatsLog.Value] = [
                "NAME": .text(url.lastPathComponent), "ROOT_DIR": .text(url.deletingLastPathComponent().path), "DESC": .text(description.name),
                "SETUP": .object(["NUM_CONFIGS": .integer(jobs.count)]),
                "ANALYZE": .object(["PLOT_COMPLEXITY_VALUES": .flag(true), "COMPLEXITY": .list(["flops", "params", "acts"].map { .text($0) }),
                                    "PLOT_CURVES_BEST": .integer(3), "PLOT_MODELS_BEST": .integer(0)]),
            ]
            try Data(PyclsConfig.yaml(pyclsSweep).utf8).write(to: staging.appendingPathComponent("sweep_cfg.yaml"))
            for job in jobs {
                try encoder.encode(job).write(to: staging.appendingPathComponent("cfgs/\(job.id).json"))
                try Data(PyclsConfig.yaml(PyclsConfig.sections(for: job, sweep: description)).utf8)
                    .write(to: staging.appendingPathComponent("cfgs/\(job.id).yaml"))
            }
            // rename(2) replaces only an empty directory, at once; anything else that appeared meanwhile stays.
            guard rename(staging.path, url.path) == 0 else {
                throw SweepError(.invalidDirectory, errno == ENOTEMPTY || errno == EEXIST
                                 ? "\(url.path) gained files while the sweep was being set up; choose a new directory"
                                 : String(cString: strerror(errno)))
            }
        } catch {
            try? fm.removeItem(at: staging)
            let reason = (error as? SweepError)?.message ?? error.localizedDescription
            throw SweepError(.invalidDirectory, "cannot write the sweep to \(url.path): \(reason)")
        }
        return SweepDirectory(url)
    }

    /// The sweep's description.
    public func description() throws(SweepError) -> SweepDescription {
        guard FileManager.default.fileExists(atPath: descriptionURL.path) else {
            throw SweepError(.invalidDirectory, "\(url.path) is not a sweep directory (no sweep_cfg.json); make one with `regnet sweep setup`")
        }
        return try SweepDescription.read(contentsOf: descriptionURL)
    }

    /// The sweep's name: its description's, or for a sweep pycls made, the directory's.
    public func name() -> String {
        (try? SweepDescription.read(contentsOf: descriptionURL).name) ?? url.lastPathComponent
    }

    /// Every job, in index order: from `cfgs/NNNNNN.json`, or for a sweep pycls made (YAML configs
    /// only) from the `cfg` and `complexity` records its trainer logged (models not started yet have
    /// none and are counted in `configCount` only).
    public func jobs() throws(SweepError) -> [SweepJob] {
        let names: [String]
        do { names = try FileManager.default.contentsOfDirectory(atPath: configsURL.path) } catch {
            throw SweepError(.invalidDirectory, "\(url.path) is not a sweep directory (no cfgs/); make one with `regnet sweep setup`")
        }
        func indices(_ suffix: String) -> [Int] {
            names.filter { $0.hasSuffix(suffix) }.compactMap { Int($0.dropLast(suffix.count)) }.sorted()
        }
        let json = indices(".json"), yaml = indices(".yaml")
        if json.isEmpty && !yaml.isEmpty { return yaml.compactMap(pyclsJob) }
        var jobs: [SweepJob] = []
        for index in json {
            do {
                let job = try JSONDecoder().decode(SweepJob.self, from: Data(contentsOf: configURL(index)))
                guard job.index == index else { throw SweepError(.invalidDirectory, "it says it is config \(job.index)") }
                jobs.append(job)
            } catch {
                throw SweepError(.invalidDirectory, "\(configURL(index).path) is damaged: \(SweepDescription.explain(error))")
            }
        }
        guard !jobs.isEmpty else { throw SweepError(.invalidDirectory, "\(configsURL.path) holds no configs") }
        let expected = jobs.compactMap(\.of).max() ?? jobs.count
        guard jobs.map(\.index) == Array(0..<expected) else {
            let missing = Set(0..<expected).subtracting(jobs.map(\.index)).sorted().prefix(5).map { SweepJob.id($0) + ".json" }
            throw SweepError(.invalidDirectory, "\(configsURL.path) misses configs of the sweep's \(expected) models (\(missing.joined(separator: ", ")))")
        }
        return jobs
    }

    /// Config files in the sweep (started or not).
    public func configCount() -> Int {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: configsURL.path)) ?? []
        let json = names.filter { $0.hasSuffix(".json") }.count
        return json > 0 ? json : names.filter { $0.hasSuffix(".yaml") }.count
    }

    /// Model `index` of a pycls-made sweep, from its log's `cfg` and `complexity` records.
    func pyclsJob(_ index: Int) -> SweepJob? {
        guard let contents = try? Data(contentsOf: logDirectory(index).appendingPathComponent("stdout.log")) else { return nil }
        let log = PyclsLog(contents: contents)
        guard let cfg = log.data["cfg"], let configuration = PyclsConfig.configuration(from: cfg) else { return nil }
        let cx = log.data["complexity"] ?? [:]
        func count(_ key: String) -> Int { (cx[key] as? NSNumber)?.intValue ?? 0 }
        let type: String
        switch configuration {
        case .anyNet: type = "AnyNet"
        case .regNet: type = "RegNet"
        }
        return SweepJob(index: index, name: "\(type)-\(SweepJob.id(index))", space: type, configuration: configuration,
                        complexity: Complexity(flops: count("flops"), params: count("params"), acts: count("acts")), sampled: [:], train: [:])
    }

    /// Whether model `index` finished.
    public func isDone(_ index: Int) -> Bool { FileManager.default.fileExists(atPath: doneURL(index).path) }

    /// Marks model `index` finished (atomically: the marker is complete or absent).
    public func markDone(_ index: Int, record: [String: Double]) throws(SweepError) {
        do {
            let data = try JSONSerialization.data(withJSONObject: record, options: [.sortedKeys])
            try writeAtomically(data, to: doneURL(index))
        } catch {
            throw SweepError(.invalidDirectory, "cannot mark model \(SweepJob.id(index)) done: \(error)")
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
            throw SweepError(.invalidShard, "--shard takes I/N with 0 <= I < N (got '\(text)')")
        }
        (index, count) = (i, n)
    }

    /// Everything, as one slice.
    public static let all = try! SweepShard(parsing: "0/1")

    /// Whether model `job` is in this slice.
    public func contains(_ job: Int) -> Bool { job % count == index }
}
