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

    init(table: UnsafePointer<rn_kernels>) {
        self.table = table
        // The table names its bf16 and int8 companions (when this CPU runs them) and its tiles; read once.
        bfloat16 = table.pointee.bf16?().map(BFloat16Kernels.init)
        int8 = table.pointee.int8?().map(Int8Kernels.init)
        trainingTable = rn_training_kernels_for(table.pointee.name)!
        exactTiles = (0..<Int(table.pointee.tile_count)).map { table.pointee.tiles[$0] }.filter { $0.divides_rows != 0 }
            .map { Int($0.xb) }.sorted(by: >)
    }

    /// Every convolution tile `conv` dispatches to. (Read from the table when asked: an array of these
    /// C structs stored in this value crashed debug builds when the value was copied.)
    var tiles: [rn_conv_tile] { (0..<Int(table.pointee.tile_count)).map { table.pointee.tiles[$0] } }
    /// Widths rows are split into when one divides them, widest first (`convolutionTile`).
    private let exactTiles: [Int]

    /// Every set this CPU runs, best first.
    public static var available: [KernelSet] { ["avx512", "avx2", "neon", "portable"].compactMap(KernelSet.init(named:)) }

    /// `avx512`, `avx2` (x86-64), `neon` (AArch64) or `portable`.
    public var name: String { String(cString: table.pointee.name) }
    /// GEMM rows per tile.
    var mr: Int { Int(table.pointee.mr) }
    /// GEMM columns per packed panel.
    var nr: Int { Int(table.pointee.nr) }
    /// Convolution pixels per tile.
    var xb: Int { Int(table.pointee.xb) }
    /// Pixels per convolution call along a row `width` pixels wide: a tile width of this set marked
    /// `divides_rows` that divides the row (14, 8 or 7 on AVX-512: 56 = 4 × 14, 32 = 4 × 8), else the row
    /// split into equal calls of at most `xb`, so no call computes many pixels it then drops.
    func convolutionTile(width: Int) -> Int {
        if let exact = exactTiles.first(where: { width % $0 == 0 }) { return exact }
        let calls = (width + xb - 1) / xb
        return (width + calls - 1) / calls
    }
    var gemm: rn_gemm_fn { table.pointee.gemm }
    var conv: rn_conv_fn { table.pointee.conv }
    var pack: rn_pack_fn { table.pointee.pack }
    /// The float32 convolution over pairs of groups of width 8 (every lane of a 16-lane unit used) and
    /// the copy that interleaves a row's groups for it (`DirectLayout`). Both plans use them; they sit
    /// in the training table, which every instruction set has.
    var pairs8: (conv: rn_conv_fn, interleave: rn_interleave_pairs8_fn) {
        (trainingTable.pointee.conv_pair8!, trainingTable.pointee.interleave_pairs8!)
    }

    /// The bf16 micro-kernels that go with this set, when its table names them and the CPU has bf16 dot
    /// products (AVX-512 BF16 with `avx512`; the Arm BF16 extension with `neon`).
    let bfloat16: BFloat16Kernels?
    /// The int8 micro-kernels that go with this set, when its table names them and the CPU has 8-bit dot
    /// products (AVX-512 VNNI with `avx512`; Arm I8MM or DotProd with `neon`).
    let int8: Int8Kernels?
    /// Whether `precision` runs with this set (float32 always does).
    public func supports(_ precision: Precision) -> Bool {
        switch precision {
        case .float32: true
        case .bfloat16: bfloat16 != nil
        case .int8: int8 != nil
        }
    }

    /// The training micro-kernels of the same instruction set (every set has them).
    var training: UnsafePointer<rn_training_kernels> { trainingTable }
    private let trainingTable: UnsafePointer<rn_training_kernels>
}
