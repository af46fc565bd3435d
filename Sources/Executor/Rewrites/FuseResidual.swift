import NetworkIR

/// Inference: the residual add that alone reads a 1x1 convolution's result (after its folded batch
/// norm) is computed in the convolution's epilogue, when the add's other operand is a stored value
/// computed before the convolution runs.
struct FuseResidual: RewritePass {
    func apply(to g: inout FusedGraph) {
        for id in g.graph.nodes.indices where g.computesItself(id) && definition(of: g.graph.nodes[id].operation).takesIn.contains(.residual) {
            let last = g.fusions[id].result
            guard let add = g.soleConsumer(last), g.graph.nodes[add].operation == .add else { continue }
            let inputs = g.graph.nodes[add].inputs
            let operand = inputs[0] == last ? inputs[1] : inputs[0]
            guard operand != last, operand < id, hasValue(operand, in: g) else { continue }
            g.absorb(add, into: id) { $0.residual = (add, operand) }
        }
    }

    /// Whether `node`'s value is stored: it computes itself, or it is the result of the node that took it in.
    private func hasValue(_ node: NodeID, in g: FusedGraph) -> Bool {
        guard let owner = g.absorbedBy[node] else { return true }
        return g.fusions[owner].result == node
    }
}
