import NetworkIR

/// The residual add. Inference fuses it into a 1x1 convolution's epilogue when the other operand is
/// already computed, or runs it element-wise.
struct AddDefinition: OperationDefinition {
    func lower(_ id: NodeID, in compiler: inout PlanCompiler) throws(ExecutorError) {
        try compiler.addElementwise(id, .add(try compiler.value(compiler.graph.nodes[id].inputs[1])))
    }

    func trainingOperation(_ id: NodeID, in context: TrainingCompilation) throws(ExecutorError) -> any TrainingOperation {
        let node = context.graph.nodes[id]
        return AddOperation(node: id, inputs: (node.inputs[0], node.inputs[1]), count: node.shape.elementCount)
    }
}

/// a + b (residual add); both inputs receive the output's gradient.
struct AddOperation: TrainingOperation {
    let node: NodeIndex
    let inputs: (NodeIndex, NodeIndex)
    let count: Int
    var savedForBackward: [NodeIndex] { [] }

    func scratch(batch: Int) -> ScratchNeeds { ScratchNeeds() }

    func forward(_ c: StepContext) {
        let a = c.values[inputs.0], b = c.values[inputs.1], y = c.values[node]
        c.parallelElements(count * c.batch) { r in
            Vector.map(r, a, b, into: y, accumulate: false, { $0 + $1 }, { $0 + $1 })
        }
    }

    func backward(_ c: StepContext, accumulate: [Bool]) {
        guard let dy = c.grads[node] else { return }
        for (slot, input) in [inputs.0, inputs.1].enumerated() {
            guard let dx = c.grads[input] else { continue }
            let add = accumulate[slot]
            c.parallelElements(count * c.batch) { r in
                if add { Vector.map(r, dx, dy, into: dx, accumulate: false, { $0 + $1 }, { $0 + $1 }) }
                else { (dx + r.lowerBound).update(from: dy + r.lowerBound, count: r.count) }
            }
        }
    }
}
