import Foundation
import NetworkIR
import Weights

/// A deliberately naive float64 NCHW interpreter of the IR: the independent reference the executor's
/// fused, tiled, NHWC plan is checked against for layers PyTorch fixtures do not cover.
func referenceRun(_ graph: Graph, weights: WeightSet, input: [Float], batch: Int) -> [Float] {
    var values: [[Double]] = Array(repeating: [], count: graph.nodes.count)
    func w(_ node: Node, _ suffix: String) -> [Double] { weights["\(node.name).\(suffix)"]!.scalars.map(Double.init) }
    for (id, node) in graph.nodes.enumerated() {
        let out = node.shape
        let plane = out.height * out.width
        switch node.operation {
        case .input:
            values[id] = input.map(Double.init)
        case .convolution(let c):
            let src = values[node.inputs[0]], inShape = graph.nodes[node.inputs[0]].shape
            let weight = w(node, "weight"), bias = c.bias ? w(node, "bias") : []
            var result = [Double](repeating: 0, count: batch * out.elementCount)
            let ci = c.inChannelsPerGroup, co = c.outChannelsPerGroup
            for n in 0..<batch {
                for o in 0..<c.outChannels {
                    let g = o / co
                    for y in 0..<out.height {
                        for x in 0..<out.width {
                            var sum = c.bias ? bias[o] : 0
                            for i in 0..<ci {
                                for ky in 0..<c.kernel {
                                    for kx in 0..<c.kernel {
                                        let iy = y * c.stride + ky - c.padding, ix = x * c.stride + kx - c.padding
                                        guard iy >= 0, iy < inShape.height, ix >= 0, ix < inShape.width else { continue }
                                        let channel = g * ci + i
                                        sum += weight[((o * ci + i) * c.kernel + ky) * c.kernel + kx]
                                            * src[((n * c.inChannels + channel) * inShape.height + iy) * inShape.width + ix]
                                    }
                                }
                            }
                            result[((n * c.outChannels + o) * out.height + y) * out.width + x] = sum
                        }
                    }
                }
            }
            values[id] = result
        case .batchNorm(let channels, let eps):
            let gamma = w(node, "weight"), beta = w(node, "bias"), mean = w(node, "running_mean"), variance = w(node, "running_var")
            values[id] = values[node.inputs[0]].enumerated().map { i, x in
                let c = (i / plane) % channels
                return (x - mean[c]) / (variance[c] + Double(eps)).squareRoot() * gamma[c] + beta[c]
            }
        case .unary(let function):
            values[id] = values[node.inputs[0]].map { x in
                switch function {
                case .relu: max(x, 0)
                case .sigmoid: 1 / (1 + exp(-x))
                case .silu: x / (1 + exp(-x))
                case .clamp(let lower, let upper): min(max(x, Double(lower)), Double(upper))
                case .hardSwish: x * min(max(x + 3, 0), 6) / 6
                case .hardSigmoid: min(max(x + 3, 0), 6) / 6
                }
            }
        case .add:
            values[id] = zip(values[node.inputs[0]], values[node.inputs[1]]).map(+)
        case .channelScale:
            let s = values[node.inputs[1]]
            values[id] = values[node.inputs[0]].enumerated().map { i, x in x * s[i / plane] }
        case .globalAveragePool:
            let src = values[node.inputs[0]], inShape = graph.nodes[node.inputs[0]].shape, inPlane = inShape.height * inShape.width
            values[id] = (0..<(batch * out.channels)).map { nc in
                src[(nc * inPlane)..<((nc + 1) * inPlane)].reduce(0, +) / Double(inPlane)
            }
        case .dropout:
            values[id] = values[node.inputs[0]]
        case .maxPool(let window), .averagePool(let window):
            let src = values[node.inputs[0]], inShape = graph.nodes[node.inputs[0]].shape
            let isMax: Bool = { if case .maxPool = node.operation { return true }; return false }()
            values[id] = (0..<(batch * out.elementCount)).map { i in
                let nc = i / plane, y = i % plane / out.width, x = i % out.width
                var result = isMax ? -Double.infinity : 0
                for ky in 0..<window.kernel {
                    for kx in 0..<window.kernel {
                        let iy = y * window.stride - window.padding + ky, ix = x * window.stride - window.padding + kx
                        guard iy >= 0, iy < inShape.height, ix >= 0, ix < inShape.width else { continue }
                        let v = src[(nc * inShape.height + iy) * inShape.width + ix]
                        result = isMax ? max(result, v) : result + v
                    }
                }
                return isMax ? result : result / Double(window.kernel * window.kernel)
            }
        case .linear(let inFeatures, let outFeatures, let hasBias):
            let src = values[node.inputs[0]], weight = w(node, "weight"), bias = hasBias ? w(node, "bias") : []
            values[id] = (0..<(batch * outFeatures)).map { i in
                let n = i / outFeatures, o = i % outFeatures
                return (0..<inFeatures).reduce(hasBias ? bias[o] : 0) { $0 + weight[o * inFeatures + $1] * src[n * inFeatures + $1] }
            }
        }
    }
    return values[graph.output].map(Float.init)
}

/// Random weights with non-trivial batch-norm statistics, so folding and biases matter. Tensors are
/// filled in the graph's parameter order (not the dictionary's, which differs between processes), so
/// the same seed gives the same weights every run and a failure reproduces.
func randomWeights(for graph: Graph, seed: UInt64) -> WeightSet {
    var rng = SeededGenerator(seed: seed)
    var weights = WeightSet.initialized(for: graph, seed: seed)
    for name in graph.parameters.map(\.name) {
        let tensor = weights[name]!
        let values: [Float] = tensor.scalars.indices.map { _ in
            let u = Float(rng.next() >> 40) / Float(1 << 24)
            if name.hasSuffix("running_var") { return 0.5 + 1.5 * u }
            if name.hasSuffix("bn.weight") || (name.hasSuffix(".weight") && tensor.shape.count == 1) { return 0.5 + u }
            if tensor.shape.count == 1 { return (u - 0.5) * 0.4 }
            return Float(rng.nextGaussian()) * (2 / Float(tensor.shape.dropFirst().reduce(1, *))).squareRoot()
        }
        weights[name] = Tensor(shape: tensor.shape, scalars: values)
    }
    return weights
}
