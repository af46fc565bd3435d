import NetworkIR
import Weights

/// Every tensor a graph reads — learned parameters and batch-norm running statistics, as the graph
/// declares them — in one contiguous buffer, with gradient and momentum buffers of the same layout,
/// so an optimizer and an EMA update all of them in one pass.
public final class ParameterStore: @unchecked Sendable {
    /// One tensor's place in the store.
    public struct Entry: Sendable {
        /// Its name (timm's, from the graph's declaration).
        public var name: String
        /// PyTorch shape.
        public var shape: [Int]
        /// What it is for: the optimizer learns every role but the running statistics.
        public var role: ParameterRole
        /// Offset of its first value in the store's buffers, and its element count.
        public var offset: Int, count: Int
        /// The node that declares it.
        public var node: NodeID
    }

    /// The tensors, in graph order.
    public let entries: [Entry]
    private let index: [String: Int]
    /// The values, the gradients of the last backward pass, and the optimizer's momentum.
    public let values: ParameterBuffer, gradients: ParameterBuffer, momentum: ParameterBuffer
    /// Floats in each buffer (entries are padded to 16-float boundaries).
    public let count: Int

    /// A store for every tensor `graph` declares, zeroed.
    public init(graph: Graph) {
        var entries: [Entry] = []
        var offset = 0
        for (node, op) in graph.nodes.enumerated().map({ ($0, $1) }) {
            for declaration in op.operation.parameterDeclarations {
                let count = declaration.shape.reduce(1, *)
                entries.append(Entry(name: "\(op.name).\(declaration.suffix)", shape: declaration.shape, role: declaration.role,
                                     offset: offset, count: count, node: node))
                offset += (count + 15) / 16 * 16
            }
        }
        self.entries = entries
        index = Dictionary(uniqueKeysWithValues: entries.enumerated().map { ($1.name, $0) })
        count = offset
        values = ParameterBuffer(count: offset)
        gradients = ParameterBuffer(count: offset)
        momentum = ParameterBuffer(count: offset)
    }

    /// Offset of the tensor node `node` declares for `role`, nil when it declares none.
    public func offset(of node: NodeID, _ role: ParameterRole) -> Int? {
        entries.first { $0.node == node && $0.role == role }?.offset
    }

    /// The entry called `name`.
    public func entry(named name: String) -> Entry? { index[name].map { entries[$0] } }

    /// Copies `weights` (validated against the graph) into the values.
    public func load(_ weights: WeightSet) { load(weights, into: values) }

    /// Copies the tensors of `weights` named as the entries into `buffer` (every entry, or the learned ones).
    public func load(_ weights: WeightSet, into buffer: ParameterBuffer, learnedOnly: Bool = false) {
        for entry in entries where entry.role.isLearned || !learnedOnly {
            guard let tensor = weights[entry.name] else { preconditionFailure("weights were validated: \(entry.name) is present") }
            tensor.scalars.withUnsafeBufferPointer { (buffer.base + entry.offset).update(from: $0.baseAddress!, count: entry.count) }
        }
    }

    /// The tensors of `buffer` (values, gradients, momentum, an EMA) by name: every entry, or the learned ones.
    public func weightSet(from buffer: ParameterBuffer, learnedOnly: Bool = false) -> WeightSet {
        var tensors: [String: Tensor] = [:]
        for entry in entries where entry.role.isLearned || !learnedOnly {
            tensors[entry.name] = Tensor(shape: entry.shape, scalars: Array(UnsafeBufferPointer(start: buffer.base + entry.offset, count: entry.count)))
        }
        return WeightSet(tensors)
    }
}

/// Floats in a parameter store's layout (values, gradients, momentum, an EMA), 64-byte aligned.
public final class ParameterBuffer: @unchecked Sendable {
    private let storage: AlignedBuffer
    /// The first float.
    public var base: UnsafeMutablePointer<Float> { storage.base }
    /// Floats in the buffer.
    public let count: Int

    /// `count` zeroed floats.
    public init(count: Int) {
        storage = AlignedBuffer(floats: count)
        self.count = count
    }

    /// A copy of `other`.
    public convenience init(copying other: ParameterBuffer) {
        self.init(count: other.count)
        base.update(from: other.base, count: count)
    }

    /// Exchanges the contents with `other` (of the same size).
    public func swapContents(with other: ParameterBuffer) {
        precondition(other.count == count, "buffers of one store's layout")
        let a = base, b = other.base
        for i in 0..<count { let t = a[i]; a[i] = b[i]; b[i] = t }
    }
}
