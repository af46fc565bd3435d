import NetworkIR
import Weights

/// Batch normalisation. Inference uses the running statistics as a per-channel affine map, folded
/// into the convolution before it when it has one (`ConvolutionDefinition`), an element-wise step
/// otherwise; training normalises with the batch's statistics (`BatchNormOperation`).
struct BatchNormDefinition: OperationDefinition {
    let channels: Int
    let epsilon: Float

    /// The inference map x · scale + shift of batch norm node `id`.
    func affine(_ id: NodeID, in compiler: PlanCompiler) -> (scale: [Float], shift: [Float]) {
        batchNormAffine(gamma: compiler.tensor(id, .scale), beta: compiler.tensor(id, .shift),
                        mean: compiler.tensor(id, .runningMean), variance: compiler.tensor(id, .runningVariance), epsilon: epsilon)
    }

    func lower(_ id: NodeID, _ fusion: Fusion, in compiler: inout PlanCompiler) throws(ExecutorError) {
        let (scale, shift) = affine(id, in: compiler)
        let s = compiler.store(scale), t = compiler.store(shift)
        try compiler.addElementwise(id, .affine(scale: s, shift: t))
    }

    func profileKind(of node: Node) -> String { "batchnorm" }

    /// In training, the ReLU that alone reads it (`FuseReLUInTraining`).
    var takesIn: Absorption { .reluInTraining }

    func trainingOperation(_ id: NodeID, _ fusion: Fusion, in context: TrainingCompilation) throws(ExecutorError) -> any TrainingOperation {
        let node = context.graph.nodes[id]
        return BatchNormOperation(node: id, input: context.input(of: id), channels: channels, pixels: node.shape.height * node.shape.width,
                                  epsilon: epsilon, momentum: context.momentum,
                                  gamma: context.parameter(id, .scale), beta: context.parameter(id, .shift),
                                  runningMean: context.parameter(id, .runningMean), runningVar: context.parameter(id, .runningVariance),
                                  fusedReLU: fusion.activation?.node)
    }
}
