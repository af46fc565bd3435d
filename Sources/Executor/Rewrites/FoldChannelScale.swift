import NetworkIR

/// Inference: a squeeze-excite scale x · s whose only reader takes an input gate (a 1x1 convolution)
/// is applied as that reader packs its input, so the scaled value is never stored.
struct FoldChannelScale: RewritePass {
    func apply(to g: inout FusedGraph) {
        for (id, node) in g.graph.nodes.enumerated() where node.operation == .channelScale {
            guard let reader = g.soleConsumer(id), definition(of: g.graph.nodes[reader].operation).takesIn.contains(.inputGate) else { continue }
            g.fold(id, into: reader) { $0.inputGate = (id, node.inputs[0], node.inputs[1]) }
        }
    }
}
