import NetworkIR

/// Everything the two compilers need from one kind of IR operation, stated once per kind in
/// `Operations/<Kind>/`. The IR gives the kind's shape rule and complexity; the definition lowers a
/// node into inference steps (packing its weights, fusing what follows it) and builds the node's
/// training-mode operation (forward, backward, the values the backward reads, scratch). The inference
/// compiler (`PlanCompiler`) and the training compiler (`TrainingPlan`) are two clients of these
/// definitions over the same graph; `definition(of:)` is the only switch over IR operations.
protocol OperationDefinition {
    /// Adds the steps that compute node `id` to an inference plan, or folds the node into a step that
    /// a neighbour adds.
    func lower(_ id: NodeID, in compiler: inout PlanCompiler) throws(ExecutorError)
    /// The training-mode operation that computes node `id`.
    func trainingOperation(_ id: NodeID, in context: TrainingCompilation) throws(ExecutorError) -> any TrainingOperation
    /// The layer kind profiles group `node` under (`conv1x1`, `conv3x3`, `stem`, `se`, `batchnorm`, …).
    func profileKind(of node: Node) -> String
    /// Whether the result is never negative when each input is (`inputs[i]`) or is not: what the int8
    /// rules need to know of a convolution's input (uint8 with zero point 0).
    func isNonNegative(inputs: [Bool]) -> Bool
}

extension OperationDefinition {
    /// Element-wise work unless the kind says otherwise.
    func profileKind(of node: Node) -> String { "elementwise" }
    /// Signs unknown unless the kind says otherwise.
    func isNonNegative(inputs: [Bool]) -> Bool { false }
}

/// The layer kind inference and training profiles group `node` under (`conv1x1`, `conv3x3`, `stem`,
/// `se`, `batchnorm`, …), from its kind's definition.
public func profileKind(of node: Node) -> String { definition(of: node.operation).profileKind(of: node) }

/// The definition of an IR operation kind.
func definition(of operation: Operation) -> any OperationDefinition {
    switch operation {
    case .input: InputDefinition()
    case .convolution(let conv): ConvolutionDefinition(conv: conv)
    case .linear(let inFeatures, let outFeatures, let bias): LinearDefinition(inFeatures: inFeatures, outFeatures: outFeatures, bias: bias)
    case .batchNorm(let channels, let epsilon): BatchNormDefinition(channels: channels, epsilon: epsilon)
    case .unary(let function): UnaryDefinition(function: function)
    case .add: AddDefinition()
    case .channelScale: ChannelScaleDefinition()
    case .globalAveragePool: GlobalAveragePoolDefinition()
    case .dropout(let probability): DropoutDefinition(probability: probability)
    case .maxPool(let window): WindowPoolDefinition(window: window, isMax: true)
    case .averagePool(let window): WindowPoolDefinition(window: window, isMax: false)
    }
}

/// What the training compiler hands a definition: the graph, where each declared parameter lives, and
/// the batch-norm momentum.
struct TrainingCompilation {
    let graph: Graph
    /// Offset in the parameter store of the tensor node `id` declares for `role`, nil when it declares none.
    let optionalParameter: (_ id: NodeID, _ role: ParameterRole) -> Int?
    /// Batch-norm running-statistics momentum.
    let momentum: Float

    init(graph: Graph, momentum: Float, parameter: @escaping (NodeID, ParameterRole) -> Int?) {
        self.graph = graph
        optionalParameter = parameter
        self.momentum = momentum
    }

    /// Offset of the tensor node `id` declares for `role` (which the kind always declares).
    func parameter(_ id: NodeID, _ role: ParameterRole) -> Int {
        guard let offset = optionalParameter(id, role) else { preconditionFailure("\(graph.nodes[id].name) declares a \(role) tensor") }
        return offset
    }

    /// The training-mode operation of node `id`, from its kind's definition.
    func operation(for id: NodeID) throws(ExecutorError) -> any TrainingOperation {
        try definition(of: graph.nodes[id].operation).trainingOperation(id, in: self)
    }

    /// Node `id`'s first input (its only one, for most kinds).
    func input(of id: NodeID) -> NodeID { graph.nodes[id].inputs.first ?? 0 }

    /// The shape of node `id`'s first input.
    func inputShape(of id: NodeID) -> FeatureShape { graph.nodes[input(of: id)].shape }
}

/// The graph's input: node 0 holds it, and no other node may be an input.
struct InputDefinition: OperationDefinition {
    func profileKind(of node: Node) -> String { "input" }

    func lower(_ id: NodeID, in compiler: inout PlanCompiler) throws(ExecutorError) {
        throw secondInput(id, compiler.graph)
    }

    func trainingOperation(_ id: NodeID, in context: TrainingCompilation) throws(ExecutorError) -> any TrainingOperation {
        throw secondInput(id, context.graph)
    }

    private func secondInput(_ id: NodeID, _ graph: Graph) -> ExecutorError {
        ExecutorError(.invalidGraph, "node \(id) (\(graph.nodes[id].name)) is a second input; only node 0 may be the input")
    }
}
