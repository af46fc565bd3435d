/// Where one activation lives in the arena: NHWC per image, with an optional zero ring of `padding`
/// pixels so a following convolution reads its halo without bounds checks.
struct ValueLayout: Sendable {
    var channels: Int
    var height: Int
    var width: Int
    var padding = 0
    /// Offset of image 0's first padded element in the arena, in floats.
    var offset = 0
    /// Whether each image has its own slot; false for values that live inside a per-image segment,
    /// where every image reuses one image-sized buffer.
    var perImageSlots = true

    var rowStride: Int { (width + 2 * padding) * channels }
    var imageStride: Int { (height + 2 * padding) * rowStride }
    /// Floats between images (0 when images share one slot).
    var batchStride: Int { perImageSlots ? imageStride : 0 }
    /// Floats for `batch` images.
    func size(batch: Int) -> Int { perImageSlots ? imageStride * batch : imageStride }

    /// Arena index of pixel (n, y, x), channel 0; y and x may reach into the padding (-padding ..< size + padding).
    @inline(__always) func index(_ n: Int, _ y: Int, _ x: Int) -> Int {
        offset + n * batchStride + (y + padding) * rowStride + (x + padding) * channels
    }
}
