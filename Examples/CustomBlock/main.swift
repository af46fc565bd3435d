// A network built from a custom block, summarised and run.
//
// `InvertedResidual` (MobileNetV2's block: 1x1 expand, 3x3 depthwise, 1x1 project) is declared with the
// same public API as the built-in XBlock and YBlock: a `body` made of layers. Stages repeat it; the
// network is lowered, summarised, compiled and run on a seeded batch.
//
//     swift run -c release CustomBlock
import Foundation
import RegNet

/// 1x1 expansion by `expansion`, 3x3 depthwise convolution carrying the stride, linear 1x1 projection;
/// a residual connection (with a projection when the shape changes).
struct InvertedResidual: Block {
    var expansion = 4

    func body(_ c: BlockContext) -> some Layer {
        let hidden = c.inputWidth * expansion
        Residual {
            Conv(hidden, kernel: 1, name: "expand.conv"); BatchNorm(name: "expand.bn"); ReLU()
            Conv(hidden, kernel: 3, stride: c.stride, groups: hidden, name: "depthwise.conv"); BatchNorm(name: "depthwise.bn"); ReLU()
            Conv(c.outputWidth, kernel: 1, name: "project.conv"); BatchNorm(name: "project.bn")
        }
    }
}

let network = Network("InvertedResidualNet") {
    Stem(16)
    Body {
        Stage(depth: 1, width: 24, groupWidth: 24, block: InvertedResidual(expansion: 2))
        for width in [32, 64, 96] {
            Stage(depth: 2, width: width, groupWidth: width, block: InvertedResidual())
        }
    }
    Head(classes: 10)
}

do {
    print(try network.summary(resolution: 160).table)
    let model = try network.compile(resolution: 160, seed: 42, batch: 4)
    var rng = SeededGenerator(seed: 1)
    let input = (0..<model.inputShape.reduce(1, *)).map { _ in Float(rng.nextGaussian()) }
    let start = Date()
    let logits = try model.run(input)
    print("ran a batch of 4 at 160x160 in \(String(format: "%.1f", Date().timeIntervalSince(start) * 1000)) ms; output shape \(model.outputShape)")
    for n in 0..<4 {
        let row = Array(logits[(n * 10)..<((n + 1) * 10)])
        print("image \(n): class \(row.indices.max { row[$0] < row[$1] }!)")
    }
} catch {
    print("error: \(error)")
    exit(1)
}
