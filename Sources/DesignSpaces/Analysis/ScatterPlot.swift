import Foundation

/// Error against one parameter, one colour per group, with a parameter's good range shaded, as
/// pycls's analysis plots a sampled metric against error.
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
    public static func svg(_ series: [Series], title: String, xLabel: String, yLabel: String = "error (%)",
                           goodRanges: [String: GoodRange] = [:], logX: Bool = false) -> String {
        let all = series.flatMap(\.points)
        let frame = ChartFrame(xs: all.map(\.x) + goodRanges.values.flatMap { [$0.low, $0.high] }, ys: all.map(\.y), logX: logX)
        var marks = ""
        for s in series {
            let colour = EDFPlot.colour(s.colour)
            if let range = goodRanges[s.label] {
                let x0 = frame.x(range.low), x1 = frame.x(range.high)
                marks += "<rect class=\"good-range\" data-label=\"\(ChartFrame.escape(s.label))\" x=\"\(frame.f(x0))\" y=\"\(frame.f(frame.margin.top))\" width=\"\(frame.f(max(1, x1 - x0)))\" height=\"\(frame.f(frame.plotHeight))\" fill=\"\(colour)\" fill-opacity=\"0.12\"/>\n"
            }
            marks += "<g class=\"points\" data-label=\"\(ChartFrame.escape(s.label))\" fill=\"\(colour)\">\n"
            for p in s.points where p.x.isFinite && p.y.isFinite && (!logX || p.x > 0) {
                marks += "<circle cx=\"\(frame.f(frame.x(p.x)))\" cy=\"\(frame.f(frame.y(p.y)))\" r=\"3.5\" fill-opacity=\"0.75\"/>\n"
            }
            marks += "</g>\n"
        }
        let legend = series.map { s in
            (label: s.label + (goodRanges[s.label].map { " (good range \(ChartFrame.tick($0.low))…\(ChartFrame.tick($0.high)))" } ?? ""),
             colour: EDFPlot.colour(s.colour))
        }
        return frame.document(title: title, xLabel: xLabel, yLabel: yLabel, marks: marks, legend: legend, legendAt: .topRight)
    }
}
