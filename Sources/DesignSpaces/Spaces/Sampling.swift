/// Bounds on flops, params and acts (any may be open), computed from the IR at a resolution.
public struct ComplexityWindow: Hashable, Sendable {
    /// Multiply-adds range.
    public var flops: ClosedRange<Int>?
    /// Parameter range.
    public var params: ClosedRange<Int>?
    /// Activation range.
    public var acts: ClosedRange<Int>?
    /// Input resolution the complexity is measured at.
    public var resolution: Int

    /// A window; nil bounds are open.
    public init(flops: ClosedRange<Int>? = nil, params: ClosedRange<Int>? = nil, acts: ClosedRange<Int>? = nil, resolution: Int = 224) {
        self.flops = flops
        self.params = params
        self.acts = acts
        self.resolution = resolution
    }

    /// Whether `complexity` lies inside.
    public func contains(_ c: Complexity) -> Bool {
        (flops?.contains(c.flops) ?? true) && (params?.contains(c.params) ?? true) && (acts?.contains(c.acts) ?? true)
    }
}

/// What a sampler leaves to its user: classifier outputs and stem width, and for RegNets the stem
/// stride and squeeze-excite ratio (pycls's CIFAR sweeps: stride-1 stem, SE on). nil keeps the
/// configuration's own.
public struct ModelSettings: Hashable, Sendable, Codable {
    /// Classifier outputs.
    public var classes: Int?
    /// Stem width.
    public var stemWidth: Int?
    /// Stem stride (RegNet configurations).
    public var stemStride: Int?
    /// Squeeze-excite ratio (RegNet configurations).
    public var seRatio: Double?

    /// Settings; nil fields leave the configuration as drawn.
    public init(classes: Int? = nil, stemWidth: Int? = nil, stemStride: Int? = nil, seRatio: Double? = nil) {
        self.classes = classes
        self.stemWidth = stemWidth
        self.stemStride = stemStride
        self.seRatio = seRatio
    }

    /// `configuration` with these settings.
    public func applied(to configuration: DesignConfiguration) -> DesignConfiguration {
        switch configuration {
        case .anyNet(var c):
            c.classes = classes ?? c.classes
            c.stemWidth = stemWidth ?? c.stemWidth
            return .anyNet(c)
        case .regNet(var c):
            c.classes = classes ?? c.classes
            c.stemWidth = stemWidth ?? c.stemWidth
            c.stemStride = stemStride ?? c.stemStride
            c.seRatio = seRatio ?? c.seRatio
            return .regNet(c)
        }
    }
}

/// A sampled network with its complexity.
public struct DesignSample: Hashable, Sendable, Codable {
    /// The space it came from.
    public var space: String
    /// `AnyNetXA-0007`-style name.
    public var name: String
    /// Its parameters.
    public var configuration: DesignConfiguration
    /// Complexity at the window's resolution.
    public var complexity: Complexity
}

extension DesignSpace {
    /// `count` configurations drawn with `seed`, redrawing until each lies in `window`.
    ///
    /// `settings` adjusts each draw before its complexity is measured (a sweep's classes and stem);
    /// with `unique`, a draw equal to one already kept is drawn again, as pycls's sweep setup
    /// removes duplicates. `progress(accepted, drawn)` is called after every draw. Throws when `maxDraws` draws do not
    /// fill the request, or when the first `probeDraws` draws land none in the window (a window the
    /// space cannot reach), saying the complexity range the draws did reach.
    public func sample(count: Int, seed: UInt64, window: ComplexityWindow = ComplexityWindow(), settings: ModelSettings = ModelSettings(),
                       unique: Bool = false, maxDraws: Int = 1_000_000,
                       probeDraws: Int = 5_000, progress: (Int, Int) -> Void = { _, _ in }) throws -> [DesignSample] {
        var generator = SeededGenerator(seed: seed)
        var samples: [DesignSample] = [], kept = Set<DesignConfiguration>()
        var drawn = 0
        var reached: (flops: ClosedRange<Int>, params: ClosedRange<Int>, acts: ClosedRange<Int>)?
        func failure(_ why: String) -> RegNetError {
            let range = reached.map { r in
                "; the draws reached flops \(formatCount(r.flops.lowerBound))...\(formatCount(r.flops.upperBound)), "
                    + "params \(formatCount(r.params.lowerBound))...\(formatCount(r.params.upperBound)), "
                    + "acts \(formatCount(r.acts.lowerBound))...\(formatCount(r.acts.upperBound))"
            } ?? ""
            return RegNetError(.invalidParameters, "\(name): \(why) after \(drawn) draws\(range)")
        }
        while samples.count < count {
            guard drawn < maxDraws else { throw failure("only \(samples.count) of \(count) samples fit the complexity window") }
            guard samples.count > 0 || drawn < probeDraws else { throw failure("no draw fits the complexity window") }
            drawn += 1
            let configuration = settings.applied(to: sample(using: &generator))
            if unique, kept.contains(configuration) { progress(samples.count, drawn); continue }
            let name = "\(self.name)-\(String(format4(samples.count + 1)))"
            let graph = try configuration.network(name: name).lower(resolution: window.resolution)
            let complexity = graph.complexity
            if let r = reached {
                reached = (min(r.flops.lowerBound, complexity.flops)...max(r.flops.upperBound, complexity.flops),
                           min(r.params.lowerBound, complexity.params)...max(r.params.upperBound, complexity.params),
                           min(r.acts.lowerBound, complexity.acts)...max(r.acts.upperBound, complexity.acts))
            } else {
                reached = (complexity.flops...complexity.flops, complexity.params...complexity.params, complexity.acts...complexity.acts)
            }
            if window.contains(complexity) {
                samples.append(DesignSample(space: self.name, name: name, configuration: configuration, complexity: complexity))
                kept.insert(configuration)
            }
            progress(samples.count, drawn)
        }
        return samples
    }
}

private func format4(_ n: Int) -> String {
    let s = String(n)
    return String(repeating: "0", count: max(0, 4 - s.count)) + s
}
