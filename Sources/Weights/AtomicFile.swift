import Foundation

/// Writes `data` to `url` through a temporary file in the same folder and a rename, so a failed
/// write never leaves a partial file behind.
public func writeAtomically(_ data: Data, to url: URL) throws(WeightError) {
    let folder = url.deletingLastPathComponent()
    let temporary = folder.appendingPathComponent(".\(url.lastPathComponent).\(UUID().uuidString).tmp")
    do {
        try data.write(to: temporary)
        if FileManager.default.fileExists(atPath: url.path) {
            _ = try FileManager.default.replaceItemAt(url, withItemAt: temporary)
        } else {
            try FileManager.default.moveItem(at: temporary, to: url)
        }
    } catch {
        try? FileManager.default.removeItem(at: temporary)
        throw WeightError("cannot write \(url.path): \(error.localizedDescription)")
    }
}

/// Reads a whole file, memory-mapped where the platform allows.
func readFile(_ url: URL) throws(WeightError) -> Data {
    do {
        return try Data(contentsOf: url, options: .alwaysMapped)
    } catch {
        throw WeightError("cannot read \(url.path): \(error.localizedDescription)")
    }
}
