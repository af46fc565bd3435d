import Foundation
import Kernels
import Testing
import DesignSpaces
@testable import Executor
import Weights

/// One PyTorch fixture case (scripts/make_executor_fixtures.py).
struct ParityCase: Decodable, CustomTestStringConvertible, Sendable {
    var name: String
    var depth: Int, w0: Double, wa: Double, wm: Double, group_width: Int, bottleneck_ratio: Double, se_ratio: Double
    var stem_width: Int, classes: Int, batch: Int, height: Int, width: Int
    /// Checkpoint naming family, width rounding, and whether the stem expects BGR (original pycls weights).
    var family: String, rounding: String, reverse_stem_channels: Bool
    /// Input and logits files when shared with another case.
    var input: String?, logits: String?
    var testDescription: String { name }

    var configuration: RegNetConfiguration {
        RegNetConfiguration(depth: depth, w0: w0, wa: wa, wm: wm, groupWidth: group_width, bottleneckRatio: bottleneck_ratio,
                            seRatio: se_ratio, stemWidth: stem_width, classes: classes,
                            groupRounding: rounding == "torchvision" ? .torchvision : .pycls)
    }
}

func fixtureURL(_ name: String) throws -> URL {
    try #require(Bundle.module.url(forResource: name, withExtension: nil, subdirectory: "Fixtures"), "missing fixture \(name)")
}

func parityCases() throws -> [ParityCase] {
    try JSONDecoder().decode([ParityCase].self, from: Data(contentsOf: fixtureURL("cases.json")))
}

/// max |a - b| / max(1, max |b|)
func relativeError(_ a: [Float], _ b: [Float]) -> Float {
    let scale = max(1, b.map(abs).max() ?? 0)
    return zip(a, b).map { abs($0 - $1) }.max()! / scale
}

@Suite struct ParityTests {
    /// Which kernel sets the parity and kernel tests run here, printed for the log; the sets named in
    /// `REGNET_REQUIRE_KERNELS` (CI names the ones its CPU supports) must be among them, so a faster
    /// path cannot go untested silently.
    @Test func requiredKernelSetsRun() {
        let available = KernelSet.available.map(\.name)
        print("kernel sets tested: \(available.joined(separator: ", "))")
        let required = ProcessInfo.processInfo.environment["REGNET_REQUIRE_KERNELS"]?.split(separator: ",").map(String.init) ?? []
        let amx = rn_amx_available() != 0 ? "amxbf16" : nil
        let reduced = [BFloat16Kernels.available?.name, Int8Kernels.available?.name, amx].compactMap { $0 }
        print("bf16, int8 and AMX kernels tested: \(reduced.isEmpty ? "none (no bf16 or 8-bit dot products or AMX tiles on this CPU)" : reduced.joined(separator: ", "))")
        for name in required {
            #expect((available + reduced).contains(name), "REGNET_REQUIRE_KERNELS names \(name), which this CPU does not run")
        }
    }

    @Test func fixturesCoverTheRequiredCases() throws {
        let cases = try parityCases()
        #expect(cases.contains { $0.se_ratio > 0 } && cases.contains { $0.se_ratio == 0 })
        #expect(cases.contains { $0.bottleneck_ratio == 2 } && cases.contains { $0.bottleneck_ratio == 4 })
        #expect(cases.contains { $0.group_width == 1 } && cases.contains { $0.batch > 1 })
        #expect(cases.contains { $0.height != $0.width } && cases.contains { $0.height % 2 == 1 })
        #expect(Set(cases.map(\.family)) == ["timm", "pycls", "torchvision"])
        // The torchvision case really rounds differently: pycls would make its third stage 32 wide.
        let tv = try #require(cases.first { $0.family == "torchvision" })
        var pyclsRounding = tv.configuration
        pyclsRounding.groupRounding = .pycls
        #expect(try tv.configuration.stages().map(\.width) == [8, 16, 48, 96])
        #expect(try pyclsRounding.stages().map(\.width) == [8, 16, 32, 96])
        // The clamped case really clamps: its first stage's group width is below the requested one.
        let clamped = try #require(cases.first { $0.name == "y_clamped_groups" })
        #expect(try clamped.configuration.stages().first!.groupWidth < clamped.group_width)
    }

    @Test(arguments: try parityCases())
    func logitsMatchPyTorch(_ c: ParityCase) throws {
        let graph = try c.configuration.network().lower(height: c.height, width: c.width)
        let (weights, family) = try WeightSet.load(contentsOf: fixtureURL("\(c.name).safetensors"),
                                                   reverseStemChannels: c.reverse_stem_channels)
        #expect(family.rawValue == c.family)
        let input = try NumPyArray.read(contentsOf: fixtureURL(c.input ?? "\(c.name).input.npy"))
        let expected = try NumPyArray.read(contentsOf: fixtureURL(c.logits ?? "\(c.name).logits.npy"))
        #expect(input.shape == [c.batch, 3, c.height, c.width])
        for kernels in KernelSet.available {
            var outputs: [[Float]] = []
            for threads in [1, 2] {
                let model = try CompiledModel(graph: graph, weights: weights, batch: c.batch, threads: threads, kernels: kernels)
                let output = try model.run(input)
                outputs.append(output.scalars)
                #expect(output.shape == [c.batch, c.classes, 1, 1])
                let error = relativeError(output.scalars, expected.scalars)
                #expect(error <= 1e-4, "\(c.name) on \(kernels.name), \(threads) threads: relative error \(error)")
                print("parity \(c.name) \(kernels.name) threads=\(threads): relative error \(error)")
            }
            // 1 and 2 threads split the same work differently; results must agree to 1e-5 relative.
            #expect(relativeError(outputs[0], outputs[1]) <= 1e-5, "\(c.name) on \(kernels.name): 1 vs 2 threads")
        }
        // Image-group scheduling (normally for large activations) forced on: same logits.
        // Thresholds from "everything" to "only the largest layers" also give mixed plans.
        if c.batch > 1 {
            var mixed = false, multiImageGroups = false
            for threshold in [0] + (0..<12).map({ 10_000 * pow(1.8, Double($0)) }) {
                let model = try CompiledModel(graph: graph, weights: weights, batch: c.batch, threads: 2, kernels: .best,
                                              groupBudgetBytes: threshold)
                if threshold == 0 { #expect(model.perImageStepCount == model.stepCount) }
                mixed = mixed || (0 < model.groupedStepCount && model.groupedStepCount < model.stepCount)
                multiImageGroups = multiImageGroups || model.groupedStepCount > model.perImageStepCount
                let error = relativeError(try model.run(input).scalars, expected.scalars)
                #expect(error <= 1e-4, "\(c.name) with a group budget of \(threshold) bytes: relative error \(error)")
            }
            #expect(mixed, "no threshold gave a plan mixing image-group and whole-batch segments")
            if c.batch >= 3 { #expect(multiImageGroups, "no threshold gave groups of several images (shared slots)") }
        }
    }
}
