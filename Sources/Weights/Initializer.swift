import Foundation
import NetworkIR

extension WeightSet {
    /// Weights initialised as pycls does: convolutions ~ N(0, sqrt(2 / (k·k·out))), batch norm γ = 1,
    /// β = 0 with mean 0 and variance 1, linear weights ~ N(0, 0.01) and zero biases.
    public static func initialized(for graph: Graph, seed: UInt64 = 0) -> WeightSet {
        var rng = SeededGenerator(seed: seed)
        var tensors: [String: Tensor] = [:]
        for node in graph.nodes {
            switch node.operation {
            case .convolution(let conv):
                let std = (2.0 / Double(conv.kernel * conv.kernel * conv.outChannels)).squareRoot()
                let count = conv.weightShape.reduce(1, *)
                tensors["\(node.name).weight"] = Tensor(shape: conv.weightShape, scalars: (0..<count).map { _ in Float(rng.nextGaussian() * std) })
                if conv.bias { tensors["\(node.name).bias"] = Tensor(shape: [conv.outChannels], repeating: 0) }
            case .batchNorm(let channels, _):
                tensors["\(node.name).weight"] = Tensor(shape: [channels], repeating: 1)
                tensors["\(node.name).bias"] = Tensor(shape: [channels], repeating: 0)
                tensors["\(node.name).running_mean"] = Tensor(shape: [channels], repeating: 0)
                tensors["\(node.name).running_var"] = Tensor(shape: [channels], repeating: 1)
            case .linear(let inFeatures, let outFeatures, let bias):
                tensors["\(node.name).weight"] = Tensor(shape: [outFeatures, inFeatures], scalars: (0..<(inFeatures * outFeatures)).map { _ in Float(rng.nextGaussian() * 0.01) })
                if bias { tensors["\(node.name).bias"] = Tensor(shape: [outFeatures], repeating: 0) }
            default:
                break
            }
        }
        return WeightSet(tensors)
    }
}
