import NetworkIR

/// Channel means: C×H×W → C×1×1 (`GlobalAveragePoolStep`, `GlobalAveragePoolOperation`).
struct GlobalAveragePoolDefinition: OperationDefinition {
    func lower(_ id: NodeID, _ fusion: Fusion, in compiler: inout PlanCompiler) throws(ExecutorError) {
        let input = try compiler.value(compiler.graph.nodes[id].inputs[0])
        compiler.append(GlobalAveragePoolStep(input: input, output: compiler.newValue(for: id)), for: id, flops: 0)
    }

    func profileKind(of node: Node) -> String { "pool" }

    func isNonNegative(inputs: [Bool]) -> Bool { inputs[0] }

    func trainingOperation(_ id: NodeID, _ fusion: Fusion, in context: TrainingCompilation) throws(ExecutorError) -> any TrainingOperation {
        let shape = context.inputShape(of: id)
        return GlobalAveragePoolOperation(node: id, input: context.input(of: id), channels: shape.channels, pixels: shape.height * shape.width)
    }
}

/// Channel means per image (`ChannelMeans`, the inference step's arithmetic); backward spreads
/// dy / pixels over every pixel.
struct GlobalAveragePoolOperation: TrainingOperation {
    let node: NodeIndex
    let input: NodeIndex
    let channels: Int
    let pixels: Int
    var savedForBackward: [NodeIndex] { [] }

    /// Each worker's running block of channel sums.
    func scratch(batch: Int, kernels: KernelSet) -> [ScratchRequest] {
        [ScratchRequest("block", floats: ChannelMeans.blockFloats(channels: channels), in: .forward, perWorker: true)]
    }

    func forward(_ c: StepContext) {
        let x = c.values[input], y = c.values[node], channels = channels, pixels = pixels
        c.parallel(c.batch) { images, worker in
            for n in images {
                ChannelMeans.image(0..<channels, pixels: pixels, block: c.scratch("block", worker: worker), out: y + n * channels) { p in
                    UnsafePointer(x + (n * pixels + p) * channels)
                }
            }
        }
    }

    func backward(_ c: StepContext, accumulate: [Bool]) {
        guard let dx = c.grads[input], let dy = c.grads[node] else { return }
        let channels = channels, pixels = pixels, add = accumulate[0], scale = 1 / Float(pixels)
        c.parallel(c.batch * pixels) { r in
            for p in r {
                let row = dx + p * channels, g = dy + p / pixels * channels
                Vector.chunks(channels, { ch in
                    Vector.store(Vector.load(g + ch) * scale + (add ? Vector.load(row + ch) : .zero), row + ch)
                }, { ch in
                    HalfVector.store(HalfVector.load(g + ch) * scale + (add ? HalfVector.load(row + ch) : .zero), row + ch)
                }, { ch in row[ch] = g[ch] * scale + (add ? row[ch] : 0) })
            }
        }
    }
}
