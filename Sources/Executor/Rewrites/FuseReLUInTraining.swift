import NetworkIR

/// Training: a ReLU that alone reads a batch norm or a residual sum is computed by it — the forward
/// writes max(·, 0) straight into the ReLU's value and the backward gates the gradient by it — so the
/// batch norm's or sum's own output and gradient are never stored.
struct FuseReLUInTraining: RewritePass {
    func apply(to g: inout FusedGraph) {
        for id in g.graph.nodes.indices where g.computesItself(id) && definition(of: g.graph.nodes[id].operation).takesIn.contains(.reluInTraining) {
            guard let next = g.soleConsumer(id), g.graph.nodes[next].operation == .unary(.relu) else { continue }
            g.absorb(next, into: id) { $0.activation = (next, .relu) }
        }
    }
}
