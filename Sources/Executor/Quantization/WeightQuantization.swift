import NetworkIR
import Weights

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
