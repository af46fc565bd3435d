import Executor
import NetworkIR
import Weights

/// Every tensor a graph reads — learned parameters and batch-norm running statistics — in one
/// contiguous buffer, with gradient and momentum buffers of the same layout, so the optimizer and the
/// EMA update all of them in one pass.
final class ParameterStore: @unchecked Sendable {
    /// One tensor's place in the store.
    struct Entry: Sendable {
        var name: String
        var shape: [Int]
        var role: ParameterRole
        var offset: Int
        var count: Int
        /// Learned by the optimizer (false for running statistics).
        var trainable: Bool { role.isLearned }
    }

    let entries: [Entry]
    private let index: [String: Int]
    let values: AlignedBuffer
    let grads: AlignedBuffer
    let momentum: AlignedBuffer
    let count: Int

    init(graph: Graph) {
        var entries: [Entry] = []
        var offset = 0
        for spec in graph.parameters {
            entries.append(Entry(name: spec.name, shape: spec.shape, role: spec.role, offset: offset, count: spec.elementCount))
            offset += (spec.elementCount + 15) / 16 * 16
        }
        self.entries = entries
        index = Dictionary(uniqueKeysWithValues: entries.enumerated().map { ($1.name, $0) })
        count = offset
        values = AlignedBuffer(floats: offset)
        grads = AlignedBuffer(floats: offset)
        momentum = AlignedBuffer(floats: offset)
    }

    /// Offset of tensor `name` (which the graph reads).
    func offset(_ name: String) -> Int {
        guard let i = index[name] else { preconditionFailure("the graph reads \(name)") }
        return entries[i].offset
    }

    /// Copies `weights` (validated against the graph) into the store.
    func load(_ weights: WeightSet) {
        for entry in entries { values.copy(from: weights[entry.name]!.scalars, at: entry.offset) }
    }

    /// The tensors of `buffer` (values, or momentum) by name.
    func weightSet(from buffer: AlignedBuffer, trainableOnly: Bool = false) -> WeightSet {
        var tensors: [String: Tensor] = [:]
        for entry in entries where entry.trainable || !trainableOnly {
            tensors[entry.name] = Tensor(shape: entry.shape, scalars: Array(UnsafeBufferPointer(start: buffer.base + entry.offset, count: entry.count)))
        }
        return WeightSet(tensors)
    }
}
