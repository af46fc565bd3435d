/// A max or average pooling window: square kernel, stride, symmetric padding (PyTorch's `MaxPool2d`
/// and `AvgPool2d`; average pooling counts padded positions, as PyTorch's default does).
public struct PoolingWindow: Hashable, Sendable, Codable {
    /// Kernel size (square).
    public var kernel: Int
    /// Stride in both directions.
    public var stride: Int
    /// Padding on every side (at most half the kernel, as PyTorch requires).
    public var padding: Int

    /// A window; stride defaults to the kernel, as in PyTorch.
    public init(kernel: Int, stride: Int? = nil, padding: Int = 0) {
        self.kernel = kernel
        self.stride = stride ?? kernel
        self.padding = padding
    }

    /// Checks the window against the input and returns the output shape (channels unchanged).
    public func outputShape(for input: FeatureShape) throws(ShapeError) -> FeatureShape {
        guard kernel > 0, stride > 0, padding >= 0, kernel <= Limits.kernel, stride <= Limits.kernel else {
            throw ShapeError("pooling kernel \(kernel) and stride \(stride) must be in 1...\(Limits.kernel), padding \(padding) non-negative")
        }
        guard 2 * padding <= kernel else { throw ShapeError("pooling padding \(padding) exceeds half the kernel \(kernel)") }
        let h = (input.height + 2 * padding - kernel) / stride + 1, w = (input.width + 2 * padding - kernel) / stride + 1
        guard input.height + 2 * padding >= kernel, input.width + 2 * padding >= kernel, h > 0, w > 0 else {
            throw ShapeError("input \(input.height)x\(input.width) is too small for a \(kernel)x\(kernel) pooling window: the resolution collapses to zero")
        }
        return FeatureShape(channels: input.channels, height: h, width: w)
    }
}
