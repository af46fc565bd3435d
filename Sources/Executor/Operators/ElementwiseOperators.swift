import Foundation

/// Channel means per image: C×H×W → C×1×1.
///
/// Each image row is summed in float32 SIMD (at most a few hundred pixels), and the row sums are
/// accumulated in Double: SE pools every block, and long float32 sums drift on large maps.
enum PoolOperator {
    static func run(input: Int, output: Int, images: Range<Int>, plan: ExecutionPlan, arena: UnsafeMutablePointer<Float>,
                    worker: Int, workers: Int) {
        let src = plan.layouts[input], dst = plan.layouts[output]
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

/// Element-wise steps over rows; rows of a padded value are contiguous inside the ring.
enum ElementwiseOperator {
    static func run(_ step: ElementwiseStep, images: Range<Int>, plan: ExecutionPlan, arena: UnsafeMutablePointer<Float>,
                    weights: UnsafePointer<Float>, worker: Int, workers: Int) {
        let src = plan.layouts[step.input], dst = plan.layouts[step.output]
        let count = dst.width * dst.channels, channels = dst.channels
        let myRows = imageRows(images, dst.height, worker, workers)
        if step.output != step.input { dst.zeroPadding(rows: myRows, in: arena) }
        for row in myRows {
            let n = row / dst.height, y = row % dst.height
            let a = arena + src.index(n, y, 0), out = arena + dst.index(n, y, 0)
            switch step.kind {
            case .relu:
                for i in 0..<count { out[i] = max(a[i], 0) }
            case .sigmoid:
                for i in 0..<count { out[i] = 1 / (1 + exp(-a[i])) }
            case .add(let other):
                let b = arena + plan.layouts[other].index(n, y, 0)
                for i in 0..<count { out[i] = a[i] + b[i] }
            case .affine(let scale, let shift):
                let s = weights + scale, t = weights + shift
                for i in 0..<count { out[i] = a[i] * s[i % channels] + t[i % channels] }
            case .channelScale(let other):
                let s = UnsafeRawPointer(arena + plan.layouts[other].index(n, 0, 0))
                let x = UnsafeRawPointer(a), o = UnsafeMutableRawPointer(out)
                let vectorEnd = channels / 16 * 16
                for pixel in stride(from: 0, to: count, by: channels) {
                    var c = 0
                    while c < vectorEnd {
                        let v = x.loadUnaligned(fromByteOffset: (pixel + c) * 4, as: SIMD16<Float>.self)
                            * s.loadUnaligned(fromByteOffset: c * 4, as: SIMD16<Float>.self)
                        o.storeBytes(of: v, toByteOffset: (pixel + c) * 4, as: SIMD16<Float>.self)
                        c += 16
                    }
                    for t in vectorEnd..<channels { out[pixel + t] = a[pixel + t] * s.load(fromByteOffset: t * 4, as: Float.self) }
                }
            }
        }
    }
}

/// NCHW in and out of the plan's NHWC layouts.
enum LayoutOperator {
    static func importNCHW(_ source: UnsafePointer<Float>, into layout: ValueLayout, images: Range<Int>,
                           arena: UnsafeMutablePointer<Float>, worker: Int, workers: Int) {
        let rows = imageRows(images, layout.height, worker, workers)
        layout.zeroPadding(rows: rows, in: arena)
        let plane = layout.height * layout.width
        for row in rows {
            let n = row / layout.height, y = row % layout.height
            let out = arena + layout.index(n, y, 0)
            for c in 0..<layout.channels {
                let src = source + (n * layout.channels + c) * plane + y * layout.width
                for x in 0..<layout.width { out[x * layout.channels + c] = src[x] }
            }
        }
    }

    static func exportNCHW(_ layout: ValueLayout, batch: Int, arena: UnsafeMutablePointer<Float>, into destination: UnsafeMutablePointer<Float>) {
        let plane = layout.height * layout.width
        for n in 0..<batch {
            for y in 0..<layout.height {
                let row = arena + layout.index(n, y, 0)
                for x in 0..<layout.width {
                    for c in 0..<layout.channels {
                        destination[(n * layout.channels + c) * plane + y * layout.width + x] = row[x * layout.channels + c]
                    }
                }
            }
        }
    }
}
