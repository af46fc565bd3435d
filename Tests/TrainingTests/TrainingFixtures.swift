import DesignSpaces
import ExampleNetworks
import Foundation
import NetworkDSL
import NetworkIR
import Testing
@testable import Training
import Weights

/// One case of scripts/make_training_fixtures.py.
struct TrainingCase: Decodable, CustomTestStringConvertible, Sendable {
    var name: String
    var network: String
    var kind: String
    var classes: Int, batch: Int, height: Int, width: Int
    var depth: Int?, w0: Double?, wa: Double?, wm: Double?, group_width: Int?, bottleneck_ratio: Double?, se_ratio: Double?
    var stem_width: Int?
    /// Explicit stages ([depth, width] each) and the stem's stride, for `network == "stages"`.
    var stages: [[Int]]?, stem_stride: Int?
    /// How far PyTorch's own float32 gradients are from float64 on this case (full-size cases).
    var pytorch_float32_error: Double?
    var epochs: Int?, iterations: Int?, base_lr: Double?, warmup_epochs: Double?, ema_alpha: Double?, ema_period: Int?
    var testDescription: String { name }

    /// A directory of extra cases (full-size zoo models) made by `make_training_fixtures.py --zoo`, or nil.
    var directory: String?

    /// The case's network, lowered at its input size.
    func graph() throws -> Graph {
        if network == "inverted_residual" { return try Self.invertedResidualNetwork.lower(height: height, width: width) }
        if network == "layers" { return try Self.layersNetwork(dropout: 0).lower(height: height, width: width) }
        if network == "hard_activations" { return try Self.hardNetwork.lower(height: height, width: width) }
        if network == "zoo" { return try Zoo.model(named: name).network().lower(height: height, width: width) }
        if network == "stages" {
            let (stages, groupWidth, ratio) = (stages!, group_width!, bottleneck_ratio!)
            return try Network(name) {
                Stem(stem_width!, stride: stem_stride!)
                Body { for s in stages { Stage(depth: s[0], width: s[1], groupWidth: groupWidth, bottleneckRatio: ratio) } }
                Head(classes: classes)
            }.lower(height: height, width: width)
        }
        let configuration = RegNetConfiguration(depth: depth!, w0: w0!, wa: wa!, wm: wm!, groupWidth: group_width!,
                                                bottleneckRatio: bottleneck_ratio!, seRatio: se_ratio!, stemWidth: stem_width!,
                                                classes: classes)
        return try configuration.network().lower(height: height, width: width)
    }

    /// The example's custom block in a network small enough for a debug build.
    static let invertedResidualNetwork = Network("InvertedResidual test net") {
        Stem(8)
        Body {
            Stage(depth: 1, width: 16, groupWidth: 16, block: InvertedResidual(expansion: 2))
            Stage(depth: 2, width: 24, groupWidth: 24, block: InvertedResidual(expansion: 2))
        }
        Head(classes: 10)
    }

    /// A block using every layer a stem or head typically needs: SiLU, max pooling, ReLU6, average
    /// pooling and dropout, and a grouped 1x1 convolution carrying the stage's stride (a kernel smaller
    /// than its stride), around a residual (scripts/make_training_fixtures.py).
    struct LayersBlock: Block {
        var dropout: Double
        func body(_ c: BlockContext) -> some Layer {
            Residual {
                Conv(2 * c.outputWidth, kernel: 1, name: "expand"); BatchNorm(name: "bn1"); SiLU()
                MaxPool(kernel: 3, stride: 1, padding: 1)
                Conv(2 * c.outputWidth, kernel: 1, stride: c.stride, groups: 4, name: "reduce")
                Conv(c.outputWidth, kernel: 3, name: "conv"); BatchNorm(name: "bn2"); ReLU6()
                AvgPool(kernel: 3, stride: 1, padding: 1)
                Dropout(dropout)
            }
        }
    }

    /// Two `LayersBlock`s; `dropout` is the blocks' probability (0 for gradients PyTorch's own draws
    /// cannot match; inference is the identity whatever it is).
    static func layersNetwork(dropout: Double) -> Network {
        Network("layers test net") {
            Stem(8)
            Body { Stage(depth: 2, width: 16, groupWidth: 16, block: LayersBlock(dropout: dropout)) }
            Head(classes: 10)
        }
    }

    /// MobileNetV3's activations around a residual: hard swish after the expansion, hard sigmoid after
    /// the 3x3 convolution carrying the stride (scripts/make_training_fixtures.py's HardBlock).
    struct HardBlock: Block {
        func body(_ c: BlockContext) -> some Layer {
            Residual {
                Conv(2 * c.outputWidth, kernel: 1, name: "expand"); BatchNorm(name: "bn1"); HardSwish()
                Conv(c.outputWidth, kernel: 3, stride: c.stride, name: "conv"); BatchNorm(name: "bn2"); HardSigmoid()
            }
        }
    }

    /// Two `HardBlock`s.
    static let hardNetwork = Network("hard activations test net") {
        Stem(8)
        Body { Stage(depth: 2, width: 16, groupWidth: 16, block: HardBlock()) }
        Head(classes: 10)
    }

    func url(_ suffix: String) throws -> URL {
        if let directory { return URL(fileURLWithPath: directory).appendingPathComponent("\(name)\(suffix)") }
        return try #require(Bundle.module.url(forResource: "\(name)\(suffix)", withExtension: nil, subdirectory: "Fixtures"),
                     "missing fixture \(name)\(suffix)")
    }

    func initialWeights() throws -> WeightSet { try SafeTensors.read(contentsOf: url(".safetensors")) }

    /// Step `step`'s NCHW images and integer labels.
    func batch(_ step: Int) throws -> (images: [Float], labels: [Int]) {
        let images = try NumPyArray.read(contentsOf: url(".inputs.npy")), labels = try NumPyArray.read(contentsOf: url(".labels.npy"))
        let perImage = images.count / images.shape[0]
        return (Array(images.scalars[(step * perImage)..<((step + 1) * perImage)]),
                labels.scalars[(step * batch)..<((step + 1) * batch)].map { Int($0) })
    }

    func reference(_ suffix: String) throws -> WeightSet { try SafeTensors.read(contentsOf: url(suffix)) }

    /// Trains `trainer` through the case's epochs of `iterations` batches; every step's loss.
    func trainSteps(_ trainer: Trainer) throws -> [Double] {
        var losses: [Double] = []
        for epoch in 0..<epochs! {
            trainer.startEpoch(epoch, iterations: iterations!)
            for iteration in 0..<iterations! {
                let (images, labels) = try batch(iteration)
                losses.append(try trainer.step(images: images, labels: labels).loss)
            }
        }
        return losses
    }
}

/// Full-size cases from `REGNET_TRAINING_FIXTURES` (a directory written by
/// `scripts/make_training_fixtures.py --zoo …`); none when it is not set.
func extraTrainingCases() throws -> [TrainingCase] {
    guard let directory = ProcessInfo.processInfo.environment["REGNET_TRAINING_FIXTURES"] else { return [] }
    let data = try Data(contentsOf: URL(fileURLWithPath: directory).appendingPathComponent("cases.json"))
    return try JSONDecoder().decode([TrainingCase].self, from: data).map { var c = $0; c.directory = directory; return c }
}

func trainingCases(kind: String? = nil) throws -> [TrainingCase] {
    let url = try #require(Bundle.module.url(forResource: "cases", withExtension: "json", subdirectory: "Fixtures"))
    return try JSONDecoder().decode([TrainingCase].self, from: Data(contentsOf: url)).filter { kind == nil || $0.kind == kind }
}

/// max |a − b| / max |b| (absolute when b is all zeros).
func relativeError(_ a: [Float], _ b: [Float]) -> Float {
    precondition(a.count == b.count)
    let scale = b.map(abs).max() ?? 0
    let diff = zip(a, b).map { abs($0 - $1) }.max() ?? 0
    return scale > 0 ? diff / scale : diff
}
