/// The global average pool's forward, the one both plans run: channel means over an image's pixels,
/// summed 16 pixels at a time in Float and then in Double. Each channel's sum runs over the pixels in
/// scan order whatever splits the channels or the images, so inference and training, one thread or
/// several, give the same bits.
enum ChannelMeans {
    /// Floats of the block `image` sums into, for `channels` channels.
    static func blockFloats(channels: Int) -> Int { channels }

    /// out[c] = mean over the `pixels` pixels of channel c, for c in `channels`; `pixel(p)` points at
    /// pixel p's channel 0; `block` holds `channels.count` floats.
    @inline(__always) static func image(_ channels: Range<Int>, pixels: Int, block: UnsafeMutablePointer<Float>,
                                        out: UnsafeMutablePointer<Float>, pixel: (Int) -> UnsafePointer<Float>) {
        let width = channels.count, first = channels.lowerBound
        withUnsafeTemporaryAllocation(of: Double.self, capacity: width) { sums in
            let sums = sums.baseAddress!
            sums.update(repeating: 0, count: width)
            var p = 0
            while p < pixels {
                let stop = min(pixels, p + 16)
                block.update(repeating: 0, count: width)
                while p < stop {
                    let row = pixel(p) + first
                    Vector.chunks(width, { ch in Vector.store(Vector.load(block + ch) + Vector.load(row + ch), block + ch) },
                                  { ch in HalfVector.store(HalfVector.load(block + ch) + HalfVector.load(row + ch), block + ch) },
                                  { ch in block[ch] += row[ch] })
                    p += 1
                }
                for ch in 0..<width { sums[ch] += Double(block[ch]) }
            }
            for ch in 0..<width { out[first + ch] = Float(sums[ch] / Double(pixels)) }
        }
    }
}
