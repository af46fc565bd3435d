import Foundation
import NetworkIR

/// How dataset images become network inputs, as pycls prepares them (`pycls/datasets/cifar10.py`,
/// `imagenet.py`, `transforms.py`). Every random choice comes from the generator it is handed.
public struct ImageTransform: Sendable, Hashable {
    /// The pipeline.
    public enum Kind: String, Sendable, Hashable {
        /// Normalise per channel on the data's scale; training adds a horizontal flip (p = ½) and a
        /// random crop of the data's size from the image zero-padded by `padding` (pycls's CIFAR pipeline).
        case cifar
        /// Training: random-resized crop (area 8–100%, aspect 3/4–4/3) to `size`, flip, PCA lighting
        /// noise, normalisation; test: resize the short side to `testSize` and centre-crop `size`.
        case imagenet
        /// The values as given (float arrays for exact reproduction); with `augment`, CIFAR's flip and crop.
        case exact
    }

    /// pycls's CIFAR mean and standard deviation, on 0–255 values.
    public static let cifarMean: [Float] = [125.3, 123.0, 113.9], cifarStd: [Float] = [63.0, 62.1, 66.7]
    /// ImageNet's mean and standard deviation, on 0–1 values (RGB).
    public static let imagenetMean: [Float] = [0.485, 0.456, 0.406], imagenetStd: [Float] = [0.229, 0.224, 0.225]
    /// pycls's PCA lighting eigenvalues and eigenvectors (rows, RGB).
    static let eigenvalues: [Float] = [0.2175, 0.0188, 0.0045]
    static let eigenvectors: [[Float]] = [[-0.5675, 0.7192, 0.4009], [-0.5808, -0.0045, -0.8140], [-0.5836, -0.6948, 0.4203]]

    /// The pipeline.
    public var kind: Kind
    /// Output height and width.
    public var height: Int, width: Int
    /// Short side before the centre crop at test time (imagenet).
    public var testSize: Int
    /// Per-channel mean and standard deviation (on the data's scale).
    public var mean: [Float], std: [Float]
    /// Zero padding before the random crop (cifar, exact).
    public var padding = 4
    /// Lighting noise standard deviation (imagenet; pycls `TRAIN.PCA_STD`).
    public var lightingStd: Float = 0.1
    /// Whether training batches are augmented.
    public var augment: Bool

    /// A transform.
    public init(kind: Kind, height: Int, width: Int, testSize: Int? = nil, mean: [Float]? = nil, std: [Float]? = nil, augment: Bool = true) {
        self.kind = kind
        self.height = height
        self.width = width
        self.testSize = testSize ?? Int((Double(min(height, width)) * 256 / 224).rounded())
        self.mean = mean ?? (kind == .imagenet ? Self.imagenetMean : kind == .cifar ? Self.cifarMean : [0, 0, 0])
        self.std = std ?? (kind == .imagenet ? Self.imagenetStd : kind == .cifar ? Self.cifarStd : [1, 1, 1])
        self.augment = augment
    }

    /// Throws when the settings cannot make inputs: sizes below 1, a test-time short side smaller than
    /// the crop it must hold, or means and deviations that are not three finite numbers (deviations
    /// positive).
    public func validate() throws(DataError) {
        guard height >= 1, width >= 1 else { throw DataError(.invalidArgument, "the input size must be at least 1x1 (got \(height)x\(width))") }
        if kind == .imagenet, testSize < max(height, width) {
            throw DataError(.invalidArgument, "the test-time resize (\(testSize)) is smaller than the \(height)x\(width) centre crop it must hold; give at least \(max(height, width))")
        }
        guard mean.count == 3, std.count == 3, mean.allSatisfy(\.isFinite), std.allSatisfy({ $0.isFinite && $0 > 0 }) else {
            throw DataError(.invalidArgument, "the normalisation needs three finite means and three positive deviations (got \(mean), \(std))")
        }
    }

    /// The 3 × height × width input for `image`; `training` turns augmentation on (when `augment`).
    public func callAsFunction(_ image: DatasetImage, training: Bool, using rng: inout SeededGenerator) throws(DataError) -> [Float] {
        var image = image
        if image.channels == 1 {
            image = DatasetImage(channels: 3, height: image.height, width: image.width, pixels: image.pixels + image.pixels + image.pixels)
        }
        guard image.channels == 3 else { throw DataError(.invalidArgument, "images must have 1 or 3 channels, got \(image.channels)") }
        switch kind {
        case .cifar, .exact:
            guard image.height == height, image.width == width else {
                throw DataError(.invalidArgument, "a \(image.height)x\(image.width) image cannot feed a \(height)x\(width) input without resizing (use the imagenet pipeline or another --resolution)")
            }
            if kind == .cifar { normalize(&image.pixels, plane: height * width) }
            if training && augment {
                if rng.nextUnit() < 0.5 { image = Self.flipped(image) }
                image = Self.randomCrop(image, height: height, width: width, padding: padding, using: &rng)
            }
            return image.pixels
        case .imagenet:
            let long = Double(max(image.height, image.width)) / Double(max(1, min(image.height, image.width)))
            guard long * Double(max(testSize, height, width)) * Double(max(testSize, height, width)) <= 1e8 else {
                throw DataError(.invalidArgument, "a \(image.width)x\(image.height) image resized to a shorter side of \(max(testSize, height, width)) would exceed 100M pixels: its aspect ratio is too extreme")
            }
            if training && augment {
                image = Self.randomSizedCrop(image, height: height, width: width, using: &rng)
                if rng.nextUnit() < 0.5 { image = Self.flipped(image) }
                lighting(&image.pixels, plane: height * width, using: &rng)
            } else {
                image = Self.centerCrop(Self.scaled(image, shortSide: testSize), height: height, width: width)
            }
            normalize(&image.pixels, plane: height * width)
            return image.pixels
        }
    }

    func normalize(_ pixels: inout [Float], plane: Int) {
        for c in 0..<3 {
            let m = mean[c], s = std[c]
            for i in (c * plane)..<((c + 1) * plane) { pixels[i] = (pixels[i] - m) / s }
        }
    }

    /// pycls `lighting`: α ~ N(0, σ)³, every pixel of channel c gains Σ_j eigvec[c][j] · α_j · eigval_j.
    func lighting(_ pixels: inout [Float], plane: Int, using rng: inout SeededGenerator) {
        guard lightingStd > 0 else { return }
        let offsets = Self.lightingOffsets(alpha: (0..<3).map { _ in Float(rng.nextGaussian()) * lightingStd })
        for c in 0..<3 {
            for i in (c * plane)..<((c + 1) * plane) { pixels[i] += offsets[c] }
        }
    }

    /// The RGB offsets of pycls's lighting noise for draws α: eigvec · (α ⊙ eigval).
    static func lightingOffsets(alpha: [Float]) -> [Float] {
        (0..<3).map { c in (0..<3).reduce(Float(0)) { $0 + eigenvectors[c][$1] * alpha[$1] * eigenvalues[$1] } }
    }

    static func flipped(_ image: DatasetImage) -> DatasetImage {
        var out = image
        for row in 0..<(image.channels * image.height) {
            let base = row * image.width
            for x in 0..<image.width { out.pixels[base + x] = image.pixels[base + image.width - 1 - x] }
        }
        return out
    }

    /// pycls `random_crop`: zero-pad, then offsets drawn from 0..<(padded − size) (numpy's randint
    /// excludes its upper bound), y first.
    static func randomCrop(_ image: DatasetImage, height: Int, width: Int, padding: Int, using rng: inout SeededGenerator) -> DatasetImage {
        let ph = image.height + 2 * padding, pw = image.width + 2 * padding
        let y = ph - height > 0 ? Int(rng.next() % UInt64(ph - height)) : 0
        let x = pw - width > 0 ? Int(rng.next() % UInt64(pw - width)) : 0
        return paddedCrop(image, y: y, x: x, height: height, width: width, padding: padding)
    }

    /// The `height` × `width` window at (y, x) of the image zero-padded by `padding`.
    static func paddedCrop(_ image: DatasetImage, y: Int, x: Int, height: Int, width: Int, padding: Int) -> DatasetImage {
        var out = [Float](repeating: 0, count: image.channels * height * width)
        for c in 0..<image.channels {
            for row in 0..<height {
                let sy = y + row - padding
                guard sy >= 0, sy < image.height else { continue }
                for col in 0..<width {
                    let sx = x + col - padding
                    guard sx >= 0, sx < image.width else { continue }
                    out[(c * height + row) * width + col] = image.pixels[(c * image.height + sy) * image.width + sx]
                }
            }
        }
        return DatasetImage(channels: image.channels, height: height, width: width, pixels: out)
    }

    /// pycls `random_sized_crop`: up to 10 tries of an area fraction U(0.08, 1) and aspect
    /// U(3/4, 4/3) (sides swapped with probability ½), then a bilinear resize; otherwise scale and
    /// centre-crop.
    static func randomSizedCrop(_ image: DatasetImage, height: Int, width: Int, using rng: inout SeededGenerator) -> DatasetImage {
        let h = image.height, w = image.width, area = Double(h * w)
        for _ in 0..<10 {
            let target = area * (0.08 + 0.92 * rng.nextUnit())
            let aspect = 0.75 + (4.0 / 3 - 0.75) * rng.nextUnit()
            var cw = Int((target * aspect).squareRoot().rounded()), ch = Int((target / aspect).squareRoot().rounded())
            if rng.nextUnit() < 0.5 { swap(&cw, &ch) }
            if ch <= h, cw <= w, ch > 0, cw > 0 {
                let y = ch == h ? 0 : Int(rng.next() % UInt64(h - ch)), x = cw == w ? 0 : Int(rng.next() % UInt64(w - cw))
                return resized(crop(image, y: y, x: x, height: ch, width: cw), height: height, width: width)
            }
        }
        return centerCrop(scaled(image, shortSide: min(height, width)), height: height, width: width)
    }

    /// pycls `scale`: the short side becomes `shortSide`, the long side floor(long / short · size).
    static func scaled(_ image: DatasetImage, shortSide: Int) -> DatasetImage {
        let h = image.height, w = image.width
        if (w <= h && w == shortSide) || (h <= w && h == shortSide) { return image }
        let (nh, nw) = w < h ? (Int(Double(h) / Double(w) * Double(shortSide)), shortSide) : (shortSide, Int(Double(w) / Double(h) * Double(shortSide)))
        return resized(image, height: nh, width: nw)
    }

    /// pycls `center_crop`: offsets ceil((h − size) / 2), ceil((w − size) / 2).
    static func centerCrop(_ image: DatasetImage, height: Int, width: Int) -> DatasetImage {
        let y = (image.height - height + 1) / 2, x = (image.width - width + 1) / 2
        return crop(image, y: max(0, y), x: max(0, x), height: min(height, image.height), width: min(width, image.width))
    }

    static func crop(_ image: DatasetImage, y: Int, x: Int, height: Int, width: Int) -> DatasetImage {
        var out = [Float](repeating: 0, count: image.channels * height * width)
        for c in 0..<image.channels {
            for row in 0..<height {
                let src = (c * image.height + y + row) * image.width + x, dst = (c * height + row) * width
                for col in 0..<width { out[dst + col] = image.pixels[src + col] }
            }
        }
        return DatasetImage(channels: image.channels, height: height, width: width, pixels: out)
    }

    /// Bilinear resize as OpenCV's INTER_LINEAR: source coordinate (d + ½)·scale − ½, clamped.
    static func resized(_ image: DatasetImage, height: Int, width: Int) -> DatasetImage {
        func taps(_ out: Int, _ input: Int) -> [(Int, Int, Float)] {
            let scale = Double(input) / Double(out)
            return (0..<out).map { d in
                let s = max(0, (Double(d) + 0.5) * scale - 0.5)
                let i0 = min(Int(s), input - 1), i1 = min(i0 + 1, input - 1)
                return (i0, i1, Float(s - Double(i0)))
            }
        }
        let ys = taps(height, image.height), xs = taps(width, image.width)
        var out = [Float](repeating: 0, count: image.channels * height * width)
        for c in 0..<image.channels {
            let plane = c * image.height * image.width
            for (row, (y0, y1, fy)) in ys.enumerated() {
                for (col, (x0, x1, fx)) in xs.enumerated() {
                    let a = image.pixels[plane + y0 * image.width + x0], b = image.pixels[plane + y0 * image.width + x1]
                    let d = image.pixels[plane + y1 * image.width + x0], e = image.pixels[plane + y1 * image.width + x1]
                    let top = a + (b - a) * fx, bottom = d + (e - d) * fx
                    out[(c * height + row) * width + col] = top + (bottom - top) * fy
                }
            }
        }
        return DatasetImage(channels: image.channels, height: height, width: width, pixels: out)
    }
}
