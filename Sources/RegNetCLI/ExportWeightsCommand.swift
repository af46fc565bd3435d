import Foundation
import RegNet

/// `regnet export-weights`: write a model's weights as safetensors, in any naming family.
enum ExportWeightsCommand {
    static let usage = """
    usage: regnet export-weights [<model | --depth …>] --output OUT.safetensors [--naming timm|pycls|torchvision]
                                 [--weights IN.safetensors [--bgr]] [--seed S] [--resolution R | --height H --width W]

    Writes the weights a model would run with — a checkpoint of any family (checked against the
    model and renamed), or the seeded pycls initialisation — as float32 safetensors named the way
    --naming says (default timm). The file is written only when everything succeeded.

    \(ModelSelection.usage)
      --resolution R          the input size the network is checked at (default 224); --height/--width
                              for non-square inputs
    """

    static func run(_ args: inout Arguments) throws {
        guard let output = try args.option("--output") else { throw UsageError("--output is required") }
        let namingText = try args.option("--naming") ?? "timm"
        guard let naming = CheckpointFamily(rawValue: namingText) else {
            throw UsageError("--naming must be timm, pycls or torchvision (got '\(namingText)')")
        }
        let options = try RunOptions.parse(&args)
        try args.finish()
        let graph = try options.graph()
        let weights = try options.loadWeights(for: graph)
        do {
            try weights.validate(for: graph)
            let kept = WeightSet(weights.tensors.filter { !WeightSet.isBookkeeping($0.key) })
            try kept.write(to: URL(fileURLWithPath: output), naming: naming,
                           metadata: options.model.description(height: options.height, width: options.width).metadata)
        } catch {
            throw RuntimeError(error.description)
        }
        print("wrote \(graph.parameters.count) tensors of \(graph.name) to \(output) (\(naming.rawValue) names)")
    }
}
