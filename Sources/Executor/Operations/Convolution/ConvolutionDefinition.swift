import NetworkIR

/// A convolution of any kernel size, stride, padding and groups. A 1x1, unpadded, ungrouped one is a
/// GEMM over pixels in both forms (`GemmStep`, `PointwiseOperation`); every other one runs on the
/// direct-convolution kernel (`ConvolutionStep`, `ConvolutionOperation`).
///
/// Inference folds the batch norm that follows into the weights and bias, and fuses the residual
/// add (GEMM form only, when the other operand is already computed) and the ReLU or sigmoid into the
/// epilogue; a squeeze-excite scale read only by a GEMM-form convolution is applied as A is packed.
struct ConvolutionDefinition: OperationDefinition {
    let conv: Convolution

    var isPointwise: Bool { conv.kernel == 1 && conv.padding == 0 && conv.groups == 1 }

    func lower(_ id: NodeID, in compiler: inout PlanCompiler) throws(ExecutorError) {
        let node = compiler.graph.nodes[id]
        let chain = compiler.fuseChain(from: id, allowResidual: isPointwise)
        var w = compiler.tensor("\(node.name).weight")
        var b = conv.bias ? compiler.tensor("\(node.name).bias") : [Float](repeating: 0, count: conv.outChannels)
        if let bn = chain.batchNorm, case .batchNorm(let channels, let epsilon) = compiler.graph.nodes[bn].operation {
            let (scale, shift) = BatchNormDefinition(channels: channels, epsilon: epsilon).affine(compiler.graph.nodes[bn].name, in: compiler)
            let perChannel = w.count / conv.outChannels
            for co in 0..<conv.outChannels {
                for i in 0..<perChannel { w[co * perChannel + i] *= scale[co] }
                b[co] = b[co] * scale[co] + shift[co]
            }
        }
        let folded = compiler.foldedScales[node.inputs[0]]
        let input = try compiler.value(folded?.input ?? node.inputs[0])
        let inputScale: Int? = try folded.map { (f: (input: NodeID, gate: NodeID)) throws(ExecutorError) in try compiler.value(f.gate) }
        let residual: Int? = try chain.residual.map { (r: NodeID) throws(ExecutorError) in try compiler.value(r) }
        // A result only bf16 convolutions read is stored as bf16 (half the traffic, no conversion pass).
        let bf16Output = chain.activation != .sigmoid && compiler.onlyBFloat16Readers(chain.last)
        let output = compiler.newValue(for: chain.last, element: bf16Output ? .bfloat16 : .float32)
        let flops = node.operation.complexity(output: node.shape).flops * compiler.batch
        if isPointwise {
            compiler.appendGemm(input: input, output: output, residual: residual, inputScale: inputScale, stride: conv.stride,
                                k: conv.inChannels, n: conv.outChannels, weights: w, bias: b, activation: chain.activation,
                                for: id, flops: flops)
        } else {
            let bfloat16 = compiler.precision == .bfloat16
            let blocks = (conv.outChannelsPerGroup + 15) / 16
            let packed = ConvolutionStep.pack(w, b, conv: conv, blocks: blocks, pairs: bfloat16)
            let source = bfloat16 ? compiler.bfloat16Copy(of: input, for: id) : input
            compiler.append(ConvolutionStep(input: source, output: output, kernel: conv.kernel, stride: conv.stride,
                                            padding: conv.padding, groups: conv.groups, inPerGroup: conv.inChannelsPerGroup,
                                            outPerGroup: conv.outChannelsPerGroup, blocksPerGroup: blocks,
                                            weights: bfloat16 ? compiler.storeBFloat16(packed.weights) : compiler.store(packed.weights),
                                            bias: compiler.store(packed.bias), activation: chain.activation,
                                            operands: bfloat16 ? .bfloat16 : .float32),
                            for: id, flops: flops)
        }
        compiler.absorb(chain.members)
    }

    func profileKind(of node: Node) -> String {
        if node.name.hasPrefix("stem") { return "stem" }
        if node.name.contains(".se.") { return "se" }
        if conv.kernel == 1 { return conv.stride > 1 ? "conv1x1/s2" : "conv1x1" }
        return conv.inChannelsPerGroup == 1 ? "dwconv\(conv.kernel)x\(conv.kernel)" : "conv\(conv.kernel)x\(conv.kernel)"
    }

    func trainingOperation(_ id: NodeID, in context: TrainingCompilation) throws(ExecutorError) -> any TrainingOperation {
        let node = context.graph.nodes[id]
        let weight = context.parameter("\(node.name).weight"), bias = conv.bias ? context.parameter("\(node.name).bias") : nil
        if isPointwise {
            return PointwiseOperation(node: id, input: context.input(of: id), inShape: context.inputShape(of: id), outChannels: conv.outChannels,
                                      stride: conv.stride, channelMajorFeatures: false, weight: weight, bias: bias)
        }
        return ConvolutionOperation(node: id, input: context.input(of: id), conv: conv, inShape: context.inputShape(of: id),
                                    outShape: node.shape, weight: weight, bias: bias)
    }
}
