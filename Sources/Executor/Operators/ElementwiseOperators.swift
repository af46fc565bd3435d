import Foundation

/// Channel means per image: C×H×W → C×1×1.
enum PoolOperator {
    static func run(input: Int, output: Int, images: Range<Int>, plan: ExecutionPlan, arena: UnsafeMutablePointer<Float>,
                    worker: Int, workers: Int) {
        let src = plan.layouts[input], dst = plan.layouts[output]
        let chunk = 64, chunks = (src.channels + chunk - 1) / chunk
        let scale = 1 / Double(src.height * src.width)
        withUnsafeTemporaryAllocation(of: Double.self, capacity: chunk) { sums in
            for item in share(images.count * chunks, worker, workers) {
                let n = images.lowerBound + item / chunks, c0 = (item % chunks) * chunk, c1 = min(src.channels, c0 + chunk)
                // Double accumulators: SE pools every block, and long float sums drift on large maps.
                for c in 0..<(c1 - c0) { sums[c] = 0 }
                for y in 0..<src.height {
                    let row = arena + src.index(n, y, 0)
                    for x in 0..<src.width {
                        let pixel = row + x * src.channels + c0
                        for c in 0..<(c1 - c0) { sums[c] += Double(pixel[c]) }
                    }
                }
                let out = arena + dst.index(n, 0, 0)
                for c in c0..<c1 { out[c] = Float(sums[c - c0] * scale) }
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
                let s = arena + plan.layouts[other].index(n, 0, 0)
                var i = 0
                while i < count {
                    for c in 0..<channels { out[i + c] = a[i + c] * s[c] }
                    i += channels
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
