import Data
import NetworkIR
import Executor
import Weights

extension Trainer {
    /// Evaluates the current weights (or the EMA's) on every batch of `loader` through the inference
    /// executor, compiled once per batch size for the trainer's life (`EvaluationModels`): loss,
    /// top-1/top-5 errors in percent, and per-class accuracy (percent of each class's images ranked first).
    public func evaluate(_ loader: BatchLoader, ema useEMA: Bool = false) throws(TrainingError) -> LoaderEvaluation {
        try LoaderEvaluation(models: evaluationModels(ema: useEMA), loader: loader)
    }
}

/// The result of evaluating a network on a whole dataset.
public struct LoaderEvaluation: Sendable, CustomStringConvertible {
    /// `top-1 error 4.71%, top-5 0.00%, loss 0.1265 over 297 images`.
    public var description: String {
        String(format: "top-1 error %.2f%%, top-5 %.2f%%, loss %.4f over %d images", top1Error, top5Error, loss, count)
    }

    /// Mean cross-entropy.
    public var loss: Double
    /// Top-1 and top-5 error in percent.
    public var top1Error: Double, top5Error: Double
    /// Per class: images and top-1 correct.
    public var classImages: [Int], classCorrect: [Int]
    /// Images evaluated.
    public var count: Int

    /// Runs `graph` with `weights` over every batch of `loader`, compiled in `precision` (int8 with
    /// `quantization`).
    public init(graph: Graph, weights: WeightSet, loader: BatchLoader, threads: Int?, kernels: KernelSet = .best,
                precision: Precision = .float32, quantization: Quantization? = nil) throws(TrainingError) {
        try self.init(models: EvaluationModels(graph: graph, weights: weights, threads: threads, kernels: kernels, precision: precision,
                                               quantization: quantization), loader: loader)
    }

    /// Runs `models` (one per batch size) over every batch of `loader`.
    init(models: EvaluationModels, loader: BatchLoader) throws(TrainingError) {
        let classes = models.graph.outputShape.channels
        var loss = 0.0, top1 = 0.0, top5 = 0.0, count = 0
        var classImages = [Int](repeating: 0, count: classes), classCorrect = classImages
        let batches = loader.epoch(0)
        do {
            while let batch = try batches.next() {
                if let bad = batch.labels.firstIndex(where: { !(0..<classes).contains($0) }) {
                    throw TrainingError(.invalidBatch, "\(loader.dataset.name): label \(batch.labels[bad]) is outside the network's \(classes) classes")
                }
                let model = try models.model(batch: batch.count)
                let logits: [Float]
                do throws(ExecutorError) { logits = try model.run(batch.images) } catch { throw TrainingError(.invalidBatch, error.message) }
                let targets = Loss.smoothOneHot(labels: batch.labels, classes: classes, smoothing: 0)
                logits.withUnsafeBufferPointer { l in
                    let n = Double(batch.count)
                    loss += Loss.softCrossEntropy(logits: l.baseAddress!, targets: targets, batch: batch.count, classes: classes).loss * n
                    let errors = Loss.topKErrors(logits: l.baseAddress!, labels: batch.labels, classes: classes)
                    top1 += errors[0] * n
                    top5 += errors[1] * n
                    for (i, label) in batch.labels.enumerated() {
                        classImages[label] += 1
                        if Loss.topKErrors(logits: l.baseAddress! + i * classes, labels: [label], classes: classes, ks: [1])[0] == 0 {
                            classCorrect[label] += 1
                        }
                    }
                }
                count += batch.count
            }
        } catch let error as DataError {
            throw TrainingError(.data, error.message)
        } catch let error as TrainingError {
            throw error
        } catch {
            throw TrainingError(.data, "\(error)")
        }
        guard count > 0 else { throw TrainingError(.data, "\(loader.dataset.name) has no images to evaluate") }
        self.loss = loss / Double(count)
        top1Error = top1 / Double(count)
        top5Error = top5 / Double(count)
        self.classImages = classImages
        self.classCorrect = classCorrect
        self.count = count
    }
}
