/// NCHW in and out of the plan's NHWC layouts.
enum LayoutConversion {
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
