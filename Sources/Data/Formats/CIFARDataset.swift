import Foundation
import Weights

/// CIFAR-10 and CIFAR-100 in their authors' binary format: records of a label byte (CIFAR-100: a
/// coarse and a fine label byte) and 3072 pixel bytes, the R, G and B planes of a 32×32 image.
/// CIFAR-10's training set is `data_batch_1.bin` … `data_batch_5.bin`, its test set `test_batch.bin`;
/// CIFAR-100's are `train.bin` and `test.bin` (fine labels are used).
public struct CIFARDataset: ImageDataset {
    /// Which of the two datasets.
    public enum Variant: String, Sendable, CaseIterable {
        case cifar10, cifar100
        var classes: Int { self == .cifar10 ? 10 : 100 }
        var labelBytes: Int { self == .cifar10 ? 1 : 2 }
        var recordBytes: Int { labelBytes + 3072 }
    }

    /// Training or test split.
    public enum Split: String, Sendable { case train, test }

    public let name: String
    public let variant: Variant
    public let count: Int
    public var classes: Int { variant.classes }
    public var fixedSize: (height: Int, width: Int)? { (32, 32) }
    private let labels: [UInt8]
    private let pixels: [UInt8]

    /// Reads the split's files from `directory`; every file must hold whole records and every label
    /// must be below the class count.
    public init(directory: URL, variant: Variant, split: Split) throws(DataError) {
        let files: [String]
        switch (variant, split) {
        case (.cifar10, .train):
            files = (1...5).map { "data_batch_\($0).bin" }
        case (.cifar10, .test): files = ["test_batch.bin"]
        case (.cifar100, .train): files = ["train.bin"]
        case (.cifar100, .test): files = ["test.bin"]
        }
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: directory.path, isDirectory: &isDirectory), isDirectory.boolValue else {
            throw DataError(.unreadable(path: directory.path), "\(directory.path) is not a directory (expected the \(variant.rawValue) binary files \(files.joined(separator: ", ")))")
        }
        // The split is held in memory: its size is checked before any of it is read.
        let urls = files.map { directory.appendingPathComponent($0) }
        let total = urls.reduce(0) { $0 + (((try? FileManager.default.attributesOfItem(atPath: $1.path))?[.size] as? NSNumber)?.intValue ?? 0) }
        do { try MemoryBudget.check(total, for: "the \(variant.rawValue) \(split.rawValue) split (\(MemoryBudget.describe(total)) of records)") } catch {
            throw DataError(.invalidDataset, "\(directory.path): \(error.message)")
        }
        var labels: [UInt8] = [], pixels: [UInt8] = []
        for url in urls {
            let data: Data
            do { data = try Data(contentsOf: url, options: .alwaysMapped) } catch {
                throw DataError(.unreadable(path: url.path), "\(url.path): cannot read the \(variant.rawValue) \(split.rawValue) file (\(files.joined(separator: ", ")) expected)")
            }
            let record = variant.recordBytes
            guard !data.isEmpty, data.count % record == 0 else {
                throw DataError(.invalidDataset, "\(url.path): \(data.count) bytes is not a whole number of \(record)-byte \(variant.rawValue) records")
            }
            let records = data.count / record
            labels.reserveCapacity(labels.count + records)
            pixels.reserveCapacity(pixels.count + records * 3072)
            let bad = data.withUnsafeBytes { (raw: UnsafeRawBufferPointer) -> (record: Int, label: UInt8)? in
                for r in 0..<records {
                    let base = r * record
                    let label = raw[base + variant.labelBytes - 1]
                    guard Int(label) < variant.classes else { return (r, label) }
                    labels.append(label)
                    pixels.append(contentsOf: raw[(base + variant.labelBytes)..<(base + record)])
                }
                return nil
            }
            if let bad {
                throw DataError(.invalidDataset, "\(url.path): record \(bad.record) has label \(bad.label), outside the \(variant.classes) classes of \(variant.rawValue)")
            }
        }
        self.labels = labels
        self.pixels = pixels
        self.variant = variant
        count = labels.count
        name = "\(variant.rawValue):\(directory.path) \(split.rawValue)"
    }

    public func label(_ index: Int) -> Int { Int(labels[index]) }

    public func image(_ index: Int) throws(DataError) -> DatasetImage {
        DatasetImage(channels: 3, height: 32, width: 32, pixels: pixels[(index * 3072)..<((index + 1) * 3072)].map(Float.init))
    }
}
