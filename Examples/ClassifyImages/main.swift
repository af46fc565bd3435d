// Loading weights and classifying images.
//
//     swift run -c release ClassifyImages                                  # built-in demo, nothing to fetch
//     swift run -c release ClassifyImages regnetx_004 W.safetensors a.png b.ppm
//
// With a model, a checkpoint (timm, pycls or torchvision names, detected) and images, it prints each
// image's top-5 ImageNet classes. Without arguments it shows the same path end to end with what is at
// hand: RegNetX-200MF's seeded initialisation is saved with torchvision's names, loaded back (the
// naming is detected and mapped), and used on the two images in Examples/ClassifyImages/Images.
// (With initialised weights the classes are arbitrary; public checkpoints give real ones.)
import Foundation
import RegNet

let here = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
var arguments = Array(CommandLine.arguments.dropFirst())

do {
    let model = try Zoo.model(named: arguments.isEmpty ? "RegNetX-200MF" : arguments.removeFirst())
    let graph = try model.network().lower(resolution: 224)
    let weightsURL: URL
    if arguments.first.map({ $0.hasSuffix(".safetensors") }) == true {
        weightsURL = URL(fileURLWithPath: arguments.removeFirst())
    } else {
        weightsURL = FileManager.default.temporaryDirectory.appendingPathComponent("regnetx200mf-torchvision-names.safetensors")
        try WeightSet.initialized(for: graph, seed: 0).write(to: weightsURL, naming: .torchvision)
        print("saved a seeded \(model.name) with torchvision names to \(weightsURL.path)")
    }
    let (weights, family) = try WeightSet.load(contentsOf: weightsURL)
    print("loaded \(weights.tensors.count) tensors; detected \(family.rawValue) names")

    let images = arguments.isEmpty
        ? try FileManager.default.contentsOfDirectory(at: here.appendingPathComponent("Images"), includingPropertiesForKeys: nil)
            .filter { $0.pathExtension == "png" }.sorted { $0.path < $1.path }
        : arguments.map { URL(fileURLWithPath: $0) }
    let preprocessing = Preprocessing()
    let input = try images.flatMap { try preprocessing(ImageFile.read(contentsOf: $0).rgb) }
    let compiled = try CompiledModel(graph: graph, weights: weights, batch: images.count)
    let logits = try compiled.run(input)
    for (n, url) in images.enumerated() {
        let row = Array(logits[(n * 1000)..<((n + 1) * 1000)])
        let best = row.indices.sorted { row[$0] > row[$1] }.prefix(5)
        print("\(url.lastPathComponent): " + best.map { ImageNetClasses.names[$0] }.joined(separator: ", "))
    }
} catch {
    print("error: \(error)")
    exit(1)
}
