import NetworkIR

/// Inference: an activation that alone reads a convolution's or linear layer's result (after what it
/// took in already) is computed in the epilogue, when the micro-kernels have that epilogue (ReLU,
/// sigmoid: `UnaryRow.epilogue`).
struct FuseActivation: RewritePass {
    func apply(to g: inout FusedGraph) {
        for id in g.graph.nodes.indices where g.computesItself(id) && definition(of: g.graph.nodes[id].operation).takesIn.contains(.activation) {
            guard let next = g.soleConsumer(g.fusions[id].result), case .unary(let function) = g.graph.nodes[next].operation,
                  function.row.epilogue != nil else { continue }
            g.absorb(next, into: id) { $0.activation = (next, function) }
        }
    }
}
