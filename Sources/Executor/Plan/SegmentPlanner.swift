import Foundation

extension PlanCompiler {
    /// Bytes a group of images may touch in one step so that it stays in cache between steps
    /// (`REGNET_IMAGE_TILE_MB` overrides it, for tuning), and the weight bytes below which a step's
    /// weights stay cached across groups.
    static let defaultGroupBudgetBytes = (ProcessInfo.processInfo.environment["REGNET_IMAGE_TILE_MB"].flatMap { Double($0) } ?? 12) * 1_048_576
    static let groupWeightBytes = 1_048_576

    /// Groups steps into segments. A step with small weights whose whole-batch activations exceed the
    /// budget runs over groups of `budget / (bytes per image)` images (at least one); small steps (SE,
    /// pooling) between two grouped steps join them, so a segment is not broken. A segment's group
    /// size is the smallest its steps ask for.
    func planSegments() -> [StepSegment] {
        guard batch > 1 else { return [StepSegment(steps: 0..<steps.count, imagesPerGroup: 1)] }
        // Per step: the group size it wants (batch = no grouping), and whether it may join a neighbour's group.
        var wanted = [Int](repeating: batch, count: steps.count)
        var neutral = [Bool](repeating: false, count: steps.count)
        for (i, step) in steps.enumerated() {
            guard step.weightBytes <= Self.groupWeightBytes else { continue }
            let bytesPerImage = Double((step.reads + [step.output]).reduce(0) { $0 + layouts[$1].imageBytes })
            let group = max(1, Int(groupBudgetBytes / max(bytesPerImage, 1)))
            if group < batch { wanted[i] = group } else { neutral[i] = true }
        }
        var i = 0
        while i < steps.count {
            guard neutral[i] else { i += 1; continue }
            var j = i
            while j < steps.count, neutral[j] { j += 1 }
            if i > 0, j < steps.count, wanted[i - 1] < batch, wanted[j] < batch {
                for k in i..<j { wanted[k] = min(wanted[i - 1], wanted[j]) }
            }
            i = j
        }
        var segments: [StepSegment] = []
        for (index, group) in wanted.enumerated() {
            if let last = segments.last, (last.imagesPerGroup < batch) == (group < batch) {
                segments[segments.count - 1].steps = last.steps.lowerBound..<(index + 1)
                segments[segments.count - 1].imagesPerGroup = min(last.imagesPerGroup, group)
            } else {
                segments.append(StepSegment(steps: index..<(index + 1), imagesPerGroup: group))
            }
        }
        return segments
    }
}

/// Consecutive steps run together over groups of images: the whole batch at once, or groups small
/// enough that a group's activations stay in cache from one step to the next (weights small enough to
/// stay too). Group starts are multiples of `imagesPerGroup`.
struct StepSegment: Sendable {
    var steps: Range<Int>
    var imagesPerGroup: Int
}
