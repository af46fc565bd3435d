import DesignSpaces
import Foundation
import Testing
@testable import Executor
import Weights

/// A compiled model runs any batch size (compiling it on first use), and a classifier's output gives
/// softmax, argmax and top-k predictions with class names.
@Suite struct PredictionTests {
    @Test func aModelRunsBatchesItWasNotCompiledFor() throws {
        let graph = try Zoo.models[0].network(classes: 10).lower(height: 32, width: 32)
        let weights = WeightSet.initialized(for: graph, seed: 3)
        let model = try CompiledModel(graph: graph, weights: weights, batch: 2, threads: 2)
        let image = 3 * 32 * 32, images = (0..<3).map { n in (0..<image).map { Float(sin(Double($0 * (n + 1)) * 0.01)) } }
        let three = try model(Tensor(shape: [3, 3, 32, 32], scalars: images.flatMap { $0 }))
        #expect(three.shape == [3, 10, 1, 1])
        // Each image alone, through a model compiled for batch 1: the same logits.
        let single = try CompiledModel(graph: graph, weights: weights, batch: 1, threads: 2)
        for n in 0..<3 {
            let alone = try single.run(images[n])
            let got = Array(three.scalars[n * 10..<(n + 1) * 10])
            #expect(zip(alone, got).allSatisfy { abs($0 - $1) <= 1e-5 * max(1, abs($0)) }, "image \(n)")
        }
        // The batch-3 model is compiled once and kept; flat arrays of whole images work too.
        #expect(try model.forBatch(3) === model.forBatch(3) && model.forBatch(2) === model)
        #expect(try model.run(images[0]) == Array(try model.forBatch(1).run(images[0])))
        // Not whole images, or another image size: a clear error.
        #expect(throws: ExecutorError.self) { try model.run([Float](repeating: 0, count: image + 1)) }
        #expect(throws: ExecutorError.self) { try model(Tensor(shape: [1, 3, 16, 16], repeating: 0)) }
    }

    @Test func topKNamesTheLikeliestClasses() throws {
        let logits = Tensor(shape: [2, 4, 1, 1], scalars: [1, 3, 2, 3, /* image 1 */ -1, 0, 5, 0.5])
        let probabilities = try logits.softmax()
        #expect(probabilities.shape == logits.shape)
        for n in 0..<2 { #expect(abs(probabilities.scalars[n * 4..<(n + 1) * 4].reduce(0, +) - 1) < 1e-6) }
        #expect(try logits.argmax() == [1, 2], "the first of equal scores")
        let top = try logits.topK(2, labels: ["a", "b", "c", "d"])
        #expect(top.map { $0.map(\.index) } == [[1, 3], [2, 3]])
        #expect(top[1][0].label == "c" && top[1][0].logit == 5)
        let e = [-1, 0, 5, 0.5].map { exp(Double($0)) }
        #expect(abs(Double(top[1][0].probability) - e[2] / e.reduce(0, +)) < 1e-6)
        #expect(top[1][0].description.hasPrefix("c 98."))
        #expect(try Tensor(shape: [1, 3], scalars: [0, 1, 0]).topK(5).count == 1, "k beyond the classes gives them all")
        #expect(throws: ExecutorError.self) { try logits.topK(1, labels: ["a"]) }
        #expect(throws: ExecutorError.self) { try logits.topK(0) }
        #expect(throws: ExecutorError.self) { try Tensor(shape: [1, 4, 2, 2], repeating: 0).softmax() }
    }
}
