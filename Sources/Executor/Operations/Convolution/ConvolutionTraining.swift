import NetworkIR

/// A k×k (grouped, strided, padded) convolution on the direct-convolution micro-kernel:
/// forward over the input rows each output row needs, zero-ringed in a small per-worker buffer; the
/// data gradient as one stride-1 convolution of the
/// output gradient per stride phase (`dataGradient`); the weight gradient per tap, group and
/// 16-channel block (`wgrad` tiles, or the group-width-8 and stem variants), summed image by image in
/// Double over fixed chunks of images, so no two workers write the same sum.
struct ConvolutionOperation: TrainingOperation {
    let node: NodeIndex
    let input: NodeIndex
    let conv: Convolution
    let inShape: FeatureShape
    let outShape: FeatureShape
    let weight: Int
    let bias: Int?
    var savedForBackward: [NodeIndex] { [input] }

    var paddedHeight: Int { inShape.height + 2 * conv.padding }
    var paddedWidth: Int { inShape.width + 2 * conv.padding }
    var outBlocks: Int { (conv.outChannelsPerGroup + 15) / 16 }
    var inBlocks: Int { (conv.inChannelsPerGroup + 15) / 16 }

    func scratch(batch: Int) -> ScratchNeeds {
        let k2 = conv.kernel * conv.kernel
        return ScratchNeeds(c: batch * inShape.elementCount,
                            d: max(ColumnSums.scratchFloats(rows: batch * outShape.height * outShape.width, columns: outShape.channels),
                                   2 * min(Self.weightGradientChunks, batch) * outShape.channels * conv.inChannelsPerGroup * k2),
                            w: max(conv.groups * outBlocks * (k2 * conv.inChannelsPerGroup * 16 + 16),
                                   conv.groups * inBlocks * k2 * conv.outChannelsPerGroup * 16))
    }

    /// A 3x3 convolution of at most 3 input channels takes its weight gradient with all taps at once.
    var usesStemGradient: Bool { conv.kernel == 3 && conv.groups == 1 && conv.inChannels <= 3 }

    /// One row of `width` pixels with `ring` zero pixels on each side (all zeros when not `inside`).
    @inline(__always) static func ringedRow(_ source: UnsafePointer<Float>, inside: Bool, width w: Int, channels ch: Int, ring p: Int,
                                            into out: UnsafeMutablePointer<Float>) {
        guard inside else { return out.update(repeating: 0, count: (w + 2 * p) * ch) }
        out.update(repeating: 0, count: p * ch)
        (out + p * ch).update(from: source, count: w * ch)
        (out + (p + w) * ch).update(repeating: 0, count: p * ch)
    }

    /// Runs the direct-convolution kernel: `rows` output rows of `width` pixels, per group and block of
    /// 16 output channels, reading `src(n, y, x, g, rows)` with taps `inRow`/`inColumn` apart and pixels
    /// `inPixel` apart, writing `dst(n, y, x, g, block)`. With `rowBuffer`, each output row first has its
    /// input rows copied (with their zero ring) into a small per-worker buffer that `src` then reads, so
    /// the padding never makes a whole padded copy of the input go through memory.
    private func direct(_ c: StepContext, images: Int, height: Int, width: Int, groups: Int, blocks: Int,
                        kernelHeight: Int, kernelWidth: Int,
                        kernelIn: Int, kernelOut: Int, inRow: Int, inColumn: Int, inPixel: Int, outPixel: Int,
                        weights: UnsafePointer<Float>, blockWeights: Int, biases: UnsafePointer<Float>?,
                        rowBuffer: (floats: Int, fill: (Int, Int, UnsafeMutablePointer<Float>) -> Void)? = nil,
                        src: (Int, Int, Int, Int, UnsafePointer<Float>) -> UnsafePointer<Float>,
                        dst: (Int, Int, Int, Int, Int) -> UnsafeMutablePointer<Float>) {
        let xb = c.kernels.convolutionTile(width: width), kernel = c.kernels.conv
        let rows = images * height
        let chunks = rows >= 4 * c.pool.threads ? 1 : min(groups, max(1, (4 * c.pool.threads + rows - 1) / rows))
        c.parallel(rows * chunks) { r in
            let buffer = UnsafeMutablePointer<Float>.allocate(capacity: (rowBuffer?.floats ?? 0) + 32)
            defer { buffer.deallocate() }
            for item in r {
                let row = item / chunks, chunk = item % chunks
                let n = row / height, y = row % height
                rowBuffer?.fill(n, y, buffer)
                for g in share(groups, chunk, chunks) {
                    for b in 0..<blocks {
                        let block = g * blocks + b, co = min(16, kernelOut - b * 16)
                        let w = weights + block * blockWeights, bias = biases.map { $0 + block * 16 }
                        var x = 0
                        while x < width {
                            let count = min(xb, width - x)
                            kernel(count, co, kernelHeight, kernelWidth, kernelIn, src(n, y, x, g, buffer), inRow, inColumn, inPixel, w, bias,
                                   dst(n, y, x, g, b), outPixel, 0)
                            x += count
                        }
                    }
                }
            }
        }
    }

    func forward(_ c: StepContext) {
        let x = c.values[input], y = c.values[node]
        let (cig, cog, k, s) = (conv.inChannelsPerGroup, conv.outChannelsPerGroup, conv.kernel, conv.stride)
        let blocks = outBlocks, blockWeights = k * k * cig * 16
        // Weights [group][block][ky][kx][ci][16] and biases [group][block][16] in scratch W.
        let w = c.parameters + weight, packed = c.scratchW, biases = packed + conv.groups * blocks * blockWeights
        c.parallel(conv.groups * blocks) { r in
            for gb in r {
                let g = gb / blocks, b = gb % blocks
                let out = packed + gb * blockWeights
                out.update(repeating: 0, count: blockWeights)
                for lane in 0..<min(16, cog - b * 16) {
                    let co = g * cog + b * 16 + lane
                    for ci in 0..<cig { for ky in 0..<k { for kx in 0..<k {
                        out[((ky * k + kx) * cig + ci) * 16 + lane] = w[((co * cig + ci) * k + ky) * k + kx]
                    } } }
                }
                for lane in 0..<16 {
                    let co = b * 16 + lane
                    biases[gb * 16 + lane] = co < cog ? (bias.map { c.parameters[$0 + g * cog + co] } ?? 0) : 0
                }
            }
        }
        let (ci, co, wp, p) = (inShape.channels, outShape.channels, paddedWidth, conv.padding)
        let (h, iw, ho, wo) = (inShape.height, inShape.width, outShape.height, outShape.width)
        // The k input rows of output row (n, oy), zero-ringed, in a per-worker buffer.
        let fill: (Int, Int, UnsafeMutablePointer<Float>) -> Void = { n, oy, buffer in
            for ky in 0..<k {
                let iy = oy * s - p + ky
                Self.ringedRow(x + (n * h + max(0, min(iy, h - 1))) * iw * ci, inside: iy >= 0 && iy < h, width: iw, channels: ci,
                               ring: p, into: buffer + ky * wp * ci)
            }
        }
        direct(c, images: c.batch, height: ho, width: wo, groups: conv.groups, blocks: blocks, kernelHeight: k, kernelWidth: k,
               kernelIn: cig, kernelOut: cog,
               inRow: wp * ci, inColumn: ci, inPixel: s * ci, outPixel: co, weights: packed, blockWeights: blockWeights,
               biases: UnsafePointer(biases), rowBuffer: (k * wp * ci, fill),
               src: { _, _, xx, g, buffer in buffer + xx * s * ci + g * cig },
               dst: { n, yy, xx, g, b in y + ((n * ho + yy) * wo + xx) * co + g * cog + b * 16 })
    }

    func backward(_ c: StepContext, accumulate: [Bool]) {
        guard let dy = c.grads[node] else { return }
        let co = outShape.channels, (ho, wo) = (outShape.height, outShape.width)
        if let bias {
            let sums = ColumnSums.moments(c, rows: c.batch * ho * wo, columns: co, a: dy, scratch: c.scratchD).sums
            for j in 0..<co { c.parameterGrads[bias + j] = Float(sums[j]) }
        }
        weightGradient(c, dy: dy)
        guard let dx = c.grads[input] else { return }
        dataGradient(c, dy: dy, dx: dx, accumulate: accumulate[0])
    }

    /// dX by phases: input pixels (iy, ix) with iy ≡ py, ix ≡ px (mod stride) receive exactly the taps
    /// with (py + p − ky) ≡ 0 (mod s), from output pixel t + (py + p − ky) / s. Each phase is a
    /// stride-1 convolution of the output gradient with those taps (channel axes swapped), written
    /// every s-th input pixel: no multiply-adds are spent on the zeros of a dilated gradient. Work goes
    /// input row by input row: the output-gradient rows its taps need are copied, zero-ringed, into a
    /// small per-worker buffer, and every column phase of the row is written while it is in cache.
    private func dataGradient(_ c: StepContext, dy: UnsafeMutablePointer<Float>, dx: UnsafeMutablePointer<Float>, accumulate add: Bool) {
        let (cig, cog, k, s, p) = (conv.inChannelsPerGroup, conv.outChannelsPerGroup, conv.kernel, conv.stride, conv.padding)
        let (ci, co, ho, wo, h, wi) = (inShape.channels, outShape.channels, outShape.height, outShape.width, inShape.height, inShape.width)
        let (groups, blocks) = (conv.groups, inBlocks)
        /// The taps of phase `phase` ordered by output offset, and those offsets.
        func taps(_ phase: Int) -> [(tap: Int, offset: Int)] {
            (0..<k).filter { ((phase + p - $0) % s + s) % s == 0 }.map { ($0, (phase + p - $0) / s) }.sorted { $0.offset < $1.offset }
        }
        let phases = (0..<s).map(taps)
        // Weights per phase (py, px): [group][in block][r][q][co][16 input lanes] = W[co][ci][ky_r][kx_q].
        let w = c.parameters + weight, packed = c.scratchW
        var phaseWeights = [Int](repeating: 0, count: s * s)
        var offset = 0
        for py in 0..<s { for px in 0..<s { phaseWeights[py * s + px] = offset; offset += groups * blocks * phases[py].count * phases[px].count * cog * 16 } }
        c.parallel(s * s * groups * blocks) { range in
            for item in range {
                let phase = item / (groups * blocks), gb = item % (groups * blocks), g = gb / blocks, b = gb % blocks
                let (rows, columns) = (phases[phase / s], phases[phase % s])
                let blockWeights = rows.count * columns.count * cog * 16
                let out = packed + phaseWeights[phase] + gb * blockWeights
                out.update(repeating: 0, count: blockWeights)
                for lane in 0..<min(16, cig - b * 16) {
                    let cin = b * 16 + lane
                    for o in 0..<cog {
                        for (r, ky) in rows.enumerated() {
                            for (q, kx) in columns.enumerated() {
                                out[((r * columns.count + q) * cog + o) * 16 + lane] = w[(((g * cog + o) * cig + cin) * k + ky.tap) * k + kx.tap]
                            }
                        }
                    }
                }
            }
        }
        let target = add ? c.scratchC : dx, kernel = c.kernels.conv
        let ring = k, bufferRow = (wo + 2 * ring) * co
        let dxRows = c.batch * h
        let chunks = dxRows >= 4 * c.pool.threads ? 1 : min(groups, max(1, (4 * c.pool.threads + dxRows - 1) / dxRows))
        c.parallel(dxRows * chunks) { range in
            let buffer = UnsafeMutablePointer<Float>.allocate(capacity: k * bufferRow + 32)
            defer { buffer.deallocate() }
            for item in range {
                let row = item / chunks, chunk = item % chunks, n = row / h, iy = row % h
                let py = iy % s, t = iy / s, rows = phases[py]
                let outRow = target + row * wi * ci
                if rows.isEmpty || phases.contains(where: \.isEmpty) {
                    // Pixels with no tap (kernel smaller than the stride) receive nothing.
                    for g in share(groups, chunk, chunks) {
                        for x in 0..<wi { (outRow + x * ci + g * cig).update(repeating: 0, count: cig) }
                    }
                }
                guard !rows.isEmpty else { continue }
                for (r, tap) in rows.enumerated() {
                    let oy = t + tap.offset
                    Self.ringedRow(dy + (n * ho + max(0, min(oy, ho - 1))) * wo * co, inside: oy >= 0 && oy < ho, width: wo, channels: co,
                                   ring: ring, into: buffer + r * bufferRow)
                }
                for px in 0..<min(s, wi) {
                    let columns = phases[px]
                    guard !columns.isEmpty else { continue }
                    let tw = (wi - px + s - 1) / s, tile = c.kernels.convolutionTile(width: tw)
                    let blockWeights = rows.count * columns.count * cog * 16
                    for g in share(groups, chunk, chunks) {
                        for b in 0..<blocks {
                            let weights = packed + phaseWeights[py * s + px] + (g * blocks + b) * blockWeights
                            var u = 0
                            while u < tw {
                                let count = min(tile, tw - u)
                                kernel(count, min(16, cig - b * 16), rows.count, columns.count, cog,
                                       buffer + (u + columns[0].offset + ring) * co + g * cog, bufferRow, co, co, weights, nil,
                                       outRow + (px + s * u) * ci + g * cig + b * 16, s * ci, 0)
                                u += count
                            }
                        }
                    }
                }
            }
        }
        if add {
            c.parallelElements(c.batch * inShape.elementCount) { r in
                Vector.map(r, dx, target, into: dx, accumulate: false, { $0 + $1 }, { $0 + $1 })
            }
        }
    }

    /// A 3x3 convolution of at most 3 input channels (a stem): per image, a zero-ringed copy of the
    /// input, then all taps per pass (`wgrad_stem3`) for every 16-channel block of each output row in
    /// turn, so the row's output gradient is read from memory once.
    private func stemWeightGradient(_ c: StepContext, dy: UnsafeMutablePointer<Float>) {
        let x = c.values[input], s = conv.stride, p = conv.padding
        let (h, w, ci, co, ho, wo) = (inShape.height, inShape.width, inShape.channels, outShape.channels, outShape.height, outShape.width)
        let (hp, wp, blocks) = (paddedHeight, paddedWidth, outBlocks)
        let kernel = c.training.pointee.wgrad_stem3!
        imageChunkedWeightGradient(c, bufferFloats: hp * wp * ci + blocks * 27 * 16) { n, buffer, add in
            let padded = buffer, tile = buffer + hp * wp * ci
            for row in 0..<hp {
                let y = row - p
                Self.ringedRow(x + (n * h + max(0, min(y, h - 1))) * w * ci, inside: y >= 0 && y < h, width: w, channels: ci, ring: p,
                               into: padded + row * wp * ci)
            }
            tile.update(repeating: 0, count: blocks * 27 * 16)
            for oy in 0..<ho {
                for b in 0..<blocks {
                    kernel(wo, ci, padded + oy * s * wp * ci, wp * ci, ci, s * ci, dy + (n * ho + oy) * wo * co + b * 16, co,
                           tile + b * 27 * 16)
                }
            }
            for b in 0..<blocks {
                for lane in 0..<min(16, co - b * 16) {
                    for tap in 0..<9 {
                        for cin in 0..<ci { add(((b * 16 + lane) * ci + cin) * 9 + tap, tile[(b * 27 + tap * 3 + cin) * 16 + lane]) }
                    }
                }
            }
        }
    }

    /// The output rows (or columns) whose tap `t` lands inside the input rather than in the padding:
    /// oy with 0 <= oy · s − p + t < size. Padding contributes zeros, so weight gradients skip it and
    /// read the unpadded input.
    func tapWindow(_ t: Int, _ vertical: Bool) -> Range<Int> {
        let (s, p) = (conv.stride, conv.padding)
        let size = vertical ? inShape.height : inShape.width, out = vertical ? outShape.height : outShape.width
        let first = p - t > 0 ? (p - t + s - 1) / s : 0
        let last = min(out - 1, size - 1 + p - t >= 0 ? (size - 1 + p - t) / s : -1)
        return first <= last ? first..<(last + 1) : 0..<0
    }

    /// Offsets of input pixel (n, oy · s − p + ky, ox · s − p + kx) and of gradient pixel (n, oy, ox), channel 0.
    func tapRows(_ n: Int, _ oy: Int, _ ky: Int, _ ox: Int, _ kx: Int) -> (input: Int, gradient: Int) {
        let (s, p) = (conv.stride, conv.padding)
        let iy = oy * s - p + ky, ix = ox * s - p + kx
        return (((n * inShape.height + iy) * inShape.width + ix) * inShape.channels,
                ((n * outShape.height + oy) * outShape.width + ox) * outShape.channels)
    }

    /// Images per chunk of a weight gradient's sum: a fixed split (so the sums are the same with any
    /// number of workers), fine enough to share among workers.
    static let weightGradientChunks = 8
    /// Output rows a weight gradient's taps share before moving on, so their input and gradient rows
    /// are read from cache by every tap.
    static let weightGradientBand = 8

    /// Weight gradients image by image: each fixed chunk of images is one work item that walks its
    /// images one at a time through every tap, group and block (`perImage(n, buffer, add)` adds what
    /// image `n` contributes to each weight, by its index in `dw`, using a per-worker `buffer` of
    /// `bufferFloats`), so an image's input and output gradient are read from cache rather than memory
    /// once per tap. Each chunk sums in Double; the chunks are then added in order.
    private func imageChunkedWeightGradient(_ c: StepContext, bufferFloats: Int,
                                            perImage: @escaping (Int, UnsafeMutablePointer<Float>, (Int, Float) -> Void) -> Void) {
        let count = outShape.channels * conv.inChannelsPerGroup * conv.kernel * conv.kernel
        let chunks = min(Self.weightGradientChunks, c.batch), batch = c.batch
        let partial = UnsafeMutableRawPointer(c.scratchD).bindMemory(to: Double.self, capacity: chunks * count)
        c.parallel(chunks) { r in
            let buffer = UnsafeMutablePointer<Float>.allocate(capacity: bufferFloats + 32)
            defer { buffer.deallocate() }
            for chunk in r {
                let sums = partial + chunk * count
                sums.update(repeating: 0, count: count)
                for n in (batch * chunk / chunks)..<(batch * (chunk + 1) / chunks) {
                    perImage(n, buffer) { sums[$0] += Double($1) }
                }
            }
        }
        let dw = c.parameterGrads + weight
        c.parallel(count) { r in
            for i in r {
                var total = 0.0
                for chunk in 0..<chunks { total += partial[chunk * count + i] }
                dw[i] = Float(total)
            }
        }
    }

    /// A 3x3 convolution with groups of 8 input and 8 output channels: per image, a zero-ringed copy of
    /// the input, then all nine taps of each group in one pass (`wgrad_3x3_g8`).
    private func grouped8WeightGradient(_ c: StepContext, dy: UnsafeMutablePointer<Float>) {
        let x = c.values[input], s = conv.stride, p = conv.padding
        let (h, w, ci, co, ho, wo) = (inShape.height, inShape.width, inShape.channels, outShape.channels, outShape.height, outShape.width)
        let (hp, wp, groups) = (paddedHeight, paddedWidth, conv.groups)
        let kernel = c.training.pointee.wgrad_3x3_g8!
        imageChunkedWeightGradient(c, bufferFloats: hp * wp * ci + 9 * 64) { n, buffer, add in
            let padded = buffer, tile = buffer + hp * wp * ci
            for row in 0..<hp {
                let y = row - p
                Self.ringedRow(x + (n * h + max(0, min(y, h - 1))) * w * ci, inside: y >= 0 && y < h, width: w, channels: ci, ring: p,
                               into: padded + row * wp * ci)
            }
            for g in 0..<groups {
                tile.update(repeating: 0, count: 9 * 64)
                for band in stride(from: 0, to: ho, by: Self.weightGradientBand) {
                    kernel(min(Self.weightGradientBand, ho - band), wo, padded + band * s * wp * ci + g * 8, s * wp * ci, s * ci, wp * ci, ci,
                           dy + (n * ho + band) * wo * co + g * 8, wo * co, co, tile)
                }
                for t in 0..<9 {
                    for o in 0..<8 {
                        for i in 0..<8 { add(((g * 8 + o) * 8 + i) * 9 + t, tile[(t * 8 + o) * 8 + i]) }
                    }
                }
            }
        }
    }

    /// dW[co][ci][ky][kx] = Σ over images and output pixels of dY · x_padded at the tap.
    private func weightGradient(_ c: StepContext, dy: UnsafeMutablePointer<Float>) {
        if usesStemGradient { return stemWeightGradient(c, dy: dy) }
        if conv.kernel == 3, conv.inChannelsPerGroup == 8, conv.outChannelsPerGroup == 8 { return grouped8WeightGradient(c, dy: dy) }
        let x = c.values[input]
        let (cig, cog, k, s) = (conv.inChannelsPerGroup, conv.outChannelsPerGroup, conv.kernel, conv.stride)
        let (ci, co, iw, ho, wo, groups) = (inShape.channels, outShape.channels, inShape.width, outShape.height, outShape.width, conv.groups)
        let blocks = outBlocks, inChunks = (cig + 15) / 16
        let window = tapWindow, tapRows = tapRows
        let wgrad = c.training.pointee.wgrad!
        imageChunkedWeightGradient(c, bufferFloats: 16 * 16 * k * k) { n, tile, add in
            // Taps inside bands of output rows: the band's slices of input and gradient stay in cache
            // across the taps.
            for g in 0..<groups {
                for b in 0..<blocks {
                    let lanes = min(16, cog - b * 16)
                    for chunk in 0..<inChunks {
                        let c0 = chunk * 16, cc = min(16, cig - c0)
                        tile.update(repeating: 0, count: 16 * 16 * k * k)
                        for band in stride(from: 0, to: ho, by: Self.weightGradientBand) {
                            for tap in 0..<(k * k) {
                                let ky = tap / k, kx = tap % k, columns = window(kx, false)
                                let rows = window(ky, true).clamped(to: band..<min(ho, band + Self.weightGradientBand))
                                guard !rows.isEmpty, !columns.isEmpty else { continue }
                                let (input, gradient) = tapRows(n, rows.lowerBound, ky, columns.lowerBound, kx)
                                wgrad(rows.count, columns.count, cc, x + input + g * cig + c0, s * iw * ci, s * ci,
                                      dy + gradient + g * cog + b * 16, wo * co, co, tile + tap * 256)
                            }
                        }
                        for tap in 0..<(k * k) {
                            for lane in 0..<lanes {
                                let out = g * cog + b * 16 + lane
                                for cin in 0..<cc { add(((out * cig + c0 + cin) * k * k + tap), tile[tap * 256 + cin * 16 + lane]) }
                            }
                        }
                    }
                }
            }
        }
    }
}
