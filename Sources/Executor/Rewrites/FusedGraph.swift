import NetworkIR

/// A graph as one mode runs it: the rewrite passes of that mode (`RewritePass`) decide which nodes a
/// neighbour computes — a batch norm folded into the convolution before it, a residual add and an
/// activation fused into its epilogue, a squeeze-excite scale applied as its input is read, a ReLU
/// computed by the batch norm or sum before it in training — and the compilers lower what is left,
/// each node with its `Fusion`. The graph itself is never changed.
struct FusedGraph: Sendable {
    let graph: Graph
    /// For each node, the nodes that read its value.
    let consumers: [[NodeID]]
    /// Per node: what it took in.
    private(set) var fusions: [Fusion]
    /// Per node: the node that computes it, when another does.
    private(set) var absorbedBy: [NodeID?]

    /// The graph with nothing fused.
    init(_ graph: Graph) {
        self.graph = graph
        consumers = graph.consumers
        fusions = graph.nodes.indices.map { Fusion(result: $0) }
        absorbedBy = Array(repeating: nil, count: graph.nodes.count)
    }

    /// The graph after `passes`, in order.
    init(_ graph: Graph, passes: [any RewritePass]) {
        self.init(graph)
        for pass in passes { pass.apply(to: &self) }
    }

    /// The node's only reader, unless the node is the graph output or is read more than once.
    func soleConsumer(_ id: NodeID) -> NodeID? {
        guard id != graph.output, consumers[id].count == 1 else { return nil }
        return consumers[id][0]
    }

    /// Whether node `id` computes itself (it was not taken in by another).
    func computesItself(_ id: NodeID) -> Bool { absorbedBy[id] == nil }

    /// Node `owner` computes `node` too, whose value becomes the one `owner`'s step or operation writes.
    mutating func absorb(_ node: NodeID, into owner: NodeID, _ record: (inout Fusion) -> Void) {
        absorbedBy[node] = owner
        fusions[owner].result = node
        record(&fusions[owner])
    }

    /// Node `owner` reads `node`'s inputs in its place, so `node` has no value of its own.
    mutating func fold(_ node: NodeID, into owner: NodeID, _ record: (inout Fusion) -> Void) {
        absorbedBy[node] = owner
        record(&fusions[owner])
    }

    /// Whether `operand` reaches add node `add` as the residual a fused epilogue reads.
    func isFusedResidual(_ operand: NodeID, of add: NodeID) -> Bool {
        guard let owner = absorbedBy[add] else { return false }
        return fusions[owner].residual?.operand == operand
    }
}

/// What a node's step (inference) or operation (training) computes besides the node itself.
struct Fusion: Sendable {
    /// The batch norm folded into a convolution's weights and bias (inference).
    var batchNorm: NodeID?
    /// The residual add computed in the epilogue, and its other operand (already computed).
    var residual: (add: NodeID, operand: NodeID)?
    /// The activation computed in the epilogue (inference), or the ReLU a batch norm or residual sum
    /// computes too (training).
    var activation: (node: NodeID, function: UnaryFunction)?
    /// A squeeze-excite scale applied as the input is read: the scale node, the value it scales and
    /// the gate (inference, 1x1 convolutions).
    var inputGate: (scale: NodeID, input: NodeID, gate: NodeID)?
    /// The node whose value the step or operation writes: the last node it takes in, or its own.
    var result: NodeID
}

/// One rewrite of a `FusedGraph`: a small, named decision about what a node takes in.
protocol RewritePass: Sendable {
    func apply(to graph: inout FusedGraph)
}

/// The passes of each mode, in order.
enum Rewrites {
    /// Inference: a squeeze-excite scale into the 1x1 convolution that reads it, batch norms into the
    /// convolutions before them, residual adds and activations into epilogues.
    static let inference: [any RewritePass] = [FoldChannelScale(), FoldBatchNorm(), FuseResidual(), FuseActivation()]
    /// Training: a ReLU into the batch norm or residual sum before it.
    static let training: [any RewritePass] = [FuseReLUInTraining()]
}
