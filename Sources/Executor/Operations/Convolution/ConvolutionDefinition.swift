import NetworkIR

/// A convolution of any kernel size, stride, padding and groups. A 1x1, unpadded, ungrouped one is a
/// GEMM over pixels in both forms (`GemmStep`, `PointwiseOperation`); every other one runs on the
/// direct-convolution kernels: one float32 forward for both (`ConvolutionStep`, which
/// `ConvolutionOperation` runs in training), and bf16/int8 at inference (`NarrowConvolutionStep`).
///
/// Inference folds the batch norm that follows into the weights and bias, and fuses the residual
/// add (GEMM form only, when the other operand is already computed) and the ReLU or sigmoid into the
/// epilogue; a squeeze-excite scale read only by a GEMM-form convolution is applied as A is packed.
struct ConvolutionDefinition: OperationDefinition {
    let conv: Convolution

    var isPointwise: Bool { conv.kernel == 1 && conv.padding == 0 && conv.groups == 1 }

    /// A following batch norm and activation, and — in the GEMM form — a residual add and a
    /// squeeze-excite scale on the input.
    var takesIn: Absorption { isPointwise ? [.batchNorm, .residual, .activation, .inputGate] : [.batchNorm, .activation] }
    var readsNarrowValues: Bool { true }
    /// Squeeze-excite's 1x1 layers (one pixel) stay float32: they are tiny and make the gates.
    func runsInt8(_ node: Node) -> Bool { node.shape.height * node.shape.width > 1 }

    func lower(_ id: NodeID, _ fusion: Fusion, in compiler: inout PlanCompiler) throws(ExecutorError) {
        let node = compiler.graph.nodes[id]
        let activation = fusion.activation?.function.row.epilogue ?? .none
        let w = compiler.tensor(id, .weight)
        let b = compiler.optionalTensor(id, .bias) ?? [Float](repeating: 0, count: conv.outChannels)
        let batchNorm = fusion.batchNorm.flatMap { bn -> (scale: [Float], shift: [Float])? in
            guard case .batchNorm(let channels, let epsilon) = compiler.graph.nodes[bn].operation else { return nil }
            return BatchNormDefinition(channels: channels, epsilon: epsilon).affine(bn, in: compiler)
        }
        let input = try compiler.value(fusion.inputGate?.input ?? node.inputs[0])
        let inputScale: Int? = try fusion.inputGate.map { (g: (scale: NodeID, input: NodeID, gate: NodeID)) throws(ExecutorError) in try compiler.value(g.gate) }
        let residual: Int? = try fusion.residual.map { (r: (add: NodeID, operand: NodeID)) throws(ExecutorError) in try compiler.value(r.operand) }
        // A result only narrow convolutions read is stored narrow (half or a quarter of the traffic, no conversion pass).
        // (Only a layer that itself runs in int8 stores uint8.)
        let quantizedInput = compiler.kernels.int8 == nil ? nil : compiler.quantizedInputScale(of: id)
        let storage = compiler.precision == .int8 && quantizedInput == nil ? (.float32, nil)
            : compiler.narrowStorage(of: fusion.result, activation: activation)
        let output = compiler.newValue(for: fusion.result, element: storage.element)
        if let scale = storage.scale { compiler.valueScales[output] = scale }
        let flops = node.operation.complexity(output: node.shape).flops * compiler.batch
        if isPointwise {
            compiler.appendGemm(input: input, output: output, residual: residual, inputScale: inputScale, stride: conv.stride,
                                k: conv.inChannels, n: conv.outChannels, weights: w, bias: b, batchNorm: batchNorm,
                                activation: activation, quantizedInput: quantizedInput, for: id, flops: flops)
        } else {
            // Weights packed per operand type: float32 for `ConvolutionStep` (pairs of groups of width 8
            // where it can), narrow ones unpaired for `NarrowConvolutionStep`.
            let conv = self.conv, fp32Layout = ConvolutionStep.layout(conv, activation: activation)
            let narrowLayout = NarrowConvolutionStep.layout(conv)
            let stored = compiler.storeWeights(w, b, batchNorm: batchNorm, channels: conv.outChannels, name: node.name,
                                               quantizedInput: quantizedInput,
                                               pack: { ConvolutionStep.pack($0, $1, conv: conv, layout: $2 == 1 ? fp32Layout : narrowLayout, group: $2) },
                                               layout: { ConvolutionStep.lanes($0, conv: conv, layout: narrowLayout) })
            let step: any InferenceStep
            switch stored.operands {
            case .int8:
                step = NarrowConvolutionStep(input: compiler.narrowCopy(of: input, as: .uint8, scale: quantizedInput ?? 1, for: id), output: output,
                                             conv: conv, weights: stored.weights, bias: stored.bias, activation: activation, operands: .int8,
                                             quantization: (stored.scales ?? 0, compiler.valueScales[output] ?? 1))
            case .bfloat16:
                step = NarrowConvolutionStep(input: compiler.narrowCopy(of: input, as: .bfloat16, for: id), output: output, conv: conv,
                                             weights: stored.weights, bias: stored.bias, activation: activation, operands: .bfloat16)
            default:
                step = ConvolutionStep(input: input, output: output, conv: conv, weights: stored.weights, bias: stored.bias,
                                       activation: activation, paired: fp32Layout.paired)
            }
            compiler.append(step, for: id, flops: flops)
        }
    }

    /// By structure, not by name: the convolution reading the network's input is the stem; one over a
    /// 1×1 map (the pooled features of a squeeze-excite) is `se`.
    func profileKind(of node: Node) -> String {
        if node.inputs == [0] { return "stem" }
        if node.shape.height * node.shape.width == 1 && conv.kernel == 1 { return "se" }
        if conv.kernel == 1 { return conv.stride > 1 ? "conv1x1/s2" : "conv1x1" }
        return conv.inChannelsPerGroup == 1 ? "dwconv\(conv.kernel)x\(conv.kernel)" : "conv\(conv.kernel)x\(conv.kernel)"
    }

    func trainingOperation(_ id: NodeID, _ fusion: Fusion, in context: TrainingCompilation) throws(ExecutorError) -> any TrainingOperation {
        let node = context.graph.nodes[id]
        let weight = context.parameter(id, .weight), bias = context.optionalParameter(id, .bias)
        if isPointwise {
            return PointwiseOperation(node: id, input: context.input(of: id), inShape: context.inputShape(of: id), outChannels: conv.outChannels,
                                      stride: conv.stride, channelMajorFeatures: false, weight: weight, bias: bias,
                                      bfloat16: context.bfloat16)
        }
        return ConvolutionOperation(node: id, input: context.input(of: id), conv: conv, inShape: context.inputShape(of: id),
                                    outShape: node.shape, weight: weight, bias: bias,
                                    bfloat16: context.bfloat16 && ConvolutionOperation.bfloat16IsFaster(conv))
    }
}
