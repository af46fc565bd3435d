import Foundation
import NetworkIR
import Weights

/// A training checkpoint: the weights and batch-norm statistics under timm's names (so `regnet run`,
/// `WeightSet.load` and timm read it as a model), SGD's momentum buffers under `momentum.` and the EMA
/// under `ema.`, and the trainer's position, recipe and random state as JSON in the safetensors
/// metadata (`regnet.trainer`). Restoring it continues the run exactly where it stopped.
public enum TrainingCheckpoint {
    /// Metadata key holding the trainer state.
    static let stateKey = "regnet.trainer"

    /// What a checkpoint records besides tensors.
    struct State: Codable, Equatable {
        var graph: String
        var batch: Int
        var epoch: Int
        var iteration: Int
        var iterationsPerEpoch: Int
        var totalSteps: Int
        var momentumStarted: Bool
        /// The mixup generator's state, as a decimal string (JSON numbers lose 64-bit integers).
        var random: String
        var recipe: TrainingRecipe
    }
}

extension Trainer {
    /// Writes a checkpoint to `url` atomically (a crash or a full disk leaves the previous file intact);
    /// `extra` is kept in its metadata for the caller (`restore` returns it).
    public func saveCheckpoint(to url: URL, extra: [String: String] = [:]) throws(TrainingError) {
        var tensors = weights.tensors
        for (name, tensor) in momentumBuffers.tensors { tensors[WeightSet.momentumPrefix + name] = tensor }
        if let ema = emaWeights { for (name, tensor) in ema.tensors { tensors[WeightSet.emaPrefix + name] = tensor } }
        let state = TrainingCheckpoint.State(graph: graph.name, batch: batch, epoch: epoch, iteration: iteration,
                                             iterationsPerEpoch: iterationsPerEpoch, totalSteps: totalSteps,
                                             momentumStarted: momentumStarted, random: String(random.state), recipe: recipe)
        let json: String
        do {
            let encoder = JSONEncoder()
            encoder.outputFormatting = .sortedKeys
            json = String(decoding: try encoder.encode(state), as: UTF8.self)
        } catch {
            throw TrainingError(.checkpoint(path: url.path), "cannot encode the trainer state: \(error)")
        }
        do {
            var metadata = extra
            metadata.merge(["format": "pt", "producer": "swift-regnet", TrainingCheckpoint.stateKey: json]) { $1 }
            try SafeTensors.write(WeightSet(tensors), to: url, metadata: metadata)
        } catch {
            throw TrainingError(.checkpoint(path: url.path), error.message)
        }
    }

    /// Restores weights, statistics, momentum, EMA, position and random state from a checkpoint that
    /// this trainer's graph, batch and recipe wrote (checked); returns the checkpoint's metadata.
    @discardableResult
    public func restore(from url: URL) throws(TrainingError) -> [String: String] {
        let file: WeightSet, metadata: [String: String]
        do {
            metadata = try SafeTensors.metadata(contentsOf: url)
            file = try SafeTensors.read(contentsOf: url)
        } catch {
            throw TrainingError(.checkpoint(path: url.path), "\(url.path): \(error.message)")
        }
        guard let json = metadata[TrainingCheckpoint.stateKey] else {
            throw TrainingError(.checkpoint(path: url.path), "\(url.path) is not a training checkpoint (no \(TrainingCheckpoint.stateKey) metadata); use it as initial weights instead")
        }
        let state: TrainingCheckpoint.State
        do {
            state = try JSONDecoder().decode(TrainingCheckpoint.State.self, from: Data(json.utf8))
        } catch {
            throw TrainingError(.checkpoint(path: url.path), "\(url.path): the trainer state cannot be read: \(error)")
        }
        guard state.batch == batch, state.recipe == recipe, state.graph == graph.name, let random = UInt64(state.random) else {
            throw TrainingError(.checkpoint(path: url.path), "\(url.path) was written by another run (network \(state.graph), batch \(state.batch)); resume with the same network, batch and recipe")
        }
        let (model, momentum, ema) = file.splitTrainingState()
        do throws(WeightError) {
            try model.validate(for: graph)
            for entry in store.entries where entry.trainable {
                guard momentum[entry.name]?.shape == entry.shape else { throw WeightError(.incompleteCheckpoint, "missing momentum buffer for \(entry.name)") }
            }
            if self.ema != nil {
                try ema.validate(for: graph)
            }
        } catch {
            throw TrainingError(.checkpoint(path: url.path), "\(url.path): \(error.message)")
        }
        store.load(model)
        for entry in store.entries where entry.trainable { store.momentum.copy(from: momentum[entry.name]!.scalars, at: entry.offset) }
        if let buffer = self.ema {
            for entry in store.entries { buffer.copy(from: ema[entry.name]!.scalars, at: entry.offset) }
        }
        epoch = state.epoch
        iteration = state.iteration
        iterationsPerEpoch = state.iterationsPerEpoch
        totalSteps = state.totalSteps
        momentumStarted = state.momentumStarted
        self.random = SeededGenerator(seed: random)
        return metadata
    }
}
