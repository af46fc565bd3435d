import Foundation
import NetworkIR

/// 1 / (1 + e^-x), the squeeze-excite gate. Inference fuses it into the epilogue before it, or runs it
/// element-wise.
struct SigmoidDefinition: OperationDefinition {
    func lower(_ id: NodeID, in compiler: inout PlanCompiler) throws(ExecutorError) {
        try compiler.addElementwise(id, .sigmoid)
    }

    func trainingOperation(_ id: NodeID, in context: TrainingCompilation) throws(ExecutorError) -> any TrainingOperation {
        SigmoidOperation(node: id, input: context.input(of: id), count: context.graph.nodes[id].shape.elementCount)
    }
}

/// 1 / (1 + e^-x); backward multiplies by y (1 - y) from the saved output.
struct SigmoidOperation: TrainingOperation {
    let node: NodeIndex
    let input: NodeIndex
    let count: Int
    var savedForBackward: [NodeIndex] { [node] }

    func scratch(batch: Int) -> ScratchNeeds { ScratchNeeds() }

    func forward(_ c: StepContext) {
        let x = c.values[input], y = c.values[node]
        c.parallelElements(count * c.batch) { r in
            for i in r { y[i] = 1 / (1 + exp(-x[i])) }
        }
    }

    func backward(_ c: StepContext, accumulate: [Bool]) {
        guard let dx = c.grads[input], let dy = c.grads[node] else { return }
        let y = c.values[node], add = accumulate[0]
        c.parallelElements(count * c.batch) { r in
            for i in r {
                let g = dy[i] * y[i] * (1 - y[i])
                dx[i] = add ? dx[i] + g : g
            }
        }
    }
}
