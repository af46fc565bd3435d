/// The empirical distribution function of errors: F(e) = (1/n) · #{i : e_i ≤ e}, as pycls plots it.
public struct EDF: Hashable, Sendable, Codable {
    /// Label (the design space).
    public var label: String
    /// Errors, ascending.
    public var errors: [Double]

    /// The EDF of `errors`.
    public init(label: String, errors: [Double]) {
        self.label = label
        self.errors = errors.sorted()
    }

    /// Number of runs.
    public var count: Int { errors.count }
    /// Smallest error.
    public var minimum: Double { errors.first ?? .nan }
    /// Mean error.
    public var mean: Double { errors.isEmpty ? .nan : errors.reduce(0, +) / Double(errors.count) }

    /// F(e): the fraction of runs with error at most `e`.
    public func callAsFunction(_ e: Double) -> Double {
        var lo = 0, hi = errors.count
        while lo < hi {
            let mid = (lo + hi) / 2
            if errors[mid] <= e { lo = mid + 1 } else { hi = mid }
        }
        return errors.isEmpty ? 0 : Double(lo) / Double(errors.count)
    }

    /// The Kolmogorov–Smirnov distance sup_e |F(e) - G(e)|, attained at one of the sample points.
    public func ksDistance(to other: EDF) -> Double {
        (errors + other.errors).reduce(0) { max($0, abs(self($1) - other($1))) }
    }
}
