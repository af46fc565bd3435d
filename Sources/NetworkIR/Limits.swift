/// Bounds on declared values, far above any real network, so that absurd inputs (a width of 10^28,
/// a resolution of 2^40) are reported as errors instead of overflowing integer arithmetic.
public enum Limits {
    /// Largest channel count of any layer.
    public static let channels = 1 << 20
    /// Largest input height or width.
    public static let resolution = 1 << 16
    /// Largest kernel size, stride or padding.
    public static let kernel = 255
    /// Most blocks in a stage, or in a RegNet.
    public static let depth = 4096

    /// `value` as an Int when it is finite and within ±`limit`; nil otherwise.
    public static func integer(_ value: Double, limit: Int = channels) -> Int? {
        value.isFinite && abs(value) <= Double(limit) ? Int(value) : nil
    }
}

/// a · b · …, saturating at Int.max instead of trapping (complexity of absurd declarations).
package func saturatingProduct(_ factors: Int...) -> Int {
    factors.reduce(1) { product, factor in
        let (result, overflow) = product.multipliedReportingOverflow(by: factor)
        return overflow ? Int.max : result
    }
}

/// a + b, saturating at Int.max.
package func saturatingSum(_ a: Int, _ b: Int) -> Int {
    let (result, overflow) = a.addingReportingOverflow(b)
    return overflow ? Int.max : result
}
