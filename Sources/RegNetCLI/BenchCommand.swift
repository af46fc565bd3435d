import Foundation
import RegNet

/// `regnet bench`: latency statistics, throughput, memory, and an optional per-layer profile.
enum BenchCommand {
    static let usage = """
    usage: regnet bench [<model | --depth …>] [--weights W] [--batch N] [--resolution R] [--threads T]
                        [--warmup W] [--iterations I] [--json] [--profile] [--train]

    Times repeated forward passes and prints median, min and p90 latency, images/s, achieved
    GFLOP/s (2 × multiply-adds) and peak resident memory. --profile adds time and GFLOP/s per
    layer and per layer kind. --train times SGD steps instead (forward, backward and update on
    seeded random data, label smoothing 0.1): step time, images/s, GFLOP/s counting a step as
    3 × the forward multiply-adds, peak memory; with --profile, time per phase and layer kind.

    \(RunOptions.usage)
      --warmup W              untimed runs first (default 3)
      --iterations I          timed runs (default 20)
      --json                  one JSON object
      --profile               per-layer and per-kind times
      --train                 time training steps instead of inference
    """

    struct Report: Encodable {
        var model: String, batch: Int, threads: Int, resolution: Int, isa: String, precision: String
        var median_ms: Double, min_ms: Double, p90_ms: Double, images_per_second: Double, gflops_per_second: Double
        var peak_rss_bytes: Int, arena_bytes: Int, weight_bytes: Int, iterations: Int
        var profile: [KindProfile]?
    }

    struct KindProfile: Encodable { var kind: String, ms: Double, share: Double, gflops_per_second: Double }

    static func run(_ args: inout Arguments) throws {
        let warmup = try args.int("--warmup", range: 0...10_000) ?? 3
        let iterations = try args.int("--iterations", range: 1...100_000) ?? 20
        let json = args.flag("--json")
        let profile = args.flag("--profile")
        let train = args.flag("--train")
        let options = try RunOptions.parse(&args)
        try args.finish()
        if train {
            return try TrainBenchCommand.run(options: options, warmup: min(warmup, 3), iterations: iterations, json: json, profile: profile)
        }
        let model = try options.compile()
        let input = syntheticInput(shape: model.inputShape, seed: options.seed).scalars
        do {
            for _ in 0..<warmup { _ = try model.run(input) }
            var times: [Double] = []
            for _ in 0..<iterations { try times.append(measure { _ = try model.run(input) }) }
            times.sort()
            let median = times.count % 2 == 1 ? times[times.count / 2] : (times[times.count / 2 - 1] + times[times.count / 2]) / 2
            let p90 = times[min(times.count - 1, Int((Double(times.count) * 0.9).rounded(.up)) - 1)]
            let flops = Double(model.graph.complexity.flops * options.batch)
            var kinds: [KindProfile]?
            var steps: [StepProfile] = []
            if profile {
                steps = try model.profile(input, iterations: iterations)
                let total = steps.reduce(0) { $0 + $1.seconds }
                kinds = Dictionary(grouping: steps, by: \.kind).map { kind, list in
                    let s = list.reduce(0) { $0 + $1.seconds }, f = list.reduce(0) { $0 + $1.flops }
                    return KindProfile(kind: kind, ms: s * 1000, share: s / total, gflops_per_second: s > 0 ? 2 * Double(f) / s / 1e9 : 0)
                }.sorted { $0.ms > $1.ms }
            }
            let report = Report(model: model.graph.name, batch: options.batch, threads: model.threads, resolution: options.height,
                                isa: model.kernels.name, precision: model.precision.rawValue, median_ms: median * 1000, min_ms: times[0] * 1000, p90_ms: p90 * 1000,
                                images_per_second: Double(options.batch) / median, gflops_per_second: 2 * flops / median / 1e9,
                                peak_rss_bytes: peakResidentBytes(), arena_bytes: model.arenaBytes, weight_bytes: model.weightBytes,
                                iterations: iterations, profile: kinds)
            if json { return try printJSON(report) }
            print("\(report.model)  batch \(report.batch)  \(options.height)x\(options.width)  \(report.threads) threads  \(report.isa)  \(report.precision)")
            print(String(format: "latency: median %.3f ms, min %.3f ms, p90 %.3f ms (%d runs)", report.median_ms, report.min_ms, report.p90_ms, iterations))
            print(String(format: "throughput: %.1f images/s, %.1f GFLOP/s", report.images_per_second, report.gflops_per_second))
            print(String(format: "memory: peak RSS %.1f MiB, arena %.1f MiB, weights %.1f MiB", Double(report.peak_rss_bytes) / 1048576,
                         Double(report.arena_bytes) / 1048576, Double(report.weight_bytes) / 1048576))
            if let kinds {
                print("\nby kind:")
                for k in kinds {
                    print("  " + pad(k.kind, 12) + String(format: " %8.3f ms  %5.1f%%  %7.1f GFLOP/s", k.ms, k.share * 100, k.gflops_per_second))
                }
                print("\nby layer:")
                for s in steps where s.seconds > 0 {
                    let rate = s.flops > 0 ? String(format: "%7.1f GFLOP/s", 2 * Double(s.flops) / s.seconds / 1e9) : ""
                    print("  " + pad(s.name, 28) + " " + pad(s.kind, 12) + String(format: " %8.4f ms  ", s.seconds * 1000) + rate)
                }
            }
        } catch let error as ExecutorError {
            throw RuntimeError(error.description)
        }
    }
}

/// `text` left-aligned in `width` columns.
func pad(_ text: String, _ width: Int) -> String {
    text.count >= width ? text : text + String(repeating: " ", count: width - text.count)
}
