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

/// An int8 layer's epilogue: per output channel, the factor turning the int32 accumulator into the
/// float result (input scale × weight scale × the batch norm's scale) and the bias (batch norm folded).
func outputScales(_ weightScales: [Float], _ b: [Float], _ batchNorm: (scale: [Float], shift: [Float])?,
                  inputScale: Float) -> (scales: [Float], bias: [Float]) {
    let bn = batchNorm?.scale ?? [Float](repeating: 1, count: b.count)
    return (weightScales.indices.map { inputScale * weightScales[$0] * bn[$0] }, foldBatchNorm([], b, batchNorm).bias)
}
