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
