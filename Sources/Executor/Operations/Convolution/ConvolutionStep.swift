import NetworkIR

/// The forward of a float32 k×k (grouped, strided, padded) convolution, written once for both plans:
/// an inference step (bias with the batch norm folded in, activation in the epilogue), and the
/// training operation's forward (`ConvolutionOperation.forward` runs this step over its own arena).
///
/// Output row by output row, the k input rows it reads are copied zero-ringed into a small per-worker
/// buffer — paired groups of width 8 interleaved as they are copied (`DirectLayout`) — so no value
/// needs a ring of padding; then each unit runs along the row in tiles.
struct ConvolutionStep: InferenceStep {
    var input: Int
    var output: Int
    var conv: Convolution
    /// Offset of the packed weights [unit][ky][kx][ci][16] (`DirectLayout.pack`), and of the biases [unit][16].
    var weights: Int
    var bias: Int
    var activation: Activation
    /// Whether the weights were packed for pairs of groups of width 8.
    var paired: Bool

    var reads: [Int] { [input] }

    /// How this convolution's channels meet the kernels; pairs only where the pair kernel's epilogue
    /// has the activation.
    static func layout(_ conv: Convolution, activation: Activation) -> DirectLayout {
        DirectLayout(groups: conv.groups, reduced: conv.inChannelsPerGroup, produced: conv.outChannelsPerGroup,
                     channels: conv.inChannels, pairing: activation != .sigmoid)
    }

    var layout: DirectLayout {
        DirectLayout(groups: conv.groups, reduced: conv.inChannelsPerGroup, produced: conv.outChannelsPerGroup,
                     channels: conv.inChannels, pairing: paired)
    }

    /// Floats of one worker's buffer: the k input rows of one output row, zero-ringed, with room for
    /// the tiles' over-read.
    static func bufferFloats(_ conv: Convolution, inputWidth: Int, layout: DirectLayout) -> Int {
        layout.bufferFloats(rows: conv.kernel, width: inputWidth, ring: conv.padding, stride: conv.stride)
    }

    func workerScratchFloats(layouts: [ValueLayout]) -> Int {
        Self.bufferFloats(conv, inputWidth: layouts[input].width, layout: layout)
    }

    func run(_ c: InferenceContext, images: Range<Int>, worker: Int, workers: Int) {
        let input = c.layouts[self.input], output = c.layouts[self.output], arena = c.arena, layout = layout
        let (k, s, p) = (conv.kernel, conv.stride, conv.padding), (h, w, wo) = (input.height, input.width, output.width)
        let rows = images.count * output.height, firstRow = images.lowerBound * output.height
        output.zeroPadding(rows: imageRows(images, output.height, worker, workers), in: arena)
        let chunks = layout.chunks(rows: rows, workers: workers), buffer = c.scratch(worker: worker)
        let kernel = layout.kernel(c.kernels), tile = c.kernels.convolutionTile(width: wo)
        let pf = layout.pixelFloats, bufferRow = (w + 2 * p) * pf, unitWeights = layout.unitWeights(taps: k * k)
        var buffered = -1
        for item in share(rows * chunks, worker, workers) {
            let row = firstRow + item / chunks, n = row / output.height, oy = row % output.height
            if row != buffered {
                for ky in 0..<k {
                    let iy = oy * s - p + ky
                    layout.bufferRow(iy >= 0 && iy < h ? UnsafePointer(arena + input.index(n, iy, 0)) : nil, width: w, ring: p,
                                     kernels: c.kernels, into: buffer + ky * bufferRow)
                }
                buffered = row
            }
            let out = arena + output.index(n, oy, 0)
            for u in share(layout.units, item % chunks, chunks) {
                var ox = 0
                while ox < wo {
                    let count = min(tile, wo - ox)
                    kernel(count, layout.outputs(u), k, k, layout.reduced, buffer + ox * s * pf + layout.source(u), bufferRow, pf, s * pf,
                           c.weights + weights + u * unitWeights, c.weights + bias + u * 16, out + ox * output.channels + layout.destination(u),
                           output.channels, activation.rawValue)
                    ox += count
                }
            }
        }
    }

    /// Units `units` of W[co][ci][ky][kx] (PyTorch's order, at `w`) packed for `layout` into `out`
    /// (`DirectLayout.pack`), with `group` input channels side by side (1 float32, 2 bf16, 4 int8).
    static func pack(_ w: UnsafePointer<Float>, conv: Convolution, layout: DirectLayout, group: Int = 1, units: Range<Int>,
                     into out: UnsafeMutablePointer<Float>) {
        let (taps, cig, cog) = (conv.kernel * conv.kernel, conv.inChannelsPerGroup, conv.outChannelsPerGroup)
        layout.pack(taps: taps, group: group, units: units, into: out) { g, o, i, t in w[((g * cog + o) * cig + i) * taps + t] }
    }

    /// W and b packed for `layout` (`pack`, `lanes`), with `group` input channels side by side.
    static func pack(_ w: [Float], _ b: [Float], conv: Convolution, layout: DirectLayout, group: Int) -> (weights: [Float], bias: [Float]) {
        let weights = [Float](unsafeUninitializedCapacity: layout.units * layout.unitWeights(taps: conv.kernel * conv.kernel, group: group)) { out, count in
            w.withUnsafeBufferPointer { pack($0.baseAddress!, conv: conv, layout: layout, group: group, units: 0..<layout.units, into: out.baseAddress!) }
            count = out.count
        }
        return (weights, lanes(b, conv: conv, layout: layout))
    }

    /// One value per output channel in `layout`'s lane order (biases, int8 output scales).
    static func lanes(_ values: [Float], conv: Convolution, layout: DirectLayout) -> [Float] {
        [Float](unsafeUninitializedCapacity: layout.units * 16) { out, count in
            layout.lanes(into: out.baseAddress!) { g, o in values[g * conv.outChannelsPerGroup + o] }
            count = out.count
        }
    }
}
