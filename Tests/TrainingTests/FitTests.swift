import Foundation
import RegNet
import Testing

/// `Network.fit` end to end from arrays in memory, as a newcomer's program would use it: AdamW, typed
/// progress events, checkpoints, saving, reloading and predicting at a batch size never compiled.
@Suite struct FitTests {
    /// Three classes of 8×8 images told apart by which third of the picture is bright.
    static func arrays(count: Int, seed: UInt64) -> (images: Tensor, labels: [Int]) {
        var rng = SeededGenerator(seed: seed)
        var pixels: [Float] = [], labels: [Int] = []
        for n in 0..<count {
            let label = n % 3
            labels.append(label)
            for _ in 0..<3 {
                for y in 0..<8 { for _ in 0..<8 { pixels.append((y * 3 / 8 == label ? 1 : 0) + 0.3 * Float(rng.nextUnit() - 0.5)) } }
            }
        }
        return (Tensor(shape: [count, 3, 8, 8], scalars: pixels), labels)
    }

    @Test func fitTrainsFromArraysWithTypedEventsAndTheModelPredicts() throws {
        let net = Network("Thirds") {
            Stem(8, stride: 1)
            Body { Stage(depth: 1, width: 16, groupWidth: 8) }
            Head(classes: 3)
        }
        let train = Self.arrays(count: 96, seed: 1), test = Self.arrays(count: 30, seed: 2)
        var recipe = TrainingRecipe()
        recipe.epochs = 4
        recipe.adamW = TrainingRecipe.AdamW()
        (recipe.learningRate, recipe.weightDecay, recipe.emaAlpha) = (0.01, 0.05, 0)
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("fit-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: folder) }
        var reports: [TrainingRun.EpochReport] = [], checkpoints: [URL] = [], steps = 0
        let trained = try net.fit(try NumPyDataset(images: train.images, labels: train.labels),
                                  validation: try NumPyDataset(images: test.images, labels: test.labels),
                                  batch: 16, recipe: recipe, output: .init(directory: folder, keepCheckpoints: 1)) { event in
            switch event {
            case .step: steps += 1
            case .epoch(let report): reports.append(report)
            case .checkpoint(let url): checkpoints.append(url)
            case .record, .note: break
            }
        }
        #expect(steps == 4 * 6 && reports.map(\.epoch) == [1, 2, 3, 4] && reports.allSatisfy { $0.epochs == 4 })
        #expect(reports.allSatisfy { $0.training != nil && $0.test?.count == 30 && $0.emaTest == nil })
        #expect(checkpoints.map(\.lastPathComponent) == (1...4).map { String(format: "model_epoch_%04d.safetensors", $0) })
        let last = try #require(trained.validation)
        #expect(last.top1Error < 10, "the thirds are easy: \(last)")
        #expect("\(reports[3])".hasPrefix("epoch 4/4: loss ") && "\(trained)".hasPrefix("Thirds after 4 epochs: top-1 error "))
        // Save, reload into the declared network, predict at a batch size never compiled.
        let file = folder.appendingPathComponent("thirds.safetensors")
        try trained.save(to: file)
        let (weights, _) = try WeightSet.load(contentsOf: file)
        let model = try net.compile(resolution: 8, weights: weights, batch: 2)
        let five = Tensor(shape: [5, 3, 8, 8], scalars: Array(test.images.scalars[0..<(5 * 192)]))
        let predictions = try model(five).topK(2, labels: ["top", "middle", "bottom"])
        #expect(predictions.map { $0[0].index } == Array(test.labels[0..<5]))
        #expect(predictions[0][0].label == "top" && predictions.allSatisfy { $0[0].probability > $0[1].probability })
        #expect(try model(five) == (try trained.compile(batch: 5)(five)), "the reloaded weights are the trained ones")
    }

    @Test func arraysAreCheckedAsFilesAre() {
        let images = Tensor(shape: [2, 3, 4, 4], repeating: 0)
        #expect(throws: DataError.self) { try NumPyDataset(images: images, labels: [0]) }
        #expect(throws: DataError.self) { try NumPyDataset(images: images, labels: [0, -1]) }
        #expect(throws: DataError.self) { try NumPyDataset(images: images, labels: [0, 3], classes: 3) }
        #expect(throws: DataError.self) { try NumPyDataset(images: Tensor(shape: [2, 2, 4, 4], repeating: 0), labels: [0, 1]) }
        var nan = images
        nan.scalars[5] = .nan
        #expect(throws: DataError.self) { try NumPyDataset(images: nan, labels: [0, 1]) }
        #expect((try? NumPyDataset(images: images, labels: [0, 1]))?.classes == 2)
    }
}
