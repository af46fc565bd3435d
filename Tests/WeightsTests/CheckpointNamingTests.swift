import Testing
import NetworkDSL
@testable import Weights

@Suite struct CheckpointNamingTests {
    let graph = try! Network { Stem(8); Body { Stage(depth: 2, width: 16, groupWidth: 8, block: YBlock()) }; Head(classes: 3) }
        .lower(resolution: 16)

    @Test func knownNamesMapBothWays() {
        let pairs: [(String, String, String)] = [
            ("s1.b1.conv1.conv.weight", "s1.b1.f.a.weight", "trunk_output.block1.block1-0.f.a.0.weight"),
            ("s2.b3.conv2.bn.running_var", "s2.b3.f.b_bn.running_var", "trunk_output.block2.block2-2.f.b.1.running_var"),
            ("s1.b1.se.fc1.bias", "s1.b1.f.se.f_ex.0.bias", "trunk_output.block1.block1-0.f.se.fc1.bias"),
            ("s4.b1.downsample.conv.weight", "s4.b1.proj.weight", "trunk_output.block4.block4-0.proj.0.weight"),
            ("s4.b1.downsample.bn.weight", "s4.b1.bn.weight", "trunk_output.block4.block4-0.proj.1.weight"),
            ("stem.conv.weight", "stem.conv.weight", "stem.0.weight"),
            ("stem.bn.num_batches_tracked", "stem.bn.num_batches_tracked", "stem.1.num_batches_tracked"),
            ("head.fc.bias", "head.fc.bias", "fc.bias"),
        ]
        for (timm, pycls, tv) in pairs {
            #expect(CheckpointNaming.timmName(pycls, from: .pycls) == timm)
            #expect(CheckpointNaming.timmName(tv, from: .torchvision) == timm)
            #expect(CheckpointNaming.name(timm, in: .pycls) == pycls)
            #expect(CheckpointNaming.name(timm, in: .torchvision) == tv)
        }
        #expect(CheckpointNaming.timmName("module.s1.b1.f.a.weight", from: .pycls) == "s1.b1.conv1.conv.weight")
        #expect(CheckpointNaming.timmName("s1.b1.nonsense.weight", from: .pycls) == nil)
    }

    @Test func familiesAreDetectedAndRoundTrip() {
        let timm = WeightSet.initialized(for: graph, seed: 1)
        #expect(CheckpointNaming.detect(timm.tensors.keys) == .timm)
        for family in CheckpointFamily.allCases {
            let exported = timm.named(for: family)
            #expect(CheckpointNaming.detect(exported.tensors.keys) == family)
            let (back, detected) = exported.timmNamed()
            #expect(detected == family)
            #expect(back.tensors == timm.tensors, "\(family) did not round-trip")
        }
    }

    @Test func stemChannelsReverseForBGRCheckpoints() {
        let timm = WeightSet.initialized(for: graph, seed: 2)
        let (flipped, _) = timm.named(for: .pycls).timmNamed(reverseStemChannels: true)
        let a = timm["stem.conv.weight"]!.scalars, b = flipped["stem.conv.weight"]!.scalars
        // Weight [out][in][3][3]: channel 0 of the flipped tensor is channel 2 of the original.
        #expect(Array(b[0..<9]) == Array(a[18..<27]) && Array(b[18..<27]) == Array(a[0..<9]) && Array(b[9..<18]) == Array(a[9..<18]))
        #expect(flipped["s1.b1.conv1.conv.weight"] == timm["s1.b1.conv1.conv.weight"])
    }
}
