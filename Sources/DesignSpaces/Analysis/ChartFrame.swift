import Foundation

/// What every chart here shares: an SVG document of a given size with a title, x and y axes with six
/// ticks each and their labels, a plot area mapped from data ranges (x linear or logarithmic), and a
/// legend box. The charts (`EDFPlot`, `ScatterPlot`, `CurvePlot`) draw only their marks.
struct ChartFrame {
    var width = 640, height = 420
    var xRange: ClosedRange<Double>
    var yRange: ClosedRange<Double>
    /// Logarithmic x axis (for quantities spanning decades: flops, params).
    var logX = false
    let margin = (left: 64.0, right: 20.0, top: 36.0, bottom: 50.0)

    static let colours = ["#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b", "#e377c2", "#17becf"]

    /// A frame whose ranges hold `xs` and `ys` with 5% padding (a single value gets ±1).
    init(xs: [Double], ys: [Double], logX: Bool = false, fixedY: ClosedRange<Double>? = nil) {
        func padded(_ values: [Double], log: Bool) -> ClosedRange<Double> {
            let v = log ? values.filter { $0 > 0 }.map(log10) : values.filter(\.isFinite)
            var lo = v.min() ?? 0, hi = v.max() ?? 1
            if hi - lo < 1e-9 { lo -= log ? 0.5 : 1; hi += log ? 0.5 : 1 }
            let pad = (hi - lo) * 0.05
            return (lo - pad)...(hi + pad)
        }
        self.logX = logX
        xRange = padded(xs, log: logX)
        yRange = fixedY ?? padded(ys, log: false)
    }

    var plotWidth: Double { Double(width) - margin.left - margin.right }
    var plotHeight: Double { Double(height) - margin.top - margin.bottom }

    /// Horizontal position of data value `v`.
    func x(_ v: Double) -> Double {
        let u = logX ? log10(max(v, 1e-300)) : v
        return margin.left + (u - xRange.lowerBound) / (xRange.upperBound - xRange.lowerBound) * plotWidth
    }

    /// Vertical position of data value `v`.
    func y(_ v: Double) -> Double { margin.top + (1 - (v - yRange.lowerBound) / (yRange.upperBound - yRange.lowerBound)) * plotHeight }

    /// The whole document: frame, `marks`, and a legend of `legend` entries in the corner `legendAt`.
    func document(title: String, xLabel: String, yLabel: String, marks: String, legend: [(label: String, colour: String)],
                  legendAt corner: Corner = .bottomRight) -> String {
        var svg = """
        <svg xmlns="http://www.w3.org/2000/svg" width="\(width)" height="\(height)" viewBox="0 0 \(width) \(height)" font-family="sans-serif" font-size="12">
        <rect width="100%" height="100%" fill="white"/>
        <text x="\(width / 2)" y="22" text-anchor="middle" font-size="15">\(Self.escape(title))</text>

        """
        let left = margin.left, right = margin.left + plotWidth, top = margin.top, bottom = margin.top + plotHeight
        svg += "<g class=\"axes\" stroke=\"#333\" fill=\"none\">\n"
        svg += "<line x1=\"\(f(left))\" y1=\"\(f(bottom))\" x2=\"\(f(right))\" y2=\"\(f(bottom))\"/>\n"
        svg += "<line x1=\"\(f(left))\" y1=\"\(f(bottom))\" x2=\"\(f(left))\" y2=\"\(f(top))\"/>\n</g>\n"
        svg += "<g class=\"ticks\" fill=\"#333\">\n"
        for i in 0...5 {
            let u = xRange.lowerBound + (xRange.upperBound - xRange.lowerBound) * Double(i) / 5
            let xValue = logX ? pow(10, u) : u
            svg += "<text x=\"\(f(margin.left + plotWidth * Double(i) / 5))\" y=\"\(f(bottom + 18))\" text-anchor=\"middle\">\(Self.tick(xValue))</text>\n"
            let yValue = yRange.lowerBound + (yRange.upperBound - yRange.lowerBound) * Double(i) / 5
            svg += "<text x=\"\(f(left - 8))\" y=\"\(f(y(yValue) + 4))\" text-anchor=\"end\">\(Self.tick(yValue))</text>\n"
        }
        svg += "<text x=\"\(f(left + plotWidth / 2))\" y=\"\(height - 10)\" text-anchor=\"middle\">\(Self.escape(xLabel))</text>\n"
        svg += "<text transform=\"translate(16 \(f(top + plotHeight / 2))) rotate(-90)\" text-anchor=\"middle\">\(Self.escape(yLabel))</text>\n</g>\n"
        svg += marks
        if !legend.isEmpty {
            let entries = legend.map { Self.escape($0.label) }
            let legendWidth = 34 + 6.6 * Double(legend.map(\.label.count).max() ?? 0), legendHeight = 8 + 18 * Double(legend.count)
            let lx = corner.isRight ? right - legendWidth - 8 : left + 8
            let ly0 = corner.isBottom ? bottom - legendHeight - 8 : top + 8
            svg += "<g class=\"legend\">\n"
            svg += "<rect x=\"\(f(lx))\" y=\"\(f(ly0))\" width=\"\(f(legendWidth))\" height=\"\(f(legendHeight))\" fill=\"white\" fill-opacity=\"0.9\" stroke=\"#ccc\"/>\n"
            for (index, entry) in entries.enumerated() {
                let ly = ly0 + 18 + Double(index) * 18
                svg += "<line x1=\"\(f(lx + 8))\" y1=\"\(f(ly - 4))\" x2=\"\(f(lx + 26))\" y2=\"\(f(ly - 4))\" stroke=\"\(legend[index].colour)\" stroke-width=\"3\"/>\n"
                svg += "<text x=\"\(f(lx + 32))\" y=\"\(f(ly))\">\(entry)</text>\n"
            }
            svg += "</g>\n"
        }
        return svg + "</svg>\n"
    }

    /// Where the legend goes: the corner the marks leave empty.
    enum Corner {
        case topLeft, topRight, bottomLeft, bottomRight
        var isRight: Bool { self == .topRight || self == .bottomRight }
        var isBottom: Bool { self == .bottomLeft || self == .bottomRight }
    }

    /// One decimal, coordinates.
    func f(_ v: Double) -> String { String(format: "%.1f", v) }

    /// A tick label: 3 significant digits, with K/M/G for large values.
    static func tick(_ v: Double) -> String {
        let a = abs(v)
        if a >= 1e9 { return String(format: "%.3gG", v / 1e9) }
        if a >= 1e6 { return String(format: "%.3gM", v / 1e6) }
        if a >= 1e4 { return String(format: "%.3gK", v / 1e3) }
        return String(format: a >= 100 ? "%.0f" : "%.3g", v)
    }

    static func escape(_ s: String) -> String { s.xmlEscaped }
}

extension String {
    /// The text made safe inside SVG and HTML elements and attributes.
    package var xmlEscaped: String {
        replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;")
            .replacingOccurrences(of: ">", with: "&gt;").replacingOccurrences(of: "\"", with: "&quot;")
    }
}
