/// The arithmetic a compiled model runs its convolutions in.
public enum Precision: String, Sendable, CaseIterable, Codable {
    /// float32 everywhere: the reference.
    case float32 = "fp32"
    /// bfloat16 operands with float32 accumulation for every convolution and linear layer (stem, 1x1,
    /// grouped 3x3, squeeze-excite, head): weights are packed as bf16, and activations are rounded to
    /// bf16 as the kernels read them, or stored as bf16 when only convolutions read them. Biases,
    /// batch-norm shifts, residual adds (done in float32), activations, squeeze-excite gates, pooling
    /// and the output stay float32. Needs bf16 dot products (AVX-512 BF16; on arm64 the BF16
    /// extension); elsewhere a model compiles in float32 (see `CompiledModel.precision`).
    case bfloat16 = "bf16"
    /// Static post-training quantisation: int8 weights (symmetric, per output channel) times uint8
    /// activations (per tensor, zero point 0, scales from a calibration: `Quantization`) with int32
    /// accumulation, for every convolution whose input is never negative (after a ReLU; squeeze-excite
    /// gated inputs included) and which the calibration found to lose little to uint8; the others (the
    /// stem, squeeze-excite, head, `Quantization.excluded`) and all biases, residual adds and the output
    /// stay float32. Needs 8-bit dot products (AVX-512 VNNI; on arm64 I8MM or DotProd); elsewhere a model
    /// compiles in float32.
    case int8

    /// The instructions a reduced precision needs (nil for float32, which runs everywhere), as the
    /// fallback note names them.
    public var requiredInstructions: String? {
        #if arch(arm64)
        switch self {
        case .float32: nil
        case .bfloat16: "the Arm BF16 extension (bfdot)"
        case .int8: "Arm 8-bit dot products (I8MM usdot or DotProd sdot)"
        }
        #else
        switch self {
        case .float32: nil
        case .bfloat16: "AVX-512 BF16"
        case .int8: "AVX-512 VNNI"
        }
        #endif
    }
}
