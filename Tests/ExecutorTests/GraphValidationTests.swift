import DesignSpaces
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

/// Errors carry a kind to switch on, with the values a caller needs, besides their message.
@Suite struct ErrorKindTests {
    @Test func executorErrorsSayWhatKind() throws {
        let graph = try Zoo.model(named: "RegNetX-200MF").network(classes: 4).lower(resolution: 32)
        let model = try CompiledModel(graph: graph, weights: .initialized(for: graph), batch: 2, threads: 1)
        #expect { try model(Tensor(shape: [1, 3, 16, 16], repeating: 0)) } throws: { error in
            (error as? ExecutorError)?.kind == .inputShape(expected: [2, 3, 32, 32], got: [1, 3, 16, 16])
        }
        var input = [Float](repeating: 0, count: 2 * 3 * 32 * 32)
        input[77] = .nan
        #expect { try model.run(input) } throws: { error in (error as? ExecutorError)?.kind == .nonFiniteInput(index: 77) }
        #expect { try CompiledModel(graph: graph, weights: .initialized(for: graph), batch: 0) } throws: { error in
            (error as? ExecutorError)?.kind == .invalidArgument
        }
        var weights = WeightSet.initialized(for: graph)
        weights["head.fc.bias"] = nil
        #expect { try CompiledModel(graph: graph, weights: weights) } throws: { error in
            (error as? ExecutorError)?.kind == .weightsDoNotFit && (error as? ExecutorError)?.message.contains("head.fc.bias") == true
        }
        let validation = Result { () throws(WeightError) in try weights.validate(for: graph) }
        guard case .failure(let error) = validation, case .doesNotFit(let problems) = error.kind else {
            Issue.record("missing weights validated, or the wrong kind: \(validation)")
            return
        }
        #expect(problems.count == 1 && problems[0].contains("head.fc.bias"))
    }

    @Test func weightFileErrorsSayWhatKind() throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("regnet-kinds-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        let missing = folder.appendingPathComponent("none.safetensors")
        #expect { try SafeTensors.read(contentsOf: missing) } throws: { error in
            (error as? WeightError)?.kind == .fileAccess(path: missing.path)
        }
        let garbage = folder.appendingPathComponent("garbage.safetensors")
        try Data([1, 2, 3]).write(to: garbage)
        #expect { try SafeTensors.read(contentsOf: garbage) } throws: { error in (error as? WeightError)?.kind == .malformedFile }
        #expect { try MemoryBudget.check(Int.max / 2, for: "a test") } throws: { error in
            if case .memoryBudget(let needed, _)? = (error as? WeightError)?.kind { return needed == Int.max / 2 }
            return false
        }
    }
}
