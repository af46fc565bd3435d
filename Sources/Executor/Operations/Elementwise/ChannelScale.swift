import NetworkIR

/// The squeeze-excite scale x · s, one s per image and channel. Inference applies it while packing A
/// when its only reader is a 1x1 convolution (`FoldChannelScale`), element-wise otherwise.
struct ChannelScaleDefinition: OperationDefinition {
    func lower(_ id: NodeID, _ fusion: Fusion, in compiler: inout PlanCompiler) throws(ExecutorError) {
        try compiler.addElementwise(id, .channelScale(try compiler.value(compiler.graph.nodes[id].inputs[1])))
    }

    func profileKind(of node: Node) -> String { "se" }

    /// A gated value is never negative when the value and its gate are not.
    func isNonNegative(inputs: [Bool]) -> Bool { inputs.allSatisfy { $0 } }

    func trainingOperation(_ id: NodeID, _ fusion: Fusion, in context: TrainingCompilation) throws(ExecutorError) -> any TrainingOperation {
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

    /// Each worker's running block of the scale's gradient sums.
    func scratch(batch: Int, kernels: KernelSet) -> [ScratchRequest] { [ScratchRequest("block", floats: channels, in: .backward, perWorker: true)] }

    func forward(_ c: StepContext) {
        let x = c.values[input], s = c.values[scale], channels = channels, pixels = pixels
        RowWriter.write(c, into: c.values[node], bfloat16: c.storedAsBFloat16[node], rows: c.batch * pixels, channels: channels) { p, y in
            ElementwiseForward.scale(pixels: 1, channels: channels, x + p * channels, gate: s + p / pixels * channels, into: y)
        }
    }

    /// Its result may be stored as bf16: the backward reads the input and the scale.
    var writesBFloat16: Bool { true }

    /// One pass per image over dy and x: dx = dy · s written (or added) as ds's products dy · x are
    /// summed, 16 pixels at a time in Float and then in Double.
    func backward(_ c: StepContext, accumulate: [Bool]) {
        guard let dy = c.grads[node] else { return }
        let x = c.values[input], s = c.values[scale], channels = channels, pixels = pixels
        let dx = c.grads[input], ds = c.grads[scale], (addX, addS) = (accumulate[0], accumulate[1])
        c.parallel(c.batch) { images, worker in
            let block = c.scratch("block", worker: worker)
            var sums = [Double](repeating: 0, count: channels)
            for n in images {
                let gate = s + n * channels
                ColumnSums.image(channels: channels, pixels: pixels, block: block, into: &sums) { p in
                    let row = (n * pixels + p) * channels
                    Vector.chunks(channels, { ch in
                        let g = Vector.load(dy + row + ch)
                        if let dx { Vector.store(g * Vector.load(gate + ch) + (addX ? Vector.load(dx + row + ch) : .zero), dx + row + ch) }
                        Vector.store(Vector.load(block + ch) + g * Vector.load(x + row + ch), block + ch)
                    }, { ch in
                        let g = HalfVector.load(dy + row + ch)
                        if let dx { HalfVector.store(g * HalfVector.load(gate + ch) + (addX ? HalfVector.load(dx + row + ch) : .zero), dx + row + ch) }
                        HalfVector.store(HalfVector.load(block + ch) + g * HalfVector.load(x + row + ch), block + ch)
                    }, { ch in
                        let g = dy[row + ch]
                        if let dx { dx[row + ch] = g * gate[ch] + (addX ? dx[row + ch] : 0) }
                        block[ch] += g * x[row + ch]
                    })
                }
                if let ds { for ch in 0..<channels { ds[n * channels + ch] = (addS ? ds[n * channels + ch] : 0) + Float(sums[ch]) } }
            }
        }
    }
}
