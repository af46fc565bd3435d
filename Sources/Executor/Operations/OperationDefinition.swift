import NetworkIR

/// Everything the two compilers need from one kind of IR operation, stated once per kind in
/// `Operations/<Kind>/`. The IR gives the kind's shape rule, complexity and parameters; the definition
/// says what the kind can take in from its neighbours (the rewrite passes decide, `Rewrites/`), lowers
/// a node with what it took in into inference steps (packing its weights) and builds the node's
/// training-mode operation. The inference compiler (`PlanCompiler`) and the training compiler
/// (`TrainingProgram`) are two clients of these definitions over the same graph; `definition(of:)`
/// is the switch from IR operations to definitions.
protocol OperationDefinition {
    /// What a node of this kind can compute besides itself (nothing unless the kind says otherwise).
    var takesIn: Absorption { get }
    /// Adds the steps that compute node `id`, with what `fusion` says it took in, to an inference plan.
    func lower(_ id: NodeID, _ fusion: Fusion, in compiler: inout PlanCompiler) throws(ExecutorError)
    /// The training-mode operation that computes node `id`, with what `fusion` says it took in.
    func trainingOperation(_ id: NodeID, _ fusion: Fusion, in context: TrainingCompilation) throws(ExecutorError) -> any TrainingOperation
    /// The layer kind profiles group `node` under (`conv1x1`, `conv3x3`, `stem`, `se`, `batchnorm`, …).
    func profileKind(of node: Node) -> String
    /// Whether the result is never negative when each input is (`inputs[i]`) or is not: what the int8
    /// rules need to know of a convolution's input (uint8 with zero point 0).
    func isNonNegative(inputs: [Bool]) -> Bool
    /// Whether node `node` can run in int8 (a convolution over more than one pixel), given a calibrated
    /// input that is never negative.
    func runsInt8(_ node: Node) -> Bool
    /// Whether a node of this kind reads narrow (bf16, uint8) values, so what only such nodes read may
    /// be stored narrow.
    var readsNarrowValues: Bool { get }
}

/// What an operation kind can compute besides itself, for the rewrite passes to use.
struct Absorption: OptionSet, Sendable {
    let rawValue: Int
    /// Inference: the batch norm after it, folded into its weights and bias.
    static let batchNorm = Absorption(rawValue: 1)
    /// Inference: a residual add in its epilogue.
    static let residual = Absorption(rawValue: 2)
    /// Inference: an activation in its epilogue (one the micro-kernels have).
    static let activation = Absorption(rawValue: 4)
    /// Inference: a squeeze-excite scale applied to its input as it is read.
    static let inputGate = Absorption(rawValue: 8)
    /// Training: the ReLU after it (its forward writes max(·, 0), its backward gates by it).
    static let reluInTraining = Absorption(rawValue: 16)
}

extension OperationDefinition {
    var takesIn: Absorption { [] }
    /// Element-wise work unless the kind says otherwise.
    func profileKind(of node: Node) -> String { "elementwise" }
    /// Signs unknown unless the kind says otherwise.
    func isNonNegative(inputs: [Bool]) -> Bool { false }
    func runsInt8(_ node: Node) -> Bool { false }
    var readsNarrowValues: Bool { false }
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
    /// Whether convolutions and linear layers multiply in bf16 (mixed precision).
    let bfloat16: Bool

    init(graph: Graph, momentum: Float, bfloat16: Bool = false, parameter: @escaping (NodeID, ParameterRole) -> Int?) {
        self.graph = graph
        optionalParameter = parameter
        self.momentum = momentum
        self.bfloat16 = bfloat16
    }

    /// Offset of the tensor node `id` declares for `role` (which the kind always declares).
    func parameter(_ id: NodeID, _ role: ParameterRole) -> Int {
        guard let offset = optionalParameter(id, role) else { preconditionFailure("\(graph.nodes[id].name) declares a \(role) tensor") }
        return offset
    }

    /// The training-mode operation of node `id` with what `fusion` says it took in, from its kind's definition.
    func operation(for id: NodeID, _ fusion: Fusion) throws(ExecutorError) -> any TrainingOperation {
        try definition(of: graph.nodes[id].operation).trainingOperation(id, fusion, in: self)
    }

    /// Node `id`'s first input (its only one, for most kinds).
    func input(of id: NodeID) -> NodeID { graph.nodes[id].inputs.first ?? 0 }

    /// The shape of node `id`'s first input.
    func inputShape(of id: NodeID) -> FeatureShape { graph.nodes[input(of: id)].shape }
}

/// The graph's input: node 0 holds it, and no other node may be an input.
struct InputDefinition: OperationDefinition {
    func profileKind(of node: Node) -> String { "input" }

    func lower(_ id: NodeID, _ fusion: Fusion, in compiler: inout PlanCompiler) throws(ExecutorError) {
        throw secondInput(id, compiler.graph)
    }

    func trainingOperation(_ id: NodeID, _ fusion: Fusion, in context: TrainingCompilation) throws(ExecutorError) -> any TrainingOperation {
        throw secondInput(id, context.graph)
    }

    private func secondInput(_ id: NodeID, _ graph: Graph) -> ExecutorError {
        ExecutorError(.invalidGraph, "node \(id) (\(graph.nodes[id].name)) is a second input; only node 0 may be the input")
    }
}
