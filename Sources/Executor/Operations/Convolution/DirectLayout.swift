internal import Kernels

/// How a convolution's channels meet the direct-convolution kernels. Each call computes one *unit* of
/// up to 16 output lanes: a 16-channel block of one group (the set's `conv` tile, rows read as
/// stored), or, when every group reads and writes 8 channels and there are several groups, a pair of
/// groups whose channels are interleaved in the row buffer (`conv_pair8`), so all 16 lanes of a
/// vector do useful work instead of 8.
///
/// Per group, `reduced` channels are read (the forward's input, the data gradient's output gradient)
/// and `produced` written; rows as stored have `channels` channels per pixel.
struct DirectLayout {
    let groups: Int, reduced: Int, produced: Int, channels: Int
    /// Whether units are pairs of groups of width 8.
    let paired: Bool

    /// Pairs groups of width 8 when `pairing` allows it (the pair kernel's epilogue has no sigmoid, and
    /// narrow operands have kernels of their own).
    init(groups: Int, reduced: Int, produced: Int, channels: Int, pairing: Bool = true) {
        (self.groups, self.reduced, self.produced, self.channels) = (groups, reduced, produced, channels)
        paired = pairing && Self.pairs(groups: groups, reduced: reduced, produced: produced)
    }

    /// Whether groups can be taken in pairs: every group reads and writes 8 channels, and there are several.
    static func pairs(groups: Int, reduced: Int, produced: Int) -> Bool { reduced == 8 && produced == 8 && groups > 1 }

    /// The float32 kernel that computes a unit.
    func kernel(_ kernels: KernelSet) -> rn_conv_fn { paired ? kernels.pairs8.conv : kernels.conv }

    /// 16-channel blocks per group (unpaired).
    var blocks: Int { (produced + 15) / 16 }
    /// Kernel calls per pixel tile.
    var units: Int { paired ? (groups + 1) / 2 : groups * blocks }
    /// Floats per pixel in a row buffer.
    var pixelFloats: Int { paired ? (groups + 1) / 2 * 16 : channels }
    /// Elements of one unit's packed weights over `taps` taps, reduced channels rounded up to `group`.
    func unitWeights(taps: Int, group: Int = 1) -> Int { taps * ((reduced + group - 1) / group * group) * 16 }

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
    func bufferRow(_ source: UnsafePointer<Float>?, width: Int, ring: Int, kernels: KernelSet, into out: UnsafeMutablePointer<Float>) {
        guard paired else { return Self.ringedRow(source, width: width, channels: channels, ring: ring, into: out) }
        let pf = pixelFloats
        guard let source else { return out.update(repeating: 0, count: (width + 2 * ring) * pf) }
        out.update(repeating: 0, count: ring * pf)
        (out + (ring + width) * pf).update(repeating: 0, count: ring * pf)
        kernels.pairs8.interleave(width, groups, source, channels, out + ring * pf, pf)
    }

    /// One row of `width` pixels of `channels` with `ring` zero pixels on each side (all zeros when
    /// `source` is nil: a row of the padding).
    @inline(__always) static func ringedRow(_ source: UnsafePointer<Float>?, width w: Int, channels ch: Int, ring p: Int,
                                            into out: UnsafeMutablePointer<Float>) {
        guard let source else { return out.update(repeating: 0, count: (w + 2 * p) * ch) }
        out.update(repeating: 0, count: p * ch)
        (out + p * ch).update(from: source, count: w * ch)
        (out + (p + w) * ch).update(repeating: 0, count: p * ch)
    }

    /// Packs units `units`' weights for `taps`: unit `u` at `out + u * unitWeights(taps:group:)`, laid out
    /// [tap][reduced channel / group][16 lanes][group] (`group` reduced channels side by side: 1 for
    /// float32, 2 for bf16, 4 for int8 operands), `value(group, produced, reduced, tap)` per lane and 0
    /// for padding lanes and channels.
    func pack(taps: Int, group: Int = 1, units: Range<Int>, into out: UnsafeMutablePointer<Float>, value: (Int, Int, Int, Int) -> Float) {
        let floats = unitWeights(taps: taps, group: group), depth = (reduced + group - 1) / group * group
        for u in units {
            let dst = out + u * floats
            dst.update(repeating: 0, count: floats)
            for l in 0..<16 {
                guard let (g, j) = lane(u, l) else { continue }
                for t in 0..<taps {
                    for ch in 0..<reduced { dst[(t * depth + ch / group * group) * 16 + group * l + ch % group] = value(g, j, ch, t) }
                }
            }
        }
    }

    /// Packs every unit's weights (`pack(taps:group:units:into:value:)`) among the training workers.
    func pack(_ c: StepContext, taps: Int, group: Int = 1, into out: UnsafeMutablePointer<Float>, value: (Int, Int, Int, Int) -> Float) {
        c.parallel(units) { r in pack(taps: taps, group: group, units: r, into: out, value: value) }
    }

    /// One value per lane of each unit, `value(group, produced channel)`, 0 in padding lanes: a bias, or
    /// int8 output scales.
    func lanes(into out: UnsafeMutablePointer<Float>, value: (Int, Int) -> Float) {
        for u in 0..<units {
            for l in 0..<16 { out[u * 16 + l] = lane(u, l).map(value) ?? 0 }
        }
    }

    /// Floats a kernel call may read past the last pixel of its tile in a buffer whose pixels are
    /// `pixelStride` floats apart: the tiles load every pixel of their full width (at most 14) whatever
    /// the count asked for, and a pixel's pairs or vectors up to 16 floats.
    static func overRead(pixelStride: Int) -> Int { 14 * pixelStride + 16 }

    /// Floats of a buffer of `rows` rows of `width` pixels with a ring of `ring`, read `stride` pixels
    /// apart (room for `overRead`).
    func bufferFloats(rows: Int, width: Int, ring: Int, stride: Int) -> Int {
        rows * (width + 2 * ring) * pixelFloats + Self.overRead(pixelStride: stride * pixelFloats)
    }

    /// Items `rows` rows are split into among `workers` so every worker has work: when rows are few,
    /// each row's units are split into several.
    func chunks(rows: Int, workers: Int) -> Int { Self.chunks(rows: rows, workers: workers, units: units) }

    /// Pieces each of `rows` rows of `units` units is split into: 1 when there are at least four rows
    /// per worker, else enough for about four items per worker, at most one per unit.
    static func chunks(rows: Int, workers: Int, units: Int) -> Int {
        rows >= 4 * workers ? 1 : min(units, max(1, (4 * workers + rows - 1) / rows))
    }

    /// Runs `body(row, units, buffer)` over `rows` rows among the training workers, each with its piece
    /// of the operation's per-worker scratch `buffer` (`units` is the item's share of a row's units).
    func forEachRow(_ c: StepContext, rows: Int, buffer name: String, _ body: (Int, Range<Int>, UnsafeMutablePointer<Float>) -> Void) {
        let units = units, chunks = chunks(rows: rows, workers: c.pool.threads)
        c.parallel(rows * chunks) { range, worker in
            let buffer = c.scratch(name, worker: worker)
            for item in range { body(item / chunks, share(units, item % chunks, chunks), buffer) }
        }
    }
}
