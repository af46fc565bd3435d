/// Zeroed, 64-byte aligned memory with 128 bytes of readable slack past the end (micro-kernels read
/// whole vectors). Holds a run's activation arena, packed weights, or a training plan's buffers;
/// workers write disjoint parts of it.
final class AlignedBuffer: @unchecked Sendable {
    /// The memory, typed as floats (the element type of every value today).
    let base: UnsafeMutablePointer<Float>
    /// Usable bytes (the slack not counted).
    let byteCount: Int

    /// A buffer of `byteCount` bytes.
    init(bytes byteCount: Int) {
        self.byteCount = byteCount
        let total = (byteCount + 3) / 4 + 32
        base = UnsafeMutableRawPointer.allocate(byteCount: total * 4, alignment: 64).bindMemory(to: Float.self, capacity: total)
        base.initialize(repeating: 0, count: total)
    }

    /// A buffer of `count` floats.
    convenience init(floats count: Int) { self.init(bytes: count * ElementType.float32.byteCount) }

    /// A buffer holding a copy of `values`.
    convenience init(copying values: [Float]) {
        self.init(floats: values.count)
        copy(from: values)
    }

    deinit { base.deallocate() }

    /// Floats that fit in the usable bytes.
    var count: Int { byteCount / ElementType.float32.byteCount }

    /// Replaces the floats from `offset` on with `values`.
    func copy(from values: [Float], at offset: Int = 0) {
        values.withUnsafeBufferPointer { if let source = $0.baseAddress { (base + offset).update(from: source, count: values.count) } }
    }
}
