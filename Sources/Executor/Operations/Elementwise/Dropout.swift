import NetworkIR

/// Dropout: nothing at inference (the node's value is its input's); in training, each value is kept
/// with probability 1 − p and scaled by 1 / (1 − p).
struct DropoutDefinition: OperationDefinition {
    let probability: Double

    func isNonNegative(inputs: [Bool]) -> Bool { inputs[0] }

    func lower(_ id: NodeID, _ fusion: Fusion, in compiler: inout PlanCompiler) throws(ExecutorError) {
        try compiler.alias(id, to: compiler.graph.nodes[id].inputs[0])
    }

    func trainingOperation(_ id: NodeID, _ fusion: Fusion, in context: TrainingCompilation) throws(ExecutorError) -> any TrainingOperation {
        DropoutOperation(node: id, input: context.input(of: id), count: context.graph.nodes[id].shape.elementCount, probability: probability)
    }
}

/// The training form. Whether value i is kept is a hash of the step's seed, the node and i — not a
/// stream of draws — so the mask is the same for any thread count, the backward recomputes it
/// instead of storing it, and a resumed run draws the masks an uninterrupted one would.
struct DropoutOperation: TrainingOperation {
    let node: NodeIndex
    let input: NodeIndex
    let count: Int
    let probability: Double
    var savedForBackward: [NodeIndex] { [] }

    func scratch(batch: Int, kernels: KernelSet) -> [ScratchRequest] { [] }

    /// Whether element `i` is kept in the step seeded `seed`.
    @inline(__always) static func keeps(_ i: Int, node: Int, seed: UInt64, probability: Double) -> Bool {
        var z = seed &+ UInt64(truncatingIfNeeded: node) &* 0xD1B5_4A32_D192_ED03 &+ UInt64(truncatingIfNeeded: i) &* 0x9E37_79B9_7F4A_7C15
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        z ^= z >> 31
        return Double(z >> 11) / Double(1 << 53) >= probability
    }

    func forward(_ c: StepContext) {
        apply(c, from: c.values[input], to: c.values[node], accumulate: false)
    }

    func backward(_ c: StepContext, accumulate: [Bool]) {
        guard let dx = c.grads[input], let dy = c.grads[node] else { return }
        apply(c, from: dy, to: dx, accumulate: accumulate[0])
    }

    /// to[i] (+)= from[i] · keep_i / (1 − p).
    private func apply(_ c: StepContext, from: UnsafeMutablePointer<Float>, to: UnsafeMutablePointer<Float>, accumulate add: Bool) {
        let p = probability, scale = Float(1 / (1 - p)), node = node, seed = c.randomSeed
        c.parallelElements(count * c.batch) { r in
            for i in r {
                let v = Self.keeps(i, node: node, seed: seed, probability: p) ? from[i] * scale : 0
                to[i] = add ? to[i] + v : v
            }
        }
    }
}
