internal import Kernels

/// The bf16 micro-kernels (bf16 operands, float32 accumulation) and their tile sizes.
struct BFloat16Kernels: @unchecked Sendable {
    /// `avx512bf16` or `neonbf16`.
    let name: String
    /// GEMM rows per tile, columns per packed panel, convolution pixels per tile.
    let mr: Int, nr: Int, xb: Int
    let gemm: rn_gemm_bf16_fn
    let conv: rn_conv_bf16_fn
    /// Two convolution tiles per call, for outputs at most `xb2` pixels wide (nil, `xb2` 0, where one
    /// tile already has enough accumulators in flight).
    let xb2: Int
    let conv2: rn_conv2_bf16_fn?
    let pack: rn_pack_bf16_fn
    let convert: rn_convert_bf16_fn

    /// The kernels of a C table.
    init(_ t: UnsafePointer<rn_bf16_kernels>) {
        name = String(cString: t.pointee.name)
        (mr, nr, xb, xb2) = (Int(t.pointee.mr), Int(t.pointee.nr), Int(t.pointee.xb), Int(t.pointee.xb2))
        (gemm, conv, conv2, pack, convert) = (t.pointee.gemm, t.pointee.conv, t.pointee.conv2, t.pointee.pack, t.pointee.convert)
    }

    /// The set this CPU runs, if it has bf16 dot products (AVX-512 BF16; the Arm BF16 extension).
    static let available: BFloat16Kernels? = rn_bf16_kernels_for().map(BFloat16Kernels.init)
}
