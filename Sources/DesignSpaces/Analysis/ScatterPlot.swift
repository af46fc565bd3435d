import Foundation

/// Error against one parameter, one colour per group, with each group's good range shaded in the plot
/// and drawn as a labelled bar above it (where shades overlap their colours mix; the bars say whose
/// range is whose), as pycls's analysis plots a sampled metric against error.
public enum ScatterPlot {
    /// One group of points (x: the parameter, y: the error).
    public struct Series: Sendable {
        public var label: String
        public var points: [(x: Double, y: Double)]
        /// Index into the palette, so a group keeps its colour across charts.
        public var colour: Int
        /// A group's series.
        public init(label: String, points: [(x: Double, y: Double)], colour: Int) {
            self.label = label
            self.points = points
            self.colour = colour
        }
    }

    /// The SVG document; `goodRanges` shades [low, high] per group in its colour; `logX` for flops and params.
    /// An x parameter whose values are all whole numbers (depths, widths, group widths) gets whole-number ticks.
    public static func svg(_ series: [Series], title: String, xLabel: String, yLabel: String = "error (%)",
                           goodRanges: [String: GoodRange] = [:], logX: Bool = false) -> String {
        let all = series.flatMap(\.points)
        var frame = ChartFrame(xs: all.map(\.x) + goodRanges.values.flatMap { [$0.low, $0.high] }, ys: all.map(\.y), logX: logX,
                               integerX: !logX && all.allSatisfy { $0.x == $0.x.rounded() })
        let ranged = series.filter { goodRanges[$0.label] != nil }
        frame.bands = ranged.count
        var marks = ""
        for s in series {
            let colour = EDFPlot.colour(s.colour)
            if let range = goodRanges[s.label], let band = ranged.firstIndex(where: { $0.label == s.label }) {
                let x0 = frame.x(range.low), x1 = frame.x(range.high), top = frame.band(band), y = top + 19
                let text = "\(s.label) good range \(ChartFrame.tick(range.low))…\(ChartFrame.tick(range.high))"
                let label = ChartFrame.escape(text)
                marks += "<rect class=\"good-range\" data-label=\"\(ChartFrame.escape(s.label))\" x=\"\(frame.f(x0))\" y=\"\(frame.f(frame.margin.top))\" width=\"\(frame.f(max(1, x1 - x0)))\" height=\"\(frame.f(frame.plotHeight))\" fill=\"\(colour)\" fill-opacity=\"0.12\"/>\n"
                marks += "<g class=\"good-range-bar\" stroke=\"\(colour)\" stroke-width=\"2\"><line x1=\"\(frame.f(x0))\" y1=\"\(frame.f(y))\" x2=\"\(frame.f(max(x0 + 1, x1)))\" y2=\"\(frame.f(y))\"/>"
                    + "<line x1=\"\(frame.f(x0))\" y1=\"\(frame.f(y - 4))\" x2=\"\(frame.f(x0))\" y2=\"\(frame.f(y + 4))\"/><line x1=\"\(frame.f(x1))\" y1=\"\(frame.f(y - 4))\" x2=\"\(frame.f(x1))\" y2=\"\(frame.f(y + 4))\"/></g>\n"
                // The label above its bar, from the bar's start, moved left as far as needed to fit.
                let labelX = max(frame.margin.left, min(x0, Double(frame.width) - 6 - 6.2 * Double(text.count)))
                marks += "<text class=\"good-range-label\" x=\"\(frame.f(labelX))\" y=\"\(frame.f(top + 11))\" fill=\"\(colour)\" font-size=\"11\">\(label)</text>\n"
            }
            marks += "<g class=\"points\" data-label=\"\(ChartFrame.escape(s.label))\" fill=\"\(colour)\">\n"
            for p in s.points where p.x.isFinite && p.y.isFinite && (!logX || p.x > 0) {
                marks += "<circle cx=\"\(frame.f(frame.x(p.x)))\" cy=\"\(frame.f(frame.y(p.y)))\" r=\"3.5\" fill-opacity=\"0.75\"/>\n"
            }
            marks += "</g>\n"
        }
        let legend = series.map { s in
            (label: s.label + (goodRanges[s.label].map { " (good range \(ChartFrame.tick($0.low))…\(ChartFrame.tick($0.high)), shaded)" } ?? ""),
             colour: EDFPlot.colour(s.colour))
        }
        return frame.document(title: title, xLabel: xLabel, yLabel: yLabel, marks: marks, legend: legend)
    }
}
