import Foundation

/// The six RegNet parameters (d, w0, wa, wm, b, g) plus SE ratio, stem width and classes.
///
/// `stages()` applies the quantised linear rule exactly as pycls does: float64 arithmetic,
/// round-half-to-even at the exponent, the quantisation to multiples of 8 and the group-compatibility
/// adjustment, with the group width clamped to the bottleneck width.
public struct RegNetConfiguration: Hashable, Sendable, Codable {
    /// Total number of blocks d.
    public var depth: Int
    /// Initial width w0 (a multiple of 8).
    public var w0: Double
    /// Slope wa of the linear widths.
    public var wa: Double
    /// Width multiplier wm (> 1) between stages.
    public var wm: Double
    /// Group width g.
    public var groupWidth: Int
    /// Bottleneck ratio b (bottleneck width = width / b).
    public var bottleneckRatio: Double
    /// SE ratio relative to the block input width; 0 means RegNetX (no SE).
    public var seRatio: Double
    /// Stem width.
    public var stemWidth: Int
    /// Classifier outputs.
    public var classes: Int
    /// Stride of the stem's 3x3 convolution: 2 for ImageNet-size inputs, 1 for pycls's CIFAR stem.
    public var stemStride: Int = 2
    /// How bottleneck widths are made divisible by the group width.
    public var groupRounding: GroupRounding = .pycls

    /// The two published ways of fitting bottleneck widths to group widths.
    public enum GroupRounding: String, Hashable, Sendable, Codable {
        /// pycls and timm: round(w / g) · g with Python's half-to-even round.
        case pycls
        /// torchvision: half-up, bumped by g when the result would lose more than 10% (its `_make_divisible`).
        case torchvision
    }

    /// Width quantum q.
    public static let quantum = 8

    /// A configuration; defaults are pycls's (b = 1, no SE, stem 32, 1000 classes).
    public init(depth: Int, w0: Double, wa: Double, wm: Double, groupWidth: Int, bottleneckRatio: Double = 1,
                seRatio: Double = 0, stemWidth: Int = 32, classes: Int = 1000, groupRounding: GroupRounding = .pycls,
                stemStride: Int = 2) {
        self.groupRounding = groupRounding
        self.stemStride = stemStride
        self.depth = depth
        self.w0 = w0
        self.wa = wa
        self.wm = wm
        self.groupWidth = groupWidth
        self.bottleneckRatio = bottleneckRatio
        self.seRatio = seRatio
        self.stemWidth = stemWidth
        self.classes = classes
    }

    /// Throws when a parameter is outside what the rule accepts.
    public func validate() throws(RegNetError) {
        guard depth >= 1 else { throw RegNetError(.invalidParameters, "depth must be at least 1 (got \(depth))") }
        guard depth <= Limits.depth else { throw RegNetError(.invalidParameters, "depth must be at most \(Limits.depth) (got \(depth))") }
        guard w0 > 0, w0 <= Double(Limits.channels), w0 == w0.rounded(), Int(w0) % Self.quantum == 0 else {
            throw RegNetError(.invalidParameters, "w0 must be a positive multiple of \(Self.quantum) (got \(format(w0)))")
        }
        guard wa >= 0, wa.isFinite else { throw RegNetError(.invalidParameters, "wa must be >= 0 (got \(format(wa)))") }
        guard wm > 1, wm.isFinite else { throw RegNetError(.invalidParameters, "wm must be > 1 (got \(format(wm)))") }
        guard groupWidth >= 1, groupWidth <= Limits.channels else { throw RegNetError(.invalidParameters, "group width must be in 1...\(Limits.channels) (got \(groupWidth))") }
        guard bottleneckRatio >= 1.0 / 1024, bottleneckRatio <= 1024 else {
            throw RegNetError(.invalidParameters, "bottleneck ratio must be in 1/1024...1024 (got \(format(bottleneckRatio)))")
        }
        guard seRatio >= 0, seRatio <= 1024 else { throw RegNetError(.invalidParameters, "SE ratio must be in 0...1024 (got \(format(seRatio)))") }
        guard stemWidth >= 1, stemWidth <= Limits.channels else { throw RegNetError(.invalidParameters, "stem width must be in 1...\(Limits.channels) (got \(stemWidth))") }
        guard classes >= 1, classes <= Limits.channels else { throw RegNetError(.invalidParameters, "classes must be in 1...\(Limits.channels) (got \(classes))") }
        guard (1...Limits.kernel).contains(stemStride) else { throw RegNetError(.invalidParameters, "stem stride must be in 1...\(Limits.kernel) (got \(stemStride))") }
    }

    /// Per-block quantised widths and their exponents s_j (before grouping into stages).
    public func blockWidths() throws(RegNetError) -> (widths: [Int], exponents: [Int]) {
        try validate()
        let q = Double(Self.quantum)
        var widths: [Int] = [], exponents: [Int] = []
        for j in 0..<depth {
            let u = w0 + wa * Double(j)
            let s = (log(u / w0) / log(wm)).rounded(.toNearestOrEven)
            let w = (w0 * pow(wm, s) / q).rounded(.toNearestOrEven) * q
            guard let width = Limits.integer(w), let exponent = Limits.integer(s), width >= 1 else {
                throw RegNetError(.invalidParameters, "block \(j + 1) gets width \(format(w)): the parameters must keep widths in 1...\(Limits.channels)")
            }
            widths.append(width)
            exponents.append(exponent)
        }
        return (widths, exponents)
    }

    /// The stages the rule generates, after the group-compatibility adjustment.
    public func stages() throws(RegNetError) -> [RegNetStage] {
        let (widths, exponents) = try blockWidths()
        var raw: [(width: Int, depth: Int)] = []
        for w in widths {
            if let last = raw.last, last.width == w { raw[raw.count - 1].depth += 1 } else { raw.append((w, 1)) }
        }
        let totalStages = (exponents.max() ?? 0) + 1
        let botMul = 1 / bottleneckRatio
        return raw.map { stage in
            // pycls adjust_block_compatibility, with Python's half-to-even round (widths are bounded above).
            var v = Int(max(1, Double(stage.width) * botMul))
            let g = min(groupWidth, v)
            let m = botMul > 1 ? lcm(g, Int(botMul)) : g
            switch groupRounding {
            case .pycls:
                v = max(m, Int((Double(v) / Double(m)).rounded(.toNearestOrEven)) * m)
            case .torchvision:
                let rounded = max(g, (v + g / 2) / g * g)
                v = Double(rounded) < 0.9 * Double(v) ? rounded + g : rounded
            }
            let width = Int(Double(v) / botMul)
            return RegNetStage(depth: stage.depth, width: width, groupWidth: g, unadjustedWidth: stage.width,
                               totalStages: totalStages)
        }
    }

    /// The network, declared through the DSL.
    public func network(name: String? = nil) throws(RegNetError) -> Network {
        let stages = try stages()
        let block: any Block = seRatio > 0 ? YBlock(seRatio: seRatio) : XBlock()
        return Network(name ?? defaultName) {
            Stem(stemWidth, stride: stemStride)
            Body {
                for s in stages {
                    Stage(depth: s.depth, width: s.width, groupWidth: s.groupWidth, bottleneckRatio: bottleneckRatio, block: block)
                }
            }
            Head(classes: classes)
        }
    }

    /// `RegNet(d=13, w0=24, wa=36.44, wm=2.49, g=8)`.
    public var defaultName: String {
        var text = "RegNet(d=\(depth), w0=\(format(w0)), wa=\(format(wa)), wm=\(format(wm)), g=\(groupWidth)"
        if bottleneckRatio != 1 { text += ", b=\(format(bottleneckRatio))" }
        if seRatio > 0 { text += ", se=\(format(seRatio))" }
        if stemStride != 2 { text += ", stem stride \(stemStride)" }
        if groupRounding == .torchvision { text += ", torchvision rounding" }
        return text + ")"
    }
}

/// One generated stage.
public struct RegNetStage: Hashable, Sendable, Codable {
    /// Number of blocks.
    public var depth: Int
    /// Width after the group-compatibility adjustment.
    public var width: Int
    /// Group width after clamping to the bottleneck width.
    public var groupWidth: Int
    /// Width before the adjustment (the quantised rule's value).
    public var unadjustedWidth: Int
    /// max exponent + 1: more than the stage count when an exponent level was skipped.
    public var totalStages: Int
}

extension Network {
    /// A RegNet from the paper's quantised linear width rule (depth, w0, wa, wm, group width,
    /// bottleneck ratio; SE for RegNetY), declared through the DSL; throws on invalid parameters.
    public static func regNet(depth: Int, w0: Double, wa: Double, wm: Double, groupWidth: Int, bottleneckRatio: Double = 1,
                              seRatio: Double = 0, stemWidth: Int = 32, classes: Int = 1000,
                              groupRounding: RegNetConfiguration.GroupRounding = .pycls, name: String? = nil) throws(RegNetError) -> Network {
        try RegNetConfiguration(depth: depth, w0: w0, wa: wa, wm: wm, groupWidth: groupWidth, bottleneckRatio: bottleneckRatio,
                                seRatio: seRatio, stemWidth: stemWidth, classes: classes, groupRounding: groupRounding).network(name: name)
    }
}

func format(_ x: Double) -> String {
    x == x.rounded() && abs(x) < 1e15 ? String(Int(x)) : String(x)
}

func gcd(_ a: Int, _ b: Int) -> Int { b == 0 ? a : gcd(b, a % b) }
func lcm(_ a: Int, _ b: Int) -> Int { a / gcd(a, b) * b }

extension RegNetConfiguration {
    private enum CodingKeys: String, CodingKey {
        case depth, w0, wa, wm, groupWidth, bottleneckRatio, seRatio, stemWidth, classes, groupRounding, stemStride
    }

    /// Decodes a configuration; `stemStride` may be absent (files written before it existed) and is then 2.
    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        self.init(depth: try c.decode(Int.self, forKey: .depth), w0: try c.decode(Double.self, forKey: .w0),
                  wa: try c.decode(Double.self, forKey: .wa), wm: try c.decode(Double.self, forKey: .wm),
                  groupWidth: try c.decode(Int.self, forKey: .groupWidth),
                  bottleneckRatio: try c.decode(Double.self, forKey: .bottleneckRatio), seRatio: try c.decode(Double.self, forKey: .seRatio),
                  stemWidth: try c.decode(Int.self, forKey: .stemWidth), classes: try c.decode(Int.self, forKey: .classes),
                  groupRounding: try c.decodeIfPresent(GroupRounding.self, forKey: .groupRounding) ?? .pycls,
                  stemStride: try c.decodeIfPresent(Int.self, forKey: .stemStride) ?? 2)
    }
}
