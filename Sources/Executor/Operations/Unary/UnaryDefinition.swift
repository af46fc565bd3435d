import NetworkIR

/// An element-wise activation (`UnaryFunction`), its arithmetic from the function's table row.
/// Inference fuses it into the epilogue of the convolution or linear layer before it when the row has
/// an epilogue, or runs it element-wise (`ElementwiseStep`); training runs `UnaryOperation`, or a batch
/// norm or residual sum before a ReLU computes the ReLU too (`FuseReLUInTraining`).
struct UnaryDefinition: OperationDefinition {
    let function: UnaryFunction

    func isNonNegative(inputs: [Bool]) -> Bool { function.row.neverNegative }

    func lower(_ id: NodeID, _ fusion: Fusion, in compiler: inout PlanCompiler) throws(ExecutorError) {
        try compiler.addElementwise(id, .unary(function))
    }

    func trainingOperation(_ id: NodeID, _ fusion: Fusion, in context: TrainingCompilation) throws(ExecutorError) -> any TrainingOperation {
        UnaryOperation(node: id, input: context.input(of: id), count: context.graph.nodes[id].shape.elementCount, row: function.row)
    }
}

/// y = f(x); backward dx (+)= dy · f′ from the saved input or output, as the row says.
struct UnaryOperation: TrainingOperation {
    let node: NodeIndex
    let input: NodeIndex
    let count: Int
    let row: UnaryRow
    var savedForBackward: [NodeIndex] { [row.saved == .input ? input : node] }

    func scratch(batch: Int, kernels: KernelSet) -> [ScratchRequest] { [] }

    func forward(_ c: StepContext) {
        let x = c.values[input], y = c.values[node], f = row.forward
        c.parallelElements(count * c.batch) { r in Vector.apply(r, x, into: y, f) }
    }

    func backward(_ c: StepContext, accumulate: [Bool]) {
        guard let dx = c.grads[input], let dy = c.grads[node] else { return }
        let saved = c.values[row.saved == .input ? input : node], add = accumulate[0], g = row.gradient
        c.parallelElements(count * c.batch) { r in
            Vector.apply(r, dy, saved, into: dx, accumulate: add, g)
        }
    }
}
