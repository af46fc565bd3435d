import NetworkIR

/// max(x, 0). Inference fuses it into the epilogue of the convolution or linear layer before it, or
/// runs it element-wise; training fuses it into a batch norm before it (`TrainingPlan`).
struct ReLUDefinition: OperationDefinition {
    func lower(_ id: NodeID, in compiler: inout PlanCompiler) throws(ExecutorError) {
        try compiler.addElementwise(id, .relu)
    }

    func trainingOperation(_ id: NodeID, in context: TrainingCompilation) throws(ExecutorError) -> any TrainingOperation {
        ReLUOperation(node: id, input: context.input(of: id), count: context.graph.nodes[id].shape.elementCount)
    }
}

/// max(x, 0), NaN kept as PyTorch keeps it; backward passes the gradient where the output is positive.
struct ReLUOperation: TrainingOperation {
    let node: NodeIndex
    let input: NodeIndex
    let count: Int
    var savedForBackward: [NodeIndex] { [node] }

    func scratch(batch: Int) -> ScratchNeeds { ScratchNeeds() }

    func forward(_ c: StepContext) {
        let x = c.values[input], y = c.values[node]
        c.parallelElements(count * c.batch) { r in
            for i in r { let v = x[i]; y[i] = v < 0 ? 0 : v }
        }
    }

    func backward(_ c: StepContext, accumulate: [Bool]) {
        guard let dx = c.grads[input], let dy = c.grads[node] else { return }
        let y = c.values[node], add = accumulate[0]
        c.parallelElements(count * c.batch) { r in
            Vector.map(r, y, dy, into: dx, accumulate: add, { y, g in g.replacing(with: 0, where: y .<= 0) }, { y, g in y > 0 ? g : 0 })
        }
    }
}
