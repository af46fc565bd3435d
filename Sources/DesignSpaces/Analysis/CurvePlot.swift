import Foundation

/// Values over epochs, one line per run (training and test error curves of the best models).
public enum CurvePlot {
    /// The SVG document; each series' values are at epochs 1, 2, ….
    public static func svg(_ series: [(label: String, values: [Double])], title: String, yLabel: String) -> String {
        let longest = series.map(\.values.count).max() ?? 1
        let frame = ChartFrame(xs: [1, Double(max(longest, 2))], ys: series.flatMap(\.values), integerX: true)
        var marks = ""
        for (index, s) in series.enumerated() where !s.values.isEmpty {
            let points = s.values.enumerated().map { "\(frame.f(frame.x(Double($0 + 1)))),\(frame.f(frame.y($1)))" }
            marks += "<polyline class=\"curve\" data-label=\"\(ChartFrame.escape(s.label))\" fill=\"none\" stroke=\"\(EDFPlot.colour(index))\" stroke-width=\"2\" points=\"\(points.joined(separator: " "))\"/>\n"
        }
        return frame.document(title: title, xLabel: "epoch", yLabel: yLabel, marks: marks,
                              legend: series.enumerated().map { (label: $1.label, colour: EDFPlot.colour($0)) })
    }
}
