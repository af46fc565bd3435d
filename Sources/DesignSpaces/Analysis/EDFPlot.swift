import Foundation

/// Draws error EDFs as an SVG chart: one step curve per design space, axes with ticks, and a legend
/// giving n, minimum and mean error, as pycls's `plot_edf` does.
public enum EDFPlot {
    /// The SVG document for `curves`.
    public static func svg(_ curves: [EDF], title: String = "Error EDF", width: Int = 640, height: Int = 420) -> String {
        var frame = ChartFrame(xs: curves.flatMap(\.errors), ys: [], fixedY: 0...1)
        (frame.width, frame.height) = (width, height)
        var marks = ""
        // Curves: a step from 0 to 1, rising by 1/n at each sorted error.
        for (index, curve) in curves.enumerated() where curve.count > 0 {
            let lo = frame.xRange.lowerBound, hi = frame.xRange.upperBound
            var points = ["\(frame.f(frame.x(lo))),\(frame.f(frame.y(0)))"]
            for (k, e) in curve.errors.enumerated() {
                points.append("\(frame.f(frame.x(e))),\(frame.f(frame.y(Double(k) / Double(curve.count))))")
                points.append("\(frame.f(frame.x(e))),\(frame.f(frame.y(Double(k + 1) / Double(curve.count))))")
            }
            points.append("\(frame.f(frame.x(hi))),\(frame.f(frame.y(1)))")
            marks += "<polyline class=\"edf\" data-label=\"\(ChartFrame.escape(curve.label))\" fill=\"none\" stroke=\"\(colour(index))\" stroke-width=\"2\" points=\"\(points.joined(separator: " "))\"/>\n"
        }
        let legend = curves.enumerated().map { index, curve in
            (label: "\(curve.label) (n=\(curve.count), min=\(String(format: "%.2f", curve.minimum)), mean=\(String(format: "%.2f", curve.mean)))",
             colour: colour(index))
        }
        return frame.document(title: title, xLabel: "error (%)", yLabel: "cumulative prob.", marks: marks, legend: legend)
    }

    static func colour(_ index: Int) -> String { ChartFrame.colours[index % ChartFrame.colours.count] }
}
