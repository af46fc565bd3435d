import Foundation
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// Writes `data` to `url` through a temporary file in the same folder and a rename, so a failed
/// write never leaves a partial file behind.
public func writeAtomically(_ data: Data, to url: URL) throws(WeightError) {
    let folder = url.deletingLastPathComponent()
    let temporary = folder.appendingPathComponent(".\(url.lastPathComponent).\(UUID().uuidString).tmp")
    do {
        try data.write(to: temporary)
    } catch {
        try? FileManager.default.removeItem(at: temporary)
        throw WeightError("cannot write \(url.path): \(error.localizedDescription)")
    }
    // rename(2) replaces the destination atomically: readers see the old file or the new one, never a mix.
    guard rename(temporary.path, url.path) == 0 else {
        let reason = String(cString: strerror(errno))
        try? FileManager.default.removeItem(at: temporary)
        throw WeightError("cannot write \(url.path): \(reason)")
    }
}

/// Reads a whole file (memory-mapped where the platform allows) and parses it, prefixing parse
/// errors with the file's name.
func readFile<T>(_ url: URL, _ parse: (Data) throws(WeightError) -> T) throws(WeightError) -> T {
    let data: Data
    do {
        data = try Data(contentsOf: url, options: .alwaysMapped)
    } catch {
        throw WeightError("cannot read \(url.path): \(error.localizedDescription)")
    }
    do {
        return try parse(data)
    } catch {
        throw WeightError("\(url.lastPathComponent): \(error.message)")
    }
}
