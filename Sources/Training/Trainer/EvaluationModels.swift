import Executor
import NetworkIR
import Weights

/// The inference models an evaluation runs, one per batch size (a dataset's last batch is usually
/// smaller): compiled the first time a size is met; for later weights (the next epoch's, or the
/// EMA's) the same plan is given the new weights (`CompiledModel.withWeights`), once per size.
final class EvaluationModels {
    let graph: Graph
    let threads: Int?
    let kernels: KernelSet
    let precision: Precision
    let quantization: Quantization?
    private var weights: WeightSet
    private var models: [Int: CompiledModel] = [:]
    /// Batch sizes whose model holds `weights`.
    private var current: Set<Int> = []

    init(graph: Graph, weights: WeightSet, threads: Int?, kernels: KernelSet, precision: Precision = .float32,
         quantization: Quantization? = nil) {
        (self.graph, self.weights, self.threads, self.kernels, self.precision, self.quantization) = (graph, weights, threads, kernels, precision, quantization)
    }

    /// Evaluates `weights` from now on.
    func use(_ weights: WeightSet) {
        self.weights = weights
        current = []
    }

    /// The model for batches of `batch` with the current weights.
    func model(batch: Int) throws(TrainingError) -> CompiledModel {
        if current.contains(batch), let model = models[batch] { return model }
        do throws(ExecutorError) {
            let model: CompiledModel
            if let compiled = models[batch] {
                model = try compiled.withWeights(weights)
            } else {
                model = try CompiledModel(graph: graph, weights: weights, batch: batch, threads: threads, kernels: kernels,
                                          precision: precision, quantization: quantization)
            }
            models[batch] = model
            current.insert(batch)
            return model
        } catch {
            throw TrainingError(error.kind == .tooLarge ? .tooLarge : .invalidNetwork, error.message)
        }
    }
}
