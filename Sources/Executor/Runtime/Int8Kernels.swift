internal import Kernels

/// The int8 micro-kernels (uint8 activations x int8 weights, int32 accumulation) and their tile sizes.
struct Int8Kernels: @unchecked Sendable {
    /// GEMM rows per tile, columns per packed panel, convolution pixels per tile.
    let mr: Int, nr: Int, xb: Int
    let gemm: rn_gemm_int8_fn
    let conv: rn_conv_int8_fn
    let pack: rn_pack_int8_fn
    let convert: rn_convert_int8_fn

    /// The kernels of a C table.
    init(_ t: UnsafePointer<rn_int8_kernels>) {
        (mr, nr, xb) = (Int(t.pointee.mr), Int(t.pointee.nr), Int(t.pointee.xb))
        (gemm, conv, pack, convert) = (t.pointee.gemm, t.pointee.conv, t.pointee.pack, t.pointee.convert)
    }

    /// The set this CPU runs, if it has AVX-512 VNNI.
    static let available: Int8Kernels? = rn_int8_kernels_for().map(Int8Kernels.init)
}
