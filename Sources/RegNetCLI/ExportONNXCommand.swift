import Foundation
import RegNet

/// `regnet export-onnx`: a declared network and its weights as an ONNX model.
enum ExportONNXCommand {
    static let usage = """
    usage: regnet export-onnx [<model | --depth …>] --output MODEL.onnx [--weights W.safetensors [--bgr]]
                              [--opset N] [--batch N | --dynamic-batch] [--fold-batch-norm] [--naming timm|pycls|torchvision] [--seed S]
                              [--resolution R | --height H --width W]

    Writes the network with its weights — a checkpoint of any family, or the seeded pycls
    initialisation — as an ONNX model for ONNX Runtime, TensorRT, Core ML converters or browsers:
    Conv, BatchNormalization, Relu, Sigmoid, Clip, HardSwish, HardSigmoid, Add, Mul,
    GlobalAveragePool, MaxPool, AveragePool, Flatten and Gemm, as PyTorch's exporter writes them.
    Initializers carry timm's names; the model's metadata records flops, params, acts and the model
    flags (so `regnet` knows the network again). A quantised weights file (`regnet quantize`) is
    written as QDQ — QuantizeLinear/DequantizeLinear around each int8 convolution's input and
    weights, with our scales — which ONNX Runtime runs in int8. The file is written atomically.

    \(ModelSelection.usage)
      --opset N               ONNX operator set, 13 to 21 (default 17; HardSwish needs 14)
      --batch N               a fixed batch (default 1); --dynamic-batch: a symbolic one (N)
      --fold-batch-norm       fold each batch norm into the convolution before it (no BatchNormalization)
      --naming F              the checkpoint family whose names the initializers carry (default timm)
      --resolution R          input size (default: the one --weights records, else 224)
    """

    static func run(_ args: inout Arguments) throws {
        guard let output = try args.option("--output") else { throw UsageError("--output is required") }
        let opset = try args.int("--opset", range: 1...1_000) ?? 17
        let dynamic = args.flag("--dynamic-batch"), fold = args.flag("--fold-batch-norm")
        let namingText = try args.option("--naming") ?? "timm"
        guard let naming = CheckpointFamily(rawValue: namingText) else { throw UsageError("--naming must be timm, pycls or torchvision (got '\(namingText)')") }
        let options = try RunOptions.parse(&args)
        try args.finish()
        if dynamic && options.batchGiven { throw UsageError("--batch and --dynamic-batch: give one") }
        let graph = try options.graph()
        // A quantised weights file (`regnet quantize`): its int8 convolutions as QDQ.
        let (weights, quantization) = try options.loadWeightsAndQuantization(for: graph)
        var int8: [String: ONNXInt8Layer] = [:]
        for (layer, scale) in quantization?.inputScales ?? [:] {
            guard let scales = quantization?.weightScales[layer] else { throw RuntimeError("\(options.weightsPath ?? ""): \(layer) has no weight scales") }
            int8[layer] = ONNXInt8Layer(inputScale: scale, weightScales: scales)
        }
        let description = options.model.description(height: options.height, width: options.width)
        let data: Data
        do {
            data = try graph.onnxModel(weights: weights, options: ONNXExportOptions(opset: opset, batch: dynamic ? nil : options.batch,
                                                                                      metadata: description.metadata, foldBatchNorm: fold, int8: int8,
                                                                                      naming: naming))
            try writeAtomically(data, to: URL(fileURLWithPath: output))
        } catch { throw RuntimeError("\(error)") }
        print("wrote \(graph.name) to \(output): ONNX opset \(opset), \(graph.nodes.count - 1) layers\(fold ? " (batch norms folded)" : "")"
              + (int8.isEmpty ? "" : ", \(int8.count) convolutions in int8 (QDQ)") + ", "
              + "input \(dynamic ? "N" : String(options.batch))×3×\(options.height)×\(options.width), \(data.count / 1024) KiB")
    }
}
