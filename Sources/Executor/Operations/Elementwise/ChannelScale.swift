import NetworkIR

/// The squeeze-excite scale x · s, one s per image and channel. Inference applies it while packing A
/// when its only reader is a 1x1 convolution (`ConvolutionDefinition`), element-wise otherwise.
struct ChannelScaleDefinition: OperationDefinition {
    func lower(_ id: NodeID, in compiler: inout PlanCompiler) throws(ExecutorError) {
        let node = compiler.graph.nodes[id]
        if let reader = compiler.soleConsumer(id), case .convolution(let conv) = compiler.graph.nodes[reader].operation,
           ConvolutionDefinition(conv: conv).isPointwise {
            compiler.foldedScales[id] = (node.inputs[0], node.inputs[1])
        } else {
            try compiler.addElementwise(id, .channelScale(try compiler.value(node.inputs[1])))
        }
    }

    func profileKind(of node: Node) -> String { "se" }

    func trainingOperation(_ id: NodeID, in context: TrainingCompilation) throws(ExecutorError) -> any TrainingOperation {
        let node = context.graph.nodes[id]
        return ChannelScaleOperation(node: id, input: node.inputs[0], scale: node.inputs[1], channels: node.shape.channels,
                                     pixels: node.shape.height * node.shape.width)
    }
}

/// x · s with one s per image and channel (squeeze-excite); backward gives dx = dy · s and
/// ds = Σ over pixels of dy · x, summed per image in a fixed order.
struct ChannelScaleOperation: TrainingOperation {
    let node: NodeIndex
    let input: NodeIndex
    let scale: NodeIndex
    let channels: Int
    let pixels: Int
    var savedForBackward: [NodeIndex] { [input, scale] }

    func scratch(batch: Int) -> ScratchNeeds { ScratchNeeds() }

    func forward(_ c: StepContext) {
        let x = c.values[input], s = c.values[scale], y = c.values[node]
        let channels = channels, pixels = pixels
        c.parallel(c.batch * pixels) { r in
            for p in r {
                let n = p / pixels, row = p * channels, gate = s + n * channels
                for ch in 0..<channels { y[row + ch] = x[row + ch] * gate[ch] }
            }
        }
    }

    func backward(_ c: StepContext, accumulate: [Bool]) {
        guard let dy = c.grads[node] else { return }
        let x = c.values[input], s = c.values[scale], channels = channels, pixels = pixels
        if let dx = c.grads[input] {
            let add = accumulate[0]
            c.parallel(c.batch * pixels) { r in
                for p in r {
                    let n = p / pixels, row = p * channels, gate = s + n * channels
                    for ch in 0..<channels {
                        let g = dy[row + ch] * gate[ch]
                        dx[row + ch] = add ? dx[row + ch] + g : g
                    }
                }
            }
        }
        if let ds = c.grads[scale] {
            let add = accumulate[1]
            c.parallel(c.batch) { images in
                var sums = [Double](repeating: 0, count: channels)
                for n in images {
                    for ch in 0..<channels { sums[ch] = 0 }
                    for p in 0..<pixels {
                        let row = (n * pixels + p) * channels
                        for ch in 0..<channels { sums[ch] += Double(dy[row + ch] * x[row + ch]) }
                    }
                    for ch in 0..<channels { ds[n * channels + ch] = (add ? ds[n * channels + ch] : 0) + Float(sums[ch]) }
                }
            }
        }
    }
}
