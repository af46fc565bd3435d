/// a + b (residual add); both inputs receive the output's gradient.
struct AddOperation: TrainingOperation {
    let node: NodeIndex
    let inputs: (NodeIndex, NodeIndex)
    let count: Int

    func scratch(batch: Int) -> ScratchNeeds { ScratchNeeds() }

    func forward(_ c: StepContext) {
        let a = c.values[inputs.0], b = c.values[inputs.1], y = c.values[node]
        c.parallelElements(count * c.batch) { r in
            for i in r { y[i] = a[i] + b[i] }
        }
    }

    func backward(_ c: StepContext, accumulate: [Bool]) {
        guard let dy = c.grads[node] else { return }
        for (slot, input) in [inputs.0, inputs.1].enumerated() {
            guard let dx = c.grads[input] else { continue }
            let add = accumulate[slot]
            c.parallelElements(count * c.batch) { r in
                if add { for i in r { dx[i] += dy[i] } } else { (dx + r.lowerBound).update(from: dy + r.lowerBound, count: r.count) }
            }
        }
    }
}
