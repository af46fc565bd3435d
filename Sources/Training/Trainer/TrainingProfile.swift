import Executor
import NetworkIR

/// Where a trainer's steps spent their time: seconds per node in the forward and backward passes and
/// in the optimizer update, summed over `steps` steps; multiply-adds per node for GFLOP/s.
public struct TrainingProfile: Sendable {
    /// Seconds per node (graph order) in the forward passes.
    public var forward: [Double]
    /// Seconds per node in the backward passes.
    public var backward: [Double]
    /// Seconds in the optimizer update (SGD, EMA, running statistics).
    public var update: Double = 0
    /// Steps measured.
    public var steps = 0
    /// Per node: its kind for grouping (`conv1x1`, `conv3x3`, `stem`, `batchnorm`, …), with ` bf16` for a
    /// layer that multiplies in bf16 (mixed precision), so float32 and bf16 layers of a kind show apart.
    public let kinds: [String]
    /// Per node: multiply-adds of its forward pass for the whole batch.
    public let flops: [Int]

    init(graph: Graph, batch: Int, bfloat16: (NodeID) -> Bool) {
        forward = Array(repeating: 0, count: graph.nodes.count)
        backward = forward
        kinds = graph.nodes.indices.map { profileKind(of: graph.nodes[$0]) + (bfloat16($0) ? " bf16" : "") }
        flops = graph.nodes.map { $0.operation.complexity(output: $0.shape).flops * batch }
    }
}
