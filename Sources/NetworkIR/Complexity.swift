/// Model complexity counted exactly as the pycls reference does.
///
/// `flops` are multiply-adds including bias adds, `params` are trainable parameters (batch norm counts
/// γ and β), `acts` are the output elements of every convolution and linear layer.
public struct Complexity: Hashable, Sendable, Codable, CustomStringConvertible {
    /// Multiply-adds, bias adds included (pycls "flops").
    public var flops: Int
    /// Trainable parameters.
    public var params: Int
    /// Activations: output elements of convolutions and linear layers.
    public var acts: Int

    /// A complexity record.
    public init(flops: Int = 0, params: Int = 0, acts: Int = 0) {
        self.flops = flops
        self.params = params
        self.acts = acts
    }

    /// Component-wise sum.
    public static func + (lhs: Complexity, rhs: Complexity) -> Complexity {
        Complexity(flops: saturatingSum(lhs.flops, rhs.flops), params: saturatingSum(lhs.params, rhs.params),
                   acts: saturatingSum(lhs.acts, rhs.acts))
    }

    /// Component-wise accumulation.
    public static func += (lhs: inout Complexity, rhs: Complexity) { lhs = lhs + rhs }

    /// A readable form for messages and logs.
    public var description: String {
        "flops \(formatCount(flops)), params \(formatCount(params)), acts \(formatCount(acts))"
    }
}

/// `1234567` → `1.23M`; used by summaries.
package func formatCount(_ value: Int) -> String {
    let v = Double(value)
    func f(_ x: Double, _ unit: String) -> String {
        let rounded = (x * 100).rounded() / 100
        return "\(rounded)\(unit)"
    }
    switch abs(v) {
    case 1e9...: return f(v / 1e9, "G")
    case 1e6...: return f(v / 1e6, "M")
    case 1e3...: return f(v / 1e3, "K")
    default: return "\(value)"
    }
}
