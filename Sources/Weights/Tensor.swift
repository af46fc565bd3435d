/// A dense float32 tensor in row-major (C) order with a PyTorch-style shape.
public struct Tensor: Hashable, Sendable {
    /// Dimensions, outermost first.
    public var shape: [Int]
    /// Elements in row-major order; `count == shape.product`.
    public var scalars: [Float]

    /// A tensor; the element count must match the shape.
    public init(shape: [Int], scalars: [Float]) {
        precondition(shape.reduce(1, *) == scalars.count, "shape \(shape) does not hold \(scalars.count) elements")
        self.shape = shape
        self.scalars = scalars
    }

    /// A tensor of `value` repeated.
    public init(shape: [Int], repeating value: Float) {
        self.init(shape: shape, scalars: Array(repeating: value, count: shape.reduce(1, *)))
    }

    /// Number of elements.
    public var count: Int { scalars.count }
}
