import NetworkIR

extension Graph {
    /// Whether node `id` can run in int8: its kind's definition allows it (a convolution over more than
    /// one pixel: squeeze-excite's 1x1 layers are tiny and make the gates, so they stay float32) and
    /// its input is never negative (uint8, zero point 0).
    func isInt8Candidate(_ id: NodeID) -> Bool {
        definition(of: nodes[id].operation).runsInt8(nodes[id]) && isNonNegative(nodes[id].inputs[0])
    }

    /// Whether node `id`'s result is never negative, by construction (each kind's definition says how
    /// its result's sign follows from its inputs'). An int8 convolution's uint8 input (zero point 0)
    /// must be one.
    func isNonNegative(_ id: NodeID) -> Bool {
        let node = nodes[id]
        return definition(of: node.operation).isNonNegative(inputs: node.inputs.map(isNonNegative))
    }
}
