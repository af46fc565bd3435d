internal import Kernels

/// 1x1 convolution or linear layer as a GEMM over output pixels, with a fused epilogue
/// act(x·W + bias + residual): tiles of `mr` pixels (numbered across rows and images) by all output
/// channels, with C and the residual addressed per row, so padded outputs need no copies.
///
/// A is read in place when a tile's pixels are consecutive in memory (stride 1, unpadded input).
/// Otherwise — strided projections, padded inputs, or a squeeze-excite gate to apply — the tile's rows
/// are packed into a per-worker buffer (gated as they are copied) that the kernel then reads: the
/// copy costs 1/N of the tile's work and keeps every tile full.
///
/// With bf16 operands every tile is packed, rounded to bf16 as it is copied, and the weights are
/// bf16 panels [n / nr][k' / 2][nr][2] (k' = k rounded up to even); accumulation, bias, residual and
/// output stay float32.
struct GemmStep: InferenceStep {
    var input: Int
    var output: Int
    var residual: Int?
    /// A per-image, per-input-channel gate (C×1×1 value) multiplied into A as tiles are packed:
    /// the squeeze-excite scale, folded into the convolution that follows it.
    var inputScale: Int?
    var stride: Int
    /// Reduction depth (input channels).
    var k: Int
    /// Output channels.
    var n: Int
    /// Offset of the packed panels [n / nr][k][nr] and of the padded bias.
    var weights: Int
    var bias: Int
    var activation: Activation
    /// The element type of A and W as the kernel multiplies them.
    var operands: ElementType = .float32

    var reads: [Int] { [input] + (residual.map { [$0] } ?? []) + (inputScale.map { [$0] } ?? []) }
    var weightBytes: Int { k * n * operands.byteCount }

    func overRead(of value: Int, layouts: [ValueLayout], kernels: KernelSet) -> Int {
        guard value == input else { return 0 }
        return ((kernels.mr - 1) * layouts[input].channels + 16) * layouts[input].element.byteCount
    }

    /// W[n][k] → panels [n / nr][k][nr], zero-padded; bias padded to whole panels. With `pairs`, the
    /// panels are [n / nr][k' / 2][nr][2] for the bf16 kernels (k' = k rounded up to even).
    static func pack(_ w: [Float], _ b: [Float], k: Int, n: Int, nr: Int, pairs: Bool = false) -> (weights: [Float], bias: [Float]) {
        let panels = (n + nr - 1) / nr, depth = pairs ? (k + 1) / 2 * 2 : k
        var panel = [Float](repeating: 0, count: panels * depth * nr)
        for col in 0..<n {
            let p = col / nr, j = col % nr
            for r in 0..<k {
                let index = pairs ? ((p * depth + r / 2 * 2) * nr + 2 * j + r % 2) : (p * k + r) * nr + j
                panel[index] = w[col * k + r]
            }
        }
        var bias = [Float](repeating: 0, count: panels * nr)
        bias.replaceSubrange(0..<n, with: b)
        return (panel, bias)
    }

    func run(_ context: InferenceContext, images: Range<Int>, worker: Int, workers: Int) {
        let input = context.layouts[self.input], output = context.layouts[self.output], arena = context.arena, kernels = context.kernels
        let residual = self.residual.map { context.layouts[$0] }, gate = inputScale.map { context.layouts[$0] }
        let bf16 = operands == .bfloat16 ? kernels.bfloat16! : nil
        let mr = bf16?.mr ?? kernels.mr
        let height = output.height, width = output.width, pixels = height * width, s = stride
        // Within a group, images occupy consecutive slots, so unpadded stride-1 rows are one run of memory.
        let inPlace = s == 1 && input.padding == 0 && gate == nil && bf16 == nil
        let depth = bf16 == nil ? k : (k + 1) / 2 * 2
        let firstPixel = images.lowerBound * pixels, endPixel = images.upperBound * pixels
        let tiles = (images.count * pixels + mr - 1) / mr
        output.zeroPadding(rows: imageRows(images, height, worker, workers), in: arena)

        withUnsafeTemporaryAllocation(of: Float.self, capacity: inPlace ? 1 : mr * k) { packed in
        let packedPairs = UnsafeMutableRawPointer(packed.baseAddress!).assumingMemoryBound(to: UInt16.self)
        withUnsafeTemporaryAllocation(of: UnsafeMutablePointer<Float>?.self, capacity: mr) { cRowsBuffer in
        withUnsafeTemporaryAllocation(of: UnsafePointer<Float>?.self, capacity: 3 * mr) { readRows in
            let cRows = cRowsBuffer.baseAddress!, rRows = readRows.baseAddress!
            let aRows = rRows + mr, gRows = rRows + 2 * mr
            for tile in share(tiles, worker, workers) {
                let first = firstPixel + tile * mr, m = min(mr, endPixel - first)
                // Walk the tile's pixels, stepping pointers rather than recomputing indices.
                var n = first / pixels, y = (first % pixels) / width, x = first % width
                var c = arena + output.index(n, y, x), r = residual.map { arena + $0.index(n, y, x) }
                var src = arena + input.index(n, y * s, x * s), g = gate.map { arena + $0.index(n, 0, 0) }
                for i in 0..<m {
                    cRows[i] = c
                    rRows[i] = r.map { UnsafePointer($0) }
                    aRows[i] = UnsafePointer(src)
                    gRows[i] = g.map { UnsafePointer($0) }
                    x += 1
                    if x < width {
                        c += output.channels
                        r = r.map { $0 + residual!.channels }
                        src += s * input.channels
                    } else {
                        x = 0
                        y += 1
                        if y == height { y = 0; n += 1; g = gate.map { arena + $0.index(n, 0, 0) } }
                        c = arena + output.index(n, y, 0)
                        r = residual.map { arena + $0.index(n, y, 0) }
                        src = arena + input.index(n, y * s, 0)
                    }
                }
                // Rows past m repeat the last one: the kernels read all mr rows.
                if !inPlace { for i in m..<mr { aRows[i] = aRows[m - 1]; gRows[i] = gRows[m - 1] } }
                if let bf16 {
                    bf16.pack(mr, k, aRows, gate == nil ? nil : gRows, packedPairs)
                    let w = UnsafeRawPointer(context.weights + weights).assumingMemoryBound(to: UInt16.self)
                    bf16.gemm(m, self.n, depth, packedPairs, depth, w, 0, cRows, residual == nil ? nil : rRows,
                              context.weights + bias, activation.rawValue)
                    continue
                }
                let a: UnsafePointer<Float>
                if inPlace {
                    a = aRows[0]!
                } else {
                    kernels.pack(mr, k, aRows, gate == nil ? nil : gRows, packed.baseAddress!)
                    a = UnsafePointer(packed.baseAddress!)
                }
                kernels.gemm(m, self.n, k, a, k, context.weights + weights, 0, cRows,
                             residual == nil ? nil : rRows, context.weights + bias, activation.rawValue)
            }
        }
        }
        }
    }
}
