import NetworkIR

/// Mixup and cutmix of a batch, as pycls's `net.mixup`: with both enabled, each batch picks one with
/// probability ½; m ~ Beta(α, α); a random permutation P pairs the images.
public enum Mixing {
    /// A cutmix box in pixels, end-exclusive.
    public struct Box: Hashable, Sendable {
        /// Left, top, right and bottom edges.
        public var x0: Int, y0: Int, x1: Int, y1: Int
        /// A box from (x0, y0) up to (x1, y1).
        public init(x0: Int, y0: Int, x1: Int, y1: Int) { (self.x0, self.y0, self.x1, self.y1) = (x0, y0, x1, y1) }
    }

    /// What was drawn for one batch, so the same mix can be replayed or checked.
    public struct Draw: Hashable, Sendable {
        /// The mixing weight of the original images.
        public var weight: Double
        /// Partner of each image.
        public var permutation: [Int]
        /// For cutmix, the pasted box; nil for mixup.
        public var box: Box?

        /// A draw.
        public init(weight: Double, permutation: [Int], box: Box? = nil) {
            self.weight = weight
            self.permutation = permutation
            self.box = box
        }
    }

    /// Draws a mix for `batch` images of `height` × `width`, or nil when both alphas are 0.
    public static func draw(batch: Int, height: Int, width: Int, mixupAlpha: Double, cutmixAlpha: Double,
                            using rng: inout SeededGenerator) -> Draw? {
        var mixup = mixupAlpha
        if cutmixAlpha > 0, rng.nextUnit() >= 0.5 { mixup = 0 }
        if mixup > 0 {
            let m = beta(mixup, mixup, using: &rng)
            return Draw(weight: m, permutation: permutation(batch, using: &rng))
        }
        guard cutmixAlpha > 0 else { return nil }
        let m = beta(cutmixAlpha, cutmixAlpha, using: &rng)
        let p = permutation(batch, using: &rng)
        let wb = Int(Double(width) * (1 - m).squareRoot()), hb = Int(Double(height) * (1 - m).squareRoot())
        let xc = Int(rng.next() % UInt64(width)), yc = Int(rng.next() % UInt64(height))
        let x0 = min(max(xc - wb / 2, 0), width), x1 = min(max(xc + wb / 2, 0), width)
        let y0 = min(max(yc - hb / 2, 0), height), y1 = min(max(yc + hb / 2, 0), height)
        let weight = 1 - Double((x1 - x0) * (y1 - y0)) / Double(height * width)
        return Draw(weight: weight, permutation: p, box: Box(x0: x0, y0: y0, x1: x1, y1: y1))
    }

    /// Applies `draw` to NCHW `images` and soft `targets` ([N][classes]) in place.
    public static func apply(_ draw: Draw, images: inout [Float], channels: Int, height: Int, width: Int,
                             targets: inout [Float], classes: Int) {
        let batch = draw.permutation.count, plane = channels * height * width
        let original = images, originalTargets = targets
        let m = Float(draw.weight)
        if let box = draw.box {
            for n in 0..<batch {
                let src = draw.permutation[n]
                for c in 0..<channels {
                    for y in box.y0..<box.y1 {
                        for x in box.x0..<box.x1 {
                            let offset = (c * height + y) * width + x
                            images[n * plane + offset] = original[src * plane + offset]
                        }
                    }
                }
            }
        } else {
            for n in 0..<batch {
                let src = draw.permutation[n]
                for i in 0..<plane { images[n * plane + i] = m * original[n * plane + i] + (1 - m) * original[src * plane + i] }
            }
        }
        for n in 0..<batch {
            let src = draw.permutation[n]
            for k in 0..<classes {
                targets[n * classes + k] = m * originalTargets[n * classes + k] + (1 - m) * originalTargets[src * classes + k]
            }
        }
    }

    /// A uniformly random permutation of 0..<count (Fisher–Yates).
    static func permutation(_ count: Int, using rng: inout SeededGenerator) -> [Int] {
        var p = Array(0..<count)
        for i in stride(from: count - 1, to: 0, by: -1) { p.swapAt(i, Int(rng.next() % UInt64(i + 1))) }
        return p
    }

    /// Beta(a, b) from two gamma draws (Marsaglia–Tsang).
    static func beta(_ a: Double, _ b: Double, using rng: inout SeededGenerator) -> Double {
        let x = gamma(a, using: &rng), y = gamma(b, using: &rng)
        return x + y > 0 ? x / (x + y) : 0.5
    }

    static func gamma(_ shape: Double, using rng: inout SeededGenerator) -> Double {
        if shape < 1 {
            let u = max(rng.nextUnit(), .leastNonzeroMagnitude)
            return gamma(shape + 1, using: &rng) * pow(u, 1 / shape)
        }
        let d = shape - 1.0 / 3, c = 1 / (9 * d).squareRoot()
        while true {
            var x: Double, v: Double
            repeat {
                x = rng.nextGaussian()
                v = 1 + c * x
            } while v <= 0
            v = v * v * v
            let u = rng.nextUnit()
            if u < 1 - 0.0331 * x * x * x * x || log(max(u, .leastNonzeroMagnitude)) < 0.5 * x * x + d * (1 - v + log(v)) {
                return d * v
            }
        }
    }
}

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif
