import DesignSpaces
import Foundation
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Weights

/// `regnet sweep analyze`: a self-contained page in the spirit of pycls's sweep analysis — error EDFs
/// per group with KS distances, error against every sampled parameter and against flops, params and
/// acts with each group's bootstrap good range shaded, and the training and test curves of the best
/// runs — plus each chart as its own SVG file.
public struct SweepAnalysis: Sendable {
    /// The charts, by file name (`edf.svg`, `error_vs_flops.svg`, …), in page order.
    public let charts: [(file: String, title: String, svg: String)]
    /// The page.
    public let html: String

    /// Analyses the runs of `collection` that have an error, grouped by the field `groupBy` (`space`
    /// by default), with the curves of the `best` lowest-error runs.
    public init(_ collection: SweepCollection, name: String, groupBy: String = "space", best: Int = 3) throws(SweepError) {
        let runs = collection.results.filter { $0.error != nil }
        guard !runs.isEmpty else { throw SweepError(.invalidDirectory, "no model has a test error yet: run the sweep first") }
        func group(_ r: SweepResult) -> String { groupBy == "space" ? r.space : r.fields[groupBy] ?? "–" }
        if groupBy != "space", !runs.contains(where: { $0.fields[groupBy] != nil }) {
            throw SweepError(.invalidDirectory, "no model has a field '\(groupBy)' to group by")
        }
        let groups = Dictionary(grouping: runs, by: group)
        let labels = groups.keys.sorted()
        let edfs = labels.map { EDF(label: $0, errors: groups[$0]!.map { $0.error! }) }
        var charts: [(String, String, String)] = [("edf.svg", "Error EDF", EDFPlot.svg(edfs))]

        // Every numeric parameter, each stage's depth, width, bottleneck ratio and group width (d1, w1,
        // b1, g1, … as the paper's Figures 5 and 6 plot them), then complexity: error against each that
        // varies, with each group's good range.
        let numericFields = Set(runs.flatMap(\.fields.keys)).subtracting(Self.perStage.map(\.field)).sorted().filter { key in
            runs.contains { r in r.fields[key].flatMap(Double.init) != nil }
        }
        var parameters = numericFields.map { key in (key, key, { (r: SweepResult) in r.fields[key].flatMap(Double.init) }) }
        let stages = runs.compactMap { $0.fields["depths"]?.split(separator: "-").count }.max() ?? 0
        for (field, symbol, meaning) in Self.perStage where stages > 0 {
            for stage in 1...stages {
                parameters.append(("\(symbol)\(stage)", "\(symbol)\(stage): stage \(stage) \(meaning)", { (r: SweepResult) in
                    r.fields[field].flatMap { text in
                        let values = text.split(separator: "-")
                        return values.count >= stage ? Double(values[stage - 1]) : nil
                    }
                }))
            }
        }
        parameters += [("flops", "flops", { Double($0.flops) }), ("params", "params", { Double($0.params) }), ("acts", "acts", { Double($0.acts) })]
        for (key, axis, value) in parameters where Set(runs.compactMap(value)).count > 1 {
            var series: [ScatterPlot.Series] = [], ranges: [String: GoodRange] = [:]
            for (colour, label) in labels.enumerated() {
                let members = groups[label]!.filter { value($0) != nil }
                guard !members.isEmpty else { continue }
                series.append(.init(label: label, points: members.map { (value($0)!, $0.error!) }, colour: colour))
                let results = members.map { RunResult(name: $0.name, error: $0.error!, fields: [key: String(value($0)!)]) }
                ranges[label] = try? GoodRange.estimate(results) { $0.fields[key].flatMap(Double.init) }
            }
            let logX = ["flops", "params", "acts"].contains(key)
            charts.append(("error_vs_\(Self.slug(key)).svg", "Error vs \(key)",
                           ScatterPlot.svg(series, title: "Error vs \(key)", xLabel: axis, goodRanges: ranges, logX: logX)))
        }
        let top = runs.sorted { ($0.error!, $0.index) < ($1.error!, $1.index) }.prefix(best)
        charts.append(("curves_train.svg", "Training error of the best \(top.count)",
                       CurvePlot.svg(top.map { ("\($0.name) (\(String(format: "%.2f", $0.error!)))", $0.trainError) },
                                     title: "Training top-1 error, best \(top.count)", yLabel: "train error (%)")))
        charts.append(("curves_test.svg", "Test error of the best \(top.count)",
                       CurvePlot.svg(top.map { ("\($0.name) (\(String(format: "%.2f", $0.error!)))", $0.testError) },
                                     title: "Test top-1 error, best \(top.count)", yLabel: "test error (%)")))
        self.charts = charts

        var page = """
        <!DOCTYPE html>
        <html lang="en"><head><meta charset="utf-8"><title>\(name.xmlEscaped): sweep analysis</title>
        <style>body{font-family:sans-serif;margin:2em;max-width:1340px}table{border-collapse:collapse;margin:1em 0}
        td,th{border:1px solid #ccc;padding:4px 10px;text-align:right}th:first-child,td:first-child{text-align:left}
        .charts{display:flex;flex-wrap:wrap;gap:12px}figure{margin:0}figcaption{font-size:13px;color:#444}</style></head>
        <body>
        <h1>\(name.xmlEscaped)</h1>
        <p>\(collection.statusLine.xmlEscaped); \(runs.count) models with a test error, grouped by \(groupBy.xmlEscaped).</p>

        """
        // With an EMA, pycls's error is the EMA's: the models' own best errors go beside it, since a
        // short run's EMA can lag far behind its model.
        let withEMA = runs.contains { $0.emaError != nil }
        if withEMA {
            page += "<p>Errors are pycls's: the EMA's lowest test error. The model's own lowest is beside it.</p>\n"
        }
        page += "<table><tr><th>\(groupBy.xmlEscaped)</th><th>n</th><th>min</th><th>mean</th><th>median</th>"
            + (withEMA ? "<th>model's own: min</th><th>mean</th>" : "") + "</tr>\n"
        for edf in edfs {
            page += "<tr><td>\(edf.label.xmlEscaped)</td><td>\(edf.count)</td><td>\(Self.number(edf.minimum))</td><td>\(Self.number(edf.mean))</td>"
                + "<td>\(Self.number(GoodRange.percentileOf(edf.errors, 50)))</td>"
            if withEMA {
                let own = groups[edf.label]!.compactMap(\.bestError)
                page += own.isEmpty ? "<td>–</td><td>–</td>" : "<td>\(Self.number(own.min()!))</td><td>\(Self.number(own.reduce(0, +) / Double(own.count)))</td>"
            }
            page += "</tr>\n"
        }
        page += "</table>\n"
        if edfs.count > 1 {
            page += "<table><tr><th>pair</th><th>KS distance</th></tr>\n"
            for (i, a) in edfs.enumerated() {
                for b in edfs.dropFirst(i + 1) {
                    page += "<tr><td>\(a.label.xmlEscaped) – \(b.label.xmlEscaped)</td><td>\(String(format: "%.4f", a.ksDistance(to: b)))</td></tr>\n"
                }
            }
            page += "</table>\n"
        }
        page += "<div class=\"charts\">\n"
        for (file, title, svg) in charts {
            page += "<figure id=\"\(file.xmlEscaped)\">\(svg)<figcaption>\(title.xmlEscaped) (<a href=\"analysis/\(file.xmlEscaped)\">\(file.xmlEscaped)</a>)</figcaption></figure>\n"
        }
        // Inline and fetching nothing: records, for the page check, how many charts the browser laid out
        // with their axes and legends, how many data points fall inside a laid-out legend or legends
        // reach into a plot area, and how many axes have ticks that are not round: not multiples of one
        // step of 1, 2 or 5 × 10^k (on a logarithmic axis, not 1, 2 or 5 × 10^k), or not whole numbers
        // on a whole-number axis (epochs).
        page += """
        </div>
        <script>
        window.addEventListener("load", () => {
          const charts = Array.from(document.querySelectorAll("figure > svg"));
          const drawn = charts.filter(svg => {
            const box = svg.getBBox();
            return box.width > 0 && box.height > 0 && svg.querySelector(".axes line") && svg.querySelector(".legend text");
          });
          let covered = 0, intruding = 0, unround = 0;
          for (const svg of charts) {
            const legend = svg.querySelector(".legend"), plot = svg.querySelector(".plot-area");
            if (legend && plot) {
              const l = legend.getBBox(), p = plot.getBBox();
              if (l.y < p.y + p.height) intruding++;
              const inside = (x, y) => x >= l.x && x <= l.x + l.width && y >= l.y && y <= l.y + l.height;
              for (const c of svg.querySelectorAll("circle")) if (inside(+c.getAttribute("cx"), +c.getAttribute("cy"))) covered++;
              for (const line of svg.querySelectorAll("polyline"))
                for (const point of line.getAttribute("points").trim().split(/\\s+/)) {
                  const [x, y] = point.split(",").map(Number);
                  if (inside(x, y)) covered++;
                }
            }
            const scale = { "": 1, K: 1e3, M: 1e6, G: 1e9 };
            const roundMantissa = v => { const m = Math.abs(v) / 10 ** Math.floor(Math.log10(Math.abs(v))); return [1, 2, 5, 10].some(r => Math.abs(m - r) < 1e-9); };
            for (const axis of [".x-tick", ".y-tick"]) {
              const ticks = Array.from(svg.querySelectorAll(axis));
              const values = ticks.map(t => { const m = t.textContent.match(/^(-?[0-9.e+-]+)([KMG]?)$/); return m ? Number(m[1]) * scale[m[2]] : NaN; });
              if (values.length < 2 || values.some(v => !isFinite(v))) { unround++; continue; }
              if (ticks[0].classList.contains("log")) { if (!values.every(roundMantissa)) unround++; continue; }
              const step = values[1] - values[0];
              const even = values.every((v, i) => Math.abs(v - values[0] - i * step) < 1e-9 * Math.max(1, Math.abs(v)));
              const multiples = values.every(v => Math.abs(v / step - Math.round(v / step)) < 1e-6);
              const whole = !ticks[0].classList.contains("integer") || values.every(Number.isInteger);
              if (!(step > 0 && roundMantissa(step) && even && multiples && whole)) unround++;
            }
          }
          document.body.dataset.charts = charts.length;
          document.body.dataset.rendered = drawn.length;
          document.body.dataset.coveredPoints = covered;
          document.body.dataset.intrudingLegends = intruding;
          document.body.dataset.unroundAxes = unround;
        });
        </script>
        </body></html>

        """
        html = page
    }

    /// Writes `analysis.html` and `analysis/*.svg` into the sweep (each file atomically).
    public func write(to sweep: SweepDirectory) throws(SweepError) {
        let folder = sweep.url.appendingPathComponent("analysis")
        var info = stat()
        if lstat(folder.path, &info) == 0, info.st_mode & S_IFMT != S_IFDIR {
            throw SweepError(.invalidDirectory, "\(folder.path) is not a directory (a link or a file); remove it so the analysis stays inside the sweep")
        }
        do {
            try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
            for (file, _, svg) in charts { try writeAtomically(Data(svg.utf8), to: folder.appendingPathComponent(file)) }
            try writeAtomically(Data(html.utf8), to: sweep.url.appendingPathComponent("analysis.html"))
        } catch {
            throw SweepError(.invalidDirectory, "cannot write the analysis into \(sweep.url.path): \(error)")
        }
    }

    static func number(_ v: Double) -> String { String(format: "%.2f", v) }

    /// Stage-list fields (`1-2-4-1`, from `DesignConfiguration.fields`), the symbol of their per-stage
    /// charts and what it is.
    static let perStage: [(field: String, symbol: String, meaning: String)] = [
        ("depths", "d", "depth"), ("widths", "w", "width"), ("bottleneck_ratios", "b", "bottleneck ratio"), ("group_widths", "g", "group width"),
    ]

    /// A file-name part for `key` (a sampled field's name, which comes from the sweep's files): ASCII
    /// letters, digits, '_' and '-' only, at most 40 of them, with a hash of the key appended when
    /// anything was changed, so no key can name a path outside `analysis/` and two keys never share a file.
    static func slug(_ key: String) -> String {
        let safe = String(key.unicodeScalars.prefix(40).map { $0.isASCII && ($0.properties.isAlphabetic || ("0"..."9").contains($0) || $0 == "_" || $0 == "-") ? Character($0) : "_" })
        guard safe != key || key.isEmpty else { return safe }
        var hash: UInt32 = 0x811C_9DC5
        for byte in key.utf8 { hash = (hash ^ UInt32(byte)) &* 0x0100_0193 }
        return safe + "-" + String(hash, radix: 16)
    }
}
