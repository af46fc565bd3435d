import NetworkIR

/// A linear layer over a map reads its features as PyTorch flattens NCHW: channel-major. Both plans
/// gather them with `channelMajor`: training into scratch, inference as its own step (`FlattenStep`).
enum Flatten {
    /// out[c · pixels + p] = pixel(p)[c] for one image.
    @inline(__always) static func channelMajor(channels: Int, pixels: Int, into out: UnsafeMutablePointer<Float>,
                                               pixel: (Int) -> UnsafePointer<Float>) {
        for p in 0..<pixels {
            let values = pixel(p)
            for c in 0..<channels { out[c * pixels + p] = values[c] }
        }
    }
}

/// An image's C×H×W values gathered channel-major into a (C·H·W)×1×1 value, for the linear layer
/// that reads it (`LinearDefinition`).
struct FlattenStep: InferenceStep {
    var input: Int
    var output: Int

    var reads: [Int] { [input] }

    func run(_ c: InferenceContext, images: Range<Int>, worker: Int, workers: Int) {
        let src = c.layouts[input], dst = c.layouts[output], arena = c.arena
        for n in share(images.count, worker, workers).map({ images.lowerBound + $0 }) {
            Flatten.channelMajor(channels: src.channels, pixels: src.height * src.width, into: arena + dst.index(n, 0, 0)) { p in
                UnsafePointer(arena + src.index(n, p / src.width, p % src.width))
            }
        }
    }
}
