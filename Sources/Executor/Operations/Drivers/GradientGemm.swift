internal import Kernels

/// Matrix products of the backward passes on the `rn_training_kernels` tiles (mr rows × 32 columns),
/// with B read in place, rows `ldb` apart (activations, weights in [out][in] order); the forward's
/// products run on the inference GEMM (`GemmStep`). Work is split into tiles, and reductions over
/// long dimensions into a fixed number of chunks summed in order, so results never depend on the
/// thread count.
enum GradientGemm {
    static let nr = Int(RN_TRAIN_NR)

    /// C[i][j] (+)= Σ_p A[i][p] · B[p][j] for i < m, j < n; A rows `lda` apart, B rows `ldb` apart.
    static func nn(_ c: StepContext, m: Int, n: Int, k: Int, a: UnsafePointer<Float>, lda: Int,
                   b: UnsafePointer<Float>, ldb: Int, out: UnsafeMutablePointer<Float>, ldc: Int, accumulate: Bool) {
        let mr = Int(c.training.pointee.mr), rowTiles = (m + mr - 1) / mr, panels = (n + nr - 1) / nr
        let gemm = c.training.pointee.gemm_nn!
        c.parallel(rowTiles * panels) { r in
            for item in r {
                let tile = item / panels, panel = item % panels
                let i = tile * mr, j = panel * nr
                gemm(min(mr, m - i), min(nr, n - j), k, a + i * lda, lda, b + j, ldb, out + i * ldc + j, ldc, accumulate ? 1 : 0)
            }
        }
    }

    /// Chunks a reduction of depth `k` is split into (a function of `k` only).
    static func chunks(k: Int) -> Int { min(32, max(1, k / 512)) }

    /// Floats of partial sums `tn` needs in scratch.
    static func partialFloats(k: Int, m: Int, n: Int) -> Int { chunks(k: k) > 1 ? chunks(k: k) * m * n : 0 }

    /// C[i][j] = Σ_p A[p][i] · B[p][j] for i < m, j < n, with A stored transposed (rows `lda` apart)
    /// and B rows `ldb` apart. Long reductions are split into `chunks(k:)` partial products in
    /// `partial` and summed in chunk order.
    static func tn(_ c: StepContext, m: Int, n: Int, k: Int, a: UnsafePointer<Float>, lda: Int, b: UnsafePointer<Float>,
                   ldb: Int, out: UnsafeMutablePointer<Float>, ldc: Int, partial: UnsafeMutablePointer<Float>) {
        let gemm = c.training.pointee.gemm_tn!
        reduceInTiles(c, m: m, n: n, mr: Int(c.training.pointee.mr), depth: k, chunks: chunks(k: k), out: out, ldc: ldc,
                      partial: partial) { rows, columns, i, j, p0, p1, target, ldt in
            gemm(rows, columns, p1 - p0, a + p0 * lda + i, lda, b + p0 * ldb + j, ldb, target, ldt, 0)
        }
    }

    /// The tiling and reduction `tn` and `tnBFloat16` share: every (chunk of the depth, tile of `mr` rows,
    /// panel of `nr` columns) is one work item, `tile(rows, columns, i, j, p0, p1, target, ldTarget)`
    /// writing rows i..<i+rows, columns j..<j+columns of depth steps p0..<p1 to `target` — C itself when
    /// there is one chunk, else the chunk's partial product in `partial` — and the partials are summed
    /// in chunk order, so results never depend on the thread count.
    private static func reduceInTiles(_ c: StepContext, m: Int, n: Int, mr: Int, depth: Int, chunks: Int, out: UnsafeMutablePointer<Float>,
                                      ldc: Int, partial: UnsafeMutablePointer<Float>,
                                      tile: (Int, Int, Int, Int, Int, Int, UnsafeMutablePointer<Float>, Int) -> Void) {
        let rowTiles = (m + mr - 1) / mr, panels = (n + nr - 1) / nr
        c.parallel(chunks * rowTiles * panels) { r in
            for item in r {
                let chunk = item / (rowTiles * panels), row = (item / panels) % rowTiles, panel = item % panels
                let p0 = depth * chunk / chunks, p1 = depth * (chunk + 1) / chunks
                let i = row * mr, j = panel * nr
                let target = chunks == 1 ? out + i * ldc + j : partial + chunk * m * n + i * n + j
                tile(min(mr, m - i), min(nr, n - j), i, j, p0, p1, target, chunks == 1 ? ldc : n)
            }
        }
        guard chunks > 1 else { return }
        sumPartials(c, rows: m, columns: n, chunks: chunks, partial: partial, into: out, ldc: ldc)
    }

    /// Floats of the pair-packed operands `tnBFloat16` needs in scratch (with the tile's over-read).
    static func pairFloats(k: Int, m: Int, n: Int) -> Int { (k + 1) / 2 * (m + n) + 2 * nr }

    /// A `tnBFloat16` operand: a matrix whose rows (reduction steps) are `ld` elements apart, float32 or
    /// stored as bf16 already.
    struct Operand {
        let base: UnsafeRawPointer
        let element: ElementType
        let ld: Int
    }

    /// `tn` with bf16 operands and float32 sums (a bf16 weight gradient): A and B are rounded to bf16
    /// (where they are float32) and packed in pairs of reduction steps into `pairs` (`pairFloats`), then
    /// reduced in the same fixed chunks (of pairs) and summed in chunk order, so the result does not
    /// depend on the thread count.
    static func tnBFloat16(_ c: StepContext, m: Int, n: Int, k: Int, a: Operand, b: Operand, out: UnsafeMutablePointer<Float>, ldc: Int,
                           partial: UnsafeMutablePointer<Float>, pairs: UnsafeMutablePointer<Float>) {
        let bf16 = c.bfloat16!.training, pairRows = (k + 1) / 2
        let packedA = UnsafeMutableRawPointer(pairs).assumingMemoryBound(to: UInt16.self), packedB = packedA + pairRows * 2 * m
        // Rows first..<first + rows of x (cols wide) in pairs into `to`.
        func pack(_ x: Operand, cols: Int, first: Int, rows: Int, into to: UnsafeMutablePointer<UInt16>) {
            if x.element == .bfloat16 {
                bf16.interleavePairs(rows, cols, x.base.assumingMemoryBound(to: UInt16.self) + first * x.ld, x.ld, to, 2 * cols)
            } else {
                bf16.packPairs(rows, cols, x.base.assumingMemoryBound(to: Float.self) + first * x.ld, x.ld, to, 2 * cols)
            }
        }
        c.parallel(pairRows) { r in
            guard !r.isEmpty else { return }
            let first = 2 * r.lowerBound, rows = min(2 * r.count, k - first)
            pack(a, cols: m, first: first, rows: rows, into: packedA + r.lowerBound * 2 * m)
            pack(b, cols: n, first: first, rows: rows, into: packedB + r.lowerBound * 2 * n)
        }
        reduceInTiles(c, m: m, n: n, mr: bf16.mr, depth: pairRows, chunks: chunks(k: k), out: out, ldc: ldc,
                      partial: partial) { rows, columns, i, j, p0, p1, target, ldt in
            bf16.gemmTN(rows, columns, p1 - p0, packedA + p0 * 2 * m + 2 * i, 2 * m, packedB + p0 * 2 * n + 2 * j, 2 * n, target, ldt, 0)
        }
    }

    /// out[i][j] = Σ over chunks, in order, of partial[chunk][i][j] (`rows` × `columns` per chunk).
    private static func sumPartials(_ c: StepContext, rows: Int, columns: Int, chunks: Int, partial: UnsafePointer<Float>,
                                    into out: UnsafeMutablePointer<Float>, ldc: Int) {
        c.parallel(rows) { r in
            for i in r {
                for j in 0..<columns {
                    var sum = partial[i * columns + j]
                    for chunk in 1..<chunks { sum += partial[(chunk * rows + i) * columns + j] }
                    out[i * ldc + j] = sum
                }
            }
        }
    }

    /// Both gradients of Y = A · Wᵀ in one pass over the `chunks(k: m)` chunks of rows the weight
    /// gradient's reduction is split into: per chunk, dA = dY · W for its rows (W [n][k] read in
    /// place), then its partial dYᵀ · A while those rows of dY are still in cache; the partials are
    /// summed in chunk order into dW. The same tiles and chunks as `nn` and `tn`, so the same sums,
    /// with dY read from memory once instead of twice.
    static func dataAndWeightGradients(_ c: StepContext, m: Int, n: Int, k: Int, dy: UnsafePointer<Float>, a: UnsafePointer<Float>,
                                       w: UnsafePointer<Float>, dx: UnsafeMutablePointer<Float>, accumulate: Bool,
                                       dw: UnsafeMutablePointer<Float>, partial: UnsafeMutablePointer<Float>) {
        let mr = Int(c.training.pointee.mr), chunks = chunks(k: m), panels = (k + nr - 1) / nr
        let nn = c.training.pointee.gemm_nn!, tn = c.training.pointee.gemm_tn!
        c.parallel(chunks) { r in
            for chunk in r {
                let p0 = m * chunk / chunks, p1 = m * (chunk + 1) / chunks
                for i in stride(from: p0, to: p1, by: mr) {
                    for panel in 0..<panels {
                        let j = panel * nr
                        nn(min(mr, p1 - i), min(nr, k - j), n, dy + i * n, n, w + j, k, dx + i * k + j, k, accumulate ? 1 : 0)
                    }
                }
                for i in stride(from: 0, to: n, by: mr) {
                    for panel in 0..<panels {
                        let j = panel * nr
                        tn(min(mr, n - i), min(nr, k - j), p1 - p0, dy + p0 * n + i, n, a + p0 * k + j, k,
                           partial + chunk * n * k + i * k + j, k, 0)
                    }
                }
            }
        }
        sumPartials(c, rows: n, columns: k, chunks: chunks, partial: partial, into: dw, ldc: k)
    }
}
