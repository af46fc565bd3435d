import NetworkIR

/// The symmetric per-output-channel int8 scales of `w` ([channels][rest]): each channel's largest
/// magnitude / 127 (1 for an all-zero channel).
func perChannelWeightScales(_ w: [Float], channels: Int) -> [Float] {
    let per = w.count / channels
    return (0..<channels).map { c in
        let largest = w[(c * per)..<((c + 1) * per)].reduce(0) { max($0, abs($1)) }
        return largest > 0 ? largest / 127 : 1
    }
}

/// `w` ([channels][rest]) as integers round(w / scale) in [-127, 127] (as floats, for the packers).
func quantize(_ w: [Float], scales: [Float]) -> [Float] {
    let per = w.count / scales.count
    return w.indices.map { i in min(max((w[i] / scales[i / per]).rounded(.toNearestOrEven), -127), 127) }
}

extension PlanCompiler {
    /// Node `name`'s int8 weights and per-channel scales: the quantisation's scales when it carries them
    /// (a quantised weights file: `w` is then q · scale and quantises back to q exactly), else computed.
    func int8Weights(_ w: [Float], channels: Int, name: String) -> (values: [Float], scales: [Float]) {
        let scales = quantization?.weightScales[name].flatMap { $0.count == channels ? $0 : nil } ?? perChannelWeightScales(w, channels: channels)
        return (quantize(w, scales: scales), scales)
    }
}

extension Graph {
    /// Whether convolution `id` can run in int8: its input is never negative (uint8, zero point 0) and
    /// it covers more than one pixel (squeeze-excite's 1x1 layers are tiny and make the gates, so they
    /// stay float32).
    func isInt8Candidate(_ id: NodeID) -> Bool {
        let node = nodes[id]
        guard case .convolution = node.operation else { return false }
        return node.shape.height * node.shape.width > 1 && isNonNegative(node.inputs[0])
    }

    /// Whether node `id`'s result is never negative, by construction: a ReLU, a sigmoid, a clamp from
    /// 0 or above, and what pools, drops out or gates such results. An int8 convolution's uint8 input
    /// (zero point 0) must be one.
    func isNonNegative(_ id: NodeID) -> Bool {
        let node = nodes[id]
        switch node.operation {
        case .relu, .sigmoid: return true
        case .clamp(let lower, _): return lower >= 0
        case .channelScale: return node.inputs.allSatisfy(isNonNegative)
        case .maxPool, .averagePool, .globalAveragePool, .dropout: return isNonNegative(node.inputs[0])
        default: return false
        }
    }
}

/// W ([channels][rest]) and b with a following batch norm's per-channel affine folded in.
func foldBatchNorm(_ w: [Float], _ b: [Float], _ batchNorm: (scale: [Float], shift: [Float])?) -> (weights: [Float], bias: [Float]) {
    guard let (scale, shift) = batchNorm else { return (w, b) }
    let per = w.count / scale.count
    return (w.indices.map { w[$0] * scale[$0 / per] }, b.indices.map { b[$0] * scale[$0] + shift[$0] })
}

/// An int8 layer's epilogue: per output channel, the factor turning the int32 accumulator into the
/// float result (input scale × weight scale × the batch norm's scale) and the bias (batch norm folded).
func outputScales(_ weightScales: [Float], _ b: [Float], _ batchNorm: (scale: [Float], shift: [Float])?,
                  inputScale: Float) -> (scales: [Float], bias: [Float]) {
    let bn = batchNorm?.scale ?? [Float](repeating: 1, count: b.count)
    return (weightScales.indices.map { inputScale * weightScales[$0] * bn[$0] }, foldBatchNorm([], b, batchNorm).bias)
}
