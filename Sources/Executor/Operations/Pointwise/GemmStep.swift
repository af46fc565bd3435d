import NetworkIR
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
/// With bf16 operands the weights are bf16 panels [n / nr][k' / 2][nr][2] (k' = k rounded up to even);
/// with int8 operands int8 panels [n / nr][k' / 4][nr][4] times uint8 A. A is read in place when its
/// value already has the kernel's type (and the conditions above hold), otherwise packed and rounded or
/// quantised as it is copied. Bias and residual stay float32; the output is float32 unless its value
/// is narrow (read only by narrow convolutions).
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
    /// The element type of W as the kernel multiplies it: float32, bfloat16 (A rounded to bf16 too) or
    /// int8 (A quantised to uint8).
    var operands: ElementType = .float32
    /// int8 operands: the scale A is quantised with, the offset of the per-column float scales
    /// (A's scale × each output channel's weight scale) and the scale of a uint8 output.
    var quantization: (inputScale: Float, scales: Int, outputScale: Float)?

    var reads: [Int] { [input] + (residual.map { [$0] } ?? []) + (inputScale.map { [$0] } ?? []) }
    var readsNarrowValues: Bool { true }
    var runsInt8: Bool { operands == .int8 }
    var weightBytes: Int { k * n * operands.byteCount }

    func overRead(of value: Int, layouts: [ValueLayout], kernels: KernelSet) -> Int {
        guard value == input else { return 0 }
        return Self.overRead(channels: layouts[input].channels, element: layouts[input].element, kernels: kernels)
    }

    /// Bytes a GEMM tile may read past its input's last pixel: the tile reads all `mr` rows of A, one
    /// pixel apart, whatever the rows asked for, and whole vectors.
    static func overRead(channels: Int, element: ElementType, kernels: KernelSet) -> Int {
        ((max(kernels.mr, kernels.bfloat16?.mr ?? 0, kernels.int8?.mr ?? 0) - 1) * channels + 16) * element.byteCount
    }

    /// W[n][k] → panels [n / nr][k' / g][nr][g], zero-padded (k' = k rounded up to a multiple of the
    /// `group` of reduction indices a kernel multiplies at once: 1 for float32, 2 for bf16, 4 for int8);
    /// bias padded to whole panels.
    static func pack(_ w: [Float], _ b: [Float], k: Int, n: Int, nr: Int, group: Int = 1) -> (weights: [Float], bias: [Float]) {
        let panels = (n + nr - 1) / nr
        var panel = [Float](repeating: 0, count: panelFloats(k: k, n: n, nr: nr, group: group))
        w.withUnsafeBufferPointer { w in
            panel.withUnsafeMutableBufferPointer { packPanels(w.baseAddress!, k: k, n: n, nr: nr, group: group, panels: 0..<panels, into: $0.baseAddress!) }
        }
        var bias = [Float](repeating: 0, count: panels * nr)
        bias.replaceSubrange(0..<n, with: b)
        return (panel, bias)
    }

    /// Floats of W[n][k] packed in panels of `nr` columns (reduction indices in groups of `group`).
    static func panelFloats(k: Int, n: Int, nr: Int, group: Int = 1) -> Int { (n + nr - 1) / nr * ((k + group - 1) / group * group) * nr }

    /// Packs panels `panels` of W[n][k] into `dst` as `pack` lays them out, zeroes included: the packer
    /// inference runs once at compile time and training runs before each forward pass. `transposed`:
    /// `w` holds Wᵀ, [k][n] (a bf16 data gradient multiplies by the weights the other way round).
    static func packPanels(_ w: UnsafePointer<Float>, k: Int, n: Int, nr: Int, group: Int = 1, transposed: Bool = false,
                           panels: Range<Int>, into dst: UnsafeMutablePointer<Float>) {
        let depth = (k + group - 1) / group * group
        let (columnStride, depthStride) = transposed ? (1, n) : (k, 1)
        for p in panels {
            let out = dst + p * depth * nr
            out.update(repeating: 0, count: depth * nr)
            for j in 0..<min(nr, n - p * nr) {
                let column = w + (p * nr + j) * columnStride
                for r in 0..<k { out[(r / group * group) * nr + group * j + r % group] = column[r * depthStride] }
            }
        }
    }

    /// Bytes of packed A a chunk of tiles may take: the chunk stays in L2 while each weight panel,
    /// loaded once per chunk rather than once per tile, is reused from L1 by all its tiles.
    static let chunkBytes = 96 * 1024

    func run(_ context: InferenceContext, images: Range<Int>, worker: Int, workers: Int) {
        let input = context.layouts[self.input], output = context.layouts[self.output], arena = context.arena, kernels = context.kernels
        let residual = self.residual.map { context.layouts[$0] }, gate = inputScale.map { context.layouts[$0] }
        let bf16 = operands == .bfloat16 ? kernels.bfloat16! : nil, int8 = operands == .int8 ? kernels.int8! : nil
        let mr = bf16?.mr ?? int8?.mr ?? kernels.mr, nr = bf16?.nr ?? int8?.nr ?? kernels.nr
        let height = output.height, width = output.width, pixels = height * width, s = stride
        // Within a group, images occupy consecutive slots, so unpadded stride-1 rows are one run of memory.
        // A already in the kernel's element type is read in place on the same conditions as float32.
        let aElement: ElementType = bf16 != nil ? .bfloat16 : int8 != nil ? .uint8 : .float32
        let inPlace = s == 1 && input.padding == 0 && gate == nil && input.element == aElement
        let group = 4 / aElement.byteCount, depth = (k + group - 1) / group * group, elementBytes = aElement.byteCount
        // The output is float32, or narrow when only narrow convolutions read it.
        let outputBase = UnsafeMutableRawPointer(arena), outBytes = output.element.byteCount, inBytes = input.element.byteCount
        let resBytes = residual?.element.byteCount ?? 4
        let formats = (outBytes == 2 ? Int32(RN_BF16_OUTPUT) : 0) | (resBytes == 2 ? Int32(RN_BF16_RESIDUAL) : 0)
        let firstPixel = images.lowerBound * pixels, endPixel = images.upperBound * pixels
        let tiles = (images.count * pixels + mr - 1) / mr
        // float32 panels are twice as large and measured slower in chunks: one tile at a time, all panels.
        let chunk = operands == .float32 ? 1 : max(1, min(16, Self.chunkBytes / (mr * depth * elementBytes)))
        output.zeroPadding(rows: imageRows(images, height, worker, workers), in: arena)

        withUnsafeTemporaryAllocation(of: Int.self, capacity: chunk) { rowsOfTile in
        withUnsafeTemporaryAllocation(of: UInt8.self, capacity: inPlace ? 1 : chunk * mr * depth * elementBytes) { packed in
        withUnsafeTemporaryAllocation(of: UnsafeMutableRawPointer?.self, capacity: chunk * mr) { cRows in
        withUnsafeTemporaryAllocation(of: UnsafePointer<Float>?.self, capacity: 3 * chunk * mr) { readRows in
            let rRows = readRows.baseAddress!, aRows = rRows + chunk * mr, gRows = rRows + 2 * chunk * mr
            let packedBase = UnsafeMutableRawPointer(packed.baseAddress!)
            // Few tiles (late stages, heads and squeeze-excite at small batches): every worker takes all the
            // tiles and a share of the panels instead, so each reads only its share of the weights.
            let panels = (self.n + nr - 1) / nr, splitPanels = tiles < 4 * workers && panels >= workers
            let mine = splitPanels ? 0..<tiles : share(tiles, worker, workers)
            let myPanels = splitPanels ? share(panels, worker, workers) : 0..<panels
            for chunkStart in Swift.stride(from: mine.lowerBound, to: mine.upperBound, by: chunk) {
                let chunkTiles = min(chunk, mine.upperBound - chunkStart)
                for t in 0..<chunkTiles {
                    let first = firstPixel + (chunkStart + t) * mr, m = min(mr, endPixel - first), base = t * mr
                    rowsOfTile[t] = m
                    // Walk the tile's pixels, stepping pointers rather than recomputing indices.
                    var n = first / pixels, y = (first % pixels) / width, x = first % width
                    var c = outputBase + output.index(n, y, x) * outBytes, r = residual.map { outputBase + $0.index(n, y, x) * resBytes }
                    var src = outputBase + input.index(n, y * s, x * s) * inBytes, g = gate.map { arena + $0.index(n, 0, 0) }
                    for i in base..<(base + m) {
                        cRows[i] = c
                        rRows[i] = r.map { UnsafePointer($0.assumingMemoryBound(to: Float.self)) }
                        aRows[i] = UnsafePointer(src.assumingMemoryBound(to: Float.self))
                        gRows[i] = g.map { UnsafePointer($0) }
                        x += 1
                        if x < width {
                            c += output.channels * outBytes
                            r = r.map { $0 + residual!.channels * resBytes }
                            src += s * input.channels * inBytes
                        } else {
                            x = 0
                            y += 1
                            if y == height { y = 0; n += 1; g = gate.map { arena + $0.index(n, 0, 0) } }
                            c = outputBase + output.index(n, y, 0) * outBytes
                            r = residual.map { outputBase + $0.index(n, y, 0) * resBytes }
                            src = outputBase + input.index(n, y * s, 0) * inBytes
                        }
                    }
                    guard !inPlace else { continue }
                    // Rows past m repeat the last one: the kernels read all mr rows.
                    for i in (base + m)..<(base + mr) { aRows[i] = aRows[base + m - 1]; gRows[i] = gRows[base + m - 1] }
                    let dst = packedBase + base * depth * elementBytes, gates = gate == nil ? nil : gRows + base
                    let rows = UnsafeRawPointer(aRows + base).assumingMemoryBound(to: UnsafeRawPointer?.self)
                    if let bf16 {
                        bf16.pack(mr, k, rows, gates, dst.assumingMemoryBound(to: UInt16.self), inBytes == 2 ? 1 : 0)
                    } else if let int8 {
                        int8.pack(mr, k, rows, gates, dst.assumingMemoryBound(to: UInt8.self), inBytes == 1 ? 1 : 0, quantization!.inputScale)
                    } else {
                        kernels.pack(mr, k, aRows + base, gates, dst.assumingMemoryBound(to: Float.self))
                    }
                }
                // Panel by panel, every tile of the chunk: the panel stays in L1 across the tiles.
                for panel in myPanels {
                    let col = panel * nr, width = min(nr, self.n - col), bias = context.weights + self.bias + col
                    let panel = UnsafeRawPointer(context.weights + weights) + col * depth * operands.byteCount
                    for t in 0..<chunkTiles {
                        let base = t * mr, c = cRows.baseAddress! + base, r = residual == nil ? nil : rRows + base
                        let a = inPlace ? UnsafeRawPointer(aRows[base]!) : UnsafeRawPointer(packedBase + base * depth * elementBytes)
                        let lda = inPlace ? input.channels : depth
                        if let bf16 {
                            bf16.gemm(rowsOfTile[t], width, depth, a.assumingMemoryBound(to: UInt16.self), lda,
                                      panel.assumingMemoryBound(to: UInt16.self), col, c,
                                      r.map { UnsafeRawPointer($0).assumingMemoryBound(to: UnsafeRawPointer?.self) }, bias,
                                      activation.rawValue, formats)
                        } else if let int8, let q = quantization {
                            int8.gemm(rowsOfTile[t], width, depth, a.assumingMemoryBound(to: UInt8.self), lda,
                                      panel.assumingMemoryBound(to: Int8.self), col, c, r, context.weights + q.scales + col, bias,
                                      activation.rawValue, outBytes == 1 ? 1 : 0, q.outputScale)
                        } else {
                            kernels.gemm(rowsOfTile[t], width, k, a.assumingMemoryBound(to: Float.self), lda, panel.assumingMemoryBound(to: Float.self),
                                         col, UnsafeRawPointer(c).assumingMemoryBound(to: UnsafeMutablePointer<Float>?.self), r, bias,
                                         activation.rawValue)
                        }
                    }
                }
            }
        }
        }
        }
        }
    }
}

extension PlanCompiler {
    /// Stores W[n][k] and b (with the batch norm that follows) for the plan's arithmetic and appends the
    /// GEMM step computing node `id` (int8 when `quantizedInput` gives the scale of its uint8 input).
    mutating func appendGemm(input: Int, output: Int, residual: Int?, inputScale: Int?, stride: Int, k: Int, n: Int,
                             weights w: [Float], bias b: [Float], batchNorm: (scale: [Float], shift: [Float])? = nil,
                             activation: Activation, quantizedInput: Float? = nil, for id: NodeID, flops: Int) {
        // Each kernel set packs panels of its own width: float32, bf16 (group 2) or int8 (group 4).
        let kernels = self.kernels
        func nr(_ group: Int) -> Int { group == 4 ? kernels.int8!.nr : group == 2 ? kernels.bfloat16!.nr : kernels.nr }
        let stored = storeWeights(w, b, batchNorm: batchNorm, channels: n, name: graph.nodes[id].name, quantizedInput: quantizedInput,
                                  pack: { GemmStep.pack($0, $1, k: k, n: n, nr: nr($2), group: $2) },
                                  layout: { GemmStep.pack([], $0, k: 0, n: n, nr: nr(4)).bias })
        var step = GemmStep(input: input, output: output, residual: residual, inputScale: inputScale, stride: stride, k: k, n: n,
                            weights: stored.weights, bias: stored.bias, activation: activation, operands: stored.operands)
        if let scales = stored.scales { step.quantization = (quantizedInput ?? 1, scales, valueScales[output] ?? 1) }
        append(step, for: id, flops: flops)
    }
}
