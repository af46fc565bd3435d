import DesignSpaces
import Foundation
import NetworkIR

extension SweepDescription {
    /// The sweep's models, as pycls's `sweep_setup` makes them: per space, `count` distinct
    /// configurations drawn with the sweep's seed (plus the space's position) inside the complexity
    /// window, with the model settings applied before the window is checked; then, model by model in
    /// order, each recipe sampler drawn log-uniformly with its quantum.
    public func jobs(progress: (String, Int, Int) -> Void = { _, _, _ in }) throws(SweepError) -> [SweepJob] {
        let c = constraints
        func range(_ bounds: [Int?]?, _ name: String) throws(SweepError) -> ClosedRange<Int>? {
            guard let bounds else { return nil }
            guard bounds.count == 2 else { throw SweepError(.invalidDescription, "constraints: \(name) takes [low, high] (null for an open end)") }
            let lo = bounds[0] ?? 0, hi = bounds[1] ?? Int.max
            guard lo <= hi else { throw SweepError(.invalidDescription, "constraints: \(name) low \(lo) is above high \(hi)") }
            return lo...hi
        }
        let window = ComplexityWindow(flops: try range(c?.flops, "flops"), params: try range(c?.params, "params"),
                                      acts: try range(c?.acts, "acts"), resolution: c?.resolution ?? 224)
        let settings = ModelSettings(classes: model?.classes, stemWidth: model?.stem_width, stemStride: model?.stem_stride,
                                     seRatio: model?.se_ratio)
        var jobs: [SweepJob] = []
        for (position, request) in samples.enumerated() {
            var space: any DesignSpace
            do { space = try DesignSpaceCatalog.named(request.space) } catch { throw SweepError(.invalidDescription, error.description) }
            if let ranges = request.ranges, !ranges.isEmpty {
                do {
                    if let regNet = space as? RegNetSpace { space = try regNet.applying(ranges: ranges) }
                    else if let anyNet = space as? AnyNetXSpace { space = try anyNet.applying(ranges: ranges) }
                } catch { throw SweepError(.invalidDescription, "samples: \(request.space): \(error.description)") }
            }
            let drawn: [DesignSample]
            do {
                drawn = try space.sample(count: request.count, seed: seed &+ UInt64(position), window: window, settings: settings,
                                         unique: true) { accepted, draws in progress(space.name, accepted, draws) }
            } catch {
                throw SweepError(.invalidDescription, "\(error)")
            }
            for sample in drawn {
                jobs.append(SweepJob(index: jobs.count, name: sample.name, space: sample.space, configuration: sample.configuration,
                                     complexity: sample.complexity, sampled: [:], train: train))
            }
        }
        for i in jobs.indices { jobs[i].of = jobs.count }
        var generator = SeededGenerator(seed: seed ^ 0x5EED_0F_5EED)
        for i in jobs.indices {
            for key in (samplers ?? [:]).keys.sorted() {
                let s = samplers![key]!
                let value = Samplers.logUniform(s.low, s.high, q: s.quantum, using: &generator)
                jobs[i].sampled[key] = value
                jobs[i].train[key] = .number(value)
            }
        }
        return jobs
    }
}
