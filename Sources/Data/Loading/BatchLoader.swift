import Dispatch
import Foundation
import NetworkIR

/// Batches of transformed images, decoded and augmented on worker threads while the previous batch
/// trains, `prefetch` batches ahead at most (so memory stays bounded).
///
/// Reproducible: an epoch's order is a permutation drawn from (seed, epoch), and each image's random
/// choices from (seed, epoch, position), so the batches do not depend on the threads that made them.
/// Training epochs shuffle, augment and drop the last incomplete batch, as pycls does; evaluation
/// epochs keep the order and every image.
public final class BatchLoader: @unchecked Sendable {
    /// One batch: NCHW images and their labels.
    public struct Batch: Sendable {
        /// `count` × 3 × height × width values.
        public var images: [Float]
        /// Class indices.
        public var labels: [Int]
        /// Images in the batch.
        public var count: Int { labels.count }
    }

    /// The images and labels.
    public let dataset: any ImageDataset
    /// How images become inputs.
    public let transform: ImageTransform
    /// Images per batch.
    public let batchSize: Int
    /// Shuffle, augment and drop the last incomplete batch.
    public let training: Bool
    /// Shuffle training epochs (pycls always does; off for checks).
    public let shuffle: Bool
    /// Seed of every order and draw.
    public let seed: UInt64
    /// Threads that decode and augment.
    public let workers: Int
    /// Skip images that fail to decode (counted) instead of stopping with an error naming the file.
    public let skipBadImages: Bool
    /// Batches prepared ahead of the consumer.
    public let prefetch: Int
    private let skippedLock = NSLock()
    private var skippedFiles = Set<Int>()

    /// A loader; `workers` defaults to the active processor count.
    public init(dataset: any ImageDataset, transform: ImageTransform, batchSize: Int, training: Bool, shuffle: Bool = true,
                seed: UInt64 = 0, workers: Int? = nil, skipBadImages: Bool = false, prefetch: Int = 2) throws(DataError) {
        guard batchSize >= 1 else { throw DataError(.invalidArgument, "batch size must be at least 1") }
        guard dataset.count >= (training ? batchSize : 1) else {
            throw DataError(.invalidArgument, "\(dataset.name) has \(dataset.count) images, fewer than one \(training ? "training batch of \(batchSize)" : "image")")
        }
        try transform.validate()
        if transform.kind != .imagenet, let size = dataset.fixedSize, size != (transform.height, transform.width) {
            throw DataError(.invalidArgument, "\(dataset.name) holds \(size.height)x\(size.width) images; its pipeline does not resize, so the input must be \(size.height)x\(size.width), not \(transform.height)x\(transform.width)")
        }
        self.dataset = dataset
        self.transform = transform
        self.batchSize = batchSize
        self.training = training
        self.shuffle = shuffle
        self.seed = seed
        self.workers = max(1, workers ?? ProcessInfo.processInfo.activeProcessorCount)
        self.skipBadImages = skipBadImages
        self.prefetch = max(1, prefetch)
    }

    /// Batches per epoch.
    public var batchesPerEpoch: Int { training ? dataset.count / batchSize : (dataset.count + batchSize - 1) / batchSize }

    /// Images that failed to decode and were skipped so far.
    public var skippedImages: Int { skippedLock.withLock { skippedFiles.count } }

    /// Dataset positions in epoch `epoch`'s order.
    public func order(epoch: Int) -> [Int] {
        var order = Array(0..<dataset.count)
        guard training && shuffle else { return order }
        var rng = SeededGenerator(seed: mix(seed, UInt64(truncatingIfNeeded: epoch), 0x5EED_0DE4))
        for i in stride(from: order.count - 1, to: 0, by: -1) { order.swapAt(i, Int(rng.next() % UInt64(i + 1))) }
        return order
    }

    /// The batches of epoch `epoch` (0-based), starting at batch `first` (to resume mid-epoch; none
    /// when `first` is past the epoch's end).
    public func epoch(_ epoch: Int, startingAt first: Int = 0) -> EpochBatches {
        EpochBatches(loader: self, epoch: epoch, order: order(epoch: epoch), first: min(max(0, first), batchesPerEpoch))
    }

    /// Builds batch `index` of an epoch.
    func makeBatch(_ index: Int, epoch: Int, order: [Int]) throws(DataError) -> Batch {
        let start = index * batchSize, count = min(batchSize, order.count - start)
        let size = 3 * transform.height * transform.width
        var images = [Float](repeating: 0, count: count * size)
        var labels = [Int](repeating: 0, count: count)
        let failure = Failure()
        images.withUnsafeMutableBufferPointer { buffer in
            labels.withUnsafeMutableBufferPointer { labelBuffer in
                let out = Destination(images: buffer.baseAddress!, labels: labelBuffer.baseAddress!)
                let chunks = min(workers, count)
                DispatchQueue.concurrentPerform(iterations: chunks) { chunk in
                    for i in (count * chunk / chunks)..<(count * (chunk + 1) / chunks) {
                        do throws(DataError) {
                            let (pixels, label) = try self.sample(position: start + i, epoch: epoch, order: order)
                            pixels.withUnsafeBufferPointer { (out.images + i * size).update(from: $0.baseAddress!, count: size) }
                            out.labels[i] = label
                        } catch {
                            failure.record(error)
                        }
                    }
                }
            }
        }
        if let error = failure.error { throw error }
        return Batch(images: images, labels: labels)
    }

    /// The transformed image at `position` of the epoch's order (or, skipping bad images, the next
    /// one that decodes) and its label.
    func sample(position: Int, epoch: Int, order: [Int]) throws(DataError) -> ([Float], Int) {
        var rng = SeededGenerator(seed: mix(seed, UInt64(truncatingIfNeeded: epoch), UInt64(truncatingIfNeeded: position)))
        var attempt = 0
        while true {
            let index = order[(position + attempt) % order.count]
            do throws(DataError) {
                let image = try dataset.image(index)
                let pixels = try transform(image, training: training, using: &rng)
                guard pixels.count == 3 * transform.height * transform.width else {
                    throw DataError(.invalidArgument, "\(dataset.name): image \(index) gave \(pixels.count) values, expected 3x\(transform.height)x\(transform.width)")
                }
                return (pixels, dataset.label(index))
            } catch {
                guard skipBadImages, attempt + 1 < order.count else { throw error }
                skippedLock.withLock { _ = skippedFiles.insert(index) }
                attempt += 1
            }
        }
    }

    /// Where workers write a batch: each sample's slot is written by one worker only.
    private struct Destination: @unchecked Sendable {
        let images: UnsafeMutablePointer<Float>
        let labels: UnsafeMutablePointer<Int>
    }

    /// First error any worker met (the lowest batch position wins, so the message is reproducible).
    private final class Failure: @unchecked Sendable {
        private let lock = NSLock()
        private(set) var error: DataError?
        func record(_ e: DataError) { lock.withLock { if error == nil { error = e } } }
    }
}

/// The batches of one epoch, prepared ahead on a background thread. Iterate with `next()`; dropping
/// the value stops the preparation (the thread holds only the shared queue, never this value, so a
/// partly read epoch — precise BN statistics read a few batches — does not leave a thread behind).
public final class EpochBatches: @unchecked Sendable {
    /// Prepared batches by index, shared with the producing thread.
    private final class Queue: @unchecked Sendable {
        let condition = NSCondition()
        var ready: [Int: Result<BatchLoader.Batch, DataError>] = [:]
        var cancelled = false
    }

    private let queue = Queue()
    /// The queue the producing thread holds (it is freed once that thread has ended), for tests.
    var producerQueue: AnyObject { queue }
    private var nextToTake: Int
    /// Batches in this epoch (counting from 0, including any skipped at the start).
    public let count: Int

    init(loader: BatchLoader, epoch: Int, order: [Int], first: Int) {
        count = loader.batchesPerEpoch
        nextToTake = first
        let queue = queue, count = count
        let thread = Thread {
            for index in first..<count {
                queue.condition.lock()
                while queue.ready.count >= loader.prefetch && !queue.cancelled { queue.condition.wait() }
                let stop = queue.cancelled
                queue.condition.unlock()
                if stop { return }
                let result: Result<BatchLoader.Batch, DataError>
                do throws(DataError) { result = .success(try loader.makeBatch(index, epoch: epoch, order: order)) } catch { result = .failure(error) }
                queue.condition.lock()
                queue.ready[index] = result
                queue.condition.broadcast()
                queue.condition.unlock()
                if case .failure = result { return }
            }
        }
        thread.name = "regnet.loader"
        thread.start()
    }

    deinit {
        queue.condition.lock()
        queue.cancelled = true
        queue.condition.broadcast()
        queue.condition.unlock()
    }

    /// The next batch, or nil at the end of the epoch; throws the error that stopped its preparation.
    public func next() throws(DataError) -> BatchLoader.Batch? {
        queue.condition.lock()
        defer { queue.condition.unlock() }
        guard nextToTake < count else { return nil }
        while queue.ready[nextToTake] == nil { queue.condition.wait() }
        let result = queue.ready.removeValue(forKey: nextToTake)!
        nextToTake += 1
        queue.condition.broadcast()
        return try result.get()
    }
}

/// A 64-bit mix of several values (SplitMix64 finaliser over a running combination).
func mix(_ values: UInt64...) -> UInt64 {
    var h: UInt64 = 0x9E37_79B9_7F4A_7C15
    for v in values {
        h = (h ^ v) &* 0xBF58_476D_1CE4_E5B9
        h = (h ^ (h >> 31)) &* 0x94D0_49BB_1331_11EB
        h ^= h >> 29
    }
    return h
}
