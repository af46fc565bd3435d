/// Channel means per image: C×H×W → C×1×1, by `ChannelMeans` (the training forward's arithmetic)
/// over chunks of 64 channels, so even one image's pooling is shared among the workers.
struct GlobalAveragePoolStep: InferenceStep {
    var input: Int
    var output: Int

    var reads: [Int] { [input] }

    func run(_ c: InferenceContext, images: Range<Int>, worker: Int, workers: Int) {
        let src = c.layouts[input], dst = c.layouts[output], arena = c.arena
        let chunk = 64, chunks = (src.channels + chunk - 1) / chunk
        withUnsafeTemporaryAllocation(of: Float.self, capacity: ChannelMeans.blockFloats(channels: chunk)) { block in
            for item in share(images.count * chunks, worker, workers) {
                let n = images.lowerBound + item / chunks, c0 = (item % chunks) * chunk
                ChannelMeans.image(c0..<min(src.channels, c0 + chunk), pixels: src.height * src.width, block: block.baseAddress!,
                                   out: arena + dst.index(n, 0, 0)) { p in UnsafePointer(arena + src.index(n, p / src.width, p % src.width)) }
            }
        }
    }
}
