import Foundation
import Testing
import DesignSpaces

/// Random configurations measured with timm (scripts/make_complexity_fixtures.py): widths, depths,
/// group widths and pycls-style complexity must agree for any parameters, resolution and class count.
struct TimmConfig: Decodable, CustomTestStringConvertible {
    var depth: Int, w0: Double, wa: Double, wm: Double, group_width: Int, bottleneck_ratio: Double, se_ratio: Double
    var stem_width: Int, classes: Int, resolution: Int
    var widths: [Int], depths: [Int], group_widths: [Int], params: Int, flops: Int, acts: Int
    var testDescription: String { "d=\(depth) w0=\(w0) wa=\(wa) wm=\(wm) g=\(group_width) b=\(bottleneck_ratio) se=\(se_ratio) @\(resolution)" }
}

struct TimmFixture: Decodable { var configs: [TimmConfig] }

func loadTimmConfigs() throws -> [TimmConfig] {
    let url = try #require(Bundle.module.url(forResource: "random_configs", withExtension: "json", subdirectory: "Fixtures"))
    return try JSONDecoder().decode(TimmFixture.self, from: Data(contentsOf: url)).configs
}

@Suite struct RandomConfigurationTests {
    @Test func fixtureIsNonTrivial() throws {
        let configs = try loadTimmConfigs()
        #expect(configs.count == 60)
        #expect(configs.contains { $0.bottleneck_ratio == 4 } && configs.contains { $0.se_ratio > 0 })
    }

    @Test(arguments: try loadTimmConfigs())
    func matchesTimm(_ c: TimmConfig) throws {
        let config = RegNetConfiguration(depth: c.depth, w0: c.w0, wa: c.wa, wm: c.wm, groupWidth: c.group_width,
                                         bottleneckRatio: c.bottleneck_ratio, seRatio: c.se_ratio,
                                         stemWidth: c.stem_width, classes: c.classes)
        let stages = try config.stages()
        #expect(stages.map(\.width) == c.widths)
        #expect(stages.map(\.depth) == c.depths)
        #expect(stages.map(\.groupWidth) == c.group_widths)
        let summary = try config.network().summary(resolution: c.resolution)
        #expect(summary.params == c.params)
        #expect(summary.flops == c.flops)
        #expect(summary.acts == c.acts)
    }
}
