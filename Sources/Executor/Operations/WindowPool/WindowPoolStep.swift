import NetworkIR

/// Max or average pooling over output rows (`WindowPooling`, the training forward's arithmetic); no
/// padded copy is needed.
struct WindowPoolStep: InferenceStep {
    var input: Int
    var output: Int
    var window: PoolingWindow
    var isMax: Bool

    var reads: [Int] { [input] }

    func run(_ c: InferenceContext, images: Range<Int>, worker: Int, workers: Int) {
        let src = c.layouts[input], dst = c.layouts[output], arena = c.arena
        let rows = imageRows(images, dst.height, worker, workers)
        dst.zeroPadding(rows: rows, in: arena)
        for row in rows {
            let n = row / dst.height, y = row % dst.height
            WindowPooling.row(y, window: window, isMax: isMax, outputWidth: dst.width, channels: dst.channels, height: src.height, width: src.width,
                              input: { UnsafePointer(arena + src.index(n, $0, $1)) }, output: { arena + dst.index(n, y, $0) })
        }
    }
}
