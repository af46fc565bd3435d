/// Rounds a float32 value to a bf16 copy of the same shape (and zeroes the copy's padding ring), for
/// a bf16 convolution to read. The plan compiler adds one per value such a convolution reads; it is
/// not an IR operation, so it has no training form.
struct ConvertStep: InferenceStep {
    var input: Int
    var output: Int

    var reads: [Int] { [input] }

    func run(_ c: InferenceContext, images: Range<Int>, worker: Int, workers: Int) {
        let src = c.layouts[input], dst = c.layouts[output]
        let convert = c.kernels.bfloat16!.convert
        let out = UnsafeMutableRawPointer(c.arena).assumingMemoryBound(to: UInt16.self)
        let rows = imageRows(images, dst.height, worker, workers)
        dst.zeroPadding(rows: rows, in: c.arena)
        for row in rows {
            let n = row / dst.height, y = row % dst.height
            convert(dst.width * dst.channels, c.arena + src.index(n, y, 0), out + dst.index(n, y, 0))
        }
    }
}
