import NetworkIR

/// A fully connected layer over the flattened input (channel-major, as PyTorch flattens NCHW): a GEMM
/// in both forms, with a following ReLU or sigmoid fused into the inference epilogue.
struct LinearDefinition: OperationDefinition {
    let inFeatures: Int
    let outFeatures: Int
    let bias: Bool

    /// A following activation, in the GEMM's epilogue.
    var takesIn: Absorption { .activation }

    func lower(_ id: NodeID, _ fusion: Fusion, in compiler: inout PlanCompiler) throws(ExecutorError) {
        let node = compiler.graph.nodes[id]
        let w = compiler.tensor(id, .weight)
        let b = compiler.optionalTensor(id, .bias) ?? [Float](repeating: 0, count: outFeatures)
        var input = try compiler.value(node.inputs[0])
        let shape = compiler.graph.nodes[node.inputs[0]].shape
        if shape.height * shape.width > 1 {
            // PyTorch flattens NCHW: over a map, the features are gathered channel-major first.
            let flat = compiler.newValue(shape: FeatureShape(channels: inFeatures, height: 1, width: 1))
            compiler.append(FlattenStep(input: input, output: flat), for: id, flops: 0)
            input = flat
        }
        let output = compiler.newValue(for: fusion.result)
        compiler.appendGemm(input: input, output: output, residual: nil, inputScale: nil, stride: 1, k: inFeatures, n: outFeatures,
                            weights: w, bias: b, activation: fusion.activation?.function.row.epilogue ?? .none, for: id,
                            flops: inFeatures * outFeatures * compiler.batch)
    }

    func profileKind(of node: Node) -> String { "linear" }

    func trainingOperation(_ id: NodeID, _ fusion: Fusion, in context: TrainingCompilation) throws(ExecutorError) -> any TrainingOperation {
        return PointwiseOperation(node: id, input: context.input(of: id), inShape: context.inputShape(of: id), outChannels: outFeatures,
                                  stride: 1, channelMajorFeatures: true, weight: context.parameter(id, .weight),
                                  bias: context.optionalParameter(id, .bias), bfloat16: context.bfloat16)
    }
}
