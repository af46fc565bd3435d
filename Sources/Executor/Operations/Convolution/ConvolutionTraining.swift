import NetworkIR

/// A k×k (grouped, strided, padded) convolution on the direct-convolution micro-kernels (channels
/// arranged by `DirectLayout`): the forward is the inference step's (`ConvolutionStep`); the data
/// gradient is one stride-1 convolution of the output gradient per stride phase (`dataGradient`) on
/// the same kernels; the weight gradient goes per tap, group and 16-channel block (`wgrad` tiles, or the group-width-8 and stem variants), summed image by image in
/// Double over fixed chunks of images, so no two workers write the same sum.
///
/// In bf16 (mixed precision) the forward and the data gradient multiply bf16 operands with float32
/// sums on the inference set's bf16 convolution tiles (`ConvolutionOperation+BFloat16.swift`); the
/// weight gradient stays float32.
struct ConvolutionOperation: TrainingOperation {
    let node: NodeIndex
    let input: NodeIndex
    let conv: Convolution
    let inShape: FeatureShape
    let outShape: FeatureShape
    let weight: Int
    let bias: Int?
    /// Whether the forward and the data gradient multiply in bf16.
    var bfloat16 = false
    var savedForBackward: [NodeIndex] { [input] }

    var paddedHeight: Int { inShape.height + 2 * conv.padding }
    var paddedWidth: Int { inShape.width + 2 * conv.padding }
    var outBlocks: Int { (conv.outChannelsPerGroup + 15) / 16 }
    var inBlocks: Int { (conv.inChannelsPerGroup + 15) / 16 }

    /// Forward: the packed weights and biases, and each worker's zero-ringed input rows. Backward: the
    /// bias's column sums, the weight gradient's Double partial sums per chunk of images and each
    /// worker's image and tiles, the data gradient's packed phase weights, each worker's output-gradient
    /// rows, and the data gradient itself when it is added to another consumer's.
    func scratch(batch: Int, kernels: KernelSet) -> [ScratchRequest] {
        let k2 = conv.kernel * conv.kernel, forward = forwardLayout, backward = dataGradientLayout
        var requests = [
            ScratchRequest("weights", floats: forward.units * (forward.unitWeights(taps: k2) + 16), in: .forward),
            ScratchRequest("rows", floats: ConvolutionStep.bufferFloats(conv, inputWidth: inShape.width, layout: forward), in: .forward, perWorker: true),
            ScratchRequest("weights", floats: backward.units * backward.unitWeights(taps: k2), in: .backward),
            ScratchRequest("rows", floats: backward.bufferFloats(rows: conv.kernel, width: outShape.width, ring: conv.kernel, stride: 1),
                           in: .backward, perWorker: true),
            ScratchRequest("gradient", floats: batch * inShape.elementCount, in: .backward),
            ScratchRequest("partials", floats: 2 * min(Self.weightGradientChunks, batch) * weightGradientTileFloats, in: .backward),
            ScratchRequest("image", floats: weightGradientBufferFloats + weightGradientTileFloats + 32, in: .backward, perWorker: true),
        ]
        if bias != nil { requests += ColumnSums.scratch(rows: batch * outShape.height * outShape.width, columns: outShape.channels, in: .backward) }
        if bfloat16, let bf16 = kernels.bfloat16 { requests += bfloat16Scratch(batch: batch, bf16) }
        return requests
    }

    /// Floats of the input image a weight-gradient path copies zero-ringed (all taps at once), or 0.
    var weightGradientBufferFloats: Int { usesStemGradient || usesGrouped8Gradient ? paddedHeight * paddedWidth * inShape.channels : 0 }

    /// A 3x3 convolution of at most 3 input channels takes its weight gradient with all taps at once.
    var usesStemGradient: Bool { conv.kernel == 3 && conv.groups == 1 && conv.inChannels <= 3 }

    /// Image `n` of the input `x` with a zero ring of `padding` pixels, into `padded` (a worker's buffer).
    func paddedImage(_ x: UnsafePointer<Float>, _ n: Int, into padded: UnsafeMutablePointer<Float>) {
        let (h, w, ci, p, wp) = (inShape.height, inShape.width, inShape.channels, conv.padding, paddedWidth)
        for row in 0..<paddedHeight {
            let y = row - p
            DirectLayout.ringedRow(y >= 0 && y < h ? x + (n * h + y) * w * ci : nil, width: w, channels: ci, ring: p, into: padded + row * wp * ci)
        }
    }

    /// The forward's channels (no activation: batch norm follows in training).
    var forwardLayout: DirectLayout { ConvolutionStep.layout(conv, activation: .none) }
    /// The data gradient's: output-gradient channels reduced, input channels produced.
    var dataGradientLayout: DirectLayout {
        DirectLayout(groups: conv.groups, reduced: conv.outChannelsPerGroup, produced: conv.inChannelsPerGroup, channels: outShape.channels)
    }

    /// The inference step's forward (`ConvolutionStep`) over this batch: W and the bias packed into
    /// scratch, the rows buffered in each worker's scratch "rows".
    func forward(_ c: StepContext) {
        if bfloat16, let bf16 = c.bfloat16?.kernels { return bfloat16Forward(c, bf16) }
        let layout = forwardLayout, conv = conv, cog = conv.outChannelsPerGroup
        let w = UnsafePointer(c.parameters + weight), packed = c.scratch("weights")
        let biases = layout.units * layout.unitWeights(taps: conv.kernel * conv.kernel)
        c.parallel(layout.units) { r in ConvolutionStep.pack(w, conv: conv, layout: layout, units: r, into: packed) }
        layout.lanes(into: packed + biases) { g, o in bias.map { c.parameters[$0 + g * cog + o] } ?? 0 }
        let step = ConvolutionStep(input: 0, output: 1, conv: conv, weights: 0, bias: biases, activation: .none, paired: layout.paired)
        let context = c.inferenceContext(layouts: [c.layout(of: c.values[input], inShape), c.layout(of: c.values[node], outShape)],
                                         weights: packed, workerScratch: "rows")
        c.everyWorker { worker, workers in step.run(context, images: 0..<c.batch, worker: worker, workers: workers) }
    }

    func backward(_ c: StepContext, accumulate: [Bool]) {
        guard let dy = c.grads[node] else { return }
        let co = outShape.channels, (ho, wo) = (outShape.height, outShape.width)
        if let bias {
            let sums = ColumnSums.moments(c, rows: c.batch * ho * wo, columns: co, a: dy).sums
            for j in 0..<co { c.parameterGrads[bias + j] = Float(sums[j]) }
        }
        weightGradient(c, dy: dy)
        guard let dx = c.grads[input] else { return }
        dataGradient(c, dy: dy, dx: dx, accumulate: accumulate[0], bf16: bfloat16 ? c.bfloat16?.kernels : nil)
    }

    /// dX by phases: input pixels (iy, ix) with iy ≡ py, ix ≡ px (mod stride) receive exactly the taps
    /// with (py + p − ky) ≡ 0 (mod s), from output pixel t + (py + p − ky) / s. Each phase is a
    /// stride-1 convolution of the output gradient with those taps (channel axes swapped), written
    /// every s-th input pixel: no multiply-adds are spent on the zeros of a dilated gradient. Work goes
    /// input row by input row: the output-gradient rows its taps need are copied, zero-ringed, into a
    /// small per-worker buffer, and every column phase of the row is written while it is in cache.
    ///
    /// With `bf16`, the output-gradient rows and the phases' weights are rounded to bf16 as they are
    /// copied and packed (reduced channels in pairs, unpaired units) and the bf16 tiles multiply them.
    private func dataGradient(_ c: StepContext, dy: UnsafeMutablePointer<Float>, dx: UnsafeMutablePointer<Float>, accumulate add: Bool,
                              bf16: BFloat16Kernels?) {
        let (cig, cog, k, s) = (conv.inChannelsPerGroup, conv.outChannelsPerGroup, conv.kernel, conv.stride)
        let (ci, co, ho, wo, h, wi) = (inShape.channels, outShape.channels, outShape.height, outShape.width, inShape.height, inShape.width)
        let layout = bf16 == nil ? dataGradientLayout : bfloat16DataGradientLayout, kernel = layout.kernel(c.kernels)
        let phases = dataGradientPhases, group = bf16 == nil ? 1 : 2
        // Weights per phase (py, px), per unit: [r][q][co / group][16 input-channel lanes][group] = W[co][ci][ky_r][kx_q].
        var phaseWeights = [Int](repeating: 0, count: s * s), elements = 0
        for phase in 0..<(s * s) {
            phaseWeights[phase] = elements
            elements += layout.units * layout.unitWeights(taps: phases[phase / s].count * phases[phase % s].count, group: group)
        }
        let w = c.parameters + weight, packed = c.scratch(bf16 == nil ? "weights" : "bf16 weights")
        for py in 0..<s {
            for px in 0..<s {
                let (rows, columns) = (phases[py], phases[px])
                layout.pack(c, taps: rows.count * columns.count, group: group, into: packed + phaseWeights[py * s + px]) { g, i, o, tap in
                    w[(((g * cog + o) * cig + i) * k + rows[tap / columns.count].tap) * k + columns[tap % columns.count].tap]
                }
            }
        }
        // bf16: the weights rounded after their float32 packing, element for element.
        let halves = UnsafeMutableRawPointer(packed + elements).assumingMemoryBound(to: UInt16.self)
        bf16?.convert(elements, packed, halves)
        let target = add ? c.scratch("gradient") : dx
        // Pixels per column phase, and per kernel call along it.
        let phaseTiles = (0..<min(s, wi)).map { px in
            ((wi - px + s - 1) / s, bf16?.xb ?? c.kernels.convolutionTile(width: (wi - px + s - 1) / s))
        }
        let ring = k, pf = layout.pixelFloats, bufferRow = (wo + 2 * ring) * pf
        layout.forEachRow(c, rows: c.batch * h, buffer: bf16 == nil ? "rows" : "bf16 rows") { row, units, buffer in
            let n = row / h, iy = row % h
            let py = iy % s, t = iy / s, rows = phases[py]
            let outRow = target + row * wi * ci, bufferHalves = UnsafeMutableRawPointer(buffer).assumingMemoryBound(to: UInt16.self)
            if rows.isEmpty || phases.contains(where: \.isEmpty) {
                // Pixels with no tap (kernel smaller than the stride) receive nothing.
                for u in units {
                    for x in 0..<wi { (outRow + x * ci + layout.destination(u)).update(repeating: 0, count: layout.outputs(u)) }
                }
            }
            guard !rows.isEmpty else { return }
            for (r, tap) in rows.enumerated() {
                let oy = t + tap.offset, source = oy >= 0 && oy < ho ? dy + (n * ho + oy) * wo * co : nil
                if let bf16 {
                    let dst = bufferHalves + r * bufferRow
                    dst.update(repeating: 0, count: bufferRow)
                    if let source { bf16.convert(wo * co, source, dst + ring * co) }
                } else {
                    layout.bufferRow(source, width: wo, ring: ring, kernels: c.kernels, into: buffer + r * bufferRow)
                }
            }
            // The bf16 tiles read a channel past an odd count: zeros there, not stale values.
            if bf16 != nil { (bufferHalves + rows.count * bufferRow).update(repeating: 0, count: bfloat16Slack(bf16!, channels: co)) }
            for px in 0..<min(s, wi) {
                let columns = phases[px]
                guard !columns.isEmpty else { continue }
                let (tw, tile) = phaseTiles[px]
                let unitWeights = layout.unitWeights(taps: rows.count * columns.count, group: group)
                for u in units {
                    let weights = phaseWeights[py * s + px] + u * unitWeights, input = (columns[0].offset + ring) * pf + layout.source(u)
                    var x = 0
                    while x < tw {
                        let count = min(tile, tw - x), out = outRow + (px + s * x) * ci + layout.destination(u)
                        if let bf16 {
                            bf16.conv(count, layout.outputs(u), rows.count, columns.count, layout.reduced, bufferHalves + x * pf + input,
                                      bufferRow, pf, pf, halves + weights, nil, out, s * ci, 0, 0)
                        } else {
                            kernel(count, layout.outputs(u), rows.count, columns.count, layout.reduced, buffer + x * pf + input, bufferRow,
                                   pf, pf, packed + weights, nil, out, s * ci, 0)
                        }
                        x += count
                    }
                }
            }
        }
        if add {
            c.parallelElements(c.batch * inShape.elementCount) { r in
                Vector.apply(r, dx, target, into: dx, accumulate: false) { $0 + $1 }
            }
        }
    }

    /// Per stride phase, the taps it receives ordered by output offset, and those offsets
    /// (`dataGradient`).
    var dataGradientPhases: [[(tap: Int, offset: Int)]] {
        let (k, s, p) = (conv.kernel, conv.stride, conv.padding)
        return (0..<s).map { phase in
            (0..<k).filter { ((phase + p - $0) % s + s) % s == 0 }.map { ($0, (phase + p - $0) / s) }.sorted { $0.offset < $1.offset }
        }
    }

    /// A 3x3 convolution of at most 3 input channels (a stem): per image, a zero-ringed copy of the
    /// input, then all taps per pass (`wgrad_stem3`) for every 16-channel block of each output row in
    /// turn, so the row's output gradient is read from memory once.
    private func stemWeightGradient(_ c: StepContext, dy: UnsafeMutablePointer<Float>) {
        let x = c.values[input], s = conv.stride, paddedImage = paddedImage
        let (ci, co, ho, wo) = (inShape.channels, outShape.channels, outShape.height, outShape.width)
        let (hp, wp, blocks) = (paddedHeight, paddedWidth, outBlocks)
        let kernel = c.training.pointee.wgrad_stem3!
        imageChunkedWeightGradient(c, tileFloats: weightGradientTileFloats, bufferFloats: hp * wp * ci) { n, padded, tiles in
            paddedImage(x, n, padded)
            for oy in 0..<ho {
                for b in 0..<blocks {
                    kernel(wo, ci, padded + oy * s * wp * ci, wp * ci, ci, s * ci, dy + (n * ho + oy) * wo * co + b * 16, co,
                           tiles + b * 27 * 16)
                }
            }
        } weightIndex: { i in
            // Tiles [block][tap][3 input channels][16 lanes].
            let out = i / 432 * 16 + i % 16, tap = i % 432 / 48, cin = i % 48 / 16
            return out < co && cin < ci ? (out * ci + cin) * 9 + tap : nil
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
    /// images one at a time through every tap, group and block, so an image's input and output
    /// gradient are read from cache rather than memory once per tap. `perImage(n, buffer, tiles)`
    /// adds image n's contribution into `tileFloats` zeroed floats in the caller's tile layout (with
    /// a per-worker `buffer` of `bufferFloats`); each chunk sums those in Double, the chunks are added
    /// in order, and `weightIndex(i)` places tile entry i in dW (nil for a padding lane).
    private func imageChunkedWeightGradient(_ c: StepContext, tileFloats: Int, bufferFloats: Int,
                                            perImage: @escaping (Int, UnsafeMutablePointer<Float>, UnsafeMutablePointer<Float>) -> Void,
                                            weightIndex: @escaping (Int) -> Int?) {
        let chunks = min(Self.weightGradientChunks, c.batch), batch = c.batch
        let partial = UnsafeMutableRawPointer(c.scratch("partials")).bindMemory(to: Double.self, capacity: chunks * tileFloats)
        c.parallel(chunks) { r, worker in
            let buffer = c.scratch("image", worker: worker)
            let tiles = buffer + bufferFloats
            for chunk in r {
                let sums = partial + chunk * tileFloats
                sums.update(repeating: 0, count: tileFloats)
                for n in (batch * chunk / chunks)..<(batch * (chunk + 1) / chunks) {
                    tiles.update(repeating: 0, count: tileFloats)
                    perImage(n, buffer, tiles)
                    for i in 0..<tileFloats { sums[i] += Double(tiles[i]) }
                }
            }
        }
        let dw = c.parameterGrads + weight
        c.parallel(tileFloats) { r in
            for i in r {
                guard let target = weightIndex(i) else { continue }
                var total = 0.0
                for chunk in 0..<chunks { total += partial[chunk * tileFloats + i] }
                dw[target] = Float(total)
            }
        }
    }

    /// Floats of one image's weight-gradient tiles (`imageChunkedWeightGradient`) on this layer's path.
    var weightGradientTileFloats: Int {
        if usesStemGradient { return outBlocks * 27 * 16 }
        if usesGrouped8Gradient { return conv.groups * 9 * 64 }
        return conv.groups * outBlocks * ((conv.inChannelsPerGroup + 15) / 16) * conv.kernel * conv.kernel * 256
    }
    /// A 3x3 convolution with groups of 8 input and 8 output channels takes all nine taps at once.
    var usesGrouped8Gradient: Bool { conv.kernel == 3 && conv.inChannelsPerGroup == 8 && conv.outChannelsPerGroup == 8 }

    /// A 3x3 convolution with groups of 8 input and 8 output channels: per image, a zero-ringed copy of
    /// the input, then all nine taps of each group in one pass (`wgrad_3x3_g8`).
    private func grouped8WeightGradient(_ c: StepContext, dy: UnsafeMutablePointer<Float>) {
        let x = c.values[input], s = conv.stride, paddedImage = paddedImage
        let (ci, co, ho, wo) = (inShape.channels, outShape.channels, outShape.height, outShape.width)
        let (hp, wp, groups) = (paddedHeight, paddedWidth, conv.groups)
        let kernel = c.training.pointee.wgrad_3x3_g8!
        imageChunkedWeightGradient(c, tileFloats: weightGradientTileFloats, bufferFloats: hp * wp * ci) { n, padded, tiles in
            paddedImage(x, n, padded)
            for g in 0..<groups {
                for band in stride(from: 0, to: ho, by: Self.weightGradientBand) {
                    kernel(min(Self.weightGradientBand, ho - band), wo, padded + band * s * wp * ci + g * 8, s * wp * ci, s * ci, wp * ci, ci,
                           dy + (n * ho + band) * wo * co + g * 8, wo * co, co, tiles + g * 576)
                }
            }
        } weightIndex: { i in
            // Tiles [group][tap][8 outputs][8 inputs].
            let g = i / 576, t = i % 576 / 64, o = i % 64 / 8
            return ((g * 8 + o) * 8 + i % 8) * 9 + t
        }
    }

    /// dW[co][ci][ky][kx] = Σ over images and output pixels of dY · x_padded at the tap.
    private func weightGradient(_ c: StepContext, dy: UnsafeMutablePointer<Float>) {
        if usesStemGradient { return stemWeightGradient(c, dy: dy) }
        if usesGrouped8Gradient { return grouped8WeightGradient(c, dy: dy) }
        let x = c.values[input]
        let (cig, cog, k, s) = (conv.inChannelsPerGroup, conv.outChannelsPerGroup, conv.kernel, conv.stride)
        let (ci, co, iw, ho, wo, groups) = (inShape.channels, outShape.channels, inShape.width, outShape.height, outShape.width, conv.groups)
        let blocks = outBlocks, inChunks = (cig + 15) / 16
        let window = tapWindow, tapRows = tapRows
        let wgrad = c.training.pointee.wgrad!
        let unitFloats = k * k * 256
        imageChunkedWeightGradient(c, tileFloats: weightGradientTileFloats, bufferFloats: 0) { n, _, tiles in
            // Taps inside bands of output rows: the band's slices of input and gradient stay in cache
            // across the taps.
            for g in 0..<groups {
                for b in 0..<blocks {
                    for chunk in 0..<inChunks {
                        let c0 = chunk * 16, cc = min(16, cig - c0), tile = tiles + ((g * blocks + b) * inChunks + chunk) * unitFloats
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
                    }
                }
            }
        } weightIndex: { i in
            // Tiles [group][output block][input chunk][tap][16 inputs][16 output lanes].
            let unit = i / unitFloats, tap = i % unitFloats / 256, cin = unit % inChunks * 16 + i % 256 / 16
            let o = unit / inChunks % blocks * 16 + i % 16, g = unit / (inChunks * blocks)
            return o < cog && cin < cig ? ((g * cog + o) * cig + cin) * k * k + tap : nil
        }
    }
}
