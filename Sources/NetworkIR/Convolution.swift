/// A 2-D convolution's hyper-parameters. Square kernels, symmetric padding, no dilation.
public struct Convolution: Hashable, Sendable, Codable {
    /// Input channels.
    public var inChannels: Int
    /// Output channels.
    public var outChannels: Int
    /// Kernel size (square).
    public var kernel: Int
    /// Stride in both directions.
    public var stride: Int
    /// Zero padding on every side.
    public var padding: Int
    /// Number of groups; 1 is dense, `inChannels` is depthwise.
    public var groups: Int
    /// Whether the convolution adds a bias.
    public var bias: Bool

    /// A convolution; padding defaults to `(kernel - 1) / 2` as in pycls.
    public init(inChannels: Int, outChannels: Int, kernel: Int, stride: Int = 1, padding: Int? = nil,
                groups: Int = 1, bias: Bool = false) {
        self.inChannels = inChannels
        self.outChannels = outChannels
        self.kernel = kernel
        self.stride = stride
        self.padding = padding ?? (kernel - 1) / 2
        self.groups = groups
        self.bias = bias
    }

    /// Input channels seen by one output channel.
    public var inChannelsPerGroup: Int { inChannels / groups }
    /// Output channels produced by one group.
    public var outChannelsPerGroup: Int { outChannels / groups }
    /// Shape of the weight tensor in PyTorch order (out, in / groups, k, k).
    public var weightShape: [Int] { [outChannels, inChannels / groups, kernel, kernel] }

    /// Checks the hyper-parameters against the input and returns the output shape.
    public func outputShape(for input: FeatureShape) throws(ShapeError) -> FeatureShape {
        guard kernel > 0, stride > 0, padding >= 0 else {
            throw ShapeError("kernel \(kernel), stride \(stride) and padding \(padding) must be positive (padding may be 0)")
        }
        guard inChannels > 0, outChannels > 0, groups > 0 else {
            throw ShapeError("channels (\(inChannels) -> \(outChannels)) and groups (\(groups)) must be positive")
        }
        guard inChannels <= Limits.channels, outChannels <= Limits.channels else {
            throw ShapeError("channels (\(inChannels) -> \(outChannels)) exceed the limit of \(Limits.channels)")
        }
        guard kernel <= Limits.kernel, stride <= Limits.kernel, padding <= Limits.kernel else {
            throw ShapeError("kernel \(kernel), stride \(stride) and padding \(padding) must be at most \(Limits.kernel)")
        }
        guard input.channels == inChannels else {
            throw ShapeError("expects \(inChannels) input channels but receives \(input.channels)")
        }
        guard inChannels % groups == 0 else {
            throw ShapeError("input channels \(inChannels) are not divisible by \(groups) groups")
        }
        guard outChannels % groups == 0 else {
            throw ShapeError("output channels \(outChannels) are not divisible by \(groups) groups")
        }
        let h = (input.height + 2 * padding - kernel) / stride + 1
        let w = (input.width + 2 * padding - kernel) / stride + 1
        guard input.height + 2 * padding >= kernel, input.width + 2 * padding >= kernel, h > 0, w > 0 else {
            throw ShapeError("input \(input.height)x\(input.width) is too small for a \(kernel)x\(kernel) kernel with stride \(stride): the resolution collapses to zero")
        }
        return FeatureShape(channels: outChannels, height: h, width: w)
    }

    /// pycls `conv2d_cx`: multiply-adds (plus bias adds), weights (plus bias), output elements.
    public func complexity(output: FeatureShape) -> Complexity {
        let hw = saturatingProduct(output.height, output.width)
        let weights = saturatingProduct(kernel, kernel, inChannels, outChannels) / groups
        return Complexity(flops: saturatingSum(saturatingProduct(weights, hw), bias ? saturatingProduct(outChannels, hw) : 0),
                          params: weights + (bias ? outChannels : 0),
                          acts: saturatingProduct(outChannels, hw))
    }
}

/// Why an operation cannot accept its inputs; the graph builder adds the path and location.
public struct ShapeError: Error, Hashable, Sendable {
    /// What is wrong.
    public var message: String
    /// A shape error with `message`.
    public init(_ message: String) { self.message = message }
}
