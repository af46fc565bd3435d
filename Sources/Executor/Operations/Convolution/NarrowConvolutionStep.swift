import NetworkIR
internal import Kernels

/// A k×k convolution with bf16 or int8 operands (inference only): for each output row, group and
/// 16-channel block, tiles of `xb` pixels read in place from an input that carries a zero ring as
/// wide as the padding, so taps need no bounds checks.
///
/// The input is a bf16 (uint8) value — its producer stores it so, or a `ConvertStep` makes it — and
/// the weights are bf16 [group][block][kh][kw][ceil(ci / 2)][16][2] (int8 [..][ceil(ci / 4)][16][4],
/// with per-channel scales), packed by `ConvolutionStep.pack` unpaired; bias and activation stay
/// float32, and the output is float32 unless its value is narrow (read only by narrow convolutions).
struct NarrowConvolutionStep: InferenceStep {
    var input: Int
    var output: Int
    var conv: Convolution
    /// Offset of the packed weights and of the padded bias [group][block][16].
    var weights: Int
    var bias: Int
    var activation: Activation
    /// bf16, or int8 (times uint8 inputs).
    var operands: ElementType
    /// int8 operands: the offset of the per-channel float scales [group][block][16] (input scale × each
    /// output channel's weight scale) and the scale of a uint8 output.
    var quantization: (scales: Int, outputScale: Float)?

    /// The channels as the narrow kernels take them: one unit per 16-channel block of a group, unpaired.
    static func layout(_ conv: Convolution) -> DirectLayout {
        DirectLayout(groups: conv.groups, reduced: conv.inChannelsPerGroup, produced: conv.outChannelsPerGroup,
                     channels: conv.inChannels, pairing: false)
    }

    /// 16-channel output blocks per group.
    var blocksPerGroup: Int { Self.layout(conv).blocks }
    /// Packed weight elements per 16-channel block (input channels in groups of 2 for bf16, 4 for int8).
    var blockWeights: Int { Self.layout(conv).unitWeights(taps: conv.kernel * conv.kernel, group: 4 / operands.byteCount) }

    var reads: [Int] { [input] }
    var readsNarrowValues: Bool { true }
    var runsInt8: Bool { operands == .int8 }
    var weightBytes: Int { conv.groups * blocksPerGroup * blockWeights * operands.byteCount }
    var paddedInput: (value: Int, padding: Int)? { (input, conv.padding) }

    func overRead(of value: Int, layouts: [ValueLayout], kernels: KernelSet) -> Int {
        guard value == input else { return 0 }
        let c = layouts[input].channels
        return ((kernels.xb - 1) * conv.stride * c + conv.kernel * c + 16) * layouts[input].element.byteCount
    }

    func run(_ c: InferenceContext, images: Range<Int>, worker: Int, workers: Int) {
        let input = c.layouts[self.input], output = c.layouts[self.output], arena = c.arena
        let (k, s, padding, groups) = (conv.kernel, conv.stride, conv.padding, conv.groups)
        let (inPerGroup, outPerGroup, blocksPerGroup, blockWeights) = (conv.inChannelsPerGroup, conv.outChannelsPerGroup, blocksPerGroup, blockWeights)
        let rows = images.count * output.height, firstRow = images.lowerBound * output.height
        output.zeroPadding(rows: imageRows(images, output.height, worker, workers), in: arena)
        // Few rows (late stages at batch 1): split each row's groups too, so every worker has work.
        let chunks = DirectLayout.chunks(rows: rows, workers: workers, units: groups)
        let bf16 = operands == .bfloat16 ? c.kernels.bfloat16! : nil, int8 = operands == .int8 ? c.kernels.int8! : nil
        let xb = bf16?.xb ?? int8!.xb
        let bf16Arena = UnsafeMutableRawPointer(arena).assumingMemoryBound(to: UInt16.self)
        // Narrow bf16 outputs: two 16-channel blocks per kernel call (the next block of the group, or the
        // next group's first when groups are whole blocks), so enough accumulators are in flight.
        let paired = bf16.map { $0.conv2 != nil && output.width <= $0.xb2 && activation != .sigmoid } ?? false
        let outBytes = output.element.byteCount, outBF16: Int32 = output.element == .bfloat16 ? 1 : 0
        for item in share(rows * chunks, worker, workers) {
            let row = firstRow + item / chunks, chunk = item % chunks
            let n = row / output.height, y = row % output.height
            let mine = share(groups, chunk, chunks)
            var block = mine.lowerBound * blocksPerGroup
            while block < mine.upperBound * blocksPerGroup {
                let g = block / blocksPerGroup, b = block % blocksPerGroup
                let co = min(16, outPerGroup - b * 16)
                let bias = c.weights + self.bias + block * 16
                let sameGroup = b + 1 < blocksPerGroup
                let pair = paired && block + 1 < mine.upperBound * blocksPerGroup && (sameGroup || outPerGroup % 16 == 0)
                var x = 0
                while x < output.width {
                    let count = min(xb, output.width - x)
                    let src = input.index(n, y * s - padding, x * s - padding) + g * inPerGroup
                    let out = UnsafeMutableRawPointer(arena) + (output.index(n, y, x) + g * outPerGroup + b * 16) * outBytes
                    if let bf16 {
                        let w = UnsafeRawPointer(c.weights + weights).assumingMemoryBound(to: UInt16.self) + block * blockWeights
                        if pair, let conv2 = bf16.conv2 {
                            let co1 = sameGroup ? min(16, outPerGroup - (b + 1) * 16) : min(16, outPerGroup)
                            conv2(count, co, co1, k, k, inPerGroup, bf16Arena + src, sameGroup ? 0 : inPerGroup, input.rowStride,
                                       input.channels, s * input.channels, w, blockWeights, bias, out, output.channels,
                                       activation.rawValue, outBF16)
                        } else {
                            bf16.conv(count, co, k, k, inPerGroup, bf16Arena + src, input.rowStride, input.channels,
                                      s * input.channels, w, bias, out, output.channels, activation.rawValue, outBF16)
                        }
                    } else if let int8, let q = quantization {
                        let w = UnsafeRawPointer(c.weights + weights).assumingMemoryBound(to: Int8.self) + block * blockWeights
                        let source = UnsafeRawPointer(arena).assumingMemoryBound(to: UInt8.self) + src
                        int8.conv(count, co, k, k, inPerGroup, source, input.rowStride, input.channels, s * input.channels,
                                  w, c.weights + q.scales + block * 16, bias, out, output.channels, activation.rawValue,
                                  outBytes == 1 ? 1 : 0, q.outputScale)
                    }
                    x += count
                }
                block += pair ? 2 : 1
            }
        }
    }
}
