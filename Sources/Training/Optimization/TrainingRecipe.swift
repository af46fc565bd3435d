import Executor
import NetworkIR

/// How a network is trained: pycls's optimizer, schedule, regularisation and EMA settings, with
/// pycls's defaults (`pycls/core/config.py`). Field names follow pycls's keys in Swift spelling.
public struct TrainingRecipe: Hashable, Sendable, Codable {
    /// How the learning rate changes over epochs (pycls `OPTIM.LR_POLICY`).
    public enum Schedule: Hashable, Sendable, Codable {
        /// Half a cosine from the base rate to `minLearningRate` × base (the default).
        case cosine
        /// Linear from the base rate to `minLearningRate` × base.
        case linear
        /// Exponential: `minLearningRate`^(epoch / epochs); needs `minLearningRate` > 0.
        case exponential
        /// `multiplier`^k after the k-th of `steps` (epochs; the first must be 0).
        case steps([Double], multiplier: Double)
        /// The base rate throughout.
        case constant
    }

    /// Base learning rate (`OPTIM.BASE_LR`).
    public var learningRate: Double = 0.1
    /// Final rate as a fraction of the base rate (`OPTIM.MIN_LR`).
    public var minLearningRate: Double = 0
    /// The schedule (`OPTIM.LR_POLICY`).
    public var schedule: Schedule = .cosine
    /// Epochs of the schedule (`OPTIM.MAX_EPOCH`).
    public var epochs: Int = 200
    /// Set the rate every iteration from the fractional epoch, instead of once per epoch as pycls does.
    public var perIterationSchedule = false
    /// SGD momentum (`OPTIM.MOMENTUM`).
    public var momentum: Double = 0.9
    /// SGD dampening (`OPTIM.DAMPENING`).
    public var dampening: Double = 0
    /// Nesterov momentum (`OPTIM.NESTEROV`).
    public var nesterov = true
    /// AdamW instead of SGD when set (PyTorch's `torch.optim.AdamW`); momentum, dampening and nesterov
    /// are then unused, and the weight decays below (per group, as for SGD) are AdamW's decoupled ones.
    /// Nil, the default, is pycls's SGD. (Optional so that recipes recorded before it existed still read.)
    public var adamW: AdamW? = nil
    /// The arithmetic of convolutions and linear layers: nil or `.float32`, the default, trains in
    /// float32; `.bfloat16` is mixed precision as PyTorch's `torch.autocast("cpu", dtype=torch.bfloat16)`
    /// does it — their forwards, data gradients and weight gradients multiply bf16 operands with float32
    /// sums, while batch norm, the loss, the optimizer, the EMA and the master weights stay float32 (no
    /// loss scaling: bf16 has float32's exponent range). A CPU without bf16 dot products trains in
    /// float32 (`Trainer.precision` says which ran). `.int8` is for inference only.
    public var precision: Precision? = nil
    /// L2 weight decay (`OPTIM.WEIGHT_DECAY`).
    public var weightDecay: Double = 5e-4
    /// Weight decay of batch-norm parameters when set (`BN.USE_CUSTOM_WEIGHT_DECAY` / `BN.CUSTOM_WEIGHT_DECAY`).
    public var batchNormWeightDecay: Double? = nil
    /// Weight decay of biases when set (`OPTIM.BIAS_USE_CUSTOM_WEIGHT_DECAY` / `OPTIM.BIAS_CUSTOM_WEIGHT_DECAY`).
    public var biasWeightDecay: Double? = nil
    /// Epochs of linear warmup (`OPTIM.WARMUP_EPOCHS`).
    public var warmupEpochs: Double = 0
    /// Rate factor at the start of warmup (`OPTIM.WARMUP_FACTOR`).
    public var warmupFactor: Double = 0.1
    /// Label smoothing (`TRAIN.LABEL_SMOOTHING`).
    public var labelSmoothing: Double = 0
    /// Mixup's Beta parameter; 0 turns it off (`TRAIN.MIXUP_ALPHA`).
    public var mixupAlpha: Double = 0
    /// Cutmix's Beta parameter; 0 turns it off (`TRAIN.CUTMIX_ALPHA`).
    public var cutmixAlpha: Double = 0
    /// EMA rate per image and epoch (`OPTIM.EMA_ALPHA`); 0 turns the EMA off.
    public var emaAlpha: Double = 1e-5
    /// Iterations between EMA updates (`OPTIM.EMA_UPDATE_PERIOD`); 0 turns the EMA off.
    public var emaUpdatePeriod: Int = 32
    /// Batch-norm momentum, PyTorch convention (`BN.MOM`).
    public var batchNormMomentum: Double = 0.1
    /// Recompute batch-norm statistics after each epoch (`BN.USE_PRECISE_STATS`).
    public var preciseBatchNorm = true
    /// Training images for precise statistics (`BN.NUM_SAMPLES_PRECISE`).
    public var preciseBatchNormSamples = 8192
    /// Start each residual branch's last batch norm at γ = 0 (`BN.ZERO_INIT_FINAL_GAMMA`).
    public var zeroInitFinalGamma = false

    /// pycls's defaults.
    public init() {}

    /// Whether the EMA of the weights is kept.
    public var usesEMA: Bool { emaAlpha > 0 && emaUpdatePeriod > 0 }

    /// pycls's EMA rate for one update in `epoch` with batches of `batch`: min(1, EMA_ALPHA · batch /
    /// epochs · period), and 1 during warmup (the EMA then follows the model).
    func emaRate(epoch: Int, batch: Int) -> Double {
        Double(epoch) < warmupEpochs ? 1 : min(1, emaAlpha * Double(batch) / Double(epochs) * Double(emaUpdatePeriod))
    }

    /// What a run of `iterationsPerEpoch` steps of `batch` images per epoch does to the EMA: its updates
    /// after warmup (one every `emaUpdatePeriod` iterations of each epoch, pycls's rule), and the share
    /// of the weights it started from — the initial ones, or warmup's last — still in it at the end.
    /// pycls's EMA_ALPHA of 1e-5 suits ImageNet-length runs; on short runs the share stays near 1 and
    /// the EMA's errors are those of a barely trained network. Nil without an EMA.
    public func emaReach(batch: Int, iterationsPerEpoch: Int) -> EMAReach? {
        guard usesEMA, iterationsPerEpoch > 0 else { return nil }
        let perEpoch = (iterationsPerEpoch + emaUpdatePeriod - 1) / emaUpdatePeriod
        var updates = 0, share = 1.0
        for epoch in 0..<epochs {
            if Double(epoch) < warmupEpochs {
                (updates, share) = (0, 1)   // the EMA follows the model: it starts again from warmup's weights
            } else {
                updates += perEpoch
                share *= pow(1 - emaRate(epoch: epoch, batch: batch), Double(perEpoch))
            }
        }
        // The EMA_ALPHA under which those updates would leave 1% of the starting weights.
        let suggested = (1 - pow(0.01, 1 / Double(max(1, updates)))) * Double(epochs) / (Double(batch) * Double(emaUpdatePeriod))
        return EMAReach(updates: updates, startingShare: share, suggestedAlpha: suggested)
    }

    /// Checks the values a run cannot use.
    public func validate() throws(TrainingError) {
        func check(_ ok: Bool, _ message: String) throws(TrainingError) { if !ok { throw TrainingError(.invalidArgument, message) } }
        try check(learningRate.isFinite && learningRate >= 0, "learning rate must be finite and non-negative (got \(learningRate))")
        try check(epochs >= 1, "epochs must be at least 1 (got \(epochs))")
        try check(momentum.isFinite && momentum >= 0, "momentum must be non-negative (got \(momentum))")
        try check(dampening.isFinite && (0...1).contains(dampening), "dampening must be in 0...1 (got \(dampening))")
        try check(!nesterov || (momentum > 0 && dampening == 0), "nesterov momentum needs momentum > 0 and zero dampening")
        for (name, value) in [("weight decay", weightDecay), ("batch-norm weight decay", batchNormWeightDecay ?? 0),
                              ("bias weight decay", biasWeightDecay ?? 0), ("warmup epochs", warmupEpochs),
                              ("warmup factor", warmupFactor), ("mixup alpha", mixupAlpha), ("cutmix alpha", cutmixAlpha),
                              ("EMA alpha", emaAlpha), ("minimum learning rate", minLearningRate)] {
            try check(value.isFinite && value >= 0, "\(name) must be finite and non-negative (got \(value))")
        }
        try check((0..<1).contains(labelSmoothing), "label smoothing must be in 0..<1 (got \(labelSmoothing))")
        try check((0...1).contains(batchNormMomentum), "batch-norm momentum must be in 0...1 (got \(batchNormMomentum))")
        try check(emaUpdatePeriod >= 0, "EMA update period must be non-negative (got \(emaUpdatePeriod))")
        try adamW?.validate()
        try check(precision != .int8, "int8 is an inference precision: train in fp32 or bf16")
        if case .exponential = schedule { try check(minLearningRate > 0, "the exponential schedule needs a minimum learning rate > 0") }
        if case .steps(let steps, let multiplier) = schedule {
            try check(steps.first == 0, "the steps schedule's first step must be epoch 0 (as pycls requires)")
            try check(zip(steps, steps.dropFirst()).allSatisfy { $0 < $1 }, "the steps schedule's epochs must increase")
            try check(multiplier.isFinite && multiplier > 0, "the steps schedule's multiplier must be positive")
        }
    }

    /// The learning rate at (fractional) `epoch`, as pycls's `get_epoch_lr`: the schedule's factor
    /// times the base rate, times the warmup factor during warmup.
    public func learningRate(atEpoch epoch: Double) -> Double {
        let e = Double(epochs), m = minLearningRate
        var factor: Double
        switch schedule {
        case .cosine: factor = (1 - m) * 0.5 * (1 + cos(Double.pi * epoch / e)) + m
        case .linear: factor = (1 - m) * (1 - epoch / e) + m
        case .exponential: factor = pow(m, epoch / e)
        case .steps(let steps, let multiplier):
            factor = pow(multiplier, Double(steps.lastIndex(where: { $0 <= epoch }) ?? 0))
        case .constant: factor = 1
        }
        if epoch < warmupEpochs {
            let a = epoch / warmupEpochs
            factor *= warmupFactor * (1 - a) + a
        }
        return learningRate * factor
    }

    /// Weight decay for a tensor of `role`, by pycls's groups: batch-norm scales and shifts, biases,
    /// and the rest (pycls tells the groups by the names "bn" and "bias"; the declared role says it
    /// whatever a layer is called).
    public func weightDecay(for role: ParameterRole) -> Double {
        switch role {
        case .scale, .shift: batchNormWeightDecay ?? weightDecay
        case .bias: biasWeightDecay ?? weightDecay
        case .weight, .runningMean, .runningVariance: weightDecay
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

/// How far a run's EMA gets from the weights it starts from (`TrainingRecipe.emaReach`).
public struct EMAReach: Sendable, Hashable {
    /// EMA updates after warmup.
    public var updates: Int
    /// The share of the starting weights still in the EMA when the run ends.
    public var startingShare: Double
    /// The EMA_ALPHA that would leave 1% of them.
    public var suggestedAlpha: Double
    /// Whether the EMA still holds over 10% of its starting weights: its errors then lag the model's,
    /// and the commands say so.
    public var lags: Bool { startingShare > 0.1 }
}
