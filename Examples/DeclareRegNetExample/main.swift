// Declaring RegNetX-200MF by hand with the DSL, and checking it against the zoo.
//
// The paper lists RegNetX-200MF as four stages of X blocks: depths 1, 1, 4, 7; widths 24, 56, 152, 368;
// group width 8. Written out with the DSL (ExampleNetworks.regNetX200MF, in Examples/ExampleNetworks,
// checked at build time), it must lower to exactly the graph the zoo generates from the quantised
// linear rule (d = 13, w0 = 24, wa = 36.44, wm = 2.49), with the complexity pycls publishes.
//
//     swift run DeclareRegNetExample
import ExampleNetworks
import Foundation
import RegNet

let byHand = ExampleNetworks.regNetX200MF

do {
    let declared = try byHand.lower(resolution: 224)
    let generated = try Network.regNet(depth: 13, w0: 24, wa: 36.44, wm: 2.49, groupWidth: 8).lower(resolution: 224)
    print(Summary(declared).table)
    let sameOperations = declared.nodes.map(\.operation) == generated.nodes.map(\.operation)
    let sameNames = declared.nodes.map(\.name) == generated.nodes.map(\.name)
    print("same operations as the generated model: \(sameOperations)")
    print("same parameter names (timm's): \(sameNames)")
    print("complexity equals pycls's published 199,040,872 flops: \(declared.complexity.flops == 199_040_872)")
    if !(sameOperations && sameNames) { exit(1) }
} catch {
    print("error: \(error)")
    exit(1)
}
