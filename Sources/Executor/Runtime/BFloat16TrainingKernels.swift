internal import Kernels

/// The bf16 training kernels: the weight gradient's GEMM over pixels with both operands packed in
/// pairs of pixels (`packPairs`), the layout bf16 dot products multiply. The forward and the data
/// gradient of a bf16 training program run on the inference set's bf16 kernels (`BFloat16Kernels`).
struct BFloat16TrainingKernels: @unchecked Sendable {
    /// `avx512bf16`.
    let name: String
    /// Rows per `gemmTN` tile (its columns are `RN_TRAIN_NR`).
    let mr: Int
    let gemmTN: rn_train_gemm_tn_bf16_fn
    let packPairs: rn_train_pack_pairs_bf16_fn

    init(_ t: UnsafePointer<rn_bf16_training_kernels>) {
        name = String(cString: t.pointee.name)
        mr = Int(t.pointee.mr)
        (gemmTN, packPairs) = (t.pointee.gemm_tn, t.pointee.pack_pairs)
    }

    /// The set this CPU runs (AVX-512 BF16), if any.
    static let available: BFloat16TrainingKernels? = rn_bf16_training_kernels_for().map(BFloat16TrainingKernels.init)
}

/// What a bf16 training program multiplies with: the inference set's bf16 GEMM, convolutions, packing
/// and rounding, and the training set's weight-gradient GEMM.
struct BFloat16Arithmetic: Sendable {
    let kernels: BFloat16Kernels
    let training: BFloat16TrainingKernels

    /// The bf16 arithmetic that goes with `kernels`, when this CPU has all of it.
    init?(_ kernels: KernelSet) {
        guard let inference = kernels.bfloat16, let training = BFloat16TrainingKernels.available else { return nil }
        (self.kernels, self.training) = (inference, training)
    }
}
