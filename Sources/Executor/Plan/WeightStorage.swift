import Weights

extension PlanCompiler {
    /// A layer's weights stored for the plan's arithmetic, in the layout its kernel reads.
    struct StoredWeights {
        /// float32, bfloat16, or int8 (times uint8 inputs).
        var operands: ElementType
        /// Offsets of the packed weights, the packed bias and, for int8, the per-channel output scales.
        var weights: Int, bias: Int, scales: Int?
    }

    /// Stores weights `w` ([channels][rest]) and bias `b` of node `name`, with the batch norm that follows:
    /// int8 when `quantizedInput` gives the scale of the layer's uint8 input (the raw weights quantised
    /// per channel, the batch norm's scale moved into the output scales), else folded and stored as bf16
    /// in a bf16 plan or as float32. `pack(w, b, group)` lays weights and bias out for the kernel, with
    /// `group` reduction indices side by side (1 float32, 2 bf16, 4 int8); `layout` lays out a
    /// per-channel vector as the bias is.
    mutating func storeWeights(_ w: [Float], _ b: [Float], batchNorm: (scale: [Float], shift: [Float])?, channels: Int, name: String,
                               quantizedInput: Float?, pack: ([Float], [Float], Int) -> (weights: [Float], bias: [Float]),
                               layout: ([Float]) -> [Float]) -> StoredWeights {
        if let scale = quantizedInput, kernels.int8 != nil {
            let (q, weightScales) = int8Weights(w, channels: channels, name: name)
            let (scales, bias) = outputScales(weightScales, b, batchNorm, inputScale: scale)
            let packed = pack(q, bias, 4)
            return StoredWeights(operands: .int8, weights: storeInt8(packed.weights), bias: store(packed.bias), scales: store(layout(scales)))
        }
        let (w, b) = foldBatchNorm(w, b, batchNorm)
        if precision == .bfloat16, kernels.bfloat16 != nil {
            let packed = pack(w, b, 2)
            return StoredWeights(operands: .bfloat16, weights: storeBFloat16(packed.weights), bias: store(packed.bias), scales: nil)
        }
        let packed = pack(w, b, 1)
        return StoredWeights(operands: .float32, weights: store(packed.weights), bias: store(packed.bias), scales: nil)
    }
}
