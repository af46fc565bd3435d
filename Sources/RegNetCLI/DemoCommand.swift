import Foundation
import RegNet

/// The no-argument main job: declare RegNetX-200MF by hand with the DSL, check it against the zoo,
/// summarise it, compile it and run a batch of built-in images.
enum DemoCommand {
    static let usage = """
    usage: regnet [demo] [--threads T]

    Declares RegNetX-200MF stage by stage with the DSL, checks that it lowers to the same graph as
    the zoo's generated model, prints its summary, compiles it (weights initialised as pycls does,
    seed 0) and runs a batch of four built-in synthetic images, printing top-5 classes and timing.
    No files are read or fetched.
    """

    /// RegNetX-200MF as the paper lists it: widths 24, 56, 152, 368; depths 1, 1, 4, 7; group width 8.
    static let declared = Network("RegNetX-200MF") {
        Stem(32)
        Body {
            Stage(depth: 1, width: 24, groupWidth: 8)
            Stage(depth: 1, width: 56, groupWidth: 8)
            Stage(depth: 4, width: 152, groupWidth: 8)
            Stage(depth: 7, width: 368, groupWidth: 8)
        }
        Head(classes: 1000)
    }

    static func run(_ args: inout Arguments) throws {
        let threads = try args.int("--threads", range: 1...CompiledModel.maxThreads)
        try args.finish()
        let graph = try ModelSelection.lower(declared, height: 224, width: 224)
        let zoo = try ModelSelection.lower(try Zoo.model(named: "RegNetX-200MF").network(), height: 224, width: 224)
        let same = graph.nodes.map(\.operation) == zoo.nodes.map(\.operation) && graph.nodes.map(\.name) == zoo.nodes.map(\.name)
        print(Summary(graph).table)
        print("declared by hand == zoo RegNetX-200MF: \(same ? "yes" : "NO")")
        guard same else { throw RuntimeError("the hand-declared network differs from the zoo model") }

        let batch = 4
        var model: CompiledModel!
        let compileSeconds = try measure {
            model = try CompiledModel(graph: graph, weights: .initialized(for: graph, seed: 0), batch: batch, threads: threads)
        }
        print(String(format: "\ncompiled in %.0f ms: %d fused steps, ", compileSeconds * 1000, model.stepCount)
              + "\(model.kernels.name) kernels, \(model.threads) threads, "
              + String(format: "arena %.2f MiB (%.2f MiB without reuse)", Double(model.arenaBytes) / 1048576,
                       Double(model.unplannedActivationBytes) / 1048576))
        let input = DemoImages.batch(count: batch, size: 224)
        var output: [Float] = []
        var times: [Double] = []
        for _ in 0..<5 {
            try times.append(measure { output = try model.run(input) })
        }
        for (n, name) in DemoImages.names.prefix(batch).enumerated() {
            let logits = Array(output[(n * 1000)..<((n + 1) * 1000)])
            let best = logits.indices.sorted { logits[$0] > logits[$1] }.prefix(5)
            print("\(name.padding(toLength: 12, withPad: " ", startingAt: 0)) top-5: " + best.map { ImageNetClasses.names[$0] }.joined(separator: ", "))
        }
        let median = times.sorted()[times.count / 2]
        print(String(format: "forward pass, batch %d: median %.2f ms over %d runs (%.1f images/s)", batch, median * 1000, times.count,
                     Double(batch) / median))
        print("(weights are a seeded initialisation, so the classes are arbitrary; load real ones with `regnet run --weights`)")
    }
}

/// Deterministic 3-channel test images, ImageNet-normalised, generated from formulas so nothing is fetched.
enum DemoImages {
    static let names = ["gradient", "checkerboard", "rings", "stripes"]

    /// `count` images of `size`×`size`, NCHW.
    static func batch(count: Int, size: Int) -> [Float] {
        let mean: [Float] = [0.485, 0.456, 0.406], std: [Float] = [0.229, 0.224, 0.225]
        var out = [Float](repeating: 0, count: count * 3 * size * size)
        for n in 0..<count {
            for c in 0..<3 {
                for y in 0..<size {
                    for x in 0..<size {
                        let u = Float(x) / Float(size), v = Float(y) / Float(size)
                        let value: Float
                        switch n % 4 {
                        case 0: value = c == 0 ? u : c == 1 ? v : 1 - u * v
                        case 1: value = ((x / 28 + y / 28) % 2 == 0) ? 0.9 : 0.1
                        case 2: value = 0.5 + 0.5 * sin(40 * ((u - 0.5) * (u - 0.5) + (v - 0.5) * (v - 0.5)).squareRoot() + Float(c))
                        default: value = (y / 16) % 2 == 0 ? Float(c) / 2 : 1 - Float(c) / 2
                        }
                        out[((n * 3 + c) * size + y) * size + x] = (value - mean[c]) / std[c]
                    }
                }
            }
        }
        return out
    }
}
