import Foundation

extension PlanCompiler {
    /// Activation bytes (whole batch) above which a step runs image by image (`REGNET_IMAGE_TILE_MB`
    /// overrides it, for tuning), and the weight bytes below which its weights stay cached across images.
    static let defaultPerImageActivationBytes = (ProcessInfo.processInfo.environment["REGNET_IMAGE_TILE_MB"].flatMap { Double($0) } ?? 6) * 1_048_576
    static let perImageWeightBytes = 1_048_576

    /// Groups steps into segments: a step whose activations are large and weights small runs image by
    /// image; small steps (SE, pooling) between two such steps join them, so the segment is not broken.
    func planSegments() -> [StepSegment] {
        guard batch > 1 else { return [StepSegment(steps: 0..<steps.count, perImage: false)] }
        enum Kind { case heavy, neutral, batch }
        let kinds: [Kind] = steps.map { step in
            let (values, weightBytes) = footprint(step)
            let activationBytes = values.reduce(0) { $0 + layouts[$1].imageStride * batch * 4 }
            if weightBytes > Self.perImageWeightBytes { return .batch }
            return Double(activationBytes) > perImageActivationBytes ? .heavy : .neutral
        }
        var perImage = kinds.map { $0 == .heavy }
        var i = 0
        while i < steps.count {
            guard kinds[i] == .neutral else { i += 1; continue }
            var j = i
            while j < steps.count, kinds[j] == .neutral { j += 1 }
            if i > 0, j < steps.count, perImage[i - 1], perImage[j] {
                for k in i..<j { perImage[k] = true }
            }
            i = j
        }
        var segments: [StepSegment] = []
        for (index, flag) in perImage.enumerated() {
            if let last = segments.last, last.perImage == flag {
                segments[segments.count - 1].steps = last.steps.lowerBound..<(index + 1)
            } else {
                segments.append(StepSegment(steps: index..<(index + 1), perImage: flag))
            }
        }
        return segments
    }

    /// Values a step touches and the bytes of weights it reads.
    func footprint(_ step: Step) -> (values: [Int], weightBytes: Int) {
        switch step {
        case .gemm(let s):
            return ([s.input, s.output] + (s.residual.map { [$0] } ?? []) + (s.inputScale.map { [$0] } ?? []), s.k * s.n * 4)
        case .convolution(let s):
            return ([s.input, s.output], s.groups * s.blocksPerGroup * s.kernel * s.kernel * s.inPerGroup * 64)
        case .globalAveragePool(let input, let output):
            return ([input, output], 0)
        case .elementwise(let s):
            switch s.kind {
            case .add(let other), .channelScale(let other): return ([s.input, s.output, other], 0)
            default: return ([s.input, s.output], 0)
            }
        }
    }
}
