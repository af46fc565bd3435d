import Foundation
import NetworkIR
import Testing
@testable import Executor
import Weights

/// `Graph` is public and Codable: a hand-built or decoded graph with a wrong stored shape, a forward
/// reference or a second input must be an error, never a crash in a kernel.
@Suite struct GraphValidationTests {
    func graph(convShape: FeatureShape, inputs: [NodeID] = [0]) -> Graph {
        let conv = Convolution(inChannels: 3, outChannels: 8, kernel: 3, stride: 1)
        return Graph(name: "hand-built", nodes: [
            Node(operation: .input, inputs: [], shape: FeatureShape(channels: 3, height: 8, width: 8), name: "input", scope: Scope()),
            Node(operation: .convolution(conv), inputs: inputs, shape: convShape, name: "conv", scope: Scope()),
        ], output: 1, stages: [])
    }

    @Test func compilingRejectsInconsistentGraphs() throws {
        let good = graph(convShape: FeatureShape(channels: 8, height: 8, width: 8))
        #expect(throws: Never.self) { try good.validate() }
        let weights = WeightSet.initialized(for: good)
        _ = try CompiledModel(graph: good, weights: weights)
        for (bad, expected) in [(graph(convShape: FeatureShape(channels: 8, height: 64, width: 64)), "stores shape"),
                                (graph(convShape: FeatureShape(channels: 8, height: 8, width: 8), inputs: [1]), "earlier nodes"),
                                (graph(convShape: FeatureShape(channels: 8, height: 8, width: 8), inputs: [0, 0]), "takes 1 inputs")] {
            #expect { try CompiledModel(graph: bad, weights: weights) } throws: { error in
                (error as? ExecutorError)?.description.contains(expected) == true
            }
        }
    }

    @Test func decodingValidates() throws {
        let good = graph(convShape: FeatureShape(channels: 8, height: 8, width: 8))
        let data = try JSONEncoder().encode(good)
        #expect(try JSONDecoder().decode(Graph.self, from: data) == good)
        let bad = try JSONEncoder().encode(graph(convShape: FeatureShape(channels: 8, height: 9, width: 8)))
        #expect(throws: ShapeError.self) { try JSONDecoder().decode(Graph.self, from: bad) }
    }
}
