import Foundation
import NetworkIR

/// x · sigmoid(x) (SiLU, swish), element-wise in both forms.
struct SiLUDefinition: OperationDefinition {
    func lower(_ id: NodeID, in compiler: inout PlanCompiler) throws(ExecutorError) {
        try compiler.addElementwise(id, .silu)
    }

    func trainingOperation(_ id: NodeID, in context: TrainingCompilation) throws(ExecutorError) -> any TrainingOperation {
        SiLUOperation(node: id, input: context.input(of: id), count: context.graph.nodes[id].shape.elementCount)
    }
}

/// y = x · s with s = sigmoid(x); backward dx = dy · s · (1 + x (1 − s)), from the saved input.
struct SiLUOperation: TrainingOperation {
    let node: NodeIndex
    let input: NodeIndex
    let count: Int
    var savedForBackward: [NodeIndex] { [input] }

    func scratch(batch: Int) -> ScratchNeeds { ScratchNeeds() }

    func forward(_ c: StepContext) {
        let x = c.values[input], y = c.values[node]
        c.parallelElements(count * c.batch) { r in
            for i in r { y[i] = x[i] / (1 + exp(-x[i])) }
        }
    }

    func backward(_ c: StepContext, accumulate: [Bool]) {
        guard let dx = c.grads[input], let dy = c.grads[node] else { return }
        let x = c.values[input], add = accumulate[0]
        c.parallelElements(count * c.batch) { r in
            for i in r {
                let s = 1 / (1 + exp(-x[i]))
                let g = dy[i] * s * (1 + x[i] * (1 - s))
                dx[i] = add ? dx[i] + g : g
            }
        }
    }
}
