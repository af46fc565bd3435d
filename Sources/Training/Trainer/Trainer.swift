import Executor
import Foundation
import NetworkIR
import Weights

/// Trains a network with pycls's recipe: one SGD step at a time on batches the caller supplies, with
/// the learning-rate schedule, label smoothing, mixup/cutmix, EMA and precise batch-norm statistics.
///
/// ```swift
/// let trainer = try Trainer(graph: network.lower(resolution: 32), batch: 128, recipe: recipe)
/// for epoch in 0..<recipe.epochs {
///     trainer.startEpoch(epoch, iterations: batches.count)
///     for (images, labels) in batches { let result = try trainer.step(images: images, labels: labels) }
/// }
/// let model = try network.compile(resolution: 32, weights: trainer.weights)
/// ```
/// A step gives the same weights for the same seed and data whatever the thread count: every
/// reduction runs over fixed chunks in a fixed order. A trainer holds its run's state and is used
/// from one task at a time (it is not `Sendable`); its steps use the shared worker threads.
public final class Trainer {
    /// The graph being trained.
    public let graph: Graph
    /// Images per step.
    public let batch: Int
    /// The recipe.
    public let recipe: TrainingRecipe
    /// Worker threads.
    public var threads: Int { program.threads }
    /// The micro-kernel set in use.
    public var kernels: KernelSet { program.kernels }
    /// The arithmetic convolutions and linear layers run in: the recipe's, or float32 where this CPU
    /// has no bf16 dot products.
    public var precision: Precision { program.precision }
    /// The seed of the initialisation (when no weights were given), mixup/cutmix draws and dropout masks.
    public let seed: UInt64

    /// The graph compiled for training: its passes, parameters and batch statistics.
    let program: TrainingProgram
    /// The parameters, their gradients and momentum.
    var store: ParameterStore { program.parameters }
    /// EMA of every tensor, in the store's layout.
    let ema: ParameterBuffer?
    /// Draws for mixup and cutmix.
    var random: SeededGenerator
    /// Seeds the dropout masks of every step (with the step number).
    let dropoutSeed: UInt64
    /// Whether SGD's momentum buffers hold a value (PyTorch starts them with the first gradient).
    var momentumStarted = false
    /// AdamW's running mean of squared gradients, in the store's layout (its running mean of gradients
    /// is the store's momentum buffer); nil for SGD.
    let secondMoment: ParameterBuffer?

    /// The current epoch (0-based) and iteration within it, as set by `startEpoch` and advanced by `step`.
    public internal(set) var epoch = 0
    /// The next iteration within the epoch.
    public internal(set) var iteration = 0
    /// Iterations in the current epoch (for per-iteration schedules).
    public internal(set) var iterationsPerEpoch = 1
    /// Steps taken since training started.
    public internal(set) var totalSteps = 0

    /// A trainer for `graph` on batches of `batch` images, starting from `weights` (any tensors the
    /// graph reads; checked) or, when nil, pycls's initialisation from `seed`. `precision`, when given,
    /// replaces the recipe's (`.bfloat16`: mixed precision as `torch.autocast` does it; see
    /// `TrainingRecipe.precision`), and `self.recipe` records it.
    public init(graph: Graph, batch: Int, recipe: TrainingRecipe = TrainingRecipe(), weights: WeightSet? = nil,
                seed: UInt64 = 0, threads: Int? = nil, kernels: KernelSet = .best, precision: Precision? = nil) throws(TrainingError) {
        var recipe = recipe
        if let precision { recipe.precision = precision == .float32 ? nil : precision }
        try recipe.validate()
        guard batch >= 1 else { throw TrainingError(.invalidArgument, "batch must be at least 1 (got \(batch))") }
        let threads = threads ?? CompiledModel.defaultThreads
        guard (1...CompiledModel.maxThreads).contains(threads) else {
            throw TrainingError(.invalidArgument, "threads must be between 1 and \(CompiledModel.maxThreads) (got \(threads))")
        }
        do { try graph.validate() } catch { throw TrainingError(.invalidNetwork, error.message) }
        guard graph.outputShape.height == 1, graph.outputShape.width == 1 else {
            throw TrainingError(.invalidNetwork, "the network's output is \(graph.outputShape); training needs one score per class (C×1×1)")
        }
        for node in graph.nodes {
            let (floats, overflow) = node.shape.elementCount.multipliedReportingOverflow(by: batch)
            guard !overflow, floats <= 1 << 32 else {
                throw TrainingError(.tooLarge, "\(node.name) would need more than 16 GiB of activations for batch \(batch); use a smaller batch or resolution")
            }
        }
        do { try WeightSet.checkMemory(for: graph, copies: 5) } catch { throw TrainingError(.tooLarge, error.message) }
        var initial = weights ?? WeightSet.initialized(for: graph, seed: seed)
        if weights == nil, recipe.zeroInitFinalGamma {
            for name in Self.finalBatchNorms(of: graph) { initial[name] = Tensor(shape: initial[name]!.shape, repeating: 0) }
        }
        do { try initial.validate(for: graph) } catch { throw TrainingError(.weightsDoNotFit, error.message) }
        do {
            let precision = recipe.precision ?? .float32
            program = try TrainingProgram(graph: graph, batch: batch, threads: threads, kernels: kernels,
                                          batchNormMomentum: Float(recipe.batchNormMomentum),
                                          precision: TrainingProgram.supports(precision, kernels: kernels) ? precision : .float32)
        } catch {
            throw TrainingError(error.kind == .tooLarge ? .tooLarge : .invalidNetwork, error.message)
        }
        self.graph = graph
        self.batch = batch
        self.recipe = recipe
        self.seed = seed
        program.parameters.load(initial)
        ema = recipe.usesEMA ? ParameterBuffer(copying: program.parameters.values) : nil
        secondMoment = recipe.adamW == nil ? nil : ParameterBuffer(count: program.parameters.count)
        random = SeededGenerator(seed: seed ^ 0x5EED_0F_3A1D)
        dropoutSeed = seed ^ 0xD409_0A75
    }

    /// The scales (γ) of the batch norms that end a residual branch (pycls's `final_bn`).
    static func finalBatchNorms(of graph: Graph) -> [String] {
        graph.finalBatchNorms.compactMap { graph.parameterName($0, .scale) }
    }

    // MARK: Schedule

    /// Starts epoch `epoch` (0-based) of `iterations` steps: sets the learning rate as pycls's trainer does.
    public func startEpoch(_ epoch: Int, iterations: Int) {
        self.epoch = epoch
        iteration = 0
        iterationsPerEpoch = max(1, iterations)
    }

    /// The learning rate the next step uses.
    public var learningRate: Double {
        let e = recipe.perIterationSchedule ? Double(epoch) + Double(iteration) / Double(iterationsPerEpoch) : Double(epoch)
        return recipe.learningRate(atEpoch: e)
    }

    // MARK: Steps

    /// What one step measured on its batch.
    public struct StepResult: Hashable, Sendable {
        /// Mean soft cross-entropy over the batch (after smoothing and mixing).
        public var loss: Double
        /// Top-1 error in percent against the original labels.
        public var top1Error: Double
        /// Top-5 error in percent.
        public var top5Error: Double
        /// Learning rate used.
        public var learningRate: Double
    }

    /// One SGD step on `images` (NCHW float32, `batch` images of the graph's input shape) with integer
    /// `labels`; with `mix`, that mix instead of one drawn from the recipe. Throws, leaving the weights
    /// as they were, when the inputs do not fit or the loss or a gradient is not finite.
    @discardableResult
    public func step(images: [Float], labels: [Int], mix: Mixing.Draw? = nil) throws(TrainingError) -> StepResult {
        let lr = learningRate
        let (loss, errors) = try computeGradients(images: images, labels: labels, mix: mix)
        if let bad = program.runningStatisticsOverflow() {
            throw TrainingError(.nonFinite(step: totalSteps + 1), "the batch statistics of \(graph.nodes[bad.node].name) overflowed at step \(totalSteps + 1) (epoch \(epoch + 1), iteration \(iteration + 1)): channel \(bad.channel)'s running \(bad.statistic) would become \(bad.value); the weights are left as they were before it")
        }
        let start = ContinuousClock.now
        program.updateRunningStatistics()
        applyUpdate(learningRate: lr)
        updateEMA()
        if profileTotals != nil {
            let elapsed = ContinuousClock.now - start
            profileTotals!.update += Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
            profileTotals!.steps += 1
        }
        iteration += 1
        totalSteps += 1
        return StepResult(loss: loss, top1Error: errors[0], top5Error: errors[1], learningRate: lr)
    }

    /// Seconds per node of the forward and backward passes, and of the update, over the steps since
    /// `profiling` was set (nil when it is off).
    public var profile: TrainingProfile? {
        guard var profile = profileTotals, let timings = program.timings else { return nil }
        (profile.forward, profile.backward) = timings
        return profile
    }
    /// The update's seconds and the steps since `profiling` was set (the passes' times are the program's).
    private var profileTotals: TrainingProfile?
    /// The inference models evaluations run, kept between evaluations (`evaluationModels(ema:)`).
    private var evaluation: EvaluationModels?

    /// Collect a per-node time profile of every following step.
    public var profiling: Bool {
        get { profileTotals != nil }
        set {
            profileTotals = newValue ? TrainingProfile(graph: graph, batch: batch, bfloat16: program.multipliesBFloat16) : nil
            program.timings = profileTotals.map { ($0.forward, $0.backward) }
        }
    }

    /// Forward and backward passes in train mode: leaves every parameter's gradient in the store and
    /// each batch norm's batch statistics in the program's state; weights and running statistics untouched.
    /// Returns the loss and the top-1/top-5 errors against `labels`.
    func computeGradients(images: [Float], labels: [Int], mix: Mixing.Draw?) throws(TrainingError) -> (Double, [Double]) {
        let shape = graph.inputShape, classes = graph.outputShape.channels
        try checkBatch(images: images, labels: labels)
        var input = images
        var targets = Loss.smoothOneHot(labels: labels, classes: classes, smoothing: recipe.labelSmoothing)
        let draw = mix ?? Mixing.draw(batch: batch, height: shape.height, width: shape.width, mixupAlpha: recipe.mixupAlpha,
                                      cutmixAlpha: recipe.cutmixAlpha, using: &random)
        if let draw {
            guard draw.permutation.sorted() == Array(0..<batch) else { throw TrainingError(.invalidArgument, "a mix's permutation must reorder the \(batch) images of the batch") }
            Mixing.apply(draw, images: &input, channels: shape.channels, height: shape.height, width: shape.width,
                         targets: &targets, classes: classes)
        }
        let where_ = "at step \(totalSteps + 1) (epoch \(epoch + 1), iteration \(iteration + 1)); the weights are left as they were before it"
        // Dropout masks: a function of the seed and the step, so a resumed run draws the same ones.
        let logits = program.forward(images: input, seed: dropoutSeed &+ UInt64(totalSteps) &* 0x9E37_79B9_7F4A_7C15).baseAddress!
        let (loss, gradient) = Loss.softCrossEntropy(logits: logits, targets: targets, batch: batch, classes: classes)
        let errors = Loss.topKErrors(logits: logits, labels: labels, classes: classes)
        guard loss.isFinite else { throw TrainingError(.nonFinite(step: totalSteps + 1), "the loss is not finite (\(loss.isNaN ? "NaN" : "\(loss)")) \(where_)") }
        program.backward(outputGradient: gradient)
        if let bad = firstNonFiniteGradient() { throw TrainingError(.nonFinite(step: totalSteps + 1), "the gradient of \(bad) is not finite \(where_)") }
        return (loss, errors)
    }

    /// Every parameter's gradient from the last step, timm names.
    var gradients: WeightSet { store.weightSet(from: store.gradients, learnedOnly: true) }

    /// SGD's momentum buffers (AdamW's running mean of gradients), timm names.
    var momentumBuffers: WeightSet { store.weightSet(from: store.momentum, learnedOnly: true) }
    /// AdamW's running mean of squared gradients, timm names (nil for SGD).
    var secondMoments: WeightSet? { secondMoment.map { store.weightSet(from: $0, learnedOnly: true) } }

    func checkBatch(images: [Float], labels: [Int]) throws(TrainingError) {
        let shape = graph.inputShape, classes = graph.outputShape.channels
        guard images.count == batch * shape.elementCount else {
            throw TrainingError(.invalidBatch, "a batch is \(batch) images of \(shape) = \(batch * shape.elementCount) values; got \(images.count)")
        }
        guard labels.count == batch else { throw TrainingError(.invalidBatch, "a batch has \(batch) labels; got \(labels.count)") }
        if let bad = labels.firstIndex(where: { !(0..<classes).contains($0) }) {
            throw TrainingError(.invalidBatch, "label \(labels[bad]) of image \(bad) is outside the network's \(classes) classes (0..<\(classes))")
        }
    }

    func firstNonFiniteGradient() -> String? {
        for entry in store.entries where entry.role.isLearned {
            let g = store.gradients.base + entry.offset
            for i in 0..<entry.count where !g[i].isFinite { return "\(entry.name) (element \(i))" }
        }
        return nil
    }

    /// The optimizer's step over every learned tensor with its group's weight decay: SGD as PyTorch's
    /// (g += wd·p; v = μ·v + (1 − dampening)·g, v = g on the first step; g = g + μ·v with nesterov,
    /// else v; p −= lr·g), or AdamW as PyTorch's (`TrainingRecipe.AdamW.Step`). Element-wise, so any
    /// split among workers gives the same bits.
    func applyUpdate(learningRate: Double) {
        let entries = store.entries.filter(\.role.isLearned).map { (offset: $0.offset, count: $0.count, wd: recipe.weightDecay(for: $0.role)) }
        let total = entries.reduce(0) { $0 + $1.count }
        let (values, grads, momentum) = (store.values.base, store.gradients.base, store.momentum.base)
        let update: (_ offset: Int, _ count: Int, _ wd: Double) -> Void
        if let settings = recipe.adamW, let secondMoment {
            let t = totalSteps + 1, squares = secondMoment.base
            update = { offset, count, wd in
                let step = TrainingRecipe.AdamW.Step(settings, learningRate: learningRate, weightDecay: wd, t: t)
                for i in offset..<offset + count { step.apply(&values[i], grads[i], &momentum[i], &squares[i]) }
            }
        } else {
            let mu = Float(recipe.momentum), damp = Float(1 - recipe.dampening), lr = Float(learningRate)
            let nesterov = recipe.nesterov, first = !momentumStarted
            update = { offset, count, wd in
                let wd = Float(wd), p = values + offset, g = grads + offset, v = momentum + offset
                for i in 0..<count {
                    var d = g[i]
                    if wd != 0 { d += wd * p[i] }
                    if mu != 0 {
                        v[i] = first ? d : mu * v[i] + damp * d
                        d = nesterov ? d + mu * v[i] : v[i]
                    }
                    p[i] -= lr * d
                }
            }
        }
        program.parallel(total) { mine in
            var start = 0
            for entry in entries {
                let from = max(start, mine.lowerBound), to = min(start + entry.count, mine.upperBound)
                if from < to { update(entry.offset + from - start, to - from, entry.wd) }
                start += entry.count
            }
        }
        momentumStarted = true
    }

    /// pycls's `update_model_ema`: every `emaUpdatePeriod` iterations, ema ← (1 − α)·ema + α·model
    /// over weights and running statistics, α = min(1, EMA_ALPHA · batch / epochs · period), and α = 1
    /// during warmup.
    func updateEMA() {
        guard let ema, iteration % recipe.emaUpdatePeriod == 0 else { return }
        let alpha = recipe.emaRate(epoch: epoch, batch: batch)
        let a = Float(alpha), keep = Float(1 - alpha), model = store.values.base, e = ema.base
        for i in 0..<store.count { e[i] = e[i] * keep + model[i] * a }
    }

    // MARK: Weights

    /// The current weights and batch-norm statistics, timm names; compiles with `CompiledModel`.
    public var weights: WeightSet { store.weightSet(from: store.values) }

    /// The EMA of the weights and statistics, when the recipe keeps one.
    public var emaWeights: WeightSet? { ema.map { store.weightSet(from: $0) } }

    /// Evaluates the current weights (or the EMA's) on `images` with integer `labels` through the
    /// inference executor: mean cross-entropy and top-1/top-5 errors in percent, plus the logits.
    public func evaluate(images: [Float], labels: [Int], ema useEMA: Bool = false) throws(TrainingError) -> Evaluation {
        let shape = graph.inputShape, classes = graph.outputShape.channels
        let count = labels.count
        guard count >= 1, images.count == count * shape.elementCount else {
            throw TrainingError(.invalidBatch, "evaluation takes N images of \(shape) and N labels; got \(images.count) values and \(count) labels")
        }
        if let bad = labels.firstIndex(where: { !(0..<classes).contains($0) }) {
            throw TrainingError(.invalidBatch, "label \(labels[bad]) of image \(bad) is outside the network's \(classes) classes")
        }
        let model = try evaluationModels(ema: useEMA).model(batch: count)
        let logits: [Float]
        do throws(ExecutorError) { logits = try model.run(images) } catch { throw TrainingError(.invalidBatch, error.message) }
        let targets = Loss.smoothOneHot(labels: labels, classes: classes, smoothing: 0)
        return logits.withUnsafeBufferPointer { l in
            let loss = Loss.softCrossEntropy(logits: l.baseAddress!, targets: targets, batch: count, classes: classes).loss
            let errors = Loss.topKErrors(logits: l.baseAddress!, labels: labels, classes: classes)
            return Evaluation(loss: loss, top1Error: errors[0], top5Error: errors[1], logits: logits)
        }
    }

    /// The evaluation models, given the current weights (or the EMA's).
    func evaluationModels(ema useEMA: Bool) throws(TrainingError) -> EvaluationModels {
        guard let weights = useEMA ? emaWeights : weights else { throw TrainingError(.invalidArgument, "the recipe keeps no EMA") }
        if let evaluation {
            evaluation.use(weights)
            return evaluation
        }
        let models = EvaluationModels(graph: graph, weights: weights, threads: threads, kernels: kernels)
        evaluation = models
        return models
    }

    /// Results of `evaluate`.
    public struct Evaluation: Hashable, Sendable {
        /// Mean cross-entropy against one-hot labels.
        public var loss: Double
        /// Top-1 error in percent.
        public var top1Error: Double
        /// Top-5 error in percent.
        public var top5Error: Double
        /// The logits, [N][classes].
        public var logits: [Float]
    }

    // MARK: Precise batch-norm statistics

    /// pycls's `compute_precise_bn_stats`: runs the model (or its EMA) over `batches` of training
    /// images and sets every running mean to the mean of the batch means and every running variance to
    /// the mean of (batch variance + mean²) less the squared mean, as pycls does with momentum 1.
    public func recomputeBatchNormStatistics(_ batches: [[Float]], ema useEMA: Bool = false) throws(TrainingError) {
        var next = batches.makeIterator()
        try recomputeBatchNormStatistics(batchCount: batches.count, model: !useEMA, ema: useEMA) { () throws(TrainingError) in next.next() }
    }

    /// Precise statistics for the model and/or its EMA over `batchCount` batches that `next` hands
    /// out one at a time (so they are never all in memory at once), each batch run through both.
    public func recomputeBatchNormStatistics(batchCount: Int, model: Bool = true, ema useEMA: Bool,
                                             next: () throws(TrainingError) -> [Float]?) throws(TrainingError) {
        guard batchCount > 0 else { return }
        if useEMA, ema == nil { throw TrainingError(.invalidArgument, "the recipe keeps no EMA") }
        let targets = (model ? [ParameterBuffer?.none] : []) + (useEMA ? [ema] : [])
        var means: [[[Double]]] = [], squares: [[[Double]]] = []
        var statistics: [TrainingProgram.BatchStatistics] = []
        let count = Double(batchCount)
        for _ in 0..<batchCount {
            guard let images = try next() else { throw TrainingError(.data, "the training data ran out before \(batchCount) batches of precise statistics") }
            guard images.count == batch * graph.inputShape.elementCount else {
                throw TrainingError(.invalidBatch, "a batch is \(batch) images of \(graph.inputShape); got \(images.count) values")
            }
            for (t, target) in targets.enumerated() {
                if let target { store.values.swapContents(with: target) }
                defer { if let target { store.values.swapContents(with: target) } }
                _ = program.forward(images: images, seed: dropoutSeed &+ UInt64(totalSteps) &* 0x9E37_79B9_7F4A_7C15)
                statistics = program.batchStatistics
                if means.isEmpty {
                    let empty = statistics.map { [Double](repeating: 0, count: $0.mean.count) }
                    means = targets.map { _ in empty }
                    squares = means
                }
                for (i, bn) in statistics.enumerated() {
                    for ch in bn.mean.indices {
                        let m = Double(bn.mean[ch])
                        means[t][i][ch] += m / count
                        squares[t][i][ch] += (Double(bn.variance[ch]) + m * m) / count
                    }
                }
            }
        }
        for (t, target) in targets.enumerated() {
            let values = (target ?? store.values).base
            for (i, bn) in statistics.enumerated() {
                for ch in bn.mean.indices {
                    values[bn.runningMean + ch] = Float(means[t][i][ch])
                    values[bn.runningVariance + ch] = Float(squares[t][i][ch] - means[t][i][ch] * means[t][i][ch])
                }
            }
        }
    }

    /// Bytes the training plan holds for activations, gradients and scratch (parameters, gradients,
    /// momentum and EMA are `parameterBytes`).
    public var activationBytes: Int { program.activationBytes }
    /// Bytes of parameters, their gradients and momentum, and the EMA.
    public var parameterBytes: Int { store.count * 4 * (ema == nil ? 3 : 4) }
}

extension Trainer.Evaluation: CustomStringConvertible {
    /// The errors and loss in one line (printing an evaluation would otherwise list every logit).
    public var description: String {
        String(format: "top-1 error %.2f%%, top-5 error %.2f%%, loss %.4f (%d logits)", top1Error, top5Error, loss, logits.count)
    }
}
