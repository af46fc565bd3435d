internal import Kernels

/// The int8 micro-kernels (uint8 activations x int8 weights, int32 accumulation) and their tile sizes.
struct Int8Kernels: @unchecked Sendable {
    /// GEMM rows per tile, columns per packed panel, convolution pixels per tile.
    let mr: Int, nr: Int, xb: Int
    let gemm: rn_gemm_int8_fn
    let conv: rn_conv_int8_fn
    let pack: rn_pack_int8_fn
    let convert: rn_convert_int8_fn

    /// The set this CPU runs, if it has AVX-512 VNNI.
    static let available: Int8Kernels? = rn_int8_kernels_for().map { t in
        Int8Kernels(mr: Int(t.pointee.mr), nr: Int(t.pointee.nr), xb: Int(t.pointee.xb), gemm: t.pointee.gemm,
                    conv: t.pointee.conv, pack: t.pointee.pack, convert: t.pointee.convert)
    }
}
