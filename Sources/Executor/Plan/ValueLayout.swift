/// Where one activation lives in the arena: NHWC per image, with an optional zero ring of `padding`
/// pixels so a following convolution reads its halo without bounds checks.
struct ValueLayout: Sendable {
    var channels: Int
    var height: Int
    var width: Int
    var padding = 0
    /// Offset of image 0's first padded element in the arena, in floats.
    var offset = 0
    /// Image slots for values made and consumed inside one image-group segment: image n lives in slot
    /// n mod `slots`, so each group of images reuses the same memory. nil: one slot per image.
    var slots: Int?

    var rowStride: Int { (width + 2 * padding) * channels }
    var imageStride: Int { (height + 2 * padding) * rowStride }
    /// Floats for `batch` images.
    func size(batch: Int) -> Int { imageStride * (slots ?? batch) }

    /// Arena index of pixel (n, y, x), channel 0; y and x may reach into the padding (-padding ..< size + padding).
    @inline(__always) func index(_ n: Int, _ y: Int, _ x: Int) -> Int {
        offset + (slots.map { n % $0 } ?? n) * imageStride + (y + padding) * rowStride + (x + padding) * channels
    }
}
