import Foundation
import NetworkIR

extension WeightSet {
    /// Weights initialised as pycls does: convolutions ~ N(0, sqrt(2 / (k·k·out))), batch norm γ = 1,
    /// β = 0 with mean 0 and variance 1, linear weights ~ N(0, 0.01) and zero biases.
    public static func initialized(for graph: Graph, seed: UInt64 = 0) -> WeightSet {
        var rng = SeededGenerator(seed: seed)
        var tensors: [String: Tensor] = [:]
        // By declared role and shape: a convolution's weights are [out][in / groups][k][k], a linear layer's [out][in].
        for spec in graph.parameters {
            switch spec.role {
            case .weight where spec.shape.count == 4:
                let std = (2.0 / Double(spec.shape[0] * spec.shape[2] * spec.shape[3])).squareRoot()
                tensors[spec.name] = Tensor(shape: spec.shape, scalars: (0..<spec.elementCount).map { _ in Float(rng.nextGaussian() * std) })
            case .weight:
                tensors[spec.name] = Tensor(shape: spec.shape, scalars: (0..<spec.elementCount).map { _ in Float(rng.nextGaussian() * 0.01) })
            case .scale, .runningVariance:
                tensors[spec.name] = Tensor(shape: spec.shape, repeating: 1)
            case .bias, .shift, .runningMean:
                tensors[spec.name] = Tensor(shape: spec.shape, repeating: 0)
            }
        }
        return WeightSet(tensors)
    }
}
