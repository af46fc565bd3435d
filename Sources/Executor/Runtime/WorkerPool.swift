import Dispatch
import Foundation
import Synchronization
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// Runs parallel regions on long-lived workers started on Dispatch queues.
///
/// `concurrentPerform` wakes its threads for every call, which costs about as much as a 0.1 ms layer;
/// a forward pass has dozens of such layers. These workers instead spin on a generation counter for a
/// short while after each region (so consecutive layers start within microseconds), then park on a
/// semaphore. The calling thread is worker 0. A pool runs one region at a time; a caller that finds it
/// busy runs alone (see `CompiledModel`), so concurrent runs never wait for each other.
final class WorkerPool: @unchecked Sendable {
    /// The most workers a pool may have: one bit each in the parked-worker mask, less the sign bit.
    static let maxThreads = Int.bitWidth - 1

    /// The default worker count: the active processor count, at most `maxThreads`.
    static var defaultThreads: Int { min(ProcessInfo.processInfo.activeProcessorCount, maxThreads) }

    /// Workers per region, the caller included.
    let threads: Int

    private let generation = Atomic<Int>(0)
    private let pending = Atomic<Int>(0)
    private let busy = Atomic<Bool>(false)
    /// Bit i set: worker i is parked on `wakeups[i]`.
    private let parked = Atomic<Int>(0)
    private let wakeups: [DispatchSemaphore]
    /// The region being run; written before `generation` is released, read after it is acquired.
    private var job: ((Int, Int) -> Void)?

    /// Spins before a waiting worker yields, and yields before it parks.
    private static let spinLimit = 20_000, yieldLimit = 40_000

    /// The pools by size. An `NSLock` (pthread) rather than `Mutex` (a futex on Linux): the thread
    /// sanitizer sees pthread locks and would report the registry's accesses as races otherwise.
    private static let registry = Registry()

    private final class Registry: @unchecked Sendable {
        let lock = NSLock()
        var pools: [Int: WorkerPool] = [:]
    }

    /// The process-wide pool with `threads` workers (created on first use, kept for reuse).
    static func shared(threads: Int) -> WorkerPool {
        registry.lock.lock()
        defer { registry.lock.unlock() }
        if let pool = registry.pools[threads] { return pool }
        let pool = WorkerPool(threads: threads)
        registry.pools[threads] = pool
        return pool
    }

    private init(threads: Int) {
        precondition(threads <= Self.maxThreads, "at most \(Self.maxThreads) workers")
        self.threads = threads
        wakeups = (0..<threads).map { _ in DispatchSemaphore(value: 0) }
        for worker in 1..<max(threads, 1) {
            DispatchQueue(label: "regnet.worker.\(worker)", qos: .userInitiated).async { [self] in loop(worker) }
        }
    }

    /// Claims the pool for a whole forward pass; false when another run holds it.
    func tryAcquire() -> Bool {
        busy.compareExchange(expected: false, desired: true, ordering: .acquiring).exchanged
    }

    /// Releases a pool claimed by `tryAcquire`.
    func release() { busy.store(false, ordering: .releasing) }

    /// Runs `body(worker, threads)` on every worker and returns when all are done.
    func run(_ body: (_ worker: Int, _ workers: Int) -> Void) {
        guard threads > 1 else { return body(0, 1) }
        withoutActuallyEscaping(body) { body in
            job = body
            pending.store(threads - 1, ordering: .relaxed)
            generation.add(1, ordering: .sequentiallyConsistent)
            let sleepers = parked.exchange(0, ordering: .sequentiallyConsistent)
            for worker in 1..<threads where sleepers & (1 << worker) != 0 { wakeups[worker].signal() }
            body(0, threads)
            var spins = 0
            while pending.load(ordering: .acquiring) != 0 {
                spins += 1
                if spins > Self.spinLimit { sched_yield() }
            }
            job = nil
        }
    }

    private func loop(_ worker: Int) {
        var seen = 0
        while true {
            var spins = 0
            while generation.load(ordering: .acquiring) == seen {
                spins += 1
                if spins < Self.spinLimit { continue }
                if spins < Self.yieldLimit { sched_yield(); continue }
                let bit = 1 << worker
                parked.bitwiseOr(bit, ordering: .sequentiallyConsistent)
                if generation.load(ordering: .sequentiallyConsistent) == seen {
                    wakeups[worker].wait()
                }
                parked.bitwiseAnd(~bit, ordering: .sequentiallyConsistent)
                spins = 0
            }
            seen = generation.load(ordering: .acquiring)
            job?(worker, threads)
            pending.subtract(1, ordering: .releasing)
        }
    }
}

/// The half-open share of `count` items that `worker` of `workers` takes (contiguous, balanced).
@inline(__always) func share(_ count: Int, _ worker: Int, _ workers: Int) -> Range<Int> {
    (count * worker / workers)..<(count * (worker + 1) / workers)
}

/// The image rows (n · height + y) of `images` that `worker` of `workers` takes.
@inline(__always) func imageRows(_ images: Range<Int>, _ height: Int, _ worker: Int, _ workers: Int) -> Range<Int> {
    let mine = share(images.count * height, worker, workers)
    return (images.lowerBound * height + mine.lowerBound)..<(images.lowerBound * height + mine.upperBound)
}
