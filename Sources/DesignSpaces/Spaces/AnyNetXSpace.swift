import Foundation

/// The AnyNetX design spaces of the paper, each a refinement of the previous one:
/// A (free d_i ≤ 16, w_i ≤ 1024 multiple of 8, b_i ∈ {1, 2, 4}, g_i ∈ {1, 2, 4, 8, 16, 32} for 4 stages),
/// B (shared b), C (shared b and g), D (non-decreasing widths), E (non-decreasing depths too).
public struct AnyNetXSpace: DesignSpace {
    /// Which refinement.
    public enum Variant: String, Sendable, CaseIterable { case a = "A", b = "B", c = "C", d = "D", e = "E" }

    /// The refinement.
    public var variant: Variant
    /// Stages per network (the paper's 4; a sweep may set another count).
    public var stageCount = 4
    /// Depth range per stage.
    public var depths = 1...16
    /// Width range per stage (multiples of 8).
    public var widths = 8...1024
    /// Bottleneck ratios.
    public var bottleneckRatios = [1, 2, 4]
    /// Group widths.
    public var groupWidths = [1, 2, 4, 8, 16, 32]

    /// The space `variant`.
    public init(_ variant: Variant) { self.variant = variant }

    /// `AnyNetXA` … `AnyNetXE`.
    public var name: String { "AnyNetX\(variant.rawValue)" }

    /// Distinct configurations on the space's grid (see `DesignSpace.size`).
    public var size: Double {
        let d = Double(depths.count), w = Double(widths.count / 8 + 1)
        let b = Double(bottleneckRatios.count), g = Double(groupWidths.count)
        // Non-decreasing 4-tuples from n values: multiset coefficient C(n + 3, 4).
        func nonDecreasing(_ n: Double) -> Double { (n * (n + 1) * (n + 2) * (n + 3)) / 24 }
        switch variant {
        case .a: return pow(d * w * b * g, 4)
        case .b: return b * pow(d * w * g, 4)
        case .c: return b * g * pow(d * w, 4)
        case .d: return b * g * pow(d, 4) * nonDecreasing(w)
        case .e: return b * g * nonDecreasing(d) * nonDecreasing(w)
        }
    }

    /// Whether `configuration` is in the space, with the first rule it breaks.
    public func membership(of configuration: DesignConfiguration) -> Membership {
        guard let stages = configuration.anyNetStages() else { return .outside("the configuration has no valid stages") }
        guard stages.count == stageCount else { return .outside("\(stages.count) stages; \(name) networks have \(stageCount)") }
        for (i, s) in stages.enumerated() {
            let at = "stage \(i + 1)"
            guard depths.contains(s.depth) else { return .outside("\(at): depth \(s.depth) is outside \(depths)") }
            guard widths.contains(s.width), s.width % 8 == 0 else {
                return .outside("\(at): width \(s.width) is not a multiple of 8 in \(widths)")
            }
            guard bottleneckRatios.contains(s.bottleneckRatio) else {
                return .outside("\(at): bottleneck ratio \(s.bottleneckRatio) is not one of \(bottleneckRatios)")
            }
            guard groupWidths.contains(s.groupWidth) else {
                return .outside("\(at): group width \(s.groupWidth) is not one of \(groupWidths)")
            }
            guard s.isCompatible else {
                return .outside("\(at): group width \(s.groupWidth) does not divide the bottleneck width \(s.width)/\(s.bottleneckRatio)")
            }
        }
        if variant != .a, Set(stages.map(\.bottleneckRatio)).count > 1 {
            return .outside("bottleneck ratios differ across stages (\(name) shares b)")
        }
        if [.c, .d, .e].contains(variant), Set(stages.map(\.groupWidth)).count > 1 {
            return .outside("group widths differ across stages (\(name) shares g)")
        }
        if [.d, .e].contains(variant), let i = stages.indices.dropLast().first(where: { stages[$0 + 1].width < stages[$0].width }) {
            return .outside("width decreases from stage \(i + 1) to \(i + 2) (\(name) needs w_{i+1} >= w_i)")
        }
        if variant == .e, let i = stages.indices.dropLast().first(where: { stages[$0 + 1].depth < stages[$0].depth }) {
            return .outside("depth decreases from stage \(i + 1) to \(i + 2) (\(name) needs d_{i+1} >= d_i)")
        }
        return .member
    }

    /// Draws as pycls's sweep code does (`pycls/sweep/random.py`): depth `log_uniform(1, 16, 1)`,
    /// width `log_uniform(8, 1024, 8)`, b and g uniform over their sets (shared across stages where
    /// the refinement shares them); then pycls's compatibility rule (`adjust_block_compatibility`):
    /// g is capped at the bottleneck width w/b, and the bottleneck width rounded to a multiple of g.
    /// A draw that the rule takes outside the space (a width no longer a multiple of 8, a capped g
    /// outside {1, …, 32}, stages no longer sharing g, decreasing widths or depths) is drawn again, so
    /// every sample is a member.
    public func sample(using g: inout SeededGenerator) -> DesignConfiguration {
        while true {
            let sharedB = Samplers.choice(bottleneckRatios, using: &g)
            let sharedG = Samplers.choice(groupWidths, using: &g)
            var stages: [AnyNetStage] = []
            for _ in 0..<stageCount {
                let d = Int(Samplers.logUniform(Double(depths.lowerBound), Double(depths.upperBound), q: 1, using: &g))
                let w = Int(Samplers.logUniform(Double(widths.lowerBound), Double(widths.upperBound), q: 8, using: &g))
                let b = variant == .a ? Samplers.choice(bottleneckRatios, using: &g) : sharedB
                let gw = [.a, .b].contains(variant) ? Samplers.choice(groupWidths, using: &g) : sharedG
                stages.append(Self.compatible(AnyNetStage(depth: d, width: w, bottleneckRatio: b, groupWidth: gw)))
            }
            let configuration = DesignConfiguration.anyNet(AnyNetConfiguration(stages: stages))
            if membership(of: configuration).isMember { return configuration }
        }
    }

    /// The range keys a sweep may set: `depth` and `width` ([low, high], every stage), `stage_count`,
    /// and the allowed `bottleneck_ratios` and `group_widths`.
    public static let rangeKeys = ["depth", "width", "stage_count", "bottleneck_ratios", "group_widths"]

    /// This space with the ranges in `ranges` changed (the paper's rules between stages stay).
    public func applying(ranges: [String: [Double]]) throws(RegNetError) -> AnyNetXSpace {
        var space = self
        for key in ranges.keys.sorted() {
            let values = ranges[key]!
            guard !values.isEmpty, values.allSatisfy({ $0 >= 1 && $0 == $0.rounded() && $0 < 1e6 }) else {
                throw RegNetError(.invalidParameters, "\(key) expects positive integers (got \(values))")
            }
            let ints = values.map { Int($0) }
            switch key {
            case "bottleneck_ratios": space.bottleneckRatios = ints
            case "group_widths": space.groupWidths = ints
            case "depth", "width", "stage_count":
                guard ints.count == 2, ints[0] <= ints[1] else { throw RegNetError(.invalidParameters, "\(key) expects [low, high] with low <= high (got \(values))") }
                if key == "depth" { space.depths = ints[0]...ints[1] }
                if key == "width" {
                    guard ints[0] % 8 == 0, ints[1] % 8 == 0 else { throw RegNetError(.invalidParameters, "width bounds must be multiples of 8 (got \(values))") }
                    space.widths = ints[0]...ints[1]
                }
                if key == "stage_count" {
                    guard ints[0] == ints[1] else { throw RegNetError(.invalidParameters, "stage_count of an AnyNetX space is one number: [n, n] (got \(values))") }
                    space.stageCount = ints[0]
                }
            default: throw RegNetError(.unknownName, "unknown AnyNetX range '\(key)'", suggestions: Self.rangeKeys)
            }
        }
        return space
    }

    /// pycls's `adjust_block_compatibility` for one stage: bottleneck width v = int(w / b), g = min(g, v),
    /// v rounded to the nearest multiple of g (at least g), w = v · b.
    static func compatible(_ stage: AnyNetStage) -> AnyNetStage {
        var s = stage
        let v = max(1, s.width / s.bottleneckRatio)
        s.groupWidth = min(s.groupWidth, v)
        let rounded = max(s.groupWidth, Int((Double(v) / Double(s.groupWidth)).rounded(.toNearestOrEven)) * s.groupWidth)
        s.width = rounded * s.bottleneckRatio
        return s
    }
}
