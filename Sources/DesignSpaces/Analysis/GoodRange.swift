/// The bootstrap estimate pycls uses for a parameter's "good range": draw many subsamples of 25% of the
/// runs (with replacement), keep each subsample's best run, and report percentiles of its parameter.
public struct GoodRange: Hashable, Sendable, Codable {
    /// 2.5th percentile.
    public var low: Double
    /// Median.
    public var median: Double
    /// 97.5th percentile.
    public var high: Double

    /// Estimates the range of `value` over `runs` (runs without the value are skipped).
    public static func estimate(_ runs: [RunResult], value: (RunResult) -> Double?, samples: Int = 2500, fraction: Double = 0.25,
                                seed: UInt64 = 0) throws(RegNetError) -> GoodRange {
        let usable = runs.compactMap { run in value(run).map { (run.error, $0) } }
        guard !usable.isEmpty else { throw RegNetError(.invalidParameters, "no run has a value for the parameter") }
        var generator = SeededGenerator(seed: seed)
        let size = subsampleSize(usable.count, fraction: fraction)
        var best: [Double] = []
        best.reserveCapacity(samples)
        for _ in 0..<samples {
            var winner = usable[Int(generator.nextUnit() * Double(usable.count))]
            for _ in 1..<size {
                let candidate = usable[Int(generator.nextUnit() * Double(usable.count))]
                if candidate.0 < winner.0 { winner = candidate }
            }
            best.append(winner.1)
        }
        best.sort()
        return GoodRange(low: percentile(best, 2.5), median: percentile(best, 50), high: percentile(best, 97.5))
    }

    /// Runs per bootstrap subsample: pycls's int(n · fraction), truncated (7 of 30, not 8), at least 1.
    public static func subsampleSize(_ n: Int, fraction: Double = 0.25) -> Int { max(1, Int(Double(n) * fraction)) }

    /// Linear-interpolated percentile of unsorted values (numpy's default).
    public static func percentileOf(_ values: [Double], _ p: Double) -> Double {
        values.isEmpty ? .nan : percentile(values.sorted(), p)
    }

    /// Linear-interpolated percentile of sorted values (numpy's default).
    static func percentile(_ sorted: [Double], _ p: Double) -> Double {
        let position = p / 100 * Double(sorted.count - 1)
        let lower = Int(position), upper = min(lower + 1, sorted.count - 1)
        return sorted[lower] + (sorted[upper] - sorted[lower]) * (position - Double(lower))
    }
}
