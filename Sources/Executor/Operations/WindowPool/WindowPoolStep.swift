import NetworkIR

/// Max or average pooling over output rows; taps outside the input are skipped (max) or count as
/// zeros (average, divided by k², PyTorch's default), so no padded copy is needed.
struct WindowPoolStep: InferenceStep {
    var input: Int
    var output: Int
    var window: PoolingWindow
    var isMax: Bool

    var reads: [Int] { [input] }

    func run(_ c: InferenceContext, images: Range<Int>, worker: Int, workers: Int) {
        let src = c.layouts[input], dst = c.layouts[output], arena = c.arena
        let rows = imageRows(images, dst.height, worker, workers)
        dst.zeroPadding(rows: rows, in: arena)
        let (k, s, p, channels) = (window.kernel, window.stride, window.padding, dst.channels)
        let scale = 1 / Float(k * k)
        for row in rows {
            let n = row / dst.height, y = row % dst.height
            for x in 0..<dst.width {
                let out = arena + dst.index(n, y, x)
                out.update(repeating: isMax ? -.infinity : 0, count: channels)
                for ky in 0..<k {
                    let iy = y * s - p + ky
                    guard iy >= 0, iy < src.height else { continue }
                    for kx in 0..<k {
                        let ix = x * s - p + kx
                        guard ix >= 0, ix < src.width else { continue }
                        let tap = arena + src.index(n, iy, ix)
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
}
