import Testing
@testable import DesignSpaces

/// The rounding traps of the reference (section 5) and the paper's worked examples.
@Suite struct RoundingTests {
    func widths(_ c: RegNetConfiguration) throws -> [Int] { try c.stages().map(\.width) }
    func depths(_ c: RegNetConfiguration) throws -> [Int] { try c.stages().map(\.depth) }

    @Test func exactHalfInQuantisationRoundsToEven() throws {
        // RegNetX-1.6GF: 80 * 2.25 / 8 = 22.5 -> 22 (176), adjusted with g = 24 to 168; half-up would give 192.
        let c = try Zoo.model(named: "RegNetX-1.6GF").configuration
        #expect(try c.stages().map(\.unadjustedWidth) == [80, 176, 408, 912])
        #expect(try widths(c) == [72, 168, 408, 912])
    }

    @Test func halvesInGroupAdjustRoundToEven() throws {
        #expect(try widths(Zoo.model(named: "RegNetX-400MF").configuration) == [32, 64, 160, 384])
        #expect(try widths(Zoo.model(named: "RegNetY-800MF").configuration) == [64, 128, 320, 768])
    }

    @Test func groupWidthIsClampedToBottleneck() throws {
        let stages = try Zoo.model(named: "RegNetX-8.0GF").configuration.stages()
        #expect(stages.map(\.groupWidth) == [80, 120, 120, 120])
        let summary = try Zoo.model(named: "RegNetX-8.0GF").network().summary()
        #expect(summary.stages[0].groups == 1)
    }

    @Test func seWidthComesFromBlockInputWidth() throws {
        let graph = try Zoo.model(named: "RegNetY-200MF").network().lower()
        let fc1 = graph.nodes.filter { $0.name.hasSuffix("se.fc1") }
        // Stage 1, block 1 sees the stem's 32 channels: round(0.25 * 32) = 8, not round(0.25 * 24) = 6.
        #expect(fc1.first { $0.name == "s1.b1.se.fc1" }?.shape.channels == 8)
        #expect(fc1.first { $0.name == "s3.b2.se.fc1" }?.shape.channels == 38)
    }

    @Test func paperExamplesWithExactParameters() throws {
        let cases: [(String, [Int], [Int])] = [
            ("RegNetX-200MF", [1, 1, 4, 7], [24, 56, 152, 368]),
            ("RegNetX-400MF", [1, 2, 7, 12], [32, 64, 160, 384]),
            ("RegNetX-600MF", [1, 3, 5, 7], [48, 96, 240, 528]),
            ("RegNetX-800MF", [1, 3, 7, 5], [64, 128, 288, 672]),
        ]
        for (name, d, w) in cases {
            let c = try Zoo.model(named: name).configuration
            #expect(try depths(c) == d, "\(name)")
            #expect(try widths(c) == w, "\(name)")
        }
    }

    @Test func roundedPaperParametersDoNotReproduceTheModels() throws {
        // The paper's tables print wa and wm rounded; those values give other networks.
        let x200 = RegNetConfiguration(depth: 13, w0: 24, wa: 36, wm: 2.5, groupWidth: 8)
        #expect(try widths(x200) == [24, 64, 152, 376])
        #expect(try x200.network().summary().flops != 199_040_872)
        let x400 = RegNetConfiguration(depth: 22, w0: 24, wa: 24, wm: 2.5, groupWidth: 16)
        #expect(try depths(x400) == [1, 2, 6, 13])
        let x600 = RegNetConfiguration(depth: 16, w0: 48, wa: 37, wm: 2.2, groupWidth: 24)
        #expect(try depths(x600) == [1, 2, 6, 7])
        #expect(try widths(x600) == [48, 96, 240, 504])
        // X-800MF happens to survive the rounding.
        let x800 = RegNetConfiguration(depth: 16, w0: 56, wa: 36, wm: 2.3, groupWidth: 16)
        #expect(try x800.network().summary().flops == 799_700_712)
    }

    @Test func torchvisionVariantsRoundHalfUpWithAFloor() throws {
        // Widths and parameter counts of torchvision's regnet_x_400mf, regnet_y_800mf and regnet_y_8gf.
        let expected: [(String, [Int], Int)] = [
            ("RegNetX-400MF-tv", [32, 64, 160, 400], 5_495_976),
            ("RegNetY-800MF-tv", [64, 144, 320, 784], 6_432_512),
            ("RegNetY-8.0GF-tv", [224, 448, 896, 2016], 39_381_472),
        ]
        for (name, widths, params) in expected {
            let model = try Zoo.model(named: name)
            #expect(try model.configuration.stages().map(\.width) == widths, "\(name)")
            #expect(try model.network().summary().params == params, "\(name)")
        }
        #expect(try Zoo.model(named: "regnety_080_tv").name == "RegNetY-8.0GF-tv")
        #expect(Zoo.allModels.count == 27 && Zoo.models.count == 24)
        // Identical to pycls where no tie or floor is hit.
        var x800 = try Zoo.model(named: "RegNetX-800MF").configuration
        let pycls = try x800.stages()
        x800.groupRounding = .torchvision
        #expect(try x800.stages() == pycls)
    }

    @Test func invalidParametersThrow() {
        #expect(throws: RegNetError.self) { try Network.regNet(depth: 13, w0: 20, wa: 36.44, wm: 2.49, groupWidth: 8) }
        #expect(throws: RegNetError.self) { try Network.regNet(depth: 13, w0: 24, wa: 36.44, wm: 1, groupWidth: 8) }
        #expect(throws: RegNetError.self) { try Network.regNet(depth: 13, w0: 24, wa: -1, wm: 2.49, groupWidth: 8) }
        #expect(throws: RegNetError.self) { try Network.regNet(depth: 0, w0: 24, wa: 36.44, wm: 2.49, groupWidth: 8) }
        do {
            _ = try Network.regNet(depth: 13, w0: 20, wa: 36.44, wm: 2.49, groupWidth: 8)
            Issue.record("expected an error")
        } catch {
            #expect(error.description.contains("w0 must be a positive multiple of 8 (got 20)"))
        }
    }
}

/// Absurd values are errors, never integer-overflow traps (found by fuzzing the .regnet parser).
@Suite struct LimitTests {
    @Test func absurdRegNetParametersThrow() throws {
        let cases: [RegNetConfiguration] = [
            RegNetConfiguration(depth: 13, w0: 24, wa: 3.1e28, wm: 2.49, groupWidth: 8),
            RegNetConfiguration(depth: 1_000_000, w0: 24, wa: 36, wm: 2.5, groupWidth: 8),
            RegNetConfiguration(depth: 13, w0: 8e20, wa: 36, wm: 2.5, groupWidth: 8),
            RegNetConfiguration(depth: 13, w0: 24, wa: 36, wm: 2.5, groupWidth: 8, bottleneckRatio: 1e-300),
            RegNetConfiguration(depth: 13, w0: 24, wa: 36, wm: 2.5, groupWidth: 8, seRatio: 1e300),
        ]
        for c in cases {
            #expect(throws: RegNetError.self, "\(c)") { _ = try c.network().lower() }
        }
        // A huge wm is legal: every exponent rounds to 0, giving a single stage.
        #expect(try RegNetConfiguration(depth: 13, w0: 24, wa: 36, wm: 1e300, groupWidth: 8).stages().count == 1)
    }

    @Test func absurdDSLValuesAreLoweringErrors() {
        let nets = [
            Network { Stem(16); Body { Stage(depth: 1, width: 1 << 40, groupWidth: 8) }; Head(classes: 10) },
            Network { Stem(16); Body { Stage(depth: 1, width: 32, groupWidth: 8, bottleneckRatio: 1e-300) }; Head(classes: 10) },
            Network { Stem(16); Body { Stage(depth: 1, width: 32, groupWidth: 8, block: YBlock(seRatio: 1e300)) }; Head(classes: 10) },
            Network { Stem(1 << 30); Body { Stage(depth: 1, width: 32, groupWidth: 8) }; Head(classes: 10) },
            Network { Stem(16); Body { Stage(depth: 1, width: 32, groupWidth: 8) }; Head(classes: 1 << 40) },
        ]
        for net in nets {
            #expect(throws: LoweringError.self) { try net.lower(resolution: 32) }
        }
        #expect(throws: LoweringError.self) { try nets[0].lower(height: 1 << 40, width: 8) }
    }
}
