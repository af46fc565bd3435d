// Networks declared in a .regnet file, expanded to Swift at build time by the RegNetDeclarations plugin.
//
// Networks.regnet, next to this file, declares four networks; the plugin checks them while building
// (an invalid line fails the build at `Networks.regnet:LINE:COLUMN`) and generates `Network.myRegNet`,
// `Network.tiny`, … and `RegNetDeclarations.all`.
//
//     swift run DeclarationFilesExample
//     swift package regnet-summary --target DeclarationFilesExample
import Foundation
import RegNet

for (name, network) in RegNetDeclarations.all {
    do {
        let summary = try network.summary()
        print("\(name): \(summary.stages.count) stages, widths \(summary.stages.map(\.width)), "
              + "\(Complexity(flops: summary.flops, params: summary.params, acts: summary.acts)), \(summary.classes) classes")
    } catch {
        print("\(name): \(error)")
        exit(1)
    }
}
// The generated properties are ordinary Swift: Network.myRegNet is RegNetX-200MF's parameters.
let myRegNet = try Network.myRegNet.lower()
print("Network.myRegNet has RegNetX-200MF's complexity: \(myRegNet.complexity.flops == 199_040_872)")
