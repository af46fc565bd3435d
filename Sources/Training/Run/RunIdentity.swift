import Data
import Foundation
import NetworkIR
import Weights

/// What makes a training run the run it is: the network, the batch, the seed, the recipe and the data
/// (training and test sets, their transforms and order). A run directory records it (`run.json`,
/// and each checkpoint's metadata), and only a run with the same identity may continue there; the
/// thread count is not part of it (results do not depend on it).
public struct RunIdentity: Codable, Hashable, Sendable {
    /// The network's name, and a fingerprint of its nodes (operations, shapes, names, wiring).
    public var network: String, structure: String
    /// Images per step and the seed of initialisation, shuffling and augmentation.
    public var batch: Int, seed: UInt64
    /// The recipe.
    public var recipe: TrainingRecipe
    /// The training data and the test data.
    public var data: DataIdentity, testData: DataIdentity?

    /// A dataset as a loader feeds it: where it comes from, its size and classes, a fingerprint of
    /// its labels in order, and how images become inputs.
    public struct DataIdentity: Codable, Hashable, Sendable {
        public var name: String, count: Int, classes: Int, labels: String, transform: String, shuffle: Bool

        init(_ loader: BatchLoader) {
            let dataset = loader.dataset
            name = dataset.name
            count = dataset.count
            classes = dataset.classes
            labels = Checksum.of(integers: (0..<dataset.count).lazy.map(dataset.label))
            transform = "\(loader.transform)"
            shuffle = loader.shuffle
        }
    }

    /// The identity of training `trainer` on `trainLoader`, evaluated on `testLoader`.
    public init(trainer: Trainer, trainLoader: BatchLoader, testLoader: BatchLoader?) {
        network = trainer.graph.name
        struct Wiring: Encodable { var operation: NetworkIR.Operation, inputs: [NodeID], shape: FeatureShape, name: String }
        let encoder = JSONEncoder()
        encoder.outputFormatting = .sortedKeys
        let nodes = trainer.graph.nodes.map { Wiring(operation: $0.operation, inputs: $0.inputs, shape: $0.shape, name: $0.name) }
        structure = Checksum.of(text: (try? encoder.encode(nodes)).map { String(decoding: $0, as: UTF8.self) } ?? "")
        batch = trainer.batch
        seed = trainer.seed
        recipe = trainer.recipe
        data = DataIdentity(trainLoader)
        testData = testLoader.map(DataIdentity.init)
    }

    /// Each field that differs from `recorded` (the directory's), as "field: this run X, the
    /// directory's Y"; empty when they are the same run.
    public func differences(from recorded: RunIdentity) -> [String] {
        var found: [String] = []
        func compare<T: Equatable>(_ field: String, _ mine: T, _ theirs: T) {
            if mine != theirs { found.append("\(field): this run \(mine), the directory's \(theirs)") }
        }
        compare("network", network, recorded.network)
        if network == recorded.network { compare("network structure", structure, recorded.structure) }
        compare("batch", batch, recorded.batch)
        compare("seed", seed, recorded.seed)
        let (a, b) = (Self.fields(of: recipe), Self.fields(of: recorded.recipe))
        for key in Set(a.keys).union(b.keys).sorted() { compare("recipe \(key)", a[key] ?? "default", b[key] ?? "default") }
        for (role, mine, theirs) in [("data", Optional(data), Optional(recorded.data)), ("test data", testData, recorded.testData)] {
            guard let mine, let theirs else { compare(role, mine?.name ?? "none", theirs?.name ?? "none"); continue }
            compare(role, mine.name, theirs.name)
            compare("\(role) images", mine.count, theirs.count)
            compare("\(role) classes", mine.classes, theirs.classes)
            if mine.count == theirs.count { compare("\(role) labels (fingerprint)", mine.labels, theirs.labels) }
            compare("\(role) transform", mine.transform, theirs.transform)
            compare("\(role) shuffling", mine.shuffle, theirs.shuffle)
        }
        return found
    }

    /// The recipe's fields as JSON texts, by name.
    static func fields(of recipe: TrainingRecipe) -> [String: String] {
        let encoder = JSONEncoder()
        encoder.outputFormatting = .sortedKeys
        guard let data = try? encoder.encode(recipe),
              let object = try? JSONSerialization.jsonObject(with: data) as? [String: Any] else { return [:] }
        return object.mapValues { value in
            (try? JSONSerialization.data(withJSONObject: value, options: [.sortedKeys, .fragmentsAllowed]))
                .map { String(decoding: $0, as: UTF8.self) } ?? "\(value)"
        }
    }

    /// The identity as one line of JSON.
    var json: String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = .sortedKeys
        return (try? encoder.encode(self)).map { String(decoding: $0, as: UTF8.self) } ?? "{}"
    }

    /// The identity recorded in `json`, or nil when it cannot be read.
    init?(json: String) {
        guard let decoded = try? JSONDecoder().decode(RunIdentity.self, from: Data(json.utf8)) else { return nil }
        self = decoded
    }
}
