import Foundation
import NetworkIR

/// One unary function's arithmetic: everything the inference step, the training operation, epilogue
/// fusion and the int8 rules need from it, so a function is added as one row of `UnaryFunction.row`.
struct UnaryRow: Sendable {
    /// Which value a backward pass reads: the function's input x or its output y.
    enum Saved: Sendable { case input, output }

    /// f on 16 lanes (a vector tail computes its first lanes the same way: one formula per function).
    let forward: @Sendable (SIMD16<Float>) -> SIMD16<Float>
    /// The value `gradient` takes besides dy.
    let saved: Saved
    /// dy · f′, from dy and the saved value.
    let gradient: @Sendable (_ dy: SIMD16<Float>, _ saved: SIMD16<Float>) -> SIMD16<Float>
    /// The micro-kernels' epilogue computing f after a convolution or linear layer (`RN_ACT_*`), if any.
    let epilogue: Activation?
    /// Whether f(x) ≥ 0 for every x: a convolution reading it can take uint8 inputs with zero point 0.
    let neverNegative: Bool
}

extension UnaryFunction {
    /// The row of the table: PyTorch's forward and backward of each function (NaN kept as PyTorch keeps it).
    var row: UnaryRow {
        typealias V = SIMD16<Float>
        switch self {
        case .relu:
            return UnaryRow(forward: { $0.replacing(with: 0, where: $0 .< 0) }, saved: .output,
                            gradient: { dy, y in dy.replacing(with: 0, where: y .<= 0) }, epilogue: .relu, neverNegative: true)
        case .sigmoid:
            return UnaryRow(forward: logistic, saved: .output, gradient: { dy, y in dy * y * (1 - y) }, epilogue: .sigmoid,
                            neverNegative: true)
        case .silu:
            return UnaryRow(forward: { $0 * logistic($0) }, saved: .input,
                            gradient: { dy, x in let s = logistic(x); return dy * s * (1 + x * (1 - s)) }, epilogue: nil,
                            neverNegative: false)
        case .clamp(let lower, let upper):
            return UnaryRow(forward: { $0.replacing(with: lower, where: $0 .< lower).replacing(with: upper, where: $0 .> upper) },
                            saved: .input, gradient: { dy, x in dy.replacing(with: 0, where: x .<= lower .| x .>= upper) },
                            epilogue: nil, neverNegative: lower >= 0)
        case .hardSwish:
            return UnaryRow(forward: { x in x * relu6(x + 3) / 6 }, saved: .input,
                            gradient: { dy, x in (dy * (x / 3 + 0.5)).replacing(with: 0, where: x .< -3).replacing(with: dy, where: x .> 3) },
                            epilogue: nil, neverNegative: false)
        case .hardSigmoid:
            return UnaryRow(forward: { x in relu6(x + 3) / 6 }, saved: .input,
                            gradient: { dy, x in (dy * V(repeating: 1 / 6)).replacing(with: 0, where: x .<= -3 .| x .>= 3) },
                            epilogue: nil, neverNegative: true)
        }
    }
}

/// 1 / (1 + e^-x), lane by lane.
private func logistic(_ x: SIMD16<Float>) -> SIMD16<Float> {
    var y = SIMD16<Float>()
    for i in 0..<16 { y[i] = 1 / (1 + exp(-x[i])) }
    return y
}

/// min(max(x, 0), 6), NaN kept.
private func relu6(_ x: SIMD16<Float>) -> SIMD16<Float> {
    x.replacing(with: 0, where: x .< 0).replacing(with: 6, where: x .> 6)
}
