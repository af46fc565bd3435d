/// Copies a float32 value into a narrower one of the same shape — bf16 (rounded), or uint8
/// (quantised with `scale`) — and zeroes the copy's padding ring, for a bf16 or int8 convolution to
/// read. The plan compiler adds one per value such a convolution reads when the value's producer
/// could not store it narrow itself; it is not an IR operation, so it has no training form.
struct ConvertStep: InferenceStep {
    var input: Int
    var output: Int
    /// The uint8 quantisation scale (value = q · scale).
    var scale: Float = 1

    var reads: [Int] { [input] }

    func run(_ c: InferenceContext, images: Range<Int>, worker: Int, workers: Int) {
        let src = c.layouts[input], dst = c.layouts[output]
        let base = UnsafeMutableRawPointer(c.arena), rows = imageRows(images, dst.height, worker, workers)
        dst.zeroPadding(rows: rows, in: c.arena)
        for row in rows {
            let n = row / dst.height, y = row % dst.height, count = dst.width * dst.channels
            let from = c.arena + src.index(n, y, 0), to = base + dst.index(n, y, 0) * dst.element.byteCount
            if dst.element == .uint8 {
                c.kernels.int8!.convert(count, from, to.assumingMemoryBound(to: UInt8.self), scale)
            } else {
                c.kernels.bfloat16!.convert(count, from, to.assumingMemoryBound(to: UInt16.self))
            }
        }
    }
}
