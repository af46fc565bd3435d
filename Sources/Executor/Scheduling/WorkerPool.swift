import Dispatch

/// Runs one parallel region on Dispatch: `body(worker, workers)` for each worker; each operator
/// splits its own work by worker index so consecutive layers keep the same row partition.
struct WorkerPool: Sendable {
    /// Number of workers a region uses.
    let threads: Int

    func run(_ body: (_ worker: Int, _ workers: Int) -> Void) {
        if threads == 1 {
            body(0, 1)
            return
        }
        let workers = threads
        withoutActuallyEscaping(body) { body in
            let sendable = UncheckedSendable(body)
            DispatchQueue.concurrentPerform(iterations: workers) { worker in sendable.value(worker, workers) }
        }
    }
}

/// The half-open share of `count` items that `worker` of `workers` takes (contiguous, balanced).
@inline(__always) func share(_ count: Int, _ worker: Int, _ workers: Int) -> Range<Int> {
    (count * worker / workers)..<(count * (worker + 1) / workers)
}

/// Wraps a value the executor hands to workers that touch disjoint memory.
struct UncheckedSendable<T>: @unchecked Sendable {
    let value: T
    init(_ value: T) { self.value = value }
}
