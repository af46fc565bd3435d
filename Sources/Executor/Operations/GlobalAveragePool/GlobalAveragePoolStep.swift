/// Channel means per image: C×H×W → C×1×1.
///
/// Each image row is summed in float32 SIMD (at most a few hundred pixels), and the row sums are
/// accumulated in Double: SE pools every block, and long float32 sums drift on large maps.
struct GlobalAveragePoolStep: InferenceStep {
    var input: Int
    var output: Int

    var reads: [Int] { [input] }

    func run(_ c: InferenceContext, images: Range<Int>, worker: Int, workers: Int) {
        let src = c.layouts[input], dst = c.layouts[output], arena = c.arena
        let chunk = 64, chunks = (src.channels + chunk - 1) / chunk
        let scale = 1 / Double(src.height * src.width)
        withUnsafeTemporaryAllocation(of: Double.self, capacity: chunk) { sums in
            withUnsafeTemporaryAllocation(of: Float.self, capacity: chunk) { rowSums in
                for item in share(images.count * chunks, worker, workers) {
                    let n = images.lowerBound + item / chunks, c0 = (item % chunks) * chunk, c1 = min(src.channels, c0 + chunk)
                    let width = c1 - c0
                    for c in 0..<width { sums[c] = 0 }
                    for y in 0..<src.height {
                        let row = UnsafeRawPointer(arena + src.index(n, y, 0) + c0)
                        let stride = src.channels * 4
                        var c = 0
                        while c + 16 <= width {
                            var acc = SIMD16<Float>()
                            for x in 0..<src.width { acc += row.loadUnaligned(fromByteOffset: x * stride + c * 4, as: SIMD16<Float>.self) }
                            for lane in 0..<16 { rowSums[c + lane] = acc[lane] }
                            c += 16
                        }
                        for tail in c..<width {
                            var acc: Float = 0
                            for x in 0..<src.width { acc += row.load(fromByteOffset: x * stride + tail * 4, as: Float.self) }
                            rowSums[tail] = acc
                        }
                        for c in 0..<width { sums[c] += Double(rowSums[c]) }
                    }
                    let out = arena + dst.index(n, 0, 0)
                    for c in c0..<c1 { out[c] = Float(sums[c - c0] * scale) }
                }
            }
        }
    }
}
