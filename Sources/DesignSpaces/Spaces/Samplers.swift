import Foundation

/// The pycls sweep samplers (`pycls/sweep/random.py`), restated: draws quantised to a step `q`.
public enum Samplers {
    /// Uniform in [lo, hi], quantised down to multiples of q.
    public static func uniform(_ lo: Double, _ hi: Double, q: Double, using g: inout SeededGenerator) -> Double {
        let f = lo + (hi + q - lo) * g.nextUnit()
        return quantize((f / q).rounded(.down) * q, q)
    }

    /// Log-uniform in [lo, hi], quantised up to multiples of q.
    public static func logUniform(_ lo: Double, _ hi: Double, q: Double, using g: inout SeededGenerator) -> Double {
        let a = log(lo - min(q, lo / 2)), b = log(hi)
        let f = exp(a + (b - a) * g.nextUnit())
        return quantize(min(hi, max(lo, (f / q).rounded(.up) * q)), q)
    }

    /// A power of two 2^k with k uniform over the exponents of [lo, hi].
    public static func power2Uniform(_ lo: Double, _ hi: Double, using g: inout SeededGenerator) -> Double {
        let a = log2(lo), b = log2(hi) + 1
        return pow(2, (a + (b - a) * g.nextUnit()).rounded(.down))
    }

    /// A power of two in [lo, hi]; draws of q or more are redrawn log-uniformly in [max(lo, q), hi] on a q grid.
    public static func power2OrLogUniform(_ lo: Double, _ hi: Double, q: Double, using g: inout SeededGenerator) -> Double {
        let x = power2Uniform(lo, hi, using: &g)
        return x >= q ? logUniform(max(lo, q), hi, q: min(hi, q), using: &g) : x
    }

    /// One of `values`, uniformly.
    public static func choice<T>(_ values: [T], using g: inout SeededGenerator) -> T {
        values[min(values.count - 1, Int(g.nextUnit() * Double(values.count)))]
    }

    /// Removes float noise from a multiple of q (36.400000000000006 → 36.4).
    static func quantize(_ x: Double, _ q: Double) -> Double {
        let decimals = max(0, Int((-log10(q)).rounded(.up)))
        let scale = pow(10, Double(decimals))
        return (x * scale).rounded() / scale
    }
}
