// A network built from a custom block, summarised and run.
//
// `InvertedResidual` (MobileNetV2's block, in Examples/ExampleNetworks) is declared with the same public
// API as the built-in XBlock and YBlock: a `body` made of layers. The network is checked while this
// example builds (the RegNetCheck step), then lowered, summarised, compiled and run on a seeded batch.
//
//     swift run -c release CustomBlock
//     swift run -c release CustomBlock --onnx DIR   # also: each example network as DIR/NAME.onnx, with
//                                                   # a seeded input and our logits beside it (.npy)
import ExampleNetworks
import Foundation
import RegNet

let network = ExampleNetworks.invertedResidualNet
if let flag = CommandLine.arguments.firstIndex(of: "--onnx"), flag + 1 < CommandLine.arguments.count {
    let folder = URL(fileURLWithPath: CommandLine.arguments[flag + 1])
    do {
        for (example, resolution) in [(ExampleNetworks.invertedResidualNet, 160), (ExampleNetworks.everyLayerNet, 64)] {
            let graph = try example.lower(resolution: resolution)
            let weights = WeightSet.initialized(for: graph, seed: 42)
            var rng = SeededGenerator(seed: 1)
            let input = Tensor(shape: [2, 3, resolution, resolution], scalars: (0..<(2 * 3 * resolution * resolution)).map { _ in Float(rng.nextGaussian()) })
            let logits = try CompiledModel(graph: graph, weights: weights, batch: 2)(input)
            try graph.onnxModel(weights: weights, options: ONNXExportOptions(batch: nil)).write(to: folder.appendingPathComponent("\(example.name).onnx"))
            try NumPyArray.write(input, to: folder.appendingPathComponent("\(example.name).input.npy"))
            try NumPyArray.write(logits, to: folder.appendingPathComponent("\(example.name).logits.npy"))
            print("wrote \(example.name).onnx, .input.npy and .logits.npy to \(folder.path)")
        }
    } catch {
        print("error: \(error)")
        exit(1)
    }
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
