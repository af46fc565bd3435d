import NetworkIR
internal import Kernels

/// Direct (grouped) convolution with a fused bias and activation: for each output row, group and
/// 16-channel block, tiles of `xb` pixels. The input carries a zero ring as wide as the padding, so
/// taps need no bounds checks.
///
/// With bf16 (int8) operands the input is a bf16 (uint8) value — its producer stores it so, or a
/// `ConvertStep` makes it — and the weights are bf16 [group][block][kh][kw][ceil(ci / 2)][16][2]
/// (int8 [..][ceil(ci / 4)][16][4], with per-channel scales); bias and activation stay float32, and the
/// output is float32 unless its value is narrow (read only by narrow convolutions).
struct ConvolutionStep: InferenceStep {
    var input: Int
    var output: Int
    var kernel: Int
    var stride: Int
    var padding: Int
    var groups: Int
    var inPerGroup: Int
    var outPerGroup: Int
    /// 16-channel output blocks per group.
    var blocksPerGroup: Int
    /// Offset of the packed weights [group][block][kh][kw][ci][16] and of the padded bias [group][block][16].
    var weights: Int
    var bias: Int
    var activation: Activation
    /// The element type of the input and weights as the kernel multiplies them.
    var operands: ElementType = .float32

    /// Packed weight elements per 16-channel block.
    /// int8 operands: the offset of the per-channel float scales [group][block][16] (input scale × each
    /// output channel's weight scale) and the scale of a uint8 output.
    var quantization: (scales: Int, outputScale: Float)?

    /// Input channels the kernel multiplies at once (1 float32, 2 bf16, 4 int8).
    var channelGroup: Int { operands == .float32 ? 1 : 4 / operands.byteCount }
    /// Packed weight elements per 16-channel block.
    var blockWeights: Int { kernel * kernel * ((inPerGroup + channelGroup - 1) / channelGroup * channelGroup) * 16 }

    var reads: [Int] { [input] }
    var readsNarrowValues: Bool { true }
    var runsInt8: Bool { operands == .int8 }
    var weightBytes: Int { groups * blocksPerGroup * blockWeights * operands.byteCount }
    var paddedInput: (value: Int, padding: Int)? { (input, padding) }

    func overRead(of value: Int, layouts: [ValueLayout], kernels: KernelSet) -> Int {
        guard value == input else { return 0 }
        let c = layouts[input].channels
        return ((kernels.xb - 1) * stride * c + kernel * c + 16) * layouts[input].element.byteCount
    }

    func run(_ c: InferenceContext, images: Range<Int>, worker: Int, workers: Int) {
        let input = c.layouts[self.input], output = c.layouts[self.output], arena = c.arena
        let rows = images.count * output.height, firstRow = images.lowerBound * output.height
        output.zeroPadding(rows: imageRows(images, output.height, worker, workers), in: arena)
        // Few rows (late stages at batch 1): split each row's groups too, so every worker has work.
        let chunks = rows >= 4 * workers ? 1 : min(groups, max(1, (4 * workers + rows - 1) / rows))
        let bf16 = operands == .bfloat16 ? c.kernels.bfloat16! : nil, int8 = operands == .int8 ? c.kernels.int8! : nil
        let xb = bf16?.xb ?? int8?.xb ?? c.kernels.convolutionTile(width: output.width), conv = c.kernels.conv, k = kernel, s = stride, blockWeights = self.blockWeights
        let bf16Arena = UnsafeMutableRawPointer(arena).assumingMemoryBound(to: UInt16.self)
        // Narrow bf16 outputs: two 16-channel blocks per kernel call (the next block of the group, or the
        // next group's first when groups are whole blocks), so enough accumulators are in flight.
        let paired = bf16.map { output.width <= $0.xb2 && activation != .sigmoid } ?? false
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
                    let dst = output.index(n, y, x) + g * outPerGroup + b * 16
                    if let bf16 {
                        let w = UnsafeRawPointer(c.weights + weights).assumingMemoryBound(to: UInt16.self) + block * blockWeights
                        let out = UnsafeMutableRawPointer(arena) + dst * outBytes
                        if pair {
                            let co1 = sameGroup ? min(16, outPerGroup - (b + 1) * 16) : min(16, outPerGroup)
                            bf16.conv2(count, co, co1, k, k, inPerGroup, bf16Arena + src, sameGroup ? 0 : inPerGroup, input.rowStride,
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
                                  w, c.weights + q.scales + block * 16, bias,
                                  UnsafeMutableRawPointer(arena) + dst * outBytes, output.channels, activation.rawValue,
                                  outBytes == 1 ? 1 : 0, q.outputScale)
                    } else {
                        conv(count, co, k, k, inPerGroup, arena + src, input.rowStride, input.channels, s * input.channels,
                             c.weights + weights + block * blockWeights, bias, arena + dst, output.channels, activation.rawValue)
                    }
                    x += count
                }
                block += pair ? 2 : 1
            }
        }
    }

    /// W[co][ci][ky][kx] → [group][block][ky][kx][ci' / g][16][g], zero-padded (ci' = ci rounded up to a
    /// multiple of the `group` of input channels a kernel multiplies at once: 1 for float32, 2 for bf16,
    /// 4 for int8); bias → [group][block][16].
    static func pack(_ w: [Float], _ b: [Float], conv: Convolution, blocks: Int, group: Int = 1) -> (weights: [Float], bias: [Float]) {
        let k = conv.kernel, co = conv.outChannelsPerGroup
        let ci = conv.inChannelsPerGroup, depth = (ci + group - 1) / group * group
        var out = [Float](repeating: 0, count: conv.groups * blocks * k * k * depth * 16)
        for g in 0..<conv.groups {
            for o in 0..<co {
                let block = o / 16, lane = o % 16, channel = g * co + o
                for c in 0..<ci {
                    for ky in 0..<k {
                        for kx in 0..<k {
                            let tap = ((g * blocks + block) * k + ky) * k + kx
                            let dst = (tap * depth + c / group * group) * 16 + group * lane + c % group
                            out[dst] = w[((channel * ci + c) * k + ky) * k + kx]
                        }
                    }
                }
            }
        }
        return (out, blockLayout(b, conv: conv, blocks: blocks))
    }

    /// One value per output channel → [group][block][16], zero-padded lanes (biases, int8 scales).
    static func blockLayout(_ values: [Float], conv: Convolution, blocks: Int) -> [Float] {
        let co = conv.outChannelsPerGroup
        var out = [Float](repeating: 0, count: conv.groups * blocks * 16)
        for g in 0..<conv.groups {
            for o in 0..<co { out[(g * blocks + o / 16) * 16 + o % 16] = values[g * co + o] }
        }
        return out
    }
}
