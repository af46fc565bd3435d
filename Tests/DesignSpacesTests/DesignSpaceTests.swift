import Foundation
#if canImport(FoundationXML)
#if canImport(FoundationXML)
import FoundationXML
#endif
#endif
import Testing
@testable import DesignSpaces

func anyNet(_ stages: [(Int, Int, Int, Int)]) -> DesignConfiguration {
    .anyNet(AnyNetConfiguration(stages: stages.map { AnyNetStage(depth: $0.0, width: $0.1, bottleneckRatio: $0.2, groupWidth: $0.3) }))
}

func reason(_ space: any DesignSpace, _ c: DesignConfiguration) -> String? {
    if case .outside(let why) = space.membership(of: c) { return why }
    return nil
}

@Suite struct MembershipTests {
    let a = AnyNetXSpace(.a), b = AnyNetXSpace(.b), c = AnyNetXSpace(.c), d = AnyNetXSpace(.d), e = AnyNetXSpace(.e)

    @Test func refinementsNarrowTheSpace() {
        let free = anyNet([(2, 64, 1, 8), (1, 32, 2, 4), (4, 128, 4, 2), (3, 256, 1, 16)])
        #expect(a.membership(of: free).isMember)
        #expect(reason(b, free)?.contains("bottleneck ratios differ") == true)
        let sharedB = anyNet([(2, 64, 2, 8), (1, 32, 2, 4), (4, 128, 2, 2), (3, 256, 2, 16)])
        #expect(b.membership(of: sharedB).isMember)
        #expect(reason(c, sharedB)?.contains("group widths differ") == true)
        let sharedBG = anyNet([(2, 64, 2, 8), (1, 32, 2, 8), (4, 128, 2, 8), (3, 256, 2, 8)])
        #expect(c.membership(of: sharedBG).isMember)
        #expect(reason(d, sharedBG)?.contains("width decreases from stage 1 to 2") == true)
        let increasingW = anyNet([(2, 32, 2, 8), (1, 64, 2, 8), (4, 128, 2, 8), (3, 256, 2, 8)])
        #expect(d.membership(of: increasingW).isMember)
        #expect(reason(e, increasingW)?.contains("depth decreases from stage 1 to 2") == true)
        let increasingDW = anyNet([(1, 32, 2, 8), (2, 64, 2, 8), (3, 128, 2, 8), (4, 256, 2, 8)])
        #expect(e.membership(of: increasingDW).isMember)
        // Every refinement is a subset of the previous ones.
        for space in [a, b, c, d] { #expect(space.membership(of: increasingDW).isMember) }
    }

    @Test func rangesAndCompatibility() {
        #expect(reason(a, anyNet([(17, 64, 1, 8), (1, 32, 1, 8), (1, 32, 1, 8), (1, 32, 1, 8)]))?.contains("depth 17") == true)
        #expect(reason(a, anyNet([(1, 60, 1, 4), (1, 32, 1, 8), (1, 32, 1, 8), (1, 32, 1, 8)]))?.contains("not a multiple of 8") == true)
        #expect(reason(a, anyNet([(1, 1032, 1, 8), (1, 32, 1, 8), (1, 32, 1, 8), (1, 32, 1, 8)]))?.contains("width 1032") == true)
        #expect(reason(a, anyNet([(1, 64, 3, 8), (1, 32, 1, 8), (1, 32, 1, 8), (1, 32, 1, 8)]))?.contains("bottleneck ratio 3") == true)
        #expect(reason(a, anyNet([(1, 64, 1, 64), (1, 32, 1, 8), (1, 32, 1, 8), (1, 32, 1, 8)]))?.contains("group width 64") == true)
        #expect(reason(a, anyNet([(1, 24, 4, 4), (1, 32, 1, 8), (1, 32, 1, 8), (1, 32, 1, 8)]))?.contains("does not divide the bottleneck width 24/4") == true)
        #expect(reason(a, anyNet([(1, 64, 1, 8)]))?.contains("1 stages") == true)
    }

    @Test func regNetSpaces() throws {
        let x400 = DesignConfiguration.regNet(try Zoo.model(named: "RegNetX-400MF").configuration)
        #expect(RegNetSpace.regNet.membership(of: x400).isMember)
        #expect(RegNetSpace.regNetX.membership(of: x400).isMember)
        // Every RegNet is an AnyNet: X-400MF's stages (b = 1, shared g, rising widths and depths) are in AnyNetX_E.
        #expect(AnyNetXSpace(.e).membership(of: x400).isMember)
        // RegNetX-200MF has d = 13 (inside [12, 28]) but a RegNet with b = 2 is outside RegNetX.
        var wide = try Zoo.model(named: "RegNetX-200MF").configuration
        wide.bottleneckRatio = 2
        #expect(reason(RegNetSpace.regNetX, .regNet(wide))?.contains("bottleneck ratio 2") == true)
        #expect(RegNetSpace.regNet.membership(of: .regNet(wide)).isMember)
        var shallow = try Zoo.model(named: "RegNetX-200MF").configuration
        shallow.depth = 10
        #expect(reason(RegNetSpace.regNetX, .regNet(shallow))?.contains("depth 10") == true)
        var lowWm = try Zoo.model(named: "RegNetX-200MF").configuration
        lowWm.wm = 1.8
        #expect(reason(RegNetSpace.regNetX, .regNet(lowWm))?.contains("wm 1.8") == true)
        // Skipped exponent level: a large wa with a small wm jumps levels.
        let skipping = RegNetConfiguration(depth: 13, w0: 8, wa: 200, wm: 1.6, groupWidth: 8)
        #expect(reason(RegNetSpace.regNet, .regNet(skipping))?.contains("skipped") == true || reason(RegNetSpace.regNet, .regNet(skipping))?.contains("stages") == true)
        #expect(reason(RegNetSpace.regNet, anyNet([(1, 32, 1, 8)]))?.contains("not free stage lists") == true)
    }

    @Test func sizesFollowThePaper() {
        // (16 · 128 · 3 · 6)^4 ≈ 1.8e18 for AnyNetX_A.
        #expect(abs(AnyNetXSpace(.a).size - pow(16.0 * 128 * 3 * 6, 4)) < 1)
        #expect(AnyNetXSpace(.a).size > AnyNetXSpace(.b).size)
        #expect(AnyNetXSpace(.b).size > AnyNetXSpace(.c).size)
        #expect(AnyNetXSpace(.c).size > AnyNetXSpace(.d).size)
        #expect(AnyNetXSpace(.d).size > AnyNetXSpace(.e).size)
        // D: shared b and g, free depths, non-decreasing widths: 3 · 6 · 16^4 · C(128 + 3, 4).
        let nonDecreasingWidths: Double = 131.0 * 130 * 129 * 128 / 24
        let expectedD: Double = 3 * 6 * pow(16, 4) * nonDecreasingWidths
        #expect(AnyNetXSpace(.d).size == expectedD)
        #expect(RegNetSpace.regNetX.size < RegNetSpace.regNet.size)
    }
}

@Suite struct SamplingTests {
    @Test func samplesAreMembersAndReproducible() throws {
        for space in DesignSpaceCatalog.all {
            var g1 = SeededGenerator(seed: 7), g2 = SeededGenerator(seed: 7)
            let first = (0..<40).map { _ in space.sample(using: &g1) }
            #expect(first == (0..<40).map { _ in space.sample(using: &g2) }, "\(space.name) not reproducible")
            #expect(first.allSatisfy { space.membership(of: $0).isMember }, "\(space.name) sampled outside itself")
        }
    }

    @Test func anyNetDistributionsArePyclsLogUniform() throws {
        var g = SeededGenerator(seed: 3)
        var depths: [Int] = [], ratios: [Int] = [], widths: [Int] = []
        for _ in 0..<3000 {
            guard case .anyNet(let c) = AnyNetXSpace(.a).sample(using: &g) else { continue }
            depths += c.stages.map(\.depth)
            ratios += c.stages.map(\.bottleneckRatio)
            widths += c.stages.map(\.width)
        }
        // pycls's log_uniform(1, 16, 1): exp(U(ln 0.5, ln 16)) rounded up, so P(d = 1) = ln 2 / ln 32 = 0.2
        // (flooring exp(U(ln 1, ln 17)) gave 0.245).
        let ones = Double(depths.filter { $0 == 1 }.count) / Double(depths.count)
        #expect(abs(ones - 0.2) < 0.02, "P(d = 1) = \(ones)")
        // log_uniform(8, 1024, 8): P(w = 8) = ln 2 / ln 256 = 0.125 (the compatibility rule keeps w = 8).
        let eights = Double(widths.filter { $0 == 8 }.count) / Double(widths.count)
        #expect(abs(eights - 0.125) < 0.02, "P(w = 8) = \(eights)")
        // b uniform over {1, 2, 4}: adjusting instead of redrawing keeps the shares near a third each.
        let share = [1, 2, 4].map { b in Double(ratios.filter { $0 == b }.count) / Double(ratios.count) }
        #expect(share.allSatisfy { abs($0 - 1.0 / 3) < 0.05 }, "\(share)")
    }

    @Test func sharedGroupWidthsReachThirtyTwo() throws {
        // With redraws, AnyNetXC never drew g = 32 in 2,000 draws (mean 2.8); pycls's rule keeps wide groups.
        var g = SeededGenerator(seed: 5)
        var groups: [Int] = []
        for _ in 0..<2000 {
            guard case .anyNet(let c) = AnyNetXSpace(.c).sample(using: &g) else { continue }
            groups.append(c.stages[0].groupWidth)
        }
        #expect(groups.contains(32))
        let mean = Double(groups.reduce(0, +)) / Double(groups.count)
        #expect(mean > 5, "mean group width \(mean)")
    }

    @Test func regNetXSamplerFollowsPycls() throws {
        var g = SeededGenerator(seed: 11)
        var depths: [Int] = [], w0s: [Double] = [], wms: [Double] = [], groups: [Int] = []
        for _ in 0..<1500 {
            guard case .regNet(let c) = RegNetSpace.regNetX.sample(using: &g) else { continue }
            depths.append(c.depth); w0s.append(c.w0); wms.append(c.wm); groups.append(c.groupWidth)
            #expect(c.bottleneckRatio == 1)
            #expect(c.w0.truncatingRemainder(dividingBy: 8) == 0)
            #expect((c.wa * 10).rounded() == c.wa * 10)
            #expect(try c.stages().count == 4)
        }
        #expect(depths.min()! >= 12 && depths.max()! <= 28)
        #expect(wms.min()! >= 2 && wms.max()! <= 3)
        #expect(Set(groups).isSubset(of: Set(stride(from: 8, through: 128, by: 8))))
        // log-uniform w0: more small values than large ones.
        #expect(w0s.filter { $0 <= 64 }.count > w0s.filter { $0 > 128 }.count)
    }

    @Test func pyclsSamplersQuantise() {
        var g = SeededGenerator(seed: 5)
        for _ in 0..<500 {
            let u = Samplers.uniform(12, 28, q: 1, using: &g)
            #expect(u == u.rounded() && (12...28).contains(u))
            let l = Samplers.logUniform(8, 256, q: 8, using: &g)
            #expect(l.truncatingRemainder(dividingBy: 8) == 0 && (8...256).contains(l))
            let p = Samplers.power2OrLogUniform(1, 32, q: 8, using: &g)
            #expect([1, 2, 4, 8, 16, 24, 32].contains(p))
        }
    }

    @Test func complexityWindowIsRespected() throws {
        let window = ComplexityWindow(flops: 360_000_000...400_000_000)
        let samples = try RegNetSpace.regNetX.sample(count: 12, seed: 2, window: window)
        #expect(samples.count == 12)
        for s in samples {
            #expect(window.flops!.contains(s.complexity.flops))
            let graph = try s.configuration.network(name: s.name).lower()
            #expect(graph.complexity == s.complexity)
        }
        #expect(try RegNetSpace.regNetX.sample(count: 12, seed: 2, window: window) == samples)
        #expect(throws: RegNetError.self) {
            try AnyNetXSpace(.a).sample(count: 1, seed: 0, window: ComplexityWindow(flops: 1...2), maxDraws: 50)
        }
    }
}

@Suite struct EDFTests {
    @Test func edfAndKSByHand() {
        let f = EDF(label: "a", errors: [4, 1, 3, 2])
        #expect(f(0.5) == 0 && f(1) == 0.25 && f(2.5) == 0.5 && f(4) == 1 && f(10) == 1)
        #expect(f.minimum == 1 && f.mean == 2.5)
        let g = EDF(label: "b", errors: [2, 3, 4, 5])
        // F - G at 1: 0.25; at 2: 0.5 - 0.25; ... sup is 0.25.
        #expect(f.ksDistance(to: g) == 0.25)
        let h = EDF(label: "c", errors: [10, 11])
        #expect(f.ksDistance(to: h) == 1)
        #expect(f.ksDistance(to: f) == 0)
    }

    @Test func csvParsingAndErrors() throws {
        let runs = try RunResults.parse("name,error,space,depth\nm1,31.5,X,13\n\"m,2\",29.25,Y,22\n\n")
        #expect(runs.count == 2 && runs[1].name == "m,2" && runs[1].error == 29.25 && runs[1].fields["space"] == "Y")
        #expect(throws: RegNetError.self) { try RunResults.parse("") }
        #expect(throws: RegNetError.self) { try RunResults.parse("model,err\nx,1") }
        #expect(throws: RegNetError.self) { try RunResults.parse("name,error\nx,abc") }
        #expect(throws: RegNetError.self) { try RunResults.parse("name,error\nx,1,2") }
        #expect(throws: RegNetError.self) { try RunResults.parse("name,error\n") }
    }

    @Test func stageCountIsAConstraintAndRangesAreSettable() throws {
        // pycls's CIFAR sweep: two stages, depth 6...16, group width 1...32.
        var space = RegNetSpace.regNetX
        space.stageCounts = 2...2
        space.depths = 6...16
        space.groupWidth = 1...32
        var g = SeededGenerator(seed: 4)
        for _ in 0..<30 {
            guard case .regNet(let c) = space.sample(using: &g) else { Issue.record("not a RegNet draw"); continue }
            #expect(try c.stages().count == 2 && (6...16).contains(c.depth) && c.groupWidth <= 32)
        }
        let fourStages = try Zoo.model(named: "RegNetX-400MF").configuration
        #expect(!space.membership(of: .regNet(fourStages)).isMember)
        #expect(RegNetSpace.regNetX.membership(of: .regNet(fourStages)).isMember)
    }

    @Test func goodRangeFindsTheLowErrorRegion() throws {
        // Error is lowest where the parameter is near 20; the bootstrap's best runs concentrate there.
        let runs = (0..<200).map { i -> RunResult in
            let p = Double(i % 40)
            return RunResult(name: "r\(i)", error: 20 + abs(p - 20) + Double(i % 7) * 0.1, fields: ["p": String(p)])
        }
        let range = try GoodRange.estimate(runs, value: { Double($0.fields["p"]!) }, samples: 500, seed: 1)
        #expect(range.low >= 17 && range.high <= 23 && abs(range.median - 20) <= 1)
        #expect(GoodRange.percentileOf([1, 2, 3, 4], 50) == 2.5)
        // pycls: int(n · 0.25) runs per subsample.
        #expect(GoodRange.subsampleSize(30) == 7 && GoodRange.subsampleSize(3) == 1 && GoodRange.subsampleSize(100) == 25)
    }

    @Test func anyNetRangesBoundEveryDrawAndBadRangesAreErrors() throws {
        let space = try AnyNetXSpace(.e).applying(ranges: ["depth": [1, 3], "width": [16, 128], "group_widths": [8, 16], "stage_count": [3, 3]])
        var generator = SeededGenerator(seed: 5)
        for _ in 0..<200 {
            let configuration = space.sample(using: &generator)
            let stages = try #require(configuration.anyNetStages())
            #expect(stages.count == 3 && space.membership(of: configuration).isMember)
            #expect(stages.allSatisfy { (1...3).contains($0.depth) && (16...128).contains($0.width) && [8, 16].contains($0.groupWidth) })
        }
        for bad: [String: [Double]] in [["depth": [3, 1]], ["width": [10, 64]], ["stage_count": [2, 4]], ["depths": [1, 2]], ["group_widths": [0.5]]] {
            #expect(throws: RegNetError.self) { try AnyNetXSpace(.a).applying(ranges: bad) }
        }
    }

    @Test func scatterAndCurveChartsDrawEveryPointAndRange() {
        let svg = ScatterPlot.svg([.init(label: "RegNetX", points: [(1e6, 30), (2e6, 20), (4e6, 25)], colour: 1)],
                                  title: "Error vs flops", xLabel: "flops",
                                  goodRanges: ["RegNetX": GoodRange(low: 1.5e6, median: 2e6, high: 3e6)], logX: true)
        #expect(svg.components(separatedBy: "<circle").count - 1 == 3)
        #expect(svg.contains("class=\"good-range\"") && svg.contains("#d62728") && svg.contains("good range 1.5M…3M"))
        #expect(XMLParser(data: Data(svg.utf8)).parse())
        let curves = CurvePlot.svg([("a", [50, 40, 30]), ("b", [60, 55])], title: "Test error", yLabel: "error (%)")
        #expect(curves.components(separatedBy: "<polyline class=\"curve\"").count - 1 == 2)
        #expect(XMLParser(data: Data(curves.utf8)).parse())
    }

    /// Ticks are round values (multiples of one step of 1, 2 or 5 × 10^k), epochs whole numbers, and the
    /// legend sits below the x axis, outside the plot area.
    @Test func chartsHaveRoundTicksAndLegendsOutsideThePlot() throws {
        #expect(ChartFrame.roundTicks(2.95...37.05) == [5, 10, 15, 20, 25, 30, 35])
        #expect(ChartFrame.roundTicks(0.9...2.1) == [1, 1.2, 1.4, 1.6, 1.8, 2])
        #expect(ChartFrame.roundTicks(0.9...2.1, integer: true) == [1, 2])
        #expect(ChartFrame.roundTicks(0.01...0.07) == [0.01, 0.02, 0.03, 0.04, 0.05, 0.06, 0.07])
        let log = ChartFrame(xs: [2e5, 9e6], ys: [0, 1], logX: true).xTicks
        #expect(log.decades && log.values == [2e5, 5e5, 1e6, 2e6, 5e6, 1e7], "under two decades: 1, 2 and 5 × 10^k: \(log.values)")
        #expect(ChartFrame(xs: [2.1e5, 4.6e5], ys: [0, 1], logX: true).xTicks.values == [250_000, 300_000, 350_000, 400_000, 450_000])
        let curves = CurvePlot.svg([("a", [50, 40, 30]), ("b", [60, 55])], title: "Test error", yLabel: "error (%)")
        let epochs = curves.components(separatedBy: "class=\"x-tick integer\"").dropFirst().map { $0.split(separator: ">")[1].split(separator: "<")[0] }
        #expect(epochs == ["1", "2", "3"])
        let svg = ScatterPlot.svg([.init(label: "A", points: [(1, 30), (9, 20)], colour: 0), .init(label: "B", points: [(3, 25), (5, 26)], colour: 1)],
                                  title: "Error vs d1", xLabel: "d1",
                                  goodRanges: ["A": GoodRange(low: 1, median: 3, high: 6), "B": GoodRange(low: 3, median: 4, high: 5)])
        func number(after marker: String, _ attribute: String) -> Double? {
            guard let start = svg.range(of: marker) else { return nil }
            let rest = svg[start.upperBound...], key = rest.range(of: "\(attribute)=\"")!
            return Double(rest[key.upperBound...].prefix { $0 != "\"" })
        }
        let plotBottom = try #require(number(after: "class=\"plot-area\"", "y")) + (try #require(number(after: "class=\"plot-area\"", "height")))
        let legendTop = try #require(number(after: "<g class=\"legend\">", "y1"))
        #expect(legendTop > plotBottom + 40, "the legend starts below the x axis")
        // Each group's good range is labelled on its own bar above the plot.
        #expect(svg.contains(">A good range 1…6<") && svg.contains(">B good range 3…5<"))
        #expect(svg.components(separatedBy: "class=\"good-range-bar\"").count - 1 == 2)
        #expect(XMLParser(data: Data(svg.utf8)).parse())
    }

    @Test func svgHasOneCurvePerSpaceAndALegend() {
        let svg = EDFPlot.svg([EDF(label: "AnyNetXA", errors: [30, 32, 35]), EDF(label: "RegNetX <b>", errors: [28, 29])])
        #expect(svg.hasPrefix("<svg") && svg.hasSuffix("</svg>\n"))
        #expect(svg.components(separatedBy: "<polyline class=\"edf\"").count - 1 == 2)
        #expect(svg.contains("AnyNetXA (n=3, min=30.00, mean=32.33)"))
        #expect(svg.contains("RegNetX &lt;b&gt;"))
        // Well-formed XML.
        #expect(XMLParser(data: Data(svg.utf8)).parse())
    }
}
