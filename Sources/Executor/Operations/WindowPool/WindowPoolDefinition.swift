import NetworkIR

/// Max and average pooling over k×k windows (`WindowPoolStep`, `WindowPoolOperation`).
struct WindowPoolDefinition: OperationDefinition {
    let window: PoolingWindow
    let isMax: Bool

    func lower(_ id: NodeID, in compiler: inout PlanCompiler) throws(ExecutorError) {
        let node = compiler.graph.nodes[id]
        let input = try compiler.value(node.inputs[0])
        compiler.append(WindowPoolStep(input: input, output: compiler.newValue(for: id), window: window, isMax: isMax, name: node.name),
                        flops: 0)
    }

    func trainingOperation(_ id: NodeID, in context: TrainingCompilation) throws(ExecutorError) -> any TrainingOperation {
        WindowPoolOperation(node: id, input: context.input(of: id), inShape: context.inputShape(of: id),
                            outShape: context.graph.nodes[id].shape, window: window, isMax: isMax)
    }
}
