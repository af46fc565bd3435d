import Foundation

/// Draws error EDFs as an SVG chart: one step curve per design space, axes with ticks, and a legend
/// giving n, minimum and mean error, as pycls's `plot_edf` does.
public enum EDFPlot {
    /// The SVG document for `curves`.
    public static func svg(_ curves: [EDF], title: String = "Error EDF", width: Int = 640, height: Int = 420) -> String {
        let margin = (left: 60.0, right: 20.0, top: 36.0, bottom: 50.0)
        let plotWidth = Double(width) - margin.left - margin.right, plotHeight = Double(height) - margin.top - margin.bottom
        let all = curves.flatMap(\.errors)
        var lo = all.min() ?? 0, hi = all.max() ?? 1
        if hi - lo < 1e-9 { lo -= 1; hi += 1 }
        let pad = (hi - lo) * 0.05
        lo -= pad
        hi += pad
        func x(_ e: Double) -> Double { margin.left + (e - lo) / (hi - lo) * plotWidth }
        func y(_ f: Double) -> Double { margin.top + (1 - f) * plotHeight }
        let colours = ["#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b", "#e377c2", "#17becf"]
        var svg = """
        <svg xmlns="http://www.w3.org/2000/svg" width="\(width)" height="\(height)" viewBox="0 0 \(width) \(height)" font-family="sans-serif" font-size="12">
        <rect width="100%" height="100%" fill="white"/>
        <text x="\(width / 2)" y="22" text-anchor="middle" font-size="15">\(escape(title))</text>

        """
        // Axes and ticks.
        svg += "<g class=\"axes\" stroke=\"#333\" fill=\"none\">\n"
        svg += "<line x1=\"\(f(margin.left))\" y1=\"\(f(y(0)))\" x2=\"\(f(margin.left + plotWidth))\" y2=\"\(f(y(0)))\"/>\n"
        svg += "<line x1=\"\(f(margin.left))\" y1=\"\(f(y(0)))\" x2=\"\(f(margin.left))\" y2=\"\(f(y(1)))\"/>\n</g>\n"
        svg += "<g class=\"ticks\" fill=\"#333\">\n"
        for i in 0...5 {
            let e = lo + (hi - lo) * Double(i) / 5
            svg += "<text x=\"\(f(x(e)))\" y=\"\(f(y(0) + 18))\" text-anchor=\"middle\">\(String(format: "%.1f", e))</text>\n"
            let p = Double(i) / 5
            svg += "<text x=\"\(f(margin.left - 8))\" y=\"\(f(y(p) + 4))\" text-anchor=\"end\">\(String(format: "%.1f", p))</text>\n"
        }
        svg += "<text x=\"\(f(margin.left + plotWidth / 2))\" y=\"\(height - 10)\" text-anchor=\"middle\">error (%)</text>\n"
        svg += "<text transform=\"translate(16 \(f(margin.top + plotHeight / 2))) rotate(-90)\" text-anchor=\"middle\">cumulative prob.</text>\n</g>\n"
        // Curves: a step from 0 to 1, rising by 1/n at each sorted error.
        for (index, curve) in curves.enumerated() where curve.count > 0 {
            let colour = colours[index % colours.count]
            var points = ["\(f(x(lo))),\(f(y(0)))"]
            for (k, e) in curve.errors.enumerated() {
                points.append("\(f(x(e))),\(f(y(Double(k) / Double(curve.count))))")
                points.append("\(f(x(e))),\(f(y(Double(k + 1) / Double(curve.count))))")
            }
            points.append("\(f(x(hi))),\(f(y(1)))")
            svg += "<polyline class=\"edf\" data-label=\"\(escape(curve.label))\" fill=\"none\" stroke=\"\(colour)\" stroke-width=\"2\" points=\"\(points.joined(separator: " "))\"/>\n"
        }
        // Legend, bottom right: EDFs are near 1 at high errors and near 0 at low ones, so that corner is empty.
        let entries = curves.map { curve in
            "\(escape(curve.label)) (n=\(curve.count), min=\(String(format: "%.2f", curve.minimum)), mean=\(String(format: "%.2f", curve.mean)))"
        }
        let legendWidth = 34 + 6.6 * Double(entries.map(\.count).max() ?? 0), legendHeight = 8 + 18 * Double(entries.count)
        let lx = margin.left + plotWidth - legendWidth - 8, top = y(0) - legendHeight - 8
        svg += "<g class=\"legend\">\n"
        svg += "<rect x=\"\(f(lx))\" y=\"\(f(top))\" width=\"\(f(legendWidth))\" height=\"\(f(legendHeight))\" fill=\"white\" fill-opacity=\"0.9\" stroke=\"#ccc\"/>\n"
        for (index, entry) in entries.enumerated() {
            let ly = top + 18 + Double(index) * 18
            let colour = colours[index % colours.count]
            svg += "<line x1=\"\(f(lx + 8))\" y1=\"\(f(ly - 4))\" x2=\"\(f(lx + 26))\" y2=\"\(f(ly - 4))\" stroke=\"\(colour)\" stroke-width=\"3\"/>\n"
            svg += "<text x=\"\(f(lx + 32))\" y=\"\(f(ly))\">\(entry)</text>\n"
        }
        svg += "</g>\n</svg>\n"
        return svg
    }

    private static func f(_ v: Double) -> String { String(format: "%.1f", v) }

    private static func escape(_ s: String) -> String {
        s.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;")
            .replacingOccurrences(of: ">", with: "&gt;").replacingOccurrences(of: "\"", with: "&quot;")
    }
}
