/// One node's computation. Every consumer (complexity, summaries, weight binding, the executor)
/// switches over this enum, so a new kind of layer is added here once.
public enum Operation: Hashable, Sendable, Codable {
    /// The network input.
    case input
    /// A 2-D convolution.
    case convolution(Convolution)
    /// Inference batch norm over `channels` with `epsilon`.
    case batchNorm(channels: Int, epsilon: Float)
    /// An element-wise activation (ReLU, sigmoid, SiLU, clamp, hard swish, hard sigmoid).
    case unary(UnaryFunction)
    /// Element-wise sum of two equal shapes (residual add).
    case add
    /// x * s, where s has one value per channel (shape C×1×1): the squeeze-excite scaling.
    case channelScale
    /// Mean over the spatial dimensions: C×H×W → C×1×1.
    case globalAveragePool
    /// Fully connected layer over a C×1×1 input.
    case linear(inFeatures: Int, outFeatures: Int, bias: Bool)
    /// Maximum over each window (padding never wins).
    case maxPool(PoolingWindow)
    /// Mean over each window, padded positions counted as zeros.
    case averagePool(PoolingWindow)
    /// Zeroes each value with `probability` in training (scaling the rest by 1 / (1 − p)); the
    /// identity at inference.
    case dropout(probability: Double)

    /// Short name for summaries and errors.
    public var kindName: String {
        switch self {
        case .input: "input"
        case .convolution(let c): "conv\(c.kernel)x\(c.kernel)"
        case .batchNorm: "batchnorm"
        case .unary(let f): f.name
        case .add: "add"
        case .channelScale: "scale"
        case .globalAveragePool: "avgpool"
        case .linear: "linear"
        case .maxPool(let w): "maxpool\(w.kernel)x\(w.kernel)"
        case .averagePool(let w): "avgpool\(w.kernel)x\(w.kernel)"
        case .dropout: "dropout"
        }
    }

    /// Whether it is a convolution (of any kernel size, stride and groups).
    public var isConvolution: Bool { if case .convolution = self { true } else { false } }

    /// Number of inputs the operation takes.
    public var arity: Int {
        switch self {
        case .input: 0
        case .add, .channelScale: 2
        default: 1
        }
    }

    /// Checks the inputs and infers the output shape.
    public func outputShape(for inputs: [FeatureShape]) throws(ShapeError) -> FeatureShape {
        guard inputs.count == arity else { throw ShapeError("\(kindName) takes \(arity) inputs, got \(inputs.count)") }
        switch self {
        case .input:
            throw ShapeError("an input node has no inputs to infer from")
        case .convolution(let conv):
            return try conv.outputShape(for: inputs[0])
        case .batchNorm(let channels, _):
            guard inputs[0].channels == channels else {
                throw ShapeError("batch norm over \(channels) channels receives \(inputs[0].channels)")
            }
            return inputs[0]
        case .unary(let f):
            try f.validate()
            return inputs[0]
        case .dropout(let p):
            guard p >= 0, p < 1 else { throw ShapeError("dropout probability must be in [0, 1) (got \(p))") }
            return inputs[0]
        case .maxPool(let window), .averagePool(let window):
            return try window.outputShape(for: inputs[0])
        case .add:
            guard inputs[0] == inputs[1] else {
                throw ShapeError("residual branches disagree: \(inputs[0]) + \(inputs[1])")
            }
            return inputs[0]
        case .channelScale:
            guard inputs[1] == FeatureShape(channels: inputs[0].channels, height: 1, width: 1) else {
                throw ShapeError("channel scale of \(inputs[0]) needs a \(inputs[0].channels)x1x1 scale, got \(inputs[1])")
            }
            return inputs[0]
        case .globalAveragePool:
            return FeatureShape(channels: inputs[0].channels, height: 1, width: 1)
        case .linear(let inFeatures, let outFeatures, _):
            guard inFeatures > 0, outFeatures > 0 else { throw ShapeError("linear sizes must be positive (\(inFeatures) -> \(outFeatures))") }
            guard outFeatures <= Limits.channels else { throw ShapeError("linear layer of \(outFeatures) outputs exceeds the limit of \(Limits.channels)") }
            guard inputs[0].elementCount == inFeatures else {
                throw ShapeError("linear layer expects \(inFeatures) features but receives \(inputs[0]) = \(inputs[0].elementCount)")
            }
            return FeatureShape(channels: outFeatures, height: 1, width: 1)
        }
    }

    /// pycls complexity of this operation producing `output`.
    public func complexity(output: FeatureShape) -> Complexity {
        switch self {
        case .convolution(let conv):
            return conv.complexity(output: output)
        case .batchNorm(let channels, _):
            return Complexity(params: 2 * channels)
        case .linear(let inFeatures, let outFeatures, let bias):
            let weights = saturatingSum(saturatingProduct(inFeatures, outFeatures), bias ? outFeatures : 0)
            return Complexity(flops: weights, params: weights, acts: outFeatures)
        case .maxPool, .averagePool:
            // pycls `pool2d_cx`: the output counts as activations; no multiply-adds.
            return Complexity(acts: output.elementCount)
        case .input, .unary, .add, .channelScale, .globalAveragePool, .dropout:
            return Complexity()
        }
    }

    /// The tensors this operation reads — each with its name suffix, PyTorch shape and role — declared
    /// once here for every consumer (weight binding, naming families, the optimizer's groups, the
    /// training store, batch-norm folding).
    public var parameterDeclarations: [ParameterDeclaration] {
        switch self {
        case .convolution(let conv):
            return [ParameterDeclaration("weight", conv.weightShape, .weight)]
                + (conv.bias ? [ParameterDeclaration("bias", [conv.outChannels], .bias)] : [])
        case .batchNorm(let channels, _):
            return [ParameterDeclaration("weight", [channels], .scale), ParameterDeclaration("bias", [channels], .shift),
                    ParameterDeclaration("running_mean", [channels], .runningMean),
                    ParameterDeclaration("running_var", [channels], .runningVariance)]
        case .linear(let inFeatures, let outFeatures, let bias):
            return [ParameterDeclaration("weight", [outFeatures, inFeatures], .weight)]
                + (bias ? [ParameterDeclaration("bias", [outFeatures], .bias)] : [])
        default:
            return []
        }
    }
}

/// What a tensor an operation reads is for. The role, not the tensor's name, decides whether the
/// optimizer learns it, which weight-decay group it is in (pycls's: batch-norm scales and shifts,
/// biases, the rest) and where batch norm finds its statistics.
public enum ParameterRole: String, Hashable, Sendable, Codable {
    /// A convolution's or linear layer's weights.
    case weight
    /// A convolution's or linear layer's bias.
    case bias
    /// A batch norm's γ (PyTorch's `weight`).
    case scale
    /// A batch norm's β (PyTorch's `bias`).
    case shift
    /// A batch norm's running mean and variance: state tracked in training, not learned.
    case runningMean, runningVariance

    /// Whether the optimizer learns it (the running statistics are tracked instead).
    public var isLearned: Bool { self != .runningMean && self != .runningVariance }
}

/// One tensor an operation declares: the suffix of its name (`weight` → `s1.b1.conv1.conv.weight`),
/// its PyTorch shape and its role.
public struct ParameterDeclaration: Hashable, Sendable {
    public var suffix: String
    public var shape: [Int]
    public var role: ParameterRole

    /// A declaration.
    public init(_ suffix: String, _ shape: [Int], _ role: ParameterRole) {
        (self.suffix, self.shape, self.role) = (suffix, shape, role)
    }
}
