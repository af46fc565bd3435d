/// Something that appends operations to a graph: the unit block bodies are made of.
///
/// The built-in primitives (`Conv`, `BatchNorm`, `Residual`, …) conform to this protocol exactly as a
/// user's own layer would: they append IR operations through `GraphBuilder`.
public protocol Layer: Sendable {
    /// Appends this layer's operations after `graph.current`, leaving its output current.
    func lower(into graph: inout GraphBuilder) throws(LoweringError)
}

/// Layers applied one after another; what a `@LayerBuilder` closure produces.
public struct Sequential: Layer {
    /// The layers, in order.
    public var layers: [any Layer]

    /// A sequence of `layers`.
    public init(_ layers: [any Layer]) { self.layers = layers }

    /// A sequence written with the layer builder.
    public init(@LayerBuilder _ content: () -> Sequential) { self = content() }

    /// Appends this layer's operations after `graph.current` (see `Layer`).
    public func lower(into graph: inout GraphBuilder) throws(LoweringError) {
        for layer in layers { try layer.lower(into: &graph) }
    }
}

/// Collects layers inside block bodies and `Residual { … }`; rejects stages and other values at compile time.
@resultBuilder
public enum LayerBuilder {
    /// Any layer, built-in or user-defined.
    public static func buildExpression(_ layer: any Layer) -> [any Layer] { [layer] }

    /// A stage in a block body is a structural mistake.
    @available(*, unavailable, message: "A Stage cannot be nested inside a block body; use Conv, BatchNorm, ReLU, Residual, SqueezeExcite or another layer")
    public static func buildExpression(_ stage: Stage) -> [any Layer] { [] }

    /// Anything else is not a layer.
    @available(*, unavailable, message: "Only layers (types conforming to Layer) may appear in a block body")
    public static func buildExpression<T>(_ other: T) -> [any Layer] { [] }

    /// Statements in order.
    public static func buildBlock(_ parts: [any Layer]...) -> [any Layer] { parts.flatMap { $0 } }
    /// `for … in` loops.
    public static func buildArray(_ parts: [[any Layer]]) -> [any Layer] { parts.flatMap { $0 } }
    /// `if` without `else`.
    public static func buildOptional(_ part: [any Layer]?) -> [any Layer] { part ?? [] }
    /// `if`/`else` and `switch`, first branch.
    public static func buildEither(first: [any Layer]) -> [any Layer] { first }
    /// `if`/`else` and `switch`, second branch.
    public static func buildEither(second: [any Layer]) -> [any Layer] { second }
    /// `if #available`.
    public static func buildLimitedAvailability(_ part: [any Layer]) -> [any Layer] { part }
    /// The concrete sequence the closure returns.
    public static func buildFinalResult(_ parts: [any Layer]) -> Sequential { Sequential(parts) }
}
