import DigitsData
import Foundation
import Images
import Weights
import NetworkIR
import Testing
@testable import Data

func fixture(_ name: String) throws -> URL {
    try #require(Bundle.module.url(forResource: name, withExtension: nil, subdirectory: "Fixtures"), "missing fixture \(name)")
}

/// The image in `name` as a dataset image on the 0–255 scale (as CIFAR records are) or 0–1 (as decoded files are).
func image(_ name: String, scale: Float) throws -> DatasetImage {
    let rgb = try ImageFile.read(contentsOf: fixture(name)).rgb, plane = rgb.width * rgb.height
    var pixels = [Float](repeating: 0, count: 3 * plane)
    for p in 0..<plane { for c in 0..<3 { pixels[c * plane + p] = (rgb.pixels[p * 3 + c] * 255).rounded() / 255 * scale } }
    return DatasetImage(channels: 3, height: rgb.height, width: rgb.width, pixels: pixels)
}

func maxDifference(_ a: [Float], _ b: [Float]) -> Float {
    precondition(a.count == b.count, "\(a.count) vs \(b.count) values")
    return zip(a, b).map { abs($0 - $1) }.max() ?? 0
}

/// pycls's transforms against their numpy/OpenCV restatement (scripts/make_data_fixtures.py).
@Suite struct TransformTests {
    @Test func imagenetTestTransformMatchesPycls() throws {
        let t = ImageTransform(kind: .imagenet, height: 8, width: 8, testSize: 10)
        var rng = SeededGenerator(seed: 0)
        let ours = try t(try image("photo.ppm", scale: 1), training: false, using: &rng)
        let expected = try NumPyArray.readFloats(fixture("imagenet_test.npy"))
        #expect(maxDifference(ours, expected) < 1e-4)
    }

    @Test func sizedCropResizeMatchesOpenCV() throws {
        let window = ImageTransform.crop(try image("photo.ppm", scale: 1), y: 2, x: 3, height: 11, width: 9)
        let ours = ImageTransform.resized(window, height: 8, width: 8).pixels
        #expect(maxDifference(ours, try NumPyArray.readFloats(fixture("sized_crop.npy"))) < 1e-5)
    }

    @Test func lightingOffsetsMatchPycls() throws {
        let ours = ImageTransform.lightingOffsets(alpha: [0.05, -0.1, 0.02])
        #expect(maxDifference(ours, try NumPyArray.readFloats(fixture("lighting.npy"))) < 1e-7)
    }

    @Test func cifarPipelineMatchesPycls() throws {
        let t = ImageTransform(kind: .cifar, height: 32, width: 32)
        let source = try image("cifar.ppm", scale: 255)
        var rng = SeededGenerator(seed: 0)
        let test = try t(source, training: false, using: &rng)
        #expect(maxDifference(test, try NumPyArray.readFloats(fixture("cifar_test.npy"))) < 1e-5)
        var normalized = source
        t.normalize(&normalized.pixels, plane: 32 * 32)
        let train = ImageTransform.paddedCrop(ImageTransform.flipped(normalized), y: 3, x: 6, height: 32, width: 32, padding: 4)
        #expect(maxDifference(train.pixels, try NumPyArray.readFloats(fixture("cifar_train.npy"))) < 1e-5)
    }

    @Test func randomChoicesStayInPyclsRanges() throws {
        // Crop offsets come from 0..<2·padding (numpy's randint excludes its upper bound): every one appears.
        let source = DatasetImage(channels: 3, height: 4, width: 4, pixels: (0..<48).map(Float.init))
        var rng = SeededGenerator(seed: 2)
        var seen = Set<Float>()
        for _ in 0..<400 {
            let crop = ImageTransform.randomCrop(source, height: 4, width: 4, padding: 2, using: &rng)
            seen.insert(crop.pixels[0])
        }
        // Pixel (0, 0) of the crop is source pixel (y − 2, x − 2) or padding: y, x in 0..<4 give 0, 1, 4, 5 and zeros.
        #expect(seen == [0, 1, 4, 5])
        // Random-sized crops always give the requested size, whatever the source aspect.
        for (h, w) in [(17, 23), (100, 12), (12, 100), (5, 5)] {
            let image = DatasetImage(channels: 3, height: h, width: w, pixels: [Float](repeating: 0.5, count: 3 * h * w))
            let out = ImageTransform.randomSizedCrop(image, height: 8, width: 8, using: &rng)
            #expect(out.height == 8 && out.width == 8 && out.pixels.allSatisfy { abs($0 - 0.5) < 1e-6 })
        }
    }
}

/// The formats, their errors, and the loader's reproducibility.
@Suite struct DatasetTests {
    @Test func bundledDigitsAreCIFARBinary() throws {
        let train = try CIFARDataset(directory: BundledDigits.directory, variant: .cifar10, split: .train)
        let test = try CIFARDataset(directory: BundledDigits.directory, variant: .cifar10, split: .test)
        #expect(train.count == 1500 && test.count == 297 && train.classes == 10)
        #expect(Set((0..<train.count).map(train.label)) == Set(0..<10))
        let image = try train.image(0)
        #expect(image.channels == 3 && image.height == 32 && image.pixels.max()! <= 255 && image.pixels.max()! > 100)
        // Grey: the three planes are equal.
        #expect(Array(image.pixels[0..<1024]) == Array(image.pixels[1024..<2048]))
    }

    @Test func cifar100UsesFineLabelsAndChecksRecords() throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("c100-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        var record = Data([3, 77]) + Data(repeating: 9, count: 3072)
        try (record + record).write(to: folder.appendingPathComponent("train.bin"))
        let set = try CIFARDataset(directory: folder, variant: .cifar100, split: .train)
        #expect(set.count == 2 && set.label(1) == 77 && set.classes == 100)
        record[1] = 120
        try record.write(to: folder.appendingPathComponent("test.bin"))
        #expect(throws: DataError.self) { try CIFARDataset(directory: folder, variant: .cifar100, split: .test) }
    }

    @Test func loaderIsReproducibleAndDropsTheLastTrainingBatch() throws {
        let digits = try CIFARDataset(directory: BundledDigits.directory, variant: .cifar10, split: .test)
        let t = ImageTransform(kind: .cifar, height: 32, width: 32)
        func epoch(workers: Int, seed: UInt64, epoch: Int = 0) throws -> [BatchLoader.Batch] {
            let loader = try BatchLoader(dataset: digits, transform: t, batchSize: 50, training: true, seed: seed, workers: workers, prefetch: 1)
            let batches = loader.epoch(epoch)
            var all: [BatchLoader.Batch] = []
            while let b = try batches.next() { all.append(b) }
            return all
        }
        let one = try epoch(workers: 1, seed: 5), four = try epoch(workers: 4, seed: 5)
        #expect(one.count == 5, "297 images: 5 full batches of 50, the last 47 dropped")
        #expect(one.map(\.images) == four.map(\.images) && one.map(\.labels) == four.map(\.labels))
        #expect(try epoch(workers: 2, seed: 6).map(\.labels) != one.map(\.labels))
        #expect(try epoch(workers: 2, seed: 5, epoch: 1).map(\.labels) != one.map(\.labels), "each epoch reshuffles")
        // Evaluation keeps every image, in order.
        let test = try BatchLoader(dataset: digits, transform: t, batchSize: 50, training: false)
        let batches = test.epoch(0)
        var labels: [Int] = []
        while let b = try batches.next() { labels += b.labels }
        #expect(labels == (0..<digits.count).map(digits.label))
    }

    @Test func specificationsParseAndRejectMalformedText() throws {
        #expect(try DatasetSpecification(parsing: "cifar100:/data/c").format == .cifar100)
        let npy = try DatasetSpecification(parsing: "npy:a.npy,b.npy")
        #expect(npy.path == "a.npy" && npy.labelsPath == "b.npy")
        for bad in ["imagenet:/x", "cifar10:", "npy:a.npy", "npy:,b.npy", "nocolon"] {
            #expect(throws: DataError.self, "\(bad)") { try DatasetSpecification(parsing: bad) }
        }
    }
}

extension NumPyArray {
    static func readFloats(_ url: URL) throws -> [Float] { try read(contentsOf: url).scalars }
}

/// A partly read epoch stops its producer thread when dropped.
@Suite struct LoaderLifetimeTests {
    @Test func droppingAPartlyReadEpochStopsItsThread() throws {
        let digits = try CIFARDataset(directory: BundledDigits.directory, variant: .cifar10, split: .test)
        let loader = try BatchLoader(dataset: digits, transform: ImageTransform(kind: .cifar, height: 32, width: 32), batchSize: 10,
                                     training: true, workers: 1, prefetch: 2)
        weak var dropped: EpochBatches?
        weak var queue: AnyObject?
        do {
            let epoch = loader.epoch(0)
            dropped = epoch
            queue = epoch.producerQueue
            _ = try epoch.next()
        }
        #expect(dropped == nil, "nothing keeps an abandoned epoch alive")
        // The producing thread holds the queue until it ends: the queue is freed once the thread has stopped.
        for _ in 0..<500 where queue != nil { Thread.sleep(forTimeInterval: 0.01) }
        #expect(queue == nil, "the loader thread of an abandoned epoch is still running")
    }
}

/// Dataset errors carry a kind to switch on besides their message.
@Suite struct DataErrorKindTests {
    @Test func kindsSayWhatWentWrong() throws {
        #expect { try DatasetSpecification(parsing: "imagenet") } throws: { ($0 as? DataError)?.kind == .invalidSpecification }
        let missing = "/nonexistent-\(UUID().uuidString)"
        #expect { try DatasetSpecification(parsing: "cifar10:\(missing)").trainingSet() } throws: { error in
            if case .unreadable(let path)? = (error as? DataError)?.kind { return path == missing }
            return false
        }
    }
}
