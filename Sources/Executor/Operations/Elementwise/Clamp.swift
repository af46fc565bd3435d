import NetworkIR

/// min(max(x, lower), upper) — ReLU6 is clamp(0, 6) — element-wise in both forms.
struct ClampDefinition: OperationDefinition {
    let lower: Float
    let upper: Float

    func lower(_ id: NodeID, in compiler: inout PlanCompiler) throws(ExecutorError) {
        try compiler.addElementwise(id, .clamp(lower, upper))
    }

    func trainingOperation(_ id: NodeID, in context: TrainingCompilation) throws(ExecutorError) -> any TrainingOperation {
        ClampOperation(node: id, input: context.input(of: id), count: context.graph.nodes[id].shape.elementCount, lower: lower, upper: upper)
    }
}

/// Clamps; backward passes the gradient where lower < x < upper, as PyTorch's hardtanh does.
struct ClampOperation: TrainingOperation {
    let node: NodeIndex
    let input: NodeIndex
    let count: Int
    let lower: Float
    let upper: Float
    var savedForBackward: [NodeIndex] { [input] }

    func scratch(batch: Int) -> ScratchNeeds { ScratchNeeds() }

    func forward(_ c: StepContext) {
        let x = c.values[input], y = c.values[node], (lo, hi) = (lower, upper)
        c.parallelElements(count * c.batch) { r in
            for i in r { y[i] = min(max(x[i], lo), hi) }
        }
    }

    func backward(_ c: StepContext, accumulate: [Bool]) {
        guard let dx = c.grads[input], let dy = c.grads[node] else { return }
        let x = c.values[input], add = accumulate[0], (lo, hi) = (lower, upper)
        c.parallelElements(count * c.batch) { r in
            for i in r {
                let g = x[i] > lo && x[i] < hi ? dy[i] : 0
                dx[i] = add ? dx[i] + g : g
            }
        }
    }
}
