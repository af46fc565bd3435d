import Foundation
import NetworkIR
import Weights

/// Quantised models as safetensors files, so calibration is done once. The file holds every tensor of
/// the weights under its usual (timm) name as F32, except that for each convolution `N` that runs in
/// int8 it stores
///
/// - `N.weight` as I8: round(w / scale) per output channel, in [-127, 127] (before batch norm is folded),
/// - `N.weight_scale` as F32 [out channels]: the symmetric weight scales (largest magnitude / 127),
/// - `N.input_scale` as F32 [1] and `N.input_zero_point` as U8 [1] (always 0): the uint8 input's
///   quantisation, value = (q − zero point) · scale,
///
/// and its metadata says `"regnet.precision": "int8"` (and, under `"regnet.int8_excluded"`, a JSON
/// object naming the layers the calibration left in float32 with their measured input error). Reading
/// it back gives weights equal to q · scale and the same `Quantization`, so a model compiled from the
/// file computes exactly what the calibrated one did.
extension Quantization {
    /// The metadata key and value marking a quantised weights file.
    public static let metadataKey = "regnet.precision", metadataValue = "int8"
    /// The metadata key listing the layers left in float32.
    static let excludedKey = "regnet.int8_excluded"

    /// Writes `weights` with this quantisation to `url` (atomically), with `extra` in the metadata.
    /// `graph` names the convolutions.
    public func write(_ weights: WeightSet, graph: Graph, to url: URL, metadata extra: [String: String] = [:]) throws(WeightError) {
        var tensors = weights.tensors, integers: [String: SafeTensors.DType] = [:]
        for (id, node) in graph.nodes.enumerated() {
            guard let inputScale = inputScales[node.name], let weight = graph.parameterName(id, .weight), let w = weights[weight] else { continue }
            let scales = weightScales[node.name] ?? perChannelWeightScales(w.scalars, channels: w.shape[0])
            tensors[weight] = Tensor(shape: w.shape, scalars: quantize(w.scalars, scales: scales))
            tensors["\(node.name).weight_scale"] = Tensor(shape: [scales.count], scalars: scales)
            tensors["\(node.name).input_scale"] = Tensor(shape: [1], scalars: [inputScale])
            tensors["\(node.name).input_zero_point"] = Tensor(shape: [1], scalars: [0])
            integers[weight] = .i8
            integers["\(node.name).input_zero_point"] = .u8
        }
        var metadata = extra.merging([Self.metadataKey: Self.metadataValue]) { _, marker in marker }
        if !excluded.isEmpty, let json = try? JSONEncoder().encode(excluded) { metadata[Self.excludedKey] = String(decoding: json, as: UTF8.self) }
        try SafeTensors.write(WeightSet(tensors), to: url, metadata: metadata, integers: integers)
    }

    /// Scales a calibration can give: float32 activations and weights far outside 1e-12 × 255 ...
    /// 1e12 × 255 do not occur, and a scale out there saturates every value or rounds it to zero.
    static let plausibleScales: ClosedRange<Float> = 1e-12...1e12

    /// Whether the file at `url` is a quantised weights file (`write` made it); false for any other file,
    /// readable or not.
    public static func isQuantizedFile(_ url: URL) -> Bool {
        (try? SafeTensors.metadata(contentsOf: url))?[metadataKey] == metadataValue
    }

    /// Reads a file `write` made: the weights (int8 ones as q · scale) and the quantisation; nil
    /// quantisation for a file of plain float weights (read as `SafeTensors.read` does).
    public static func read(contentsOf url: URL) throws(WeightError) -> (weights: WeightSet, quantization: Quantization?) {
        let all = try SafeTensors.read(contentsOf: url), metadata = try SafeTensors.metadata(contentsOf: url)
        guard metadata[metadataKey] == metadataValue else { return (all, nil) }
        var excluded: [String: Float] = [:]
        if let text = metadata[excludedKey] {
            guard let decoded = try? JSONDecoder().decode([String: Float].self, from: Data(text.utf8)) else {
                throw WeightError(.malformedFile, "\(excludedKey) in the metadata must be a JSON object of layer names to numbers")
            }
            excluded = decoded
        }
        var tensors = all.tensors, inputScales: [String: Float] = [:], weightScales: [String: [Float]] = [:]
        for name in all.tensors.keys where name.hasSuffix(".input_scale") {
            let layer = String(name.dropLast(".input_scale".count))
            func tensor(_ suffix: String) throws(WeightError) -> Tensor {
                guard let t = tensors.removeValue(forKey: layer + suffix) else {
                    throw WeightError(.malformedFile, "quantised layer \(layer): \(layer + suffix) is missing")
                }
                return t
            }
            let input = try tensor(".input_scale"), zero = try tensor(".input_zero_point"), scales = try tensor(".weight_scale")
            guard let w = tensors[layer + ".weight"] else { throw WeightError(.malformedFile, "quantised layer \(layer): \(layer).weight is missing") }
            guard input.scalars.count == 1, let s = input.scalars.first, Self.plausibleScales.contains(s) else {
                throw WeightError(.malformedFile, "\(layer).input_scale must be one number in \(Self.plausibleScales) (a calibration gives the input's range / 255); got \(input.scalars)")
            }
            guard zero.scalars == [0] else {
                throw WeightError(.malformedFile, "\(layer).input_zero_point is \(zero.scalars); only zero points of 0 are supported (uint8 inputs that are never negative)")
            }
            let channels = w.shape.first ?? 0
            guard channels > 0, scales.scalars.count == channels, scales.scalars.allSatisfy(Self.plausibleScales.contains) else {
                throw WeightError(.malformedFile, "\(layer).weight_scale must hold \(channels) numbers in \(Self.plausibleScales) (one per output channel: its largest weight / 127)")
            }
            guard w.scalars.allSatisfy({ $0 == $0.rounded() && abs($0) <= 128 }) else {
                throw WeightError(.malformedFile, "\(layer).weight must hold int8 values in a quantised file")
            }
            let per = w.count / channels
            tensors[layer + ".weight"] = Tensor(shape: w.shape, scalars: w.scalars.indices.map { w.scalars[$0] * scales.scalars[$0 / per] })
            inputScales[layer] = s
            weightScales[layer] = scales.scalars
        }
        return (WeightSet(tensors), Quantization(inputScales: inputScales, weightScales: weightScales, excluded: excluded))
    }
}
