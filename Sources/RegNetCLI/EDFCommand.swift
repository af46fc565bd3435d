import Foundation
import RegNet

/// `regnet edf`: error EDFs per design space, KS distances, optional SVG.
enum EDFCommand {
    static let usage = """
    usage: regnet edf results.csv [--by COLUMN] [--svg out.svg] [--good-range COLUMN] [--json]

    Reads a CSV with columns name,error (error in %, 0-100) and any others, groups runs by COLUMN
    (default 'space' when present), and prints n, minimum, mean and median error per group and the
    Kolmogorov-Smirnov distance between every pair of EDFs (with more than \(pairLimit) groups, each
    group's distance to all runs pooled instead). --svg writes the EDF curves as an SVG chart;
    --good-range estimates a numeric column's good range by pycls's bootstrap (per group, as pycls
    computes it per sweep).
    """

    /// Most groups whose pairwise KS distances are listed (pairs grow quadratically).
    static let pairLimit = 20

    struct Report: Encodable {
        struct Group: Encodable { var label: String, n: Int, min: Double, mean: Double, median: Double }
        struct Distance: Encodable { var a: String, b: String, ks: Double }
        struct GroupRange: Encodable { var label: String, range: GoodRange }
        var groups: [Group]
        var ks: [Distance]
        /// The good range over all runs, or per group with --by (pycls computes it per sweep).
        var goodRanges: [GroupRange]?
    }

    static func run(_ args: inout Arguments) throws {
        let by = try args.option("--by")
        let svgPath = try args.option("--svg")
        let goodRangeColumn = try args.option("--good-range")
        let json = args.flag("--json")
        guard let path = args.positional() else { throw UsageError("name a results CSV file") }
        try args.finish()
        let runs: [RunResult]
        do { runs = try RunResults.read(contentsOf: URL(fileURLWithPath: path)) } catch { throw RuntimeError("\(path): \(error.description)") }
        let column = by ?? (runs.first?.fields["space"] != nil ? "space" : nil)
        if let column, runs.first?.value(of: column) == nil {
            throw RuntimeError("\(path) has no column '\(column)'")
        }
        let grouped = Dictionary(grouping: runs) { run in column.flatMap { run.value(of: $0) } ?? "all" }
        let edfs = grouped.keys.sorted().map { EDF(label: $0, errors: grouped[$0]!.map(\.error)) }
        var distances: [Report.Distance] = []
        if edfs.count <= pairLimit {
            for (i, a) in edfs.enumerated() {
                for b in edfs.dropFirst(i + 1) { distances.append(.init(a: a.label, b: b.label, ks: a.ksDistance(to: b))) }
            }
        } else {
            let pooled = EDF(label: "all", errors: runs.map(\.error))
            for a in edfs { distances.append(.init(a: a.label, b: "all", ks: a.ksDistance(to: pooled))) }
        }
        var goodRanges: [Report.GroupRange]?
        if let name = goodRangeColumn {
            for (row, run) in runs.enumerated() {
                guard let text = run.value(of: name) else { throw RuntimeError("\(path) has no column '\(name)' for --good-range") }
                guard let value = Double(text.trimmingCharacters(in: .whitespaces)), value.isFinite else {
                    throw RuntimeError("\(path): row \(row + 1): '\(name)' is '\(text)', not a finite number (--good-range needs numbers)")
                }
            }
            do {
                goodRanges = try edfs.map { edf in
                    let members = grouped[edf.label]!
                    return Report.GroupRange(label: edf.label, range: try GoodRange.estimate(members) { run in
                        run.value(of: name).flatMap { Double($0.trimmingCharacters(in: .whitespaces)) }
                    })
                }
            } catch { throw RuntimeError("\(error)") }
        }
        let report = Report(groups: edfs.map { .init(label: $0.label, n: $0.count, min: $0.minimum, mean: $0.mean,
                                                      median: GoodRange.percentileOf($0.errors, 50)) },
                            ks: distances, goodRanges: goodRanges)
        if let svgPath {
            do { try writeAtomically(Data(EDFPlot.svg(edfs).utf8), to: URL(fileURLWithPath: svgPath)) } catch {
                throw RuntimeError(error.description)
            }
        }
        if json { return try printJSON(report) }
        printTable(header: [column ?? "group", "n", "min", "mean", "median"],
                   rows: report.groups.map { [$0.label, "\($0.n)", format2($0.min), format2($0.mean), format2($0.median)] })
        for d in distances { print("KS(\(d.a), \(d.b)) = \(String(format: "%.4f", d.ks))") }
        if let goodRanges, let goodRangeColumn {
            for g in goodRanges {
                let label = goodRanges.count > 1 ? " in \(g.label)" : ""
                print("good range of \(goodRangeColumn)\(label): \(format2(g.range.low)) … \(format2(g.range.high)) (median \(format2(g.range.median)))")
            }
        }
        if let svgPath { print("wrote \(svgPath)") }
    }
}
