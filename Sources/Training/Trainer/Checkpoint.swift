import Foundation
import NetworkIR
import Weights

/// A training checkpoint: the weights and batch-norm statistics under timm's names (so `regnet run`,
/// `WeightSet.load` and timm read it as a model), SGD's momentum buffers (AdamW's running mean of
/// gradients) under `momentum.`, AdamW's running mean of squared gradients under `exp_avg_sq.`, the
/// EMA under `ema.`, and the trainer's position, recipe and random state as JSON in the safetensors
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
    /// Metadata key of the checkpoint's checksum (over its tensors and the rest of its metadata).
    static let checksumKey = "regnet.checksum"

    /// Writes a checkpoint to `url` atomically (a crash or a full disk leaves the previous file intact);
    /// `extra` is kept in its metadata for the caller (`restore` returns it). A checksum over the
    /// tensors and the metadata lets `restore` notice any later change to the file.
    public func saveCheckpoint(to url: URL, extra: [String: String] = [:]) throws(TrainingError) {
        var tensors = weights.tensors
        for (name, tensor) in momentumBuffers.tensors { tensors[WeightSet.momentumPrefix + name] = tensor }
        for (name, tensor) in secondMoments?.tensors ?? [:] { tensors[WeightSet.secondMomentPrefix + name] = tensor }
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
            metadata[Self.checksumKey] = Checksum.of(tensors, metadata: metadata)
            try SafeTensors.write(WeightSet(tensors), to: url, metadata: metadata)
        } catch {
            throw TrainingError(.checkpoint(path: url.path), error.message)
        }
    }

    /// Restores weights, statistics, momentum, EMA, position and random state from a checkpoint that
    /// this trainer's graph, batch and recipe wrote; returns the checkpoint's metadata. Everything is
    /// checked before anything changes: the checksum (a file changed since it was written), the
    /// position (an epoch and iteration the recipe can reach), every tensor's shape and finiteness.
    @discardableResult
    public func restore(from url: URL) throws(TrainingError) -> [String: String] {
        func damaged(_ why: String) -> TrainingError { TrainingError(.checkpoint(path: url.path), "\(url.path) is damaged: \(why)") }
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
        if let checksum = metadata[Self.checksumKey] {
            guard Checksum.of(file.tensors, metadata: metadata.filter { $0.key != Self.checksumKey }) == checksum else {
                throw damaged("its contents changed since it was written (the checksum does not match); resume from an earlier checkpoint by deleting this one")
            }
        }
        let state: TrainingCheckpoint.State
        do {
            state = try JSONDecoder().decode(TrainingCheckpoint.State.self, from: Data(json.utf8))
        } catch {
            throw damaged("the trainer state cannot be read: \(error)")
        }
        var differences: [String] = []
        if state.graph != graph.name { differences.append("network: this run \(graph.name), the checkpoint's \(state.graph)") }
        if state.batch != batch { differences.append("batch: this run \(batch), the checkpoint's \(state.batch)") }
        let (mine, theirs) = (RunIdentity.fields(of: recipe), RunIdentity.fields(of: state.recipe))
        for key in Set(mine.keys).union(theirs.keys).sorted() where mine[key] != theirs[key] {
            differences.append("recipe \(key): this run \(mine[key] ?? "default"), the checkpoint's \(theirs[key] ?? "default")")
        }
        guard differences.isEmpty else {
            throw TrainingError(.checkpoint(path: url.path), "\(url.path) was written by another run (\(differences.joined(separator: "; "))); resume with the same network, batch and recipe")
        }
        guard let random = UInt64(state.random) else { throw damaged("its random state '\(state.random)' is not a 64-bit number") }
        guard (0..<recipe.epochs).contains(state.epoch), state.iterationsPerEpoch >= 1, (0...state.iterationsPerEpoch).contains(state.iteration),
              state.totalSteps == state.epoch * state.iterationsPerEpoch + state.iteration else {
            throw damaged("its position (epoch \(state.epoch + 1) of \(recipe.epochs), iteration \(state.iteration) of \(state.iterationsPerEpoch), step \(state.totalSteps)) is not one this recipe reaches")
        }
        let (model, momentum, secondMoment, ema) = file.splitTrainingState()
        do throws(WeightError) {
            try model.validate(for: graph)
        } catch {
            throw damaged(error.message)
        }
        let optimizerState = [("momentum buffer", momentum)] + (self.secondMoment == nil ? [] : [("AdamW second moment", secondMoment)])
        for entry in store.entries where entry.role.isLearned {
            for (what, tensors) in optimizerState {
                guard let buffer = tensors[entry.name], buffer.shape == entry.shape else { throw damaged("the \(what) of \(entry.name) is missing or has the wrong shape") }
                if let bad = buffer.scalars.firstIndex(where: { !$0.isFinite }) {
                    throw damaged("the \(what) of \(entry.name) has a non-finite value (\(buffer.scalars[bad])) at element \(bad)")
                }
            }
        }
        if self.ema != nil {
            do throws(WeightError) { try ema.validate(for: graph) } catch {
                throw damaged("its EMA (ema.* tensors): " + error.message)
            }
        }
        store.load(model)
        store.load(momentum, into: store.momentum, learnedOnly: true)
        if let buffer = self.secondMoment { store.load(secondMoment, into: buffer, learnedOnly: true) }
        if let buffer = self.ema { store.load(ema, into: buffer) }
        epoch = state.epoch
        iteration = state.iteration
        iterationsPerEpoch = state.iterationsPerEpoch
        totalSteps = state.totalSteps
        momentumStarted = state.momentumStarted
        self.random = SeededGenerator(seed: random)
        return metadata
    }
}
