/// The arithmetic a compiled model runs its convolutions in.
public enum Precision: String, Sendable, CaseIterable {
    /// float32 everywhere: the reference.
    case float32 = "fp32"
    /// bfloat16 operands with float32 accumulation for every convolution over more than one pixel
    /// (stem, 1x1 and grouped 3x3): weights are packed as bf16 and activations rounded to bf16 as the
    /// kernels read them. Biases, residual adds, activations, squeeze-excite, the head and the output
    /// stay float32. Needs AVX-512 BF16; elsewhere a model compiles in float32 (see
    /// `CompiledModel.precision`).
    case bfloat16 = "bf16"
}
