/// The RegNet design spaces: networks given by (d, w0, wa, wm, b, g) through the quantised linear rule,
/// sampled as pycls's sweep does, keeping only draws with no skipped exponent level and a stage count
/// in `stageCounts` (four in the paper). Every range may be changed, as a sweep file or `regnet sample`
/// flags do.
public struct RegNetSpace: DesignSpace {
    /// Name (`RegNet`, `RegNetX`).
    public var name: String
    /// Depth range (uniform integer).
    public var depths: ClosedRange<Int>
    /// w0 range (log-uniform on a grid of 8).
    public var w0: ClosedRange<Double>
    /// wa range (log-uniform on a grid of 0.1).
    public var wa: ClosedRange<Double>
    /// wm range (log-uniform on a grid of 0.001).
    public var wm: ClosedRange<Double>
    /// Bottleneck ratios b.
    public var bottleneckRatios: [Int]
    /// Group widths: powers of two below 8, multiples of 8 from 8 up (pycls's power2_or_log_uniform).
    public var groupWidth: ClosedRange<Int>
    /// Stages a network may have (pycls's `REGNET.NUM_STAGES` constraint; the paper's spaces use 4,
    /// pycls's CIFAR sweep 2).
    public var stageCounts: ClosedRange<Int> = 4...4

    /// The paper's RegNet space: d ≤ 64, w0 and wa ≤ 256, 1.5 ≤ wm ≤ 3, b ∈ {1, 2, 4}, g ≤ 32.
    public static let regNet = RegNetSpace(name: "RegNet", depths: 1...64, w0: 8...256, wa: 8...256, wm: 1.5...3,
                                           bottleneckRatios: [1, 2, 4], groupWidth: 1...32)
    /// RegNetX: b = 1, 12 ≤ d ≤ 28, wm ≥ 2 (pycls's sweep defaults, group widths 8 to 128).
    public static let regNetX = RegNetSpace(name: "RegNetX", depths: 12...28, w0: 8...256, wa: 8...256, wm: 2...3,
                                            bottleneckRatios: [1], groupWidth: 8...128)

    /// The group widths the sampler can produce.
    public var groupWidths: [Int] {
        let powers = (0..<8).map { 1 << $0 }.filter { $0 < 8 && groupWidth.contains($0) }
        let multiples = stride(from: max(8, groupWidth.lowerBound + (8 - groupWidth.lowerBound % 8) % 8), through: groupWidth.upperBound, by: 8)
        return powers + Array(multiples)
    }

    /// Distinct configurations on the space's grid (see `DesignSpace.size`).
    public var size: Double {
        let w0Count = Double(Int(w0.upperBound / 8) - Int((w0.lowerBound / 8).rounded(.up)) + 1)
        let waCount = ((wa.upperBound - wa.lowerBound) / 0.1).rounded() + 1
        let wmCount = ((wm.upperBound - wm.lowerBound) / 0.001).rounded() + 1
        return Double(depths.count) * w0Count * waCount * wmCount * Double(bottleneckRatios.count) * Double(groupWidths.count)
    }

    /// Whether `configuration` is in the space, with the first rule it breaks.
    public func membership(of configuration: DesignConfiguration) -> Membership {
        guard case .regNet(let c) = configuration else { return .outside("\(name) holds RegNet parameterisations, not free stage lists") }
        guard depths.contains(c.depth) else { return .outside("depth \(c.depth) is outside \(depths)") }
        guard w0.contains(c.w0), c.w0.truncatingRemainder(dividingBy: 8) == 0 else { return .outside("w0 \(format(c.w0)) is not a multiple of 8 in \(format(w0.lowerBound))...\(format(w0.upperBound))") }
        guard wa.contains(c.wa) else { return .outside("wa \(format(c.wa)) is outside \(format(wa.lowerBound))...\(format(wa.upperBound))") }
        guard wm.contains(c.wm) else { return .outside("wm \(format(c.wm)) is outside \(format(wm.lowerBound))...\(format(wm.upperBound))") }
        guard bottleneckRatios.map(Double.init).contains(c.bottleneckRatio) else {
            return .outside("bottleneck ratio \(format(c.bottleneckRatio)) is not one of \(bottleneckRatios)")
        }
        guard groupWidths.contains(c.groupWidth) else { return .outside("group width \(c.groupWidth) is not one of \(groupWidths)") }
        guard let stages = try? c.stages() else { return .outside("the width rule rejects these parameters") }
        let total = stages.first?.totalStages ?? 0
        guard stages.count == total else { return .outside("an exponent level is skipped: \(stages.count) stages of \(total) levels") }
        guard stageCounts.contains(stages.count) else {
            let wanted = stageCounts.count == 1 ? "\(stageCounts.lowerBound)" : "\(stageCounts.lowerBound)...\(stageCounts.upperBound)"
            return .outside("\(stages.count) stages; \(name) networks have \(wanted)")
        }
        return .member
    }

    /// One configuration, drawn as pycls's sweep does (see `DesignSpace.sample`).
    public func sample(using g: inout SeededGenerator) -> DesignConfiguration {
        while true {
            let d = Int(Samplers.uniform(Double(depths.lowerBound), Double(depths.upperBound), q: 1, using: &g))
            let w0 = Samplers.logUniform(self.w0.lowerBound, self.w0.upperBound, q: 8, using: &g)
            let wa = Samplers.logUniform(self.wa.lowerBound, self.wa.upperBound, q: 0.1, using: &g)
            let wm = Samplers.logUniform(self.wm.lowerBound, self.wm.upperBound, q: 0.001, using: &g)
            let gw = Int(Samplers.power2OrLogUniform(Double(groupWidth.lowerBound), Double(groupWidth.upperBound), q: 8, using: &g))
            let b = Samplers.choice(bottleneckRatios, using: &g)
            let c = DesignConfiguration.regNet(RegNetConfiguration(depth: d, w0: w0, wa: wa, wm: wm, groupWidth: gw,
                                                                   bottleneckRatio: Double(b)))
            if membership(of: c).isMember { return c }
        }
    }
}

extension RegNetSpace {
    /// The sampler range keys, as pycls's `regnet_sampler` settings name them.
    public static let rangeKeys = ["depth", "w0", "wa", "wm", "group_width", "stage_count", "bottleneck_ratios"]

    /// This space with the ranges in `ranges` changed: `depth`, `w0`, `wa`, `wm`, `group_width` and
    /// `stage_count` take [low, high]; `bottleneck_ratios` takes the allowed ratios.
    public func applying(ranges: [String: [Double]]) throws(RegNetError) -> RegNetSpace {
        var space = self
        for key in ranges.keys.sorted() {
            let values = ranges[key]!
            if key == "bottleneck_ratios" {
                guard !values.isEmpty, values.allSatisfy({ $0 >= 1 && $0 == $0.rounded() }) else {
                    throw RegNetError(.invalidParameters, "bottleneck_ratios expects positive integers (got \(values))")
                }
                space.bottleneckRatios = values.map { Int($0) }
                continue
            }
            guard values.count == 2, values.allSatisfy({ $0.isFinite }), 0 < values[0], values[0] <= values[1] else {
                throw RegNetError(.invalidParameters, "\(key) expects [low, high] with 0 < low <= high (got \(values))")
            }
            let (lo, hi) = (values[0], values[1])
            switch key {
            case "depth": space.depths = Int(lo)...Int(hi)
            case "w0": space.w0 = lo...hi
            case "wa": space.wa = lo...hi
            case "wm": space.wm = lo...hi
            case "group_width": space.groupWidth = Int(lo)...Int(hi)
            case "stage_count": space.stageCounts = Int(lo)...Int(hi)
            default: throw RegNetError(.unknownName, "unknown sampler range '\(key)'", suggestions: Self.rangeKeys)
            }
        }
        guard space.wm.lowerBound > 1 else { throw RegNetError(.invalidParameters, "wm must be above 1 (the width rule needs wm > 1)") }
        guard space.w0.lowerBound >= 8 else { throw RegNetError(.invalidParameters, "w0 must start at 8 or more (w0 is a multiple of 8)") }
        return space
    }
}
