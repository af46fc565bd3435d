/// Decoded samples as stored in the file: interleaved, row-major, `channels` per pixel
/// (1 grey, 2 grey + alpha, 3 RGB, 4 RGBA; palettes are expanded to RGB or RGBA), each 0...maxValue.
public struct DecodedImage: Hashable, Sendable {
    /// Width in pixels.
    public var width: Int
    /// Height in pixels.
    public var height: Int
    /// Samples per pixel: 1 grey, 2 grey + alpha, 3 RGB, 4 RGBA.
    public var channels: Int
    /// 255 for 8-bit samples, 65535 for 16-bit, 2^d - 1 for d-bit grey.
    public var maxValue: Int
    /// The samples, row-major and interleaved.
    public var samples: [UInt16]

    /// The image as RGB floats in [0, 1] (grey is replicated, alpha dropped, as PIL's convert("RGB") does).
    public var rgb: RGBImage {
        let scale = 1 / Float(maxValue)
        var pixels = [Float](repeating: 0, count: width * height * 3)
        for p in 0..<(width * height) {
            let base = p * channels
            for c in 0..<3 {
                pixels[p * 3 + c] = Float(samples[base + (channels >= 3 ? c : 0)]) * scale
            }
        }
        return RGBImage(width: width, height: height, pixels: pixels)
    }
}

/// An RGB image with float samples in [0, 1], interleaved (height × width × 3).
public struct RGBImage: Hashable, Sendable {
    /// Width in pixels.
    public var width: Int
    /// Height in pixels.
    public var height: Int
    /// RGB samples in [0, 1], row-major and interleaved.
    public var pixels: [Float]

    /// An image of `width` × `height` RGB pixels.
    public init(width: Int, height: Int, pixels: [Float]) {
        self.width = width
        self.height = height
        self.pixels = pixels
    }
}

/// Largest image accepted (pixels): guards against headers that promise absurd sizes.
let maximumPixels = 100_000_000
