import NetworkIR

/// Max and average pooling over k×k windows (`WindowPoolStep`, `WindowPoolOperation`).
struct WindowPoolDefinition: OperationDefinition {
    let window: PoolingWindow
    let isMax: Bool

    func lower(_ id: NodeID, _ fusion: Fusion, in compiler: inout PlanCompiler) throws(ExecutorError) {
        let input = try compiler.value(compiler.graph.nodes[id].inputs[0])
        compiler.append(WindowPoolStep(input: input, output: compiler.newValue(for: id), window: window, isMax: isMax), for: id, flops: 0)
    }

    func profileKind(of node: Node) -> String { isMax ? "maxpool" : "avgpool" }

    func isNonNegative(inputs: [Bool]) -> Bool { inputs[0] }

    func trainingOperation(_ id: NodeID, _ fusion: Fusion, in context: TrainingCompilation) throws(ExecutorError) -> any TrainingOperation {
        WindowPoolOperation(node: id, input: context.input(of: id), inShape: context.inputShape(of: id),
                            outShape: context.graph.nodes[id].shape, window: window, isMax: isMax)
    }
}
