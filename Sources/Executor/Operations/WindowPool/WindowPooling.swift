import NetworkIR

/// The window pool's forward, the one both plans run: one output row at a time, each pixel's taps in
/// scan order (taps outside the input skipped by max, counted as zeros by average, divided by k² as
/// PyTorch's default), so inference and training give the same bits.
enum WindowPooling {
    /// Output row `y`: pixel x is written at `output(x)`; input pixel (iy, ix) of the `height` ×
    /// `width` input is read at `input(iy, ix)`.
    @inline(__always) static func row(_ y: Int, window: PoolingWindow, isMax: Bool, outputWidth: Int, channels: Int, height: Int, width: Int,
                                      input: (Int, Int) -> UnsafePointer<Float>, output: (Int) -> UnsafeMutablePointer<Float>) {
        let (k, s, p) = (window.kernel, window.stride, window.padding), scale = 1 / Float(k * k)
        for x in 0..<outputWidth {
            let out = output(x)
            out.update(repeating: isMax ? -.infinity : 0, count: channels)
            for ky in 0..<k {
                let iy = y * s - p + ky
                guard iy >= 0, iy < height else { continue }
                for kx in 0..<k {
                    let ix = x * s - p + kx
                    guard ix >= 0, ix < width else { continue }
                    let tap = input(iy, ix)
                    if isMax {
                        for ch in 0..<channels where tap[ch] > out[ch] || tap[ch].isNaN { out[ch] = tap[ch] }
                    } else {
                        for ch in 0..<channels { out[ch] += tap[ch] }
                    }
                }
            }
            if !isMax { for ch in 0..<channels { out[ch] *= scale } }
        }
    }
}
