import NetworkIR

/// The bf16 forward of a k×k training convolution, on the inference set's bf16 convolution tiles
/// (`rn_conv_bf16_fn`): operands rounded to bf16 (nearest even) as they are copied, float32 sums, float32
/// results; and the layouts and scratch of its bf16 data gradient (`dataGradient(…, bf16:)`).
extension ConvolutionOperation {
    /// Whether bf16 tiles beat the float32 ones on `conv` (measured on AVX-512 BF16, Zen 4): not where
    /// groups are 8 channels wide, which the float32 tiles take two at a time with every lane used while
    /// the bf16 tiles would leave half their lanes idle (2× slower: RegNetX-200MF's 3x3s), and not for a
    /// stem reading 3 channels (a third of each bf16 pair wasted; 20% slower). Those stay float32 in a bf16
    /// program — more precise than autocast's bf16, never less.
    static func bfloat16IsFaster(_ conv: Convolution) -> Bool {
        !DirectLayout.pairs(groups: conv.groups, reduced: conv.inChannelsPerGroup, produced: conv.outChannelsPerGroup)
            && conv.inChannelsPerGroup > 3
    }

    /// The channels as the bf16 tiles take them: 16-channel blocks of one group, unpaired.
    var bfloat16ForwardLayout: DirectLayout { NarrowConvolutionStep.layout(conv) }
    var bfloat16DataGradientLayout: DirectLayout {
        DirectLayout(groups: conv.groups, reduced: conv.outChannelsPerGroup, produced: conv.inChannelsPerGroup, channels: outShape.channels,
                     pairing: false)
    }

    /// Halves of slack past a bf16 buffer the tiles may read: whole tiles of strided pixels, the taps,
    /// and the odd channel past the last.
    func bfloat16Slack(_ bf16: BFloat16Kernels, channels: Int) -> Int { (bf16.xb * conv.stride + conv.kernel) * channels + 64 }

    /// Floats of scratch for `count` bf16 values, their float32 packing before rounding, and `extra` floats.
    private static func staged(_ count: Int, extra: Int = 0) -> Int { count + (count + 1) / 2 + extra }

    /// Forward: the input as a zero-ringed bf16 copy, and the weights and biases. Backward: the phases'
    /// bf16 weights and each worker's bf16 output-gradient rows.
    func bfloat16Scratch(batch: Int, _ bf16: BFloat16Kernels) -> [ScratchRequest] {
        let k2 = conv.kernel * conv.kernel, forward = bfloat16ForwardLayout, backward = bfloat16DataGradientLayout
        let input = batch * paddedHeight * paddedWidth * inShape.channels + bfloat16Slack(bf16, channels: inShape.channels)
        let rows = conv.kernel * (outShape.width + 2 * conv.kernel) * outShape.channels + bfloat16Slack(bf16, channels: outShape.channels)
        return [ScratchRequest("bf16 input", floats: (input + 1) / 2, in: .forward),
                ScratchRequest("bf16 weights", floats: Self.staged(forward.units * forward.unitWeights(taps: k2, group: 2), extra: forward.units * 16),
                               in: .forward),
                ScratchRequest("bf16 weights", floats: Self.staged(backward.units * backward.unitWeights(taps: k2, group: 2)), in: .backward),
                ScratchRequest("bf16 rows", floats: (rows + 1) / 2, in: .backward, perWorker: true)]
    }

    /// Y = conv(X, W): X rounded into a zero-ringed bf16 copy, then the inference bf16 step
    /// (`NarrowConvolutionStep`) over it with W packed and rounded likewise.
    func bfloat16Forward(_ c: StepContext, _ bf16: BFloat16Kernels) {
        let layout = bfloat16ForwardLayout, conv = conv, cog = conv.outChannelsPerGroup, k2 = conv.kernel * conv.kernel
        let floats = layout.units * layout.unitWeights(taps: k2, group: 2), w = UnsafePointer(c.parameters + weight)
        let base = c.scratch("bf16 weights")
        c.parallel(layout.units) { r in ConvolutionStep.pack(w, conv: conv, layout: layout, group: 2, units: r, into: base) }
        bf16.convert(floats, base, UnsafeMutableRawPointer(base + floats).assumingMemoryBound(to: UInt16.self))
        let weights = floats, biasOffset = floats + (floats + 1) / 2
        layout.lanes(into: base + biasOffset) { g, o in bias.map { c.parameters[$0 + g * cog + o] } ?? 0 }
        // The input with a zero ring as wide as the padding, so taps need no bounds checks.
        let copy = c.scratch("bf16 input"), halves = UnsafeMutableRawPointer(copy).assumingMemoryBound(to: UInt16.self)
        let (h, wi, ch, p) = (inShape.height, inShape.width, inShape.channels, conv.padding), rowHalves = paddedWidth * ch
        let x = c.values[input], rows = c.batch * paddedHeight, paddedHeight = paddedHeight
        c.parallel(rows) { r in
            for row in r {
                let n = row / paddedHeight, y = row % paddedHeight - p, dst = halves + row * rowHalves
                guard y >= 0 && y < h else { dst.update(repeating: 0, count: rowHalves); continue }
                dst.update(repeating: 0, count: p * ch)
                bf16.convert(wi * ch, x + (n * h + y) * wi * ch, dst + p * ch)
                (dst + (p + wi) * ch).update(repeating: 0, count: p * ch)
            }
        }
        (halves + rows * rowHalves).update(repeating: 0, count: bfloat16Slack(bf16, channels: ch))
        let input = ValueLayout(element: .bfloat16, channels: ch, height: h, width: wi, padding: p, offset: (copy - c.arena) * 2)
        let step = NarrowConvolutionStep(input: 0, output: 1, conv: conv, weights: weights, bias: biasOffset, activation: .none,
                                         operands: .bfloat16)
        let context = c.inferenceContext(layouts: [input, c.layout(of: c.values[node], outShape)], weights: base)
        c.everyWorker { worker, workers in step.run(context, images: 0..<c.batch, worker: worker, workers: workers) }
    }
}
