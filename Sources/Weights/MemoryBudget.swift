import Foundation
import NetworkIR
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// How much memory this process may allocate: the smaller of the machine's physical memory and the
/// process's address-space and data-segment limits (`ulimit -v`, `ulimit -d`). Large allocations are
/// checked against it first, so an absurd network or input is an error that says how much was
/// needed, not an abort inside the allocator.
public enum MemoryBudget {
    /// Bytes available to this process.
    public static var bytes: Int {
        var budget = Int(clamping: ProcessInfo.processInfo.physicalMemory)
        #if canImport(Glibc) || canImport(Musl)
        // The limits count what is already mapped (code, libraries, stacks, earlier allocations).
        let mapped = (try? String(contentsOfFile: "/proc/self/statm", encoding: .utf8))
            .flatMap { $0.split(separator: " ").first.flatMap { Int($0) } }.map { $0 * Int(sysconf(Int32(_SC_PAGESIZE))) } ?? 0
        for resource in [RLIMIT_AS, RLIMIT_DATA] {
            var limit = rlimit()
            if getrlimit(__rlimit_resource_t(resource.rawValue), &limit) == 0, limit.rlim_cur != rlim_t.max {
                budget = min(budget, max(0, Int(clamping: limit.rlim_cur) - mapped))
            }
        }
        #endif
        return budget
    }

    /// Throws when `needed` bytes (for `what`) exceed the budget.
    public static func check(_ needed: Int, for what: String) throws(WeightError) {
        let budget = bytes
        guard needed <= budget else {
            throw WeightError(.memoryBudget(needed: needed, budget: budget), "\(what) needs \(describe(needed)), more than the \(describe(budget)) this process may use")
        }
    }

    /// The peak resident memory of this process so far, in bytes.
    public static var peakResidentBytes: Int {
        var usage = rusage()
        #if canImport(Darwin)
        getrusage(RUSAGE_SELF, &usage)
        return Int(usage.ru_maxrss)
        #else
        getrusage(RUSAGE_SELF.rawValue, &usage)
        return Int(usage.ru_maxrss) * 1024
        #endif
    }

    /// "12.3 GiB".
    public static func describe(_ bytes: Int) -> String {
        let units = ["bytes", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB"]
        var value = Double(bytes), unit = 0
        while value >= 1024, unit < units.count - 1 { value /= 1024; unit += 1 }
        return unit == 0 ? "\(bytes) bytes" : String(format: "%.1f %@", value, units[unit])
    }
}

extension WeightSet {
    /// Checks that `graph`'s parameters (float32, `copies` times over) fit in memory before they are
    /// allocated.
    public static func checkMemory(for graph: NetworkIR.Graph, copies: Int = 1) throws(WeightError) {
        let count = graph.parameters.reduce(0) { saturatingSum($0, $1.shape.reduce(1) { saturatingProduct($0, $1) }) }
        try MemoryBudget.check(saturatingProduct(count, 4, copies), for: "\(graph.name)'s \(formatCount(count)) parameters")
    }
}
