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
    /// `packPairs` for rows already stored as bf16.
    let interleavePairs: rn_train_interleave_pairs_bf16_fn

    init(_ t: UnsafePointer<rn_bf16_training_kernels>) {
        name = String(cString: t.pointee.name)
        mr = Int(t.pointee.mr)
        (gemmTN, packPairs, interleavePairs) = (t.pointee.gemm_tn, t.pointee.pack_pairs, t.pointee.interleave_pairs)
    }

    /// The set this CPU runs (AVX-512 BF16), if any.
    static let available: BFloat16TrainingKernels? = rn_bf16_training_kernels_for().map(BFloat16TrainingKernels.init)
}

/// Who made the CPU, as far as that decides which arithmetic is fast (CPUID's vendor on x86-64).
enum CPUVendor: Sendable {
    case intel, amd, other

    /// This CPU's.
    static let current: CPUVendor = switch rn_cpu_vendor() {
    case 1: .intel
    case 2: .amd
    default: .other
    }
}

/// What a bf16 training program multiplies with: the inference set's bf16 GEMM, convolutions, packing
/// and rounding, and the training set's weight-gradient GEMM.
struct BFloat16Arithmetic: Sendable {
    let kernels: BFloat16Kernels
    let training: BFloat16TrainingKernels

    /// The bf16 arithmetic that goes with `kernels`, when this CPU has all of it and it is faster than
    /// float32 there (`unavailability` says why not).
    init?(_ kernels: KernelSet, vendor: CPUVendor = .current) {
        guard Self.unavailability(kernels, vendor: vendor) == nil, let inference = kernels.bfloat16,
              let training = BFloat16TrainingKernels.available else { return nil }
        (self.kernels, self.training) = (inference, training)
    }

    /// Why a program with `kernels` on a CPU from `vendor` trains in float32 rather than bf16, or nil
    /// when it can train in bf16. `vdpbf16ps` does two multiply-adds per lane where an FMA does one: on
    /// AMD Zen 4 and 5 it issues as fast as an FMA, so bf16 doubles the multiply rate; on Intel Xeons it
    /// is slower than fp32 FMAs (their fast bf16 path is the AMX tiles, which training does not use
    /// yet), so a bf16 recipe trains in float32 there rather than slower.
    static func unavailability(_ kernels: KernelSet, vendor: CPUVendor = .current) -> String? {
        guard kernels.bfloat16 != nil, BFloat16TrainingKernels.available != nil else {
            return "bf16 training needs \(Precision.bfloat16.requiredInstructions ?? "bf16 dot products"), which "
                + (KernelSet.best.name == kernels.name ? "this CPU lacks" : "the \(kernels.name) kernels lack")
        }
        guard vendor != .intel else {
            return "bf16 training multiplies with vdpbf16ps, which is slower than fp32 on Intel CPUs (their AMX tiles are not used for training yet)"
        }
        return nil
    }
}
