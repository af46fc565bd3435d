/// One unit of work of an execution plan, after fusion. Values are indices into the plan's layouts;
/// weights are offsets into the plan's packed-weight buffer.
enum Step: Sendable {
    /// 1x1 convolution (or linear layer) as a GEMM with a fused epilogue: act(x·W + bias + residual).
    case gemm(GemmStep)
    /// Direct (grouped) convolution with a fused bias and activation.
    case convolution(ConvolutionStep)
    /// Channel means: C×H×W → C×1×1.
    case globalAveragePool(input: Int, output: Int)
    /// Element-wise work.
    case elementwise(ElementwiseStep)
}

extension Step {
    /// Values the step reads (the planners' single source for liveness and working-set sizes).
    var reads: [Int] {
        switch self {
        case .gemm(let s): [s.input] + (s.residual.map { [$0] } ?? []) + (s.inputScale.map { [$0] } ?? [])
        case .convolution(let s): [s.input]
        case .globalAveragePool(let input, _): [input]
        case .elementwise(let s):
            switch s.kind {
            case .add(let other), .channelScale(let other): [s.input, other]
            default: [s.input]
            }
        }
    }

    /// The value the step writes.
    var output: Int {
        switch self {
        case .gemm(let s): s.output
        case .convolution(let s): s.output
        case .globalAveragePool(_, let output): output
        case .elementwise(let s): s.output
        }
    }

    /// Bytes of packed weights the step reads.
    var weightBytes: Int {
        switch self {
        case .gemm(let s): s.k * s.n * 4
        case .convolution(let s): s.groups * s.blocksPerGroup * s.kernel * s.kernel * s.inPerGroup * 64
        case .globalAveragePool, .elementwise: 0
        }
    }
}

/// Activation applied in an epilogue (values match the C kernels' constants).
enum Activation: Int32, Sendable {
    case none = 0, relu = 1, sigmoid = 2
}

struct GemmStep: Sendable {
    var input: Int
    var output: Int
    var residual: Int?
    /// A per-image, per-input-channel gate (C×1×1 value) multiplied into A as tiles are packed:
    /// the squeeze-excite scale, folded into the convolution that follows it.
    var inputScale: Int?
    var stride: Int
    /// Reduction depth (input channels).
    var k: Int
    /// Output channels.
    var n: Int
    /// Offset of the packed panels [n / nr][k][nr] and of the padded bias.
    var weights: Int
    var bias: Int
    var activation: Activation
    var name: String
}

struct ConvolutionStep: Sendable {
    var input: Int
    var output: Int
    var kernel: Int
    var stride: Int
    var padding: Int
    var groups: Int
    var inPerGroup: Int
    var outPerGroup: Int
    /// 16-channel output blocks per group.
    var blocksPerGroup: Int
    /// Offset of the packed weights [group][block][kh][kw][ci][16] and of the padded bias [group][block][16].
    var weights: Int
    var bias: Int
    var activation: Activation
    var name: String
}

struct ElementwiseStep: Sendable {
    enum Kind: Sendable {
        case add(Int)                       // + another value of the same shape
        case relu
        case sigmoid
        case affine(scale: Int, shift: Int) // per-channel x * scale + shift (a batch norm that could not be folded)
        case channelScale(Int)              // × a per-image, per-channel value (C×1×1)
    }
    var input: Int
    var output: Int
    var kind: Kind
}

/// Consecutive steps run together over groups of images: the whole batch at once, or groups small
/// enough that a group's activations stay in cache from one step to the next (weights small enough to
/// stay too). Group starts are multiples of `imagesPerGroup`.
struct StepSegment: Sendable {
    var steps: Range<Int>
    var imagesPerGroup: Int
}

/// Below this much work (bytes touched plus 4 × multiply-adds, per image) a step runs on the calling
/// thread alone: waking the other workers would cost more than it saves.
let serialWorkLimit = 96 * 1024
