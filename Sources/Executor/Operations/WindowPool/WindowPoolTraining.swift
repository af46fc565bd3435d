import NetworkIR

/// Max or average pooling in training. The backward sends a max window's gradient to its first
/// largest input in scan order (as PyTorch's CPU kernel does) and spreads an average window's over
/// its k² taps; windows overlap, so each image is one task, scattered in a fixed order.
struct WindowPoolOperation: TrainingOperation {
    let node: NodeIndex
    let input: NodeIndex
    let inShape: FeatureShape
    let outShape: FeatureShape
    let window: PoolingWindow
    let isMax: Bool
    var savedForBackward: [NodeIndex] { isMax ? [input] : [] }

    /// Each worker's running maximum and its position per channel, for a max window's backward.
    func scratch(batch: Int, kernels: KernelSet) -> [ScratchRequest] {
        isMax ? [ScratchRequest("window", floats: 3 * inShape.channels, in: .backward, perWorker: true)] : []
    }

    /// Calls `tap(outputPixel, inputPixel)` for every in-bounds tap of image `n`'s windows, in scan order.
    @inline(__always) private func forEachTap(image n: Int, _ tap: (Int, Int) -> Void) {
        let (k, s, p) = (window.kernel, window.stride, window.padding)
        for y in 0..<outShape.height {
            for x in 0..<outShape.width {
                let o = (n * outShape.height + y) * outShape.width + x
                for ky in 0..<k {
                    let iy = y * s - p + ky
                    guard iy >= 0, iy < inShape.height else { continue }
                    for kx in 0..<k {
                        let ix = x * s - p + kx
                        guard ix >= 0, ix < inShape.width else { continue }
                        tap(o, (n * inShape.height + iy) * inShape.width + ix)
                    }
                }
            }
        }
    }

    func forward(_ c: StepContext) {
        let x = c.values[input], y = c.values[node], channels = inShape.channels
        let (h, w, ho, wo) = (inShape.height, inShape.width, outShape.height, outShape.width)
        c.parallel(c.batch * ho) { rows in
            for row in rows {
                let n = row / ho
                WindowPooling.row(row % ho, window: window, isMax: isMax, outputWidth: wo, channels: channels, height: h, width: w,
                                  input: { UnsafePointer(x + ((n * h + $0) * w + $1) * channels) }, output: { y + (row * wo + $0) * channels })
            }
        }
    }

    func backward(_ c: StepContext, accumulate: [Bool]) {
        guard let dx = c.grads[input], let dy = c.grads[node] else { return }
        let x = c.values[input], channels = inShape.channels, isMax = isMax, add = accumulate[0]
        let scale = 1 / Float(window.kernel * window.kernel)
        let inPixels = inShape.height * inShape.width
        c.parallel(c.batch) { images, worker in
            for n in images {
                if !add { (dx + n * inPixels * channels).update(repeating: 0, count: inPixels * channels) }
                if !isMax {
                    forEachTap(image: n) { o, i in
                        let g = dy + o * channels, d = dx + i * channels
                        for ch in 0..<channels { d[ch] += g[ch] * scale }
                    }
                    continue
                }
                // Per channel: the window's largest value so far and the input pixel holding it.
                let best = c.scratch("window", worker: worker)
                let arg = UnsafeMutableRawPointer(best + channels).bindMemory(to: Int.self, capacity: channels)
                // One window at a time: find each channel's first maximum, then route the gradient.
                var current = -1
                func flush() {
                    guard current >= 0 else { return }
                    let g = dy + current * channels
                    for ch in 0..<channels { dx[arg[ch] * channels + ch] += g[ch] }
                }
                forEachTap(image: n) { o, i in
                    if o != current {
                        flush()
                        current = o
                        for ch in 0..<channels { best[ch] = -.infinity; arg[ch] = i }
                    }
                    let tap = x + i * channels
                    for ch in 0..<channels where tap[ch] > best[ch] || tap[ch].isNaN { best[ch] = tap[ch]; arg[ch] = i }
                }
                flush()
            }
        }
    }
}
