/// Where one activation lives in the arena: NHWC per image, with an optional zero ring of `padding`
/// pixels so a following convolution reads its halo without bounds checks. Sizes are in elements of
/// the value's own type; the memory planner works in bytes from them.
struct ValueLayout: Sendable {
    var element: ElementType
    var channels: Int
    var height: Int
    var width: Int
    var padding = 0
    /// Offset of image 0's first padded element in the arena, in elements of `element` (the planner
    /// places values at byte offsets that are multiples of 64).
    var offset = 0
    /// Image slots for values made and consumed inside one image-group segment: image n lives in slot
    /// n mod `slots`, so each group of images reuses the same memory. nil: one slot per image.
    var slots: Int?

    var rowStride: Int { (width + 2 * padding) * channels }
    var imageStride: Int { (height + 2 * padding) * rowStride }
    /// Bytes of one image, padding included.
    var imageBytes: Int { imageStride * element.byteCount }
    /// Bytes for `batch` images.
    func byteCount(batch: Int) -> Int { imageBytes * (slots ?? batch) }

    /// Arena index of pixel (n, y, x), channel 0; y and x may reach into the padding (-padding ..< size + padding).
    @inline(__always) func index(_ n: Int, _ y: Int, _ x: Int) -> Int {
        offset + (slots.map { n % $0 } ?? n) * imageStride + (y + padding) * rowStride + (x + padding) * channels
    }

    /// Zeroes the ring of padding around rows `rows` (global rows n·height + y) of this value.
    func zeroPadding(rows: Range<Int>, in arena: UnsafeMutablePointer<Float>) {
        guard padding > 0 else { return }
        let bytes = element.byteCount, base = UnsafeMutableRawPointer(arena)
        func zero(from index: Int, count: Int) { (base + index * bytes).initializeMemory(as: UInt8.self, repeating: 0, count: count * bytes) }
        let side = padding * channels
        for row in rows {
            let n = row / height, y = row % height
            zero(from: index(n, y, -padding), count: side)
            zero(from: index(n, y, width), count: side)
            if y == 0 { zero(from: index(n, -padding, -padding), count: padding * rowStride) }
            if y == height - 1 { zero(from: index(n, height, -padding), count: padding * rowStride) }
        }
    }
}
