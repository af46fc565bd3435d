/// Writes a node's value or gradient pixel row by pixel row across the workers, in the element type the
/// program stores it in: each row is computed in float32 straight into a float32 buffer, or, when the
/// buffer is stored as bf16 (only bf16 GEMMs read it), into a small float32 block that is rounded into
/// it (nearest even) a block at a time.
enum RowWriter {
    /// Floats of a bf16 value's float32 staging block (it stays in L1).
    static let blockFloats = 4096

    /// Rows 0..<rows of `channels` values into `destination` (a value or gradient, stored as bf16 where
    /// `bfloat16`), row p computed by `row(p, into)`: into `destination`'s own row when it is float32.
    @inline(__always) static func write(_ c: StepContext, into destination: UnsafeMutablePointer<Float>, bfloat16: Bool, rows: Int, channels: Int,
                      _ row: (_ p: Int, _ into: UnsafeMutablePointer<Float>) -> Void) {
        guard bfloat16, let bf16 = c.bfloat16?.kernels else {
            return c.parallel(rows) { r in for p in r { row(p, destination + p * channels) } }
        }
        let narrow = UnsafeMutableRawPointer(destination).assumingMemoryBound(to: UInt16.self), block = max(1, blockFloats / channels)
        c.parallel(rows) { r in
            withUnsafeTemporaryAllocation(of: Float.self, capacity: block * channels) { staging in
                for first in stride(from: r.lowerBound, to: r.upperBound, by: block) {
                    let count = min(block, r.upperBound - first)
                    for i in 0..<count { row(first + i, staging.baseAddress! + i * channels) }
                    bf16.convert(count * channels, staging.baseAddress!, narrow + first * channels)
                }
            }
        }
    }
}
