internal import Kernels

/// The int8 micro-kernels (uint8 activations x int8 weights, int32 accumulation) and their tile sizes.
struct Int8Kernels: @unchecked Sendable {
    /// `avx512vnni`, `neoni8mm` or `neondotprod`.
    let name: String
    /// GEMM rows per tile, columns per packed panel, convolution pixels per tile.
    let mr: Int, nr: Int, xb: Int
    let gemm: rn_gemm_int8_fn
    let conv: rn_conv_int8_fn
    let pack: rn_pack_int8_fn
    let convert: rn_convert_int8_fn

    /// The kernels of a C table.
    init(_ t: UnsafePointer<rn_int8_kernels>) {
        name = String(cString: t.pointee.name)
        (mr, nr, xb) = (Int(t.pointee.mr), Int(t.pointee.nr), Int(t.pointee.xb))
        (gemm, conv, pack, convert) = (t.pointee.gemm, t.pointee.conv, t.pointee.pack, t.pointee.convert)
    }

    /// The set this CPU runs, if it has 8-bit dot products (AVX-512 VNNI; the Arm I8MM or DotProd extensions).
    static let available: Int8Kernels? = rn_int8_kernels_for().map(Int8Kernels.init)
}
