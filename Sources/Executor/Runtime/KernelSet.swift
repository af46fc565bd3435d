internal import Kernels

/// One instruction set's micro-kernels and the tile sizes the operators must use.
public struct KernelSet: @unchecked Sendable {
    /// The C table of kernels and tile sizes.
    let table: UnsafePointer<rn_kernels>

    /// The best set this CPU runs (AVX-512, AVX2, or portable C).
    public static var best: KernelSet { KernelSet(table: rn_kernels_for(nil)!) }

    /// The set called `name` (`avx512`, `avx2`, `portable`), or nil when this CPU cannot run it.
    public init?(named name: String) {
        guard let table = rn_kernels_for(name) else { return nil }
        self.init(table: table)
    }

    init(table: UnsafePointer<rn_kernels>) { self.table = table }

    /// Every set this CPU runs, best first.
    public static var available: [KernelSet] { ["avx512", "avx2", "portable"].compactMap(KernelSet.init(named:)) }

    /// `avx512`, `avx2` or `portable`.
    public var name: String { String(cString: table.pointee.name) }
    /// GEMM rows per tile.
    var mr: Int { Int(table.pointee.mr) }
    /// GEMM columns per packed panel.
    var nr: Int { Int(table.pointee.nr) }
    /// Convolution pixels per tile.
    package var xb: Int { Int(table.pointee.xb) }
    var gemm: rn_gemm_fn { table.pointee.gemm }
    var conv: rn_conv_fn { table.pointee.conv }
    var pack: rn_pack_fn { table.pointee.pack }

    /// The bf16 micro-kernels that go with this set: only the AVX-512 set has them, on CPUs with AVX-512 BF16.
    var bfloat16: BFloat16Kernels? { name == "avx512" ? BFloat16Kernels.available : nil }
    /// The int8 micro-kernels that go with this set: only the AVX-512 set has them, on CPUs with AVX-512 VNNI.
    var int8: Int8Kernels? { name == "avx512" ? Int8Kernels.available : nil }
    /// Whether `precision` runs with this set (float32 always does).
    public func supports(_ precision: Precision) -> Bool {
        switch precision {
        case .float32: true
        case .bfloat16: bfloat16 != nil
        case .int8: int8 != nil
        }
    }

    /// The training micro-kernels of the same instruction set, if there are any.
    var training: UnsafePointer<rn_training_kernels>? { rn_training_kernels_for(name) }
    /// Whether training can run on this set.
    package var supportsTraining: Bool { training != nil }
}

/// The bf16 micro-kernels (bf16 operands, float32 accumulation) and their tile sizes.
struct BFloat16Kernels: @unchecked Sendable {
    /// GEMM rows per tile, columns per packed panel, convolution pixels per tile.
    let mr: Int, nr: Int, xb: Int
    let gemm: rn_gemm_bf16_fn
    let conv: rn_conv_bf16_fn
    /// Two convolution tiles per call, for outputs at most `xb2` pixels wide.
    let xb2: Int
    let conv2: rn_conv2_bf16_fn
    let pack: rn_pack_bf16_fn
    let convert: rn_convert_bf16_fn

    /// The set this CPU runs, if it has bf16 dot products.
    static let available: BFloat16Kernels? = rn_bf16_kernels_for().map { t in
        BFloat16Kernels(mr: Int(t.pointee.mr), nr: Int(t.pointee.nr), xb: Int(t.pointee.xb), gemm: t.pointee.gemm,
                        conv: t.pointee.conv, xb2: Int(t.pointee.xb2), conv2: t.pointee.conv2, pack: t.pointee.pack, convert: t.pointee.convert)
    }
}

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
