import NetworkIR

/// Inference: a batch norm that alone reads a convolution is folded into the convolution's weights
/// and bias (its running statistics are constants at inference).
struct FoldBatchNorm: RewritePass {
    func apply(to g: inout FusedGraph) {
        for id in g.graph.nodes.indices where g.computesItself(id) && definition(of: g.graph.nodes[id].operation).takesIn.contains(.batchNorm) {
            guard let bn = g.soleConsumer(id), case .batchNorm = g.graph.nodes[bn].operation else { continue }
            g.absorb(bn, into: id) { $0.batchNorm = bn }
        }
    }
}
