/// An element-wise function of one value: the activations, each with PyTorch's definition. The
/// executor's arithmetic for each (forward, derivative, epilogue) is one row of its table
/// (`Executor/Operations/Unary/UnaryTable.swift`).
public enum UnaryFunction: Hashable, Sendable, Codable {
    /// max(x, 0).
    case relu
    /// 1 / (1 + e^-x).
    case sigmoid
    /// x · sigmoid(x) (SiLU, swish).
    case silu
    /// min(max(x, lower), upper): ReLU6 is clamp(0, 6).
    case clamp(lower: Float, upper: Float)
    /// x · min(max(x + 3, 0), 6) / 6 (MobileNetV3's hard swish).
    case hardSwish
    /// min(max(x + 3, 0), 6) / 6 (MobileNetV3's hard sigmoid).
    case hardSigmoid

    /// Short name for summaries and errors.
    public var name: String {
        switch self {
        case .relu: "relu"
        case .sigmoid: "sigmoid"
        case .silu: "silu"
        case .clamp: "clamp"
        case .hardSwish: "hardswish"
        case .hardSigmoid: "hardsigmoid"
        }
    }

    /// Checks the function's own settings (a clamp's bounds).
    public func validate() throws(ShapeError) {
        if case .clamp(let lower, let upper) = self, !(lower.isFinite && upper.isFinite && lower < upper) {
            throw ShapeError("clamp bounds must be finite with lower < upper (got \(lower), \(upper))")
        }
    }
}
