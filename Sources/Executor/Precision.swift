/// The arithmetic a compiled model runs its convolutions in.
public enum Precision: String, Sendable, CaseIterable {
    /// float32 everywhere: the reference.
    case float32 = "fp32"
    /// bfloat16 operands with float32 accumulation for every convolution and linear layer (stem, 1x1,
    /// grouped 3x3, squeeze-excite, head): weights are packed as bf16, and activations are rounded to
    /// bf16 as the kernels read them, or stored as bf16 when only convolutions read them. Biases,
    /// batch-norm shifts, residual adds (done in float32), activations, squeeze-excite gates, pooling
    /// and the output stay float32. Needs AVX-512 BF16; elsewhere a model compiles in float32 (see
    /// `CompiledModel.precision`).
    case bfloat16 = "bf16"
    /// Static post-training quantisation: int8 weights (symmetric, per output channel) times uint8
    /// activations (per tensor, zero point 0, scales from a calibration: `Quantization`) with int32
    /// accumulation, for every convolution whose input is never negative (after a ReLU; squeeze-excite
    /// gated inputs included) and which the calibration found to lose little to uint8; the others (the
    /// stem, squeeze-excite, head, `Quantization.excluded`) and all biases, residual adds and the output
    /// stay float32. Needs AVX-512 VNNI; elsewhere a model compiles in float32.
    case int8
}
