import NetworkIR

/// The residual add. Inference fuses it into a 1x1 convolution's epilogue when the other operand is
/// already computed, or runs it element-wise.
struct AddDefinition: OperationDefinition {
    /// In training, the ReLU that alone reads the sum (`FuseReLUInTraining`).
    var takesIn: Absorption { .reluInTraining }

    func lower(_ id: NodeID, _ fusion: Fusion, in compiler: inout PlanCompiler) throws(ExecutorError) {
        try compiler.addElementwise(id, .add(try compiler.value(compiler.graph.nodes[id].inputs[1])))
    }

    func trainingOperation(_ id: NodeID, _ fusion: Fusion, in context: TrainingCompilation) throws(ExecutorError) -> any TrainingOperation {
        let node = context.graph.nodes[id]
        return AddOperation(node: id, inputs: (node.inputs[0], node.inputs[1]), count: node.shape.elementCount, fusedReLU: fusion.activation?.node)
    }
}

/// a + b (residual add); both inputs receive the output's gradient.
struct AddOperation: TrainingOperation {
    let node: NodeIndex
    let inputs: (NodeIndex, NodeIndex)
    let count: Int
    /// The ReLU this sum feeds alone, when fused (`FuseReLUInTraining`): max(a + b, 0) is written.
    let fusedReLU: NodeIndex?
    var result: NodeIndex { fusedReLU ?? node }
    var savedForBackward: [NodeIndex] { fusedReLU.map { [$0] } ?? [] }

    func scratch(batch: Int, kernels: KernelSet) -> [ScratchRequest] { [] }

    func forward(_ c: StepContext) {
        let a = c.values[inputs.0], b = c.values[inputs.1], y = c.values[result], relu = fusedReLU != nil
        c.parallelElements(count * c.batch) { r in ElementwiseForward.add(r, a, b, into: y, relu: relu) }
    }

    func backward(_ c: StepContext, accumulate: [Bool]) {
        guard let dy = c.grads[result] else { return }
        let targets = [inputs.0, inputs.1].enumerated().compactMap { slot, input in c.grads[input].map { ($0, accumulate[slot]) } }
        guard let relu = fusedReLU else {
            for (dx, add) in targets {
                c.parallelElements(count * c.batch) { r in
                    if add { Vector.apply(r, dx, dy, into: dx, accumulate: false) { $0 + $1 } }
                    else { (dx + r.lowerBound).update(from: dy + r.lowerBound, count: r.count) }
                }
            }
            return
        }
        // The gated gradient, computed once per element and written (or added) to every input's gradient.
        let y = UnsafePointer(c.values[relu])
        c.parallelElements(count * c.batch) { r in
            var i = r.lowerBound
            while i + 16 <= r.upperBound {
                let g = Vector.load(dy + i).replacing(with: 0, where: Vector.load(y + i) .<= 0)
                for (dx, add) in targets { Vector.store(add ? Vector.load(dx + i) + g : g, dx + i) }
                i += 16
            }
            while i < r.upperBound {
                let g = y[i] > 0 ? dy[i] : 0
                for (dx, add) in targets { dx[i] = add ? dx[i] + g : g }
                i += 1
            }
        }
    }
}
