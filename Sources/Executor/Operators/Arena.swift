/// One run's activation memory, 64-byte aligned. Workers write disjoint parts of it.
final class Arena: @unchecked Sendable {
    let base: UnsafeMutablePointer<Float>
    let count: Int

    init(floats: Int) {
        count = max(floats, 16)
        base = UnsafeMutableRawPointer.allocate(byteCount: count * 4, alignment: 64).bindMemory(to: Float.self, capacity: count)
        base.initialize(repeating: 0, count: count)
    }

    deinit { base.deallocate() }
}

/// The plan's packed weights, copied once into aligned memory so kernels can take raw pointers.
final class PackedWeights: @unchecked Sendable {
    let base: UnsafeMutablePointer<Float>
    let count: Int

    init(_ values: [Float]) {
        count = max(values.count, 16)
        base = UnsafeMutableRawPointer.allocate(byteCount: count * 4, alignment: 64).bindMemory(to: Float.self, capacity: count)
        base.initialize(repeating: 0, count: count)
        values.withUnsafeBufferPointer { base.update(from: $0.baseAddress!, count: values.count) }
    }

    deinit { base.deallocate() }
}

extension ValueLayout {
    /// Zeroes the ring of padding around rows `rows` (global rows n·height + y) of this value.
    func zeroPadding(rows: Range<Int>, in arena: UnsafeMutablePointer<Float>) {
        guard padding > 0 else { return }
        let side = padding * channels
        for row in rows {
            let n = row / height, y = row % height
            let start = arena + index(n, y, -padding)
            start.update(repeating: 0, count: side)
            (start + (width + padding) * channels).update(repeating: 0, count: side)
            if y == 0 {
                (arena + index(n, -padding, -padding)).update(repeating: 0, count: padding * rowStride)
            }
            if y == height - 1 {
                (arena + index(n, height, -padding)).update(repeating: 0, count: padding * rowStride)
            }
        }
    }
}
