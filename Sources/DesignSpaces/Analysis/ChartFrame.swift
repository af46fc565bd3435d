import Foundation

/// What every chart here shares: an SVG document with a title, x and y axes with round tick values
/// (1, 2 or 5 × 10ᵏ steps; powers of ten on a logarithmic axis; whole numbers on an integer axis), a
/// plot area mapped from data ranges, optional labelled bands above the plot (good ranges), and a
/// legend below the x axis — outside the plot area, so it never hides a mark. The charts
/// (`EDFPlot`, `ScatterPlot`, `CurvePlot`) draw only their marks.
struct ChartFrame {
    /// Document width, and the height of the title, plot and x axis (bands and legend add to it).
    var width = 640, height = 420
    var xRange: ClosedRange<Double>
    var yRange: ClosedRange<Double>
    /// Logarithmic x axis (for quantities spanning decades: flops, params).
    var logX = false
    /// Whole-number x ticks (epochs).
    var integerX = false
    /// Labelled rows between the title and the plot (`band(_:)`).
    var bands = 0

    static let bandHeight = 26.0, legendRow = 18.0
    var margin: (left: Double, right: Double, top: Double, bottom: Double) { (64, 20, 36 + Self.bandHeight * Double(bands), 50) }

    static let colours = ["#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b", "#e377c2", "#17becf"]

    /// A frame whose ranges hold `xs` and `ys` with 5% padding (a single value gets ±1).
    init(xs: [Double], ys: [Double], logX: Bool = false, integerX: Bool = false, fixedY: ClosedRange<Double>? = nil) {
        func padded(_ values: [Double], log: Bool) -> ClosedRange<Double> {
            let v = log ? values.filter { $0 > 0 }.map(log10) : values.filter(\.isFinite)
            var lo = v.min() ?? 0, hi = v.max() ?? 1
            if hi - lo < 1e-9 { lo -= log ? 0.5 : 1; hi += log ? 0.5 : 1 }
            let pad = (hi - lo) * 0.05
            return (lo - pad)...(hi + pad)
        }
        self.logX = logX
        self.integerX = integerX
        xRange = padded(xs, log: logX)
        yRange = fixedY ?? padded(ys, log: false)
    }

    var plotWidth: Double { Double(width) - margin.left - margin.right }
    /// The plot's height: the base height less the title's and x axis's room (bands do not shrink it).
    var plotHeight: Double { Double(height) - 36 - margin.bottom }

    /// Horizontal position of data value `v`.
    func x(_ v: Double) -> Double {
        let u = logX ? log10(max(v, 1e-300)) : v
        return margin.left + (u - xRange.lowerBound) / (xRange.upperBound - xRange.lowerBound) * plotWidth
    }

    /// Vertical position of data value `v`.
    func y(_ v: Double) -> Double { margin.top + (1 - (v - yRange.lowerBound) / (yRange.upperBound - yRange.lowerBound)) * plotHeight }

    /// Top of band `index` (0 is the top one): a label's row, then a bar's.
    func band(_ index: Int) -> Double { 36 + Self.bandHeight * Double(index) }

    /// The whole document: frame, `marks`, and a legend of `legend` entries under the x axis.
    func document(title: String, xLabel: String, yLabel: String, marks: String, legend: [(label: String, colour: String)]) -> String {
        let left = margin.left, right = margin.left + plotWidth, top = margin.top, bottom = margin.top + plotHeight
        let axisEnd = bottom + margin.bottom, total = axisEnd + (legend.isEmpty ? 0 : Self.legendRow * Double(legend.count) + 8)
        var svg = """
        <svg xmlns="http://www.w3.org/2000/svg" width="\(width)" height="\(f(total))" viewBox="0 0 \(width) \(f(total))" font-family="sans-serif" font-size="12">
        <rect width="100%" height="100%" fill="white"/>
        <text x="\(width / 2)" y="22" text-anchor="middle" font-size="15">\(Self.escape(title))</text>
        <rect class="plot-area" x="\(f(left))" y="\(f(top))" width="\(f(plotWidth))" height="\(f(plotHeight))" fill="none"/>

        """
        svg += "<g class=\"axes\" stroke=\"#333\" fill=\"none\">\n"
        svg += "<line x1=\"\(f(left))\" y1=\"\(f(bottom))\" x2=\"\(f(right))\" y2=\"\(f(bottom))\"/>\n"
        svg += "<line x1=\"\(f(left))\" y1=\"\(f(bottom))\" x2=\"\(f(left))\" y2=\"\(f(top))\"/>\n</g>\n"
        svg += "<g class=\"ticks\" fill=\"#333\">\n"
        let (ticks, decades) = xTicks
        for value in ticks {
            let at = x(value)
            svg += "<line x1=\"\(f(at))\" y1=\"\(f(bottom))\" x2=\"\(f(at))\" y2=\"\(f(bottom + 4))\" stroke=\"#333\"/>\n"
            svg += "<text class=\"x-tick\(integerX ? " integer" : "")\(decades ? " log" : "")\" x=\"\(f(at))\" y=\"\(f(bottom + 18))\" text-anchor=\"middle\">\(Self.tick(value))</text>\n"
        }
        for value in Self.roundTicks(yRange) {
            svg += "<line x1=\"\(f(left - 4))\" y1=\"\(f(y(value)))\" x2=\"\(f(left))\" y2=\"\(f(y(value)))\" stroke=\"#333\"/>\n"
            svg += "<text class=\"y-tick\" x=\"\(f(left - 8))\" y=\"\(f(y(value) + 4))\" text-anchor=\"end\">\(Self.tick(value))</text>\n"
        }
        svg += "<text x=\"\(f(left + plotWidth / 2))\" y=\"\(f(axisEnd - 10))\" text-anchor=\"middle\">\(Self.escape(xLabel))</text>\n"
        svg += "<text transform=\"translate(16 \(f(top + plotHeight / 2))) rotate(-90)\" text-anchor=\"middle\">\(Self.escape(yLabel))</text>\n</g>\n"
        svg += marks
        if !legend.isEmpty {
            svg += "<g class=\"legend\">\n"
            for (index, entry) in legend.enumerated() {
                let ly = axisEnd + Self.legendRow * Double(index + 1)
                svg += "<line x1=\"\(f(left))\" y1=\"\(f(ly - 4))\" x2=\"\(f(left + 18))\" y2=\"\(f(ly - 4))\" stroke=\"\(entry.colour)\" stroke-width=\"3\"/>\n"
                svg += "<text x=\"\(f(left + 24))\" y=\"\(f(ly))\">\(Self.escape(entry.label))</text>\n"
            }
            svg += "</g>\n"
        }
        return svg + "</svg>\n"
    }

    /// The x axis's tick values, and whether they are 1, 2 and 5 × 10ᵏ of a logarithmic axis: powers of
    /// ten (with 2× and 5× when the axis spans under two decades) when at least two fall inside it, else
    /// round values of the range it spans; whole numbers only on an integer axis.
    var xTicks: (values: [Double], decades: Bool) {
        guard logX else { return (Self.roundTicks(xRange, integer: integerX), false) }
        let lo = xRange.lowerBound, hi = xRange.upperBound
        let multiples: [Double] = hi - lo < 2 ? [1, 2, 5] : [1]
        var ticks: [Double] = []
        for power in Int(floor(lo))...Int(ceil(hi)) {
            for m in multiples {
                let value = m * pow(10, Double(power))
                if (lo...hi).contains(log10(value)) { ticks.append(value) }
            }
        }
        return ticks.count >= 2 ? (ticks, true) : (Self.roundTicks(pow(10, lo)...pow(10, hi)), false)
    }

    /// Round values inside `range`, five to seven of them: the multiples of a step of 1, 2 or 5 × 10ᵏ
    /// (a whole number at least 1 when `integer`) that fits about six times in the range.
    static func roundTicks(_ range: ClosedRange<Double>, integer: Bool = false) -> [Double] {
        let span = range.upperBound - range.lowerBound
        guard span > 0, span.isFinite else { return [] }
        let magnitude = pow(10, floor(log10(span / 5)))
        var step = [1.0, 2, 5, 10, 20].map { $0 * magnitude }.min { abs(span / $0 - 6) < abs(span / $1 - 6) }!
        if integer { step = max(1, step.rounded(.up)) }
        // Written with the step's decimals, so 6 × 0.2 is 1.2, not 1.2000000000000002.
        let scale = pow(10, max(0, -floor(log10(step))))
        let first = (range.lowerBound / step).rounded(.up)
        return (0...Int(span / step) + 1).map { ((first + Double($0)) * step * scale).rounded() / scale }.filter { range.contains($0) }
    }

    /// One decimal, coordinates.
    func f(_ v: Double) -> String { String(format: "%.1f", v) }

    /// A tick label: the value as written (round values need few digits), with K/M/G for large values.
    static func tick(_ v: Double) -> String {
        let a = abs(v)
        if a >= 1e9 { return String(format: "%gG", v / 1e9) }
        if a >= 1e6 { return String(format: "%gM", v / 1e6) }
        if a >= 1e4 { return String(format: "%gK", v / 1e3) }
        return a < 1e-12 ? "0" : String(format: "%g", v)
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
