internal import Kernels

/// How a training convolution's channels meet the direct-convolution kernels. Each call computes one
/// *unit* of up to 16 output lanes: a 16-channel block of one group (the set's `conv` tile, rows read
/// as stored), or, when every group reads and writes 8 channels and there are several groups, a pair
/// of groups whose channels are interleaved in the row buffer (`conv_pair8`), so all 16 lanes of a
/// vector do useful work instead of 8.
///
/// Per group, `reduced` channels are read (the forward's input, the data gradient's output gradient)
/// and `produced` written; rows as stored have `channels` channels per pixel.
struct DirectLayout {
    let groups: Int, reduced: Int, produced: Int, channels: Int
    /// Whether units are pairs of groups of width 8.
    let paired: Bool
    let kernel: rn_conv_fn
    let interleave: rn_interleave_pairs8_fn

    init(groups: Int, reduced: Int, produced: Int, channels: Int, kernels: KernelSet, training: UnsafePointer<rn_training_kernels>) {
        (self.groups, self.reduced, self.produced, self.channels) = (groups, reduced, produced, channels)
        paired = Self.pairs(groups: groups, reduced: reduced, produced: produced)
        kernel = paired ? training.pointee.conv_pair8! : kernels.conv
        interleave = training.pointee.interleave_pairs8!
    }

    /// Whether groups are taken in pairs: every group reads and writes 8 channels, and there are several.
    static func pairs(groups: Int, reduced: Int, produced: Int) -> Bool { reduced == 8 && produced == 8 && groups > 1 }

    /// Floats per pixel in a row buffer (the layout's `pixelFloats`), known before kernels are chosen.
    static func pixelFloats(groups: Int, reduced: Int, produced: Int, channels: Int) -> Int {
        pairs(groups: groups, reduced: reduced, produced: produced) ? (groups + 1) / 2 * 16 : channels
    }

    /// 16-channel blocks per group (unpaired).
    var blocks: Int { (produced + 15) / 16 }
    /// Kernel calls per pixel tile.
    var units: Int { paired ? (groups + 1) / 2 : groups * blocks }
    /// Floats per pixel in a row buffer.
    var pixelFloats: Int { Self.pixelFloats(groups: groups, reduced: reduced, produced: produced, channels: channels) }
    /// Floats of one unit's packed weights over `taps` taps.
    func unitWeights(taps: Int) -> Int { taps * reduced * 16 }

    /// The group and produced channel that lane `lane` of unit `u` computes; nil for a padding lane.
    func lane(_ u: Int, _ lane: Int) -> (group: Int, channel: Int)? {
        if paired {
            let g = 2 * u + lane % 2
            return g < groups ? (g, lane / 2) : nil
        }
        let j = (u % blocks) * 16 + lane
        return j < produced ? (u / blocks, j) : nil
    }
    /// Offset of unit `u`'s first reduced channel in a buffered pixel.
    func source(_ u: Int) -> Int { paired ? u * 16 : (u / blocks) * reduced }
    /// Offset of unit `u`'s first produced channel in an output pixel.
    func destination(_ u: Int) -> Int { paired ? u * 16 : (u / blocks) * produced + (u % blocks) * 16 }
    /// Channels unit `u` writes.
    func outputs(_ u: Int) -> Int { paired ? min(16, (groups - 2 * u) * 8) : min(16, produced - (u % blocks) * 16) }

    /// One stored row of `width` pixels into a buffer row with `ring` zero pixels on each side (all
    /// zeros when `source` is nil); paired, each pixel's pairs of groups interleaved channel by channel.
    func bufferRow(_ source: UnsafePointer<Float>?, width: Int, ring: Int, into out: UnsafeMutablePointer<Float>) {
        guard paired else {
            return ConvolutionOperation.ringedRow(source, width: width, channels: channels, ring: ring, into: out)
        }
        let pf = pixelFloats
        guard let source else { return out.update(repeating: 0, count: (width + 2 * ring) * pf) }
        out.update(repeating: 0, count: ring * pf)
        (out + (ring + width) * pf).update(repeating: 0, count: ring * pf)
        interleave(width, groups, source, channels, out + ring * pf, pf)
    }

    /// Packs every unit's weights for `taps`: unit `u` at `out + u * unitWeights(taps:)`, laid out
    /// [tap][reduced channel][16 lanes], `value(group, produced, reduced, tap)` per lane (0 for padding).
    func pack(_ c: StepContext, taps: Int, into out: UnsafeMutablePointer<Float>, value: (Int, Int, Int, Int) -> Float) {
        let floats = unitWeights(taps: taps)
        c.parallel(units) { r in
            for u in r {
                let dst = out + u * floats
                for l in 0..<16 {
                    guard let (g, j) = lane(u, l) else {
                        for i in 0..<(taps * reduced) { dst[i * 16 + l] = 0 }
                        continue
                    }
                    for t in 0..<taps { for ch in 0..<reduced { dst[(t * reduced + ch) * 16 + l] = value(g, j, ch, t) } }
                }
            }
        }
    }

    /// Floats a kernel call may read past the last pixel of its tile in a buffer whose pixels are
    /// `pixelStride` floats apart: the tiles load every pixel of their full width (at most 14) whatever
    /// the count asked for, and a pixel's pairs or vectors up to 16 floats.
    static func overRead(pixelStride: Int) -> Int { 14 * pixelStride + 16 }

    /// Runs `body(row, units, buffer)` over `rows` rows among the workers, each with its piece of the
    /// operation's per-worker scratch `buffer`; when rows are few, each row's units are split into
    /// several items so every worker has work (`units` is the item's share).
    func forEachRow(_ c: StepContext, rows: Int, buffer name: String, _ body: (Int, Range<Int>, UnsafeMutablePointer<Float>) -> Void) {
        let threads = c.pool.threads, units = units
        let chunks = rows >= 4 * threads ? 1 : min(units, max(1, (4 * threads + rows - 1) / rows))
        c.parallel(rows * chunks) { range, worker in
            let buffer = c.scratch(name, worker: worker)
            for item in range { body(item / chunks, share(units, item % chunks, chunks), buffer) }
        }
    }
}
