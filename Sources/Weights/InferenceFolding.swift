/// The arithmetic that turns trained tensors into what inference runs, shared by the executor and
/// the ONNX exporter so both fold and quantise alike.

/// A batch norm at inference as a per-channel affine map x · scale + shift:
/// scale = γ / √(σ² + ε), shift = β − μ · scale.
package func batchNormAffine(gamma: [Float], beta: [Float], mean: [Float], variance: [Float], epsilon: Float) -> (scale: [Float], shift: [Float]) {
    var scale = [Float](repeating: 0, count: gamma.count), shift = scale
    for c in gamma.indices {
        scale[c] = gamma[c] / (variance[c] + epsilon).squareRoot()
        shift[c] = beta[c] - mean[c] * scale[c]
    }
    return (scale, shift)
}

/// W ([channels][rest]) and b with a following batch norm's per-channel affine folded in.
package func foldBatchNorm(_ w: [Float], _ b: [Float], _ batchNorm: (scale: [Float], shift: [Float])?) -> (weights: [Float], bias: [Float]) {
    guard let (scale, shift) = batchNorm else { return (w, b) }
    let per = w.count / scale.count
    return (w.indices.map { w[$0] * scale[$0 / per] }, b.indices.map { b[$0] * scale[$0] + shift[$0] })
}

/// The symmetric per-output-channel int8 scales of `w` ([channels][rest]): each channel's largest
/// magnitude / 127 (1 for an all-zero channel).
package func perChannelWeightScales(_ w: [Float], channels: Int) -> [Float] {
    let per = w.count / channels
    return (0..<channels).map { c in
        let largest = w[(c * per)..<((c + 1) * per)].reduce(0) { max($0, abs($1)) }
        return largest > 0 ? largest / 127 : 1
    }
}

/// `w` ([channels][rest]) as integers round(w / scale) in [-127, 127] (as floats, for the packers).
package func quantize(_ w: [Float], scales: [Float]) -> [Float] {
    let per = w.count / scales.count
    return w.indices.map { i in min(max((w[i] / scales[i / per]).rounded(.toNearestOrEven), -127), 127) }
}
