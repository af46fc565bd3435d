/// Per-column moments of row-major [rows][columns] data: Σ (a − shiftA) and Σ (a − shiftA)(b − shiftB).
///
/// Rows are split into a fixed number of chunks (a function of `rows` only); each chunk is summed by
/// one worker, 16 rows at a time in Float and then in Double, and the chunks are added in order, so
/// the result is the same for any thread count.
enum ColumnSums {
    /// Per-column scale and shift of a ReLU gate: column j is open where b[j] · scale[j] + shift[j] > 0.
    struct Gate {
        let scale: UnsafePointer<Float>, shift: UnsafePointer<Float>
    }

    static func chunks(rows: Int) -> Int { min(64, max(1, rows / 256)) }

    /// Floats of the per-chunk partial sums `moments` keeps in the caller's scratch "sums".
    static func scratchFloats(rows: Int, columns: Int) -> Int { 2 * 2 * chunks(rows: rows) * columns }
    /// Floats of each worker's running block in the caller's per-worker scratch "block".
    static func blockFloats(columns: Int) -> Int { 2 * columns }

    /// The scratch `moments` needs in `pass` over `rows` rows of `columns` columns.
    static func scratch(rows: Int, columns: Int, in pass: ScratchRequest.Pass) -> [ScratchRequest] {
        [ScratchRequest("sums", floats: scratchFloats(rows: rows, columns: columns), in: pass),
         ScratchRequest("block", floats: blockFloats(columns: columns), in: pass, perWorker: true)]
    }

    /// Σ_r (a[r][c] − shiftA[c]) and Σ_r (a[r][c] − shiftA[c]) · (b[r][c] − shiftB[c]) for every column
    /// (b defaults to a; shifts to 0), in the running operation's scratch "sums" and per-worker "block"
    /// (`scratch(rows:columns:in:)`). With `gate`, a counts only where b · gate.scale + gate.shift > 0:
    /// a fused ReLU's gradient, gated by its output recomputed from the batch norm's input (which is
    /// read anyway) instead of read from memory.
    static func moments(_ c: StepContext, rows: Int, columns: Int, a: UnsafePointer<Float>, shiftA: [Float]? = nil,
                        b: UnsafePointer<Float>? = nil, shiftB: [Float]? = nil, gate: Gate? = nil) -> (sums: [Double], products: [Double]) {
        let chunks = chunks(rows: rows)
        let partial = UnsafeMutableRawPointer(c.scratch("sums")).bindMemory(to: Double.self, capacity: 2 * chunks * columns)
        let zeros = [Float](repeating: 0, count: columns)
        let sa = shiftA ?? zeros, sb = shiftB ?? shiftA ?? zeros
        let b = b ?? a
        sa.withUnsafeBufferPointer { sa in
        sb.withUnsafeBufferPointer { sb in
            let sa = sa.baseAddress!, sb = sb.baseAddress!
            c.parallel(chunks) { range, worker in
                let block = c.scratch("block", worker: worker)
                let blockSum = block, blockProduct = block + columns
                for chunk in range {
                    let sums = partial + 2 * chunk * columns, products = sums + columns
                    sums.update(repeating: 0, count: 2 * columns)
                    var r = rows * chunk / chunks
                    let end = rows * (chunk + 1) / chunks
                    while r < end {
                        let stop = min(end, r + 16)
                        blockSum.update(repeating: 0, count: 2 * columns)
                        while r < stop {
                            let ra = a + r * columns, rb = b + r * columns
                            if let gate {
                                // Explicit SIMD: a select across buffers that may alias is not vectorised otherwise.
                                let (gs, gt) = (gate.scale, gate.shift)
                                Vector.chunks(columns, { j in
                                    let closed = Vector.load(rb + j) * Vector.load(gs + j) + Vector.load(gt + j) .<= 0
                                    let va = (Vector.load(ra + j) - Vector.load(sa + j)).replacing(with: 0, where: closed)
                                    Vector.store(Vector.load(blockSum + j) + va, blockSum + j)
                                    Vector.store(Vector.load(blockProduct + j) + va * (Vector.load(rb + j) - Vector.load(sb + j)), blockProduct + j)
                                }, { j in
                                    let closed = HalfVector.load(rb + j) * HalfVector.load(gs + j) + HalfVector.load(gt + j) .<= 0
                                    let va = (HalfVector.load(ra + j) - HalfVector.load(sa + j)).replacing(with: 0, where: closed)
                                    HalfVector.store(HalfVector.load(blockSum + j) + va, blockSum + j)
                                    HalfVector.store(HalfVector.load(blockProduct + j) + va * (HalfVector.load(rb + j) - HalfVector.load(sb + j)), blockProduct + j)
                                }, { j in
                                    let va = rb[j] * gs[j] + gt[j] > 0 ? ra[j] - sa[j] : 0
                                    blockSum[j] += va
                                    blockProduct[j] += va * (rb[j] - sb[j])
                                })
                            } else {
                                for j in 0..<columns {
                                    let va = ra[j] - sa[j]
                                    blockSum[j] += va
                                    blockProduct[j] += va * (rb[j] - sb[j])
                                }
                            }
                            r += 1
                        }
                        for j in 0..<columns {
                            sums[j] += Double(blockSum[j])
                            products[j] += Double(blockProduct[j])
                        }
                    }
                }
            }
        }
        }
        var sums = [Double](repeating: 0, count: columns), products = sums
        for chunk in 0..<chunks {
            for j in 0..<columns {
                sums[j] += partial[2 * chunk * columns + j]
                products[j] += partial[(2 * chunk + 1) * columns + j]
            }
        }
        return (sums, products)
    }

    /// Per-channel sums over one image's `pixels` pixels: `pixel(p)` adds pixel p's values into the
    /// Float `block` (channels wide), which goes into the Double `sums` every 16 pixels; one fixed
    /// order per image, whatever the workers.
    @inline(__always) static func image(channels: Int, pixels: Int, block: UnsafeMutablePointer<Float>, into sums: inout [Double],
                                        _ pixel: (Int) -> Void) {
        for ch in 0..<channels { sums[ch] = 0 }
        var p = 0
        while p < pixels {
            let stop = min(pixels, p + 16)
            block.update(repeating: 0, count: channels)
            while p < stop { pixel(p); p += 1 }
            for ch in 0..<channels { sums[ch] += Double(block[ch]) }
        }
    }
}
