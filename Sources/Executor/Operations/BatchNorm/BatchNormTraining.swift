/// Batch norm in training mode, with PyTorch's semantics: the batch's mean and biased variance
/// normalise; the running estimates move by `momentum` towards the mean and the unbiased variance.
/// Per-channel sums are taken in Double over fixed chunks (`ColumnSums`), so results do not depend
/// on the thread count. The backward recomputes x̂ from the saved input, mean and 1/σ.
///
/// When the training compiler fuses the ReLU that follows (`fusedReLU`), the forward writes
/// max(y, 0) straight into the ReLU's value and the backward gates the ReLU's gradient where
/// x · scale + shift > 0, recomputed from the input it reads anyway with the forward's own
/// arithmetic (so exactly where that output is positive): the batch norm's own output and gradient
/// are never stored, and the ReLU's output is not read again.
struct BatchNormOperation: TracksRunningStatistics {
    let node: NodeIndex
    let input: NodeIndex
    let channels: Int
    let pixels: Int
    let epsilon: Float
    let momentum: Float
    /// Parameter offsets of γ, β, the running mean and the running variance.
    let gamma: Int, beta: Int
    let runningMean: Int, runningVar: Int
    var savedForBackward: [NodeIndex] { [input] + (fusedReLU.map { [$0] } ?? []) }
    /// The ReLU node this batch norm computes too, when fused (`FuseReLUInTraining`).
    let fusedReLU: NodeIndex?
    var result: NodeIndex { fusedReLU ?? node }

    /// The forward's statistics, kept for the backward and the running estimates: the batch's mean,
    /// 1/σ and unbiased variance, and γ/σ and β − μ·γ/σ (y = x · scale + shift), per channel.
    var stateFloats: Int { 5 * channels }
    private func statistic(_ state: UnsafePointer<Float>, _ i: Int) -> UnsafePointer<Float> { state + i * channels }

    func scratch(batch: Int, kernels: KernelSet) -> [ScratchRequest] {
        ColumnSums.scratch(rows: batch * pixels, columns: channels, in: .forward) + ColumnSums.scratch(rows: batch * pixels, columns: channels, in: .backward)
    }

    func batchStatistics(state: UnsafePointer<Float>) -> (mean: UnsafeBufferPointer<Float>, variance: UnsafeBufferPointer<Float>) {
        (UnsafeBufferPointer(start: statistic(state, 0), count: channels), UnsafeBufferPointer(start: statistic(state, 2), count: channels))
    }

    func updatedRunningStatistics(_ parameters: UnsafePointer<Float>, state: UnsafePointer<Float>) -> [(channel: Int, mean: Float, variance: Float)] {
        let mean = statistic(state, 0), variance = statistic(state, 2)
        return (0..<channels).map { ch in
            (ch, (1 - momentum) * parameters[runningMean + ch] + momentum * mean[ch],
             (1 - momentum) * parameters[runningVar + ch] + momentum * variance[ch])
        }
    }

    func forward(_ c: StepContext) {
        let x = c.values[input], channels = channels, relu = fusedReLU != nil
        let rows = c.batch * pixels, m = Double(rows)
        // One pass of sums about a shift K near the mean (the first pixel's values): the mean is
        // K + Σ(x − K)/m and the variance (Σ(x − K)² − (Σ(x − K))²/m)/m, accurate when K is close.
        let pivot = Array(UnsafeBufferPointer(start: x, count: channels))
        let (deviations, squares) = ColumnSums.moments(c, rows: rows, columns: channels, a: x, shiftA: pivot)
        let mean = c.state, inverseStd = c.state + channels, unbiased = c.state + 2 * channels
        let scale = c.state + 3 * channels, shift = c.state + 4 * channels
        let g = c.parameters + gamma, b = c.parameters + beta
        for ch in 0..<channels {
            let mu = Double(pivot[ch]) + deviations[ch] / m
            let variance = max(0, (squares[ch] - deviations[ch] * deviations[ch] / m) / m)
            mean[ch] = Float(mu)
            inverseStd[ch] = Float(1 / (variance + Double(epsilon)).squareRoot())
            unbiased[ch] = Float(variance * m / max(m - 1, 1))
            scale[ch] = g[ch] * inverseStd[ch]
            shift[ch] = b[ch] - mean[ch] * scale[ch]
        }
        let s = UnsafePointer(scale), t = UnsafePointer(shift)
        // Row p of the output into yr (float32; `RowWriter` stores it as the program stores the value).
        func normalize(_ p: Int, into yr: UnsafeMutablePointer<Float>) {
            let xr = x + p * channels
            // The same products and sums as the backward's gate (`Vector` lanes, then scalars).
            Vector.chunks(channels, { ch in
                let v = Vector.load(xr + ch) * Vector.load(s + ch) + Vector.load(t + ch)
                Vector.store(relu ? v.replacing(with: 0, where: v .< 0) : v, yr + ch)
            }, { ch in
                let v = HalfVector.load(xr + ch) * HalfVector.load(s + ch) + HalfVector.load(t + ch)
                HalfVector.store(relu ? v.replacing(with: 0, where: v .< 0) : v, yr + ch)
            }, { ch in
                let v = xr[ch] * s[ch] + t[ch]
                yr[ch] = relu && v < 0 ? 0 : v
            })
        }
        RowWriter.write(c, into: c.values[result], bfloat16: c.storedAsBFloat16[result], rows: rows, channels: channels, normalize)
    }

    /// Its result may be stored as bf16: the backward recomputes the ReLU's gate from the input.
    var writesBFloat16: Bool { true }
    /// Its input's gradient may be stored as bf16 (when it writes it alone).
    var writesBFloat16Gradient: Bool { true }

    func backward(_ c: StepContext, accumulate: [Bool]) {
        guard let dy = c.grads[fusedReLU ?? node] else { return }
        // A fused ReLU gates its gradient: g = x · scale + shift > 0 ? dy : 0.
        let gate = fusedReLU.map { _ in ColumnSums.Gate(scale: statistic(c.state, 3), shift: statistic(c.state, 4)) }
        backward(c, dy: dy, x: c.values[input], gate: gate, accumulate: accumulate[0])
    }

    private func backward(_ c: StepContext, dy: UnsafeMutablePointer<Float>, x: UnsafeMutablePointer<Float>, gate: ColumnSums.Gate?,
                          accumulate add: Bool) {
        let channels = channels, rows = c.batch * pixels
        // Σ g and Σ g · (x − μ) in one pass; dγ = Σ g · x̂ = (Σ g · (x − μ)) / σ.
        let mean = statistic(c.state, 0), inverseStd = statistic(c.state, 1)
        let (sumDy, dotDy) = ColumnSums.moments(c, rows: rows, columns: channels, a: dy, b: x,
                                                shiftB: Array(UnsafeBufferPointer(start: mean, count: channels)), gate: gate)
        let dBeta = sumDy.map { Float($0) }
        let dGamma = (0..<channels).map { Float(dotDy[$0] * Double(inverseStd[$0])) }
        for ch in 0..<channels {
            c.parameterGrads[gamma + ch] = dGamma[ch]
            c.parameterGrads[beta + ch] = dBeta[ch]
        }
        guard let dx = c.grads[input] else { return }
        // A bf16 gradient has this batch norm as its only writer (`TrainingProgram`), so it is never added to.
        assert(!add || !c.gradientStoredAsBFloat16[input], "a bf16 input gradient is written by one operation")
        // dx = γ/σ · (dy − Σdy/m − x̂ · Σ(dy·x̂)/m) = k·dy + d − s·(x − μ) per channel.
        let g = c.parameters + gamma, m = Float(rows)
        var coefficients = [Float](repeating: 0, count: 4 * channels)
        for ch in 0..<channels {
            let k = g[ch] * inverseStd[ch]
            coefficients[ch] = k
            coefficients[channels + ch] = -k * dBeta[ch] / m
            coefficients[2 * channels + ch] = k * inverseStd[ch] * dGamma[ch] / m
            coefficients[3 * channels + ch] = mean[ch]
        }
        coefficients.withUnsafeBufferPointer { co in
            let k = co.baseAddress!, d = k + channels, slope = k + 2 * channels, mu = k + 3 * channels
            RowWriter.write(c, into: dx, bfloat16: c.gradientStoredAsBFloat16[input], rows: rows, channels: channels) { p, dxr in
                let dyr = dy + p * channels, xr = x + p * channels
                Vector.chunks(channels, { ch in
                    var g = Vector.load(dyr + ch)
                    if let gate { g.replace(with: 0, where: Vector.load(xr + ch) * Vector.load(gate.scale + ch) + Vector.load(gate.shift + ch) .<= 0) }
                    var v = Vector.load(k + ch) * g + Vector.load(d + ch) - Vector.load(slope + ch) * (Vector.load(xr + ch) - Vector.load(mu + ch))
                    if add { v += Vector.load(dxr + ch) }
                    Vector.store(v, dxr + ch)
                }, { ch in
                    var g = HalfVector.load(dyr + ch)
                    if let gate {
                        g.replace(with: 0, where: HalfVector.load(xr + ch) * HalfVector.load(gate.scale + ch) + HalfVector.load(gate.shift + ch) .<= 0)
                    }
                    var v = HalfVector.load(k + ch) * g + HalfVector.load(d + ch) - HalfVector.load(slope + ch) * (HalfVector.load(xr + ch) - HalfVector.load(mu + ch))
                    if add { v += HalfVector.load(dxr + ch) }
                    HalfVector.store(v, dxr + ch)
                }, { ch in
                    let open = gate.map { xr[ch] * $0.scale[ch] + $0.shift[ch] > 0 } ?? true
                    let v = k[ch] * (open ? dyr[ch] : 0) + d[ch] - slope[ch] * (xr[ch] - mu[ch])
                    dxr[ch] = add ? dxr[ch] + v : v
                })
            }
        }
    }
}
