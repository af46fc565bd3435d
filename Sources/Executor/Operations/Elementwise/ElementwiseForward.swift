/// The element-wise forwards both plans run — inference steps over rows, training operations over
/// ranges of elements — so each is written once and gives the same bits in both.
enum ElementwiseForward {
    /// out[i] = a[i] + b[i] (max(·, 0) of it with `relu`) for i in `range`.
    @inline(__always) static func add(_ range: Range<Int>, _ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>,
                                      into out: UnsafeMutablePointer<Float>, relu: Bool) {
        if relu {
            Vector.apply(range, a, b, into: out, accumulate: false) { let v = $0 + $1; return v.replacing(with: 0, where: v .< 0) }
        } else {
            Vector.apply(range, a, b, into: out, accumulate: false) { $0 + $1 }
        }
    }

    /// Each of `pixels` pixels of `channels` channels at `x` times the per-channel `gate` (squeeze-excite).
    @inline(__always) static func scale(pixels: Int, channels: Int, _ x: UnsafePointer<Float>, gate: UnsafePointer<Float>,
                                        into out: UnsafeMutablePointer<Float>) {
        for p in 0..<pixels {
            let row = p * channels
            Vector.chunks(channels, { ch in Vector.store(Vector.load(x + row + ch) * Vector.load(gate + ch), out + row + ch) },
                          { ch in HalfVector.store(HalfVector.load(x + row + ch) * HalfVector.load(gate + ch), out + row + ch) },
                          { ch in out[row + ch] = x[row + ch] * gate[ch] })
        }
    }
}
