/// Batch norm in training mode, with PyTorch's semantics: the batch's mean and biased variance
/// normalise; the running estimates move by `momentum` towards the mean and the unbiased variance.
/// Per-channel sums are taken in Double over fixed chunks (`ColumnSums`), so results do not depend
/// on the thread count. The backward recomputes x̂ from the saved input, mean and 1/σ.
final class BatchNormOperation: TrainingOperation, @unchecked Sendable {
    let node: NodeIndex
    let input: NodeIndex
    let channels: Int
    let pixels: Int
    let epsilon: Float
    let momentum: Float
    /// Parameter offsets of γ, β, the running mean and the running variance.
    let gamma: Int, beta: Int, runningMean: Int, runningVar: Int
    /// The last forward pass's batch mean, 1/σ and unbiased variance, per channel.
    private(set) var mean: [Float], inverseStd: [Float], unbiasedVariance: [Float]

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
    }

    func scratch(batch: Int) -> ScratchNeeds {
        ScratchNeeds(d: 2 * ColumnSums.scratchDoubles(rows: batch * pixels, columns: channels))
    }

    func forward(_ c: StepContext) {
        let x = c.values[input], y = c.values[node], channels = channels
        let m = Double(c.batch * pixels)
        let rows = c.batch * pixels
        let sums = ColumnSums.sum(c, rows: rows, columns: channels, scratch: c.scratchD) { r, ch in Double(x[r * channels + ch]) }
        let mu = sums.map { $0 / m }
        let squares = ColumnSums.sum(c, rows: rows, columns: channels, scratch: c.scratchD) { r, ch in
            let d = Double(x[r * channels + ch]) - mu[ch]
            return d * d
        }
        let variance = squares.map { $0 / m }
        mean = mu.map { Float($0) }
        inverseStd = variance.map { Float(1 / ($0 + Double(epsilon)).squareRoot()) }
        unbiasedVariance = variance.map { Float($0 * m / max(m - 1, 1)) }
        let g = c.parameters + gamma, b = c.parameters + beta
        let scale = (0..<channels).map { g[$0] * inverseStd[$0] }
        let shift = (0..<channels).map { b[$0] - mean[$0] * scale[$0] }
        c.parallel(c.batch * pixels) { r in
            scale.withUnsafeBufferPointer { s in
                shift.withUnsafeBufferPointer { t in
                    for p in r {
                        let row = p * channels
                        for ch in 0..<channels { y[row + ch] = x[row + ch] * s[ch] + t[ch] }
                    }
                }
            }
        }
    }

    /// Moves the running estimates towards the last batch's statistics (once per step, after the
    /// step is known to be finite).
    func updateRunningStatistics(_ parameters: UnsafeMutablePointer<Float>) {
        let rm = parameters + runningMean, rv = parameters + runningVar
        for ch in 0..<channels {
            rm[ch] = (1 - momentum) * rm[ch] + momentum * mean[ch]
            rv[ch] = (1 - momentum) * rv[ch] + momentum * unbiasedVariance[ch]
        }
    }

    func backward(_ c: StepContext, accumulate: [Bool]) {
        guard let dy = c.grads[node] else { return }
        let x = c.values[input], channels = channels
        let mean = mean, inverseStd = inverseStd
        let m = Float(c.batch * pixels)
        let rows = c.batch * pixels
        let dBeta = ColumnSums.sum(c, rows: rows, columns: channels, scratch: c.scratchD) { r, ch in Double(dy[r * channels + ch]) }
        let xhatDy = ColumnSums.sum(c, rows: rows, columns: channels, scratch: c.scratchD) { r, ch in
            let i = r * channels + ch
            return Double(dy[i] * ((x[i] - mean[ch]) * inverseStd[ch]))
        }
        let dGamma = xhatDy.map { Float($0) }
        let dBetaF = dBeta.map { Float($0) }
        for ch in 0..<channels {
            c.parameterGrads[gamma + ch] = dGamma[ch]
            c.parameterGrads[beta + ch] = dBetaF[ch]
        }
        guard let dx = c.grads[input] else { return }
        let g = c.parameters + gamma, add = accumulate[0]
        let k = (0..<channels).map { g[$0] * inverseStd[$0] }
        let meanDy = dBetaF.map { $0 / m }, meanDyXhat = dGamma.map { $0 / m }
        c.parallel(c.batch * pixels) { r in
            for p in r {
                let row = p * channels
                for ch in 0..<channels {
                    let xhat = (x[row + ch] - mean[ch]) * inverseStd[ch]
                    let v = k[ch] * (dy[row + ch] - meanDy[ch] - xhat * meanDyXhat[ch])
                    dx[row + ch] = add ? dx[row + ch] + v : v
                }
            }
        }
    }
}
