import Foundation
import RegNet

/// `regnet quantize`: calibrate a model for int8 once and save it as a quantised safetensors file.
enum QuantizeCommand {
    static let usage = """
    usage: regnet quantize [<model | --depth …>] [--weights W.safetensors] --calibration D --output Q.safetensors
                           [--calibration-images N] [--calibration-method minmax|percentile[:P]] [--resolution R]

    Static post-training quantisation: runs the model in fp32 over the calibration images (at their
    own size when they have one and --resolution is not given), sets the
    uint8 input scale of every convolution that can run in int8 (inputs never negative, more than one
    pixel) and writes the weights with those layers as int8 (per output channel, symmetric) plus their
    scales and zero points (the layout is documented in the README). `regnet run|bench|eval --weights
    Q.safetensors --precision int8` then needs no calibration. Lists the layers that stay fp32. The
    file is written only when everything succeeded.

    \(RunOptions.usage)
      --output Q.safetensors  where to write the quantised weights
    """

    static func run(_ args: inout Arguments) throws {
        guard let output = try args.option("--output") else { throw UsageError("--output is required") }
        args.insert(["--precision", "int8"])
        var options = try RunOptions.parse(&args)
        try args.finish()
        // Without --resolution, calibrate at the size of the calibration images when they have one.
        if !options.sizeGiven, let calibration = options.calibration, calibration != "random", let data = try DataOptions.parse(from: calibration),
           let size = try data.open().train.fixedSize {
            (options.height, options.width) = size
        }
        let graph = try options.graph()
        let (weights, stored) = try options.loadWeightsAndQuantization(for: graph)
        guard stored == nil else { throw UsageError("--weights \(options.weightsPath ?? "") is already quantised") }
        do { try weights.validate(for: graph) } catch { throw RuntimeError(error.description) }
        let quantization = try options.calibrate(graph, weights)
        let model: CompiledModel
        do {
            try quantization.write(weights, graph: graph, to: URL(fileURLWithPath: output),
                                   metadata: options.model.description(height: options.height, width: options.width).metadata)
        } catch { throw RuntimeError(error.description) }
        do {
            model = try CompiledModel(graph: graph, weights: weights, kernels: options.kernels, precision: .int8, quantization: quantization)
        } catch { throw RuntimeError(error.description) }
        let convolutions = graph.nodes.filter(\.operation.isConvolution).map(\.name)
        let int8 = Set(quantization.inputScales.keys)
        print("wrote \(graph.name) to \(output): \(int8.count) of \(convolutions.count) convolutions in int8")
        let structural = convolutions.filter { !int8.contains($0) && quantization.excluded[$0] == nil }
        if !structural.isEmpty { print("fp32 (input can be negative, or a 1x1 squeeze-excite layer): " + structural.joined(separator: ", ")) }
        for (name, error) in quantization.excluded.sorted(by: { $0.key < $1.key }) {
            print(String(format: "fp32 (uint8 would lose %.1f%% of its input, more than %.0f%%): %@", 100 * error,
                         100 * Quantization.defaultMaximumInputError, name))
        }
        if model.precision != .int8 { printError(Precision.fallbackNote(.int8, kernels: options.kernels) + " (the file still holds the int8 model)") }
    }
}
