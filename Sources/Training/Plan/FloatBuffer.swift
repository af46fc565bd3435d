/// Zeroed, 64-byte aligned float memory with 32 floats of readable slack past the end (micro-kernels
/// read whole 16-lane vectors). Owned by a training plan; workers write disjoint parts of it.
final class FloatBuffer: @unchecked Sendable {
    let base: UnsafeMutablePointer<Float>
    let count: Int

    init(count: Int) {
        self.count = count
        let total = count + 32
        base = UnsafeMutableRawPointer.allocate(byteCount: total * 4, alignment: 64).bindMemory(to: Float.self, capacity: total)
        base.initialize(repeating: 0, count: total)
    }

    deinit { base.deallocate() }

    /// Replaces the first `values.count` floats.
    func copy(from values: [Float], at offset: Int = 0) {
        values.withUnsafeBufferPointer { (base + offset).update(from: $0.baseAddress!, count: values.count) }
    }
}
