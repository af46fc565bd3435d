extension TrainingRecipe {
    /// AdamW's settings (Loshchilov & Hutter, "Decoupled Weight Decay Regularization"), with PyTorch's
    /// defaults. Set `TrainingRecipe.adamW` to train with it instead of SGD: fine-tuning recipes
    /// usually do, with a base rate near 1e-3 and weight decay near 0.05.
    public struct AdamW: Hashable, Sendable, Codable {
        /// Decay of the running mean of gradients (PyTorch's `betas[0]`).
        public var beta1: Double
        /// Decay of the running mean of squared gradients (`betas[1]`).
        public var beta2: Double
        /// Added to the root of the second moment before dividing (`eps`).
        public var epsilon: Double

        /// PyTorch's defaults: betas (0.9, 0.999), eps 1e-8.
        public init(beta1: Double = 0.9, beta2: Double = 0.999, epsilon: Double = 1e-8) {
            self.beta1 = beta1
            self.beta2 = beta2
            self.epsilon = epsilon
        }

        /// Checks the values a run cannot use.
        func validate() throws(TrainingError) {
            for (name, beta) in [("beta1", beta1), ("beta2", beta2)] where !(beta.isFinite && (0..<1).contains(beta)) {
                throw TrainingError(.invalidArgument, "AdamW's \(name) must be in 0..<1 (got \(beta))")
            }
            guard epsilon.isFinite && epsilon > 0 else { throw TrainingError(.invalidArgument, "AdamW's epsilon must be positive (got \(epsilon))") }
        }

        /// One element's update at step `t` (1-based), as `torch.optim.AdamW` (single-tensor) computes
        /// it: p ← p·(1 − lr·wd); m ← m + (1 − β1)(g − m); v ← β2·v + (1 − β2)·g²;
        /// p ← p − lr / (1 − β1ᵗ) · m / (√v / √(1 − β2ᵗ) + ε). `Step` holds what is the same for every element.
        struct Step {
            let keep: Float, oneMinusBeta1: Float, beta2: Float, oneMinusBeta2: Float, stepSize: Float, correction2: Float, epsilon: Float

            init(_ settings: AdamW, learningRate: Double, weightDecay: Double, t: Int) {
                keep = Float(1 - learningRate * weightDecay)
                oneMinusBeta1 = Float(1 - settings.beta1)
                beta2 = Float(settings.beta2)
                oneMinusBeta2 = Float(1 - settings.beta2)
                stepSize = Float(learningRate / (1 - pow(settings.beta1, Double(t))))
                correction2 = Float((1 - pow(settings.beta2, Double(t))).squareRoot())
                epsilon = Float(settings.epsilon)
            }

            @inline(__always)
            func apply(_ p: inout Float, _ g: Float, _ m: inout Float, _ v: inout Float) {
                p *= keep
                m += oneMinusBeta1 * (g - m)
                v = v * beta2 + oneMinusBeta2 * g * g
                p -= stepSize * (m / (v.squareRoot() / correction2 + epsilon))
            }
        }
    }
}

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif
