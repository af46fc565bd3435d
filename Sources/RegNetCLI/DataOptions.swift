import Foundation
import RegNet

/// The dataset options shared by `train` and `eval`: which data, its transform and the loaders.
struct DataOptions {
    var train: DatasetSpecification
    var test: DatasetSpecification?
    var resolution: Int?
    var testResize: Int?
    var mean: [Float]?
    var std: [Float]?
    var augment: Bool?
    var shuffle: Bool
    var skipBadImages: Bool
    var workers: Int?

    static let usage = """
      --data D                cifar10:DIR | cifar100:DIR | folder:DIR (DIR/train, DIR/val) |
                              npy:IMAGES.npy,LABELS.npy | digits (the bundled handwritten digits)
      --test-data D           the test set (default: the same data's test split)
      --resolution R          input size (default: the data's own size when fixed, else 224)
      --test-resize S         short side before the test centre crop (folders; default 256 for 224)
      --mean M,M,M --std S,S,S  normalisation (default: CIFAR's for CIFAR and uint8 arrays, ImageNet's for folders)
      --augment / --no-augment  training augmentation (default: on, off for float32 arrays)
      --no-shuffle            keep the training order
      --skip-bad-images       count and skip images that fail to decode instead of stopping
      --workers N             decoding threads (default: active processors)
    """

    static func parse(_ args: inout Arguments, requireData: Bool = true) throws -> DataOptions? {
        guard let data = try args.option("--data") else {
            if requireData { throw UsageError("--data is required (cifar10:DIR, cifar100:DIR, folder:DIR, npy:IMAGES.npy,LABELS.npy or digits)") }
            return nil
        }
        let testText = try args.option("--test-data")
        func spec(_ text: String) throws -> DatasetSpecification {
            if text == "digits" { return DatasetSpecification(format: .cifar10, path: BundledDigits.directory.path) }
            do { return try DatasetSpecification(parsing: text) } catch { throw UsageError(error.message) }
        }
        func floats(_ name: String) throws -> [Float]? {
            guard let text = try args.option(name) else { return nil }
            let values = text.split(separator: ",").compactMap { Float($0) }
            guard values.count == 3, values.allSatisfy({ $0.isFinite }), name != "--std" || values.allSatisfy({ $0 > 0 }) else {
                throw UsageError("\(name) takes three numbers separated by commas\(name == "--std" ? ", all positive" : "") (got '\(text)')")
            }
            return values
        }
        let resolution = try args.int("--resolution", range: 1...Limits.resolution)
        let testResize = try args.int("--test-resize", range: 1...Limits.resolution)
        if let resize = testResize, let resolution, resize < resolution {
            throw UsageError("--test-resize \(resize) is smaller than the \(resolution)x\(resolution) centre crop it must hold (--resolution); give at least \(resolution)")
        }
        let augmentOn = args.flag("--augment"), augmentOff = args.flag("--no-augment")
        guard !(augmentOn && augmentOff) else { throw UsageError("--augment and --no-augment contradict each other") }
        return DataOptions(train: try spec(data), test: try testText.map(spec), resolution: resolution, testResize: testResize,
                           mean: try floats("--mean"), std: try floats("--std"), augment: augmentOn ? true : augmentOff ? false : nil,
                           shuffle: !args.flag("--no-shuffle"), skipBadImages: args.flag("--skip-bad-images"),
                           workers: try args.int("--workers", range: 1...256))
    }

    /// Options for the dataset `text` names (as --data takes it), everything else default.
    static func parse(from text: String) throws -> DataOptions? {
        var args = Arguments(["--data", text])
        return try parse(&args)
    }

    /// The input size: `resolution`, else the one the data implies (CIFAR 32×32, an array's H×W),
    /// else `recorded` (the weights' own, when their file records it), else 224.
    func inputSize(of dataset: any ImageDataset, recorded: (height: Int, width: Int)? = nil) -> (height: Int, width: Int) {
        if let resolution { return (resolution, resolution) }
        if let fixed = dataset.fixedSize { return fixed }
        return recorded ?? (224, 224)
    }

    /// The transform for `dataset` (its format decides the pipeline).
    func transform(for dataset: any ImageDataset, spec: DatasetSpecification, height: Int, width: Int) -> ImageTransform {
        let kind: ImageTransform.Kind
        switch spec.format {
        case .cifar10, .cifar100: kind = .cifar
        case .folder: kind = .imagenet
        case .npy: kind = (dataset as? NumPyDataset)?.isFloat == true ? .exact : .cifar
        }
        return ImageTransform(kind: kind, height: height, width: width, testSize: testResize, mean: mean, std: std,
                              augment: augment ?? (kind != .exact))
    }

    /// Opens the training and test sets.
    func open() throws -> (train: any ImageDataset, test: any ImageDataset) {
        do {
            let train = try self.train.trainingSet()
            let classNames = (train as? ImageFolderDataset)?.classNames
            let test = try (self.test ?? self.train).testSet(classNames: (self.test?.format ?? self.train.format) == .folder ? classNames : nil)
            return (train, test)
        } catch {
            throw RuntimeError(error.message)
        }
    }

    /// A loader over `dataset`.
    func loader(_ dataset: any ImageDataset, spec: DatasetSpecification, height: Int, width: Int, batch: Int, training: Bool, seed: UInt64) throws -> BatchLoader {
        do {
            return try BatchLoader(dataset: dataset, transform: transform(for: dataset, spec: spec, height: height, width: width),
                                   batchSize: batch, training: training, shuffle: shuffle, seed: seed, workers: workers,
                                   skipBadImages: skipBadImages)
        } catch {
            throw RuntimeError(error.message)
        }
    }
}
