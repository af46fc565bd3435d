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
package final class BatchNormOperation: ReLUFusing, @unchecked Sendable {
    package let node: NodeIndex
    let input: NodeIndex
    package let channels: Int
    let pixels: Int
    let epsilon: Float
    let momentum: Float
    /// Parameter offsets of γ, β, the running mean and the running variance.
    let gamma: Int, beta: Int
    package let runningMean: Int, runningVar: Int
    package var savedForBackward: [NodeIndex] { [input] + (fusedReLU.map { [$0] } ?? []) }
    /// The ReLU node this batch norm computes too, when fused.
    package var fusedReLU: NodeIndex?
    package var result: NodeIndex { fusedReLU ?? node }
    /// The last forward pass's batch mean, 1/σ and unbiased variance, per channel.
    package private(set) var mean: [Float], inverseStd: [Float], unbiasedVariance: [Float]
    /// The last forward pass's per-channel γ/σ and β − μ·γ/σ: y = x · scale + shift.
    private var scale: [Float], shift: [Float]

    init(node: NodeIndex, input: NodeIndex, channels: Int, pixels: Int, epsilon: Float, momentum: Float,
         gamma: Int, beta: Int, runningMean: Int, runningVar: Int) {
        self.node = node
        self.input = input
        self.channels = channels
        self.pixels = pixels
        self.epsilon = epsilon
        self.momentum = momentum
        self.gamma = gamma
        self.beta = beta
        self.runningMean = runningMean
        self.runningVar = runningVar
        mean = Array(repeating: 0, count: channels)
        inverseStd = mean
        unbiasedVariance = mean
        scale = mean
        shift = mean
    }

    package func scratch(batch: Int) -> ScratchNeeds {
        ScratchNeeds(d: ColumnSums.scratchFloats(rows: batch * pixels, columns: channels))
    }

    package func forward(_ c: StepContext) {
        let x = c.values[input], y = c.values[fusedReLU ?? node], channels = channels, relu = fusedReLU != nil
        let rows = c.batch * pixels, m = Double(rows)
        // One pass of sums about a shift K near the mean (the first pixel's values): the mean is
        // K + Σ(x − K)/m and the variance (Σ(x − K)² − (Σ(x − K))²/m)/m, accurate when K is close.
        let pivot = Array(UnsafeBufferPointer(start: x, count: channels))
        let (deviations, squares) = ColumnSums.moments(c, rows: rows, columns: channels, a: x, shiftA: pivot, scratch: c.scratchD)
        let mu = (0..<channels).map { Double(pivot[$0]) + deviations[$0] / m }
        let variance = (0..<channels).map { ch in max(0, (squares[ch] - deviations[ch] * deviations[ch] / m) / m) }
        mean = mu.map { Float($0) }
        inverseStd = variance.map { Float(1 / ($0 + Double(epsilon)).squareRoot()) }
        unbiasedVariance = variance.map { Float($0 * m / max(m - 1, 1)) }
        let g = c.parameters + gamma, b = c.parameters + beta
        scale = (0..<channels).map { g[$0] * inverseStd[$0] }
        shift = (0..<channels).map { b[$0] - mean[$0] * scale[$0] }
        scale.withUnsafeBufferPointer { s in
            shift.withUnsafeBufferPointer { t in
                let s = s.baseAddress!, t = t.baseAddress!
                c.parallel(rows) { r in
                    for p in r {
                        let xr = x + p * channels, yr = y + p * channels
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
                }
            }
        }
    }

    /// Moves the running estimates towards the last batch's statistics (once per step, after the
    /// step is known to be finite).
    package func updateRunningStatistics(_ parameters: UnsafeMutablePointer<Float>) {
        let rm = parameters + runningMean, rv = parameters + runningVar
        for ch in 0..<channels {
            (rm[ch], rv[ch]) = updatedRunningStatistics(rm[ch], rv[ch], ch)
        }
    }

    /// The first channel whose running mean or variance the last batch would make non-finite (a
    /// batch variance past Float's range while the normalised outputs stay finite), with the values
    /// it would get; nil when every channel stays finite.
    package func nonFiniteRunningStatistics(_ parameters: UnsafePointer<Float>) -> (channel: Int, mean: Float, variance: Float)? {
        for ch in 0..<channels {
            let (m, v) = updatedRunningStatistics(parameters[runningMean + ch], parameters[runningVar + ch], ch)
            if !m.isFinite || !v.isFinite { return (ch, m, v) }
        }
        return nil
    }

    private func updatedRunningStatistics(_ rm: Float, _ rv: Float, _ ch: Int) -> (Float, Float) {
        ((1 - momentum) * rm + momentum * mean[ch], (1 - momentum) * rv + momentum * unbiasedVariance[ch])
    }

    package func backward(_ c: StepContext, accumulate: [Bool]) {
        guard let dy = c.grads[fusedReLU ?? node] else { return }
        let x = c.values[input]
        // A fused ReLU gates its gradient: g = x · scale + shift > 0 ? dy : 0.
        let (scale, shift) = (self.scale, self.shift)
        return scale.withUnsafeBufferPointer { scale in shift.withUnsafeBufferPointer { shift in
            let gate = fusedReLU.map { _ in ColumnSums.Gate(scale: scale.baseAddress!, shift: shift.baseAddress!) }
            backward(c, dy: dy, x: x, gate: gate, accumulate: accumulate[0])
        } }
    }

    private func backward(_ c: StepContext, dy: UnsafeMutablePointer<Float>, x: UnsafeMutablePointer<Float>, gate: ColumnSums.Gate?,
                          accumulate add: Bool) {
        let channels = channels, rows = c.batch * pixels
        // Σ g and Σ g · (x − μ) in one pass; dγ = Σ g · x̂ = (Σ g · (x − μ)) / σ.
        let (sumDy, dotDy) = ColumnSums.moments(c, rows: rows, columns: channels, a: dy, b: x, shiftB: mean, gate: gate, scratch: c.scratchD)
        let dBeta = sumDy.map { Float($0) }
        let dGamma = (0..<channels).map { Float(dotDy[$0] * Double(inverseStd[$0])) }
        for ch in 0..<channels {
            c.parameterGrads[gamma + ch] = dGamma[ch]
            c.parameterGrads[beta + ch] = dBeta[ch]
        }
        guard let dx = c.grads[input] else { return }
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
            c.parallel(rows) { r in
                for p in r {
                    let dyr = dy + p * channels, xr = x + p * channels, dxr = dx + p * channels
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
}
