/// The evaluation preprocessing of the RegNet models (pycls, timm and torchvision alike):
/// resize the shorter side to 256 with bilinear filtering (antialiased when shrinking, as PIL does),
/// centre-crop 224 × 224, and normalise each RGB channel with the ImageNet mean and standard deviation.
public struct Preprocessing: Sendable, Hashable {
    /// Shorter side after resizing.
    public var resize: Int = 256
    /// Side of the centre crop.
    public var crop: Int = 224
    /// Per-channel mean (RGB).
    public var mean: [Float] = [0.485, 0.456, 0.406]
    /// Per-channel standard deviation (RGB).
    public var std: [Float] = [0.229, 0.224, 0.225]

    /// The standard ImageNet evaluation transform.
    public init() {}

    /// A transform with other sizes (the same steps).
    public init(resize: Int, crop: Int) {
        self.resize = resize
        self.crop = crop
    }

    /// Resized and cropped pixels in [0, 1], CHW, before normalisation (what torchvision's ToTensor gives).
    public func cropped(_ image: RGBImage) throws(ImageError) -> [Float] {
        guard crop <= resize else { throw ImageError(.tooLarge, "crop \(crop) is larger than the resize \(resize)") }
        // torchvision Resize(int): the shorter side becomes `resize`, the longer int(resize · long / short).
        let (w, h) = image.width <= image.height
            ? (resize, Int(Double(resize) * Double(image.height) / Double(image.width)))
            : (Int(Double(resize) * Double(image.width) / Double(image.height)), resize)
        // A sliver (1×20000) would become 256 × 5,120,000: refuse before allocating it.
        guard Double(w) * Double(h) <= Double(maximumPixels) else {
            throw ImageError(.tooLarge, "a \(image.width)x\(image.height) image resized to a shorter side of \(resize) would be \(w)x\(h), over the limit of \(maximumPixels / 1_000_000)M pixels: its aspect ratio is too extreme")
        }
        let resized = Self.resample(image, width: w, height: h)
        // CenterCrop: offsets int(round((size - crop) / 2)), with Python's half-to-even round.
        let top = Int((Double(h - crop) / 2).rounded(.toNearestOrEven)), left = Int((Double(w - crop) / 2).rounded(.toNearestOrEven))
        var out = [Float](repeating: 0, count: 3 * crop * crop)
        for c in 0..<3 {
            for y in 0..<crop {
                for x in 0..<crop {
                    out[(c * crop + y) * crop + x] = resized.pixels[((top + y) * w + left + x) * 3 + c]
                }
            }
        }
        return out
    }

    /// The network input: `cropped`, normalised (CHW).
    public func callAsFunction(_ image: RGBImage) throws(ImageError) -> [Float] {
        var out = try cropped(image)
        let plane = crop * crop
        for c in 0..<3 {
            for i in 0..<plane { out[c * plane + i] = (out[c * plane + i] - mean[c]) / std[c] }
        }
        return out
    }

    /// Separable bilinear resampling with PIL's support scaling (a triangle filter widened by the
    /// shrink factor), horizontally then vertically.
    static func resample(_ image: RGBImage, width: Int, height: Int) -> RGBImage {
        let horizontal = weights(input: image.width, output: width)
        var temp = [Float](repeating: 0, count: image.height * width * 3)
        for y in 0..<image.height {
            for x in 0..<width {
                let (start, w) = horizontal[x]
                for c in 0..<3 {
                    var sum: Float = 0
                    for (k, weight) in w.enumerated() { sum += weight * image.pixels[(y * image.width + start + k) * 3 + c] }
                    temp[(y * width + x) * 3 + c] = sum
                }
            }
        }
        let vertical = weights(input: image.height, output: height)
        var out = [Float](repeating: 0, count: height * width * 3)
        for y in 0..<height {
            let (start, w) = vertical[y]
            for x in 0..<width {
                for c in 0..<3 {
                    var sum: Float = 0
                    for (k, weight) in w.enumerated() { sum += weight * temp[((start + k) * width + x) * 3 + c] }
                    out[(y * width + x) * 3 + c] = min(1, max(0, sum))
                }
            }
        }
        return RGBImage(width: width, height: height, pixels: out)
    }

    /// For each output index: the first input index and the normalised filter weights.
    static func weights(input: Int, output: Int) -> [(Int, [Float])] {
        let scale = Double(input) / Double(output), filterScale = max(scale, 1), support = filterScale
        return (0..<output).map { i in
            let center = (Double(i) + 0.5) * scale
            let lo = max(0, Int(center - support + 0.5)), hi = min(input, Int(center + support + 0.5))
            var w = (lo..<max(hi, lo + 1)).map { j in max(0, 1 - abs((Double(j) - center + 0.5) / filterScale)) }
            let total = w.reduce(0, +)
            if total > 0 { w = w.map { $0 / total } } else { w = [1] }
            return (min(lo, input - 1), w.map(Float.init))
        }
    }
}
