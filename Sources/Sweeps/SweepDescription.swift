import DesignSpaces
import Foundation

/// A sweep, as one JSON file: what pycls's sweep config holds. Which design spaces to sample and how
/// many models from each (with sampler ranges), the complexity window, the model's classes and stem,
/// the base training recipe as `regnet train` options, samplers for recipe fields, and a seed.
///
/// ```json
/// {"name": "digits", "seed": 0,
///  "samples": [{"space": "AnyNetXA", "count": 8}, {"space": "RegNetX", "count": 8, "ranges": {"depth": [6, 12]}}],
///  "constraints": {"flops": [null, 50000000], "resolution": 32},
///  "model": {"classes": 10, "stem_width": 16},
///  "train": {"data": "digits", "epochs": 1, "batch": 64, "lr": 0.1},
///  "samplers": {"lr": {"low": 0.05, "high": 0.5, "quantum": 0.01}}}
/// ```
public struct SweepDescription: Codable, Sendable, Hashable {
    /// Sweep name (pycls's `NAME`).
    public var name: String
    /// Seed of every draw (models and recipe fields).
    public var seed: UInt64
    /// Models to draw, space by space.
    public var samples: [SpaceSample]
    /// Complexity window every drawn model must fall in (pycls's `SETUP.CONSTRAINTS`).
    public var constraints: Constraints?
    /// Classes and stem of every model.
    public var model: Model?
    /// The base recipe: `regnet train` options without their dashes (`"lr": 0.1`, `"no-precise-bn": true`).
    public var train: [String: OptionValue]
    /// Recipe fields drawn per model, log-uniform with a quantum (pycls's `float_sampler`).
    public var samplers: [String: FloatSampler]?

    /// Draws from one design space.
    public struct SpaceSample: Codable, Sendable, Hashable {
        /// A space `regnet sample` knows (`AnyNetXA`…`AnyNetXE`, `RegNet`, `RegNetX`).
        public var space: String
        /// Models to draw from it.
        public var count: Int
        /// Sampler ranges. RegNet spaces: pycls's `regnet_sampler` keys `depth`, `w0`, `wa`, `wm`,
        /// `group_width`, `stage_count` as [low, high], `bottleneck_ratios` as a list. AnyNetX spaces:
        /// `depth` and `width` per stage as [low, high], `stage_count` as [n, n], `bottleneck_ratios`
        /// and `group_widths` as lists.
        public var ranges: [String: [Double]]?
    }

    /// Windows on flops, params and acts ([low, high], either may be null) at a resolution.
    public struct Constraints: Codable, Sendable, Hashable {
        public var flops: [Int?]?
        public var params: [Int?]?
        public var acts: [Int?]?
        /// Resolution the complexity is measured at (default 224).
        public var resolution: Int?
    }

    /// Classifier outputs and stem width of every model (defaults 1000 and 32, as pycls's); for RegNet
    /// spaces also the stem stride (default 2; pycls's CIFAR stem is 1) and squeeze-excite ratio
    /// (default 0; pycls's `SE_ON` is 0.25).
    public struct Model: Codable, Sendable, Hashable {
        public var classes: Int?
        public var stem_width: Int?
        public var stem_stride: Int?
        public var se_ratio: Double?
    }

    /// pycls's `float_sampler`: log-uniform in [low, high] rounded up to multiples of `quantum`.
    public struct FloatSampler: Codable, Sendable, Hashable {
        public var low: Double
        public var high: Double
        public var quantum: Double
    }

    /// A `regnet train` option's value: a number, a string, or a flag (true: given; false: left out).
    public enum OptionValue: Codable, Sendable, Hashable {
        case number(Double), text(String), flag(Bool)

        public init(from decoder: any Decoder) throws {
            let c = try decoder.singleValueContainer()
            if let b = try? c.decode(Bool.self) { self = .flag(b) }
            else if let d = try? c.decode(Double.self) { self = .number(d) }
            else { self = .text(try c.decode(String.self)) }
        }

        public func encode(to encoder: any Encoder) throws {
            var c = encoder.singleValueContainer()
            switch self {
            case .number(let d): try c.encode(d)
            case .text(let s): try c.encode(s)
            case .flag(let b): try c.encode(b)
            }
        }

        /// The value as a command-line word (integers without a decimal point).
        var word: String? {
            switch self {
            case .number(let d): d == d.rounded() && abs(d) < 1e15 ? String(Int(d)) : String(d)
            case .text(let s): s
            case .flag: nil
            }
        }
    }

    /// Models a sweep may hold in all: each one is a training run (pycls's sweeps draw hundreds per space).
    public static let maximumModels = 10_000

    /// Options the sweep sets for every job itself.
    public static let reservedOptions: Set<String> = ["out", "resume", "threads", "save", "quiet", "weights", "keep"]

    /// Reads and checks the description at `url`.
    public static func read(contentsOf url: URL) throws(SweepError) -> SweepDescription {
        let data: Data
        do { data = try Data(contentsOf: url) } catch { throw SweepError(.invalidDescription, "cannot read \(url.path): \(error.localizedDescription)") }
        let object: Any
        do { object = try JSONSerialization.jsonObject(with: data) } catch {
            throw SweepError(.invalidDescription, "\(url.path) is not JSON: \(error.localizedDescription)")
        }
        // A seed out of UInt64's range fails inside the decoder with no field named: say which and why.
        if let value = (object as? [String: Any])?["seed"], let seed = jsonNumber(value), seed < 0 || seed != seed.rounded() || seed >= 0x1p64 {
            throw SweepError(.invalidDescription, "\(url.path): 'seed' must be a whole number from 0 to \(UInt64.max) (got \(value))")
        }
        let description: SweepDescription
        do { description = try JSONDecoder().decode(SweepDescription.self, from: data) } catch {
            throw SweepError(.invalidDescription, "\(url.path) is not a sweep description: \(Self.explain(error))")
        }
        try description.validate()
        return description
    }

    /// Checks every field that can be checked without training.
    public func validate() throws(SweepError) {
        guard !name.isEmpty, name.allSatisfy({ $0.isLetter || $0.isNumber || "_-.".contains($0) }) else {
            throw SweepError(.invalidDescription, "name must be letters, digits, '_', '-' or '.' (got '\(name)')")
        }
        guard !samples.isEmpty else { throw SweepError(.invalidDescription, "samples is empty: name at least one space and a count") }
        for s in samples {
            do { _ = try DesignSpaceCatalog.named(s.space) } catch { throw SweepError(.invalidDescription, "samples: \(error.description)") }
            guard (1...Self.maximumModels).contains(s.count) else {
                throw SweepError(.invalidDescription, "samples: count for \(s.space) must be 1...\(Self.maximumModels) (got \(s.count))")
            }
        }
        let total = samples.reduce(0) { $0 + $1.count }
        guard total <= Self.maximumModels else {
            throw SweepError(.invalidDescription, "samples: \(total) models in all; a sweep holds at most \(Self.maximumModels) (each is trained)")
        }
        if let reserved = train.keys.first(where: { Self.reservedOptions.contains($0) }) {
            throw SweepError(.invalidDescription, "train: '\(reserved)' is set by the sweep for each job; remove it")
        }
        if let dashed = train.keys.first(where: { $0.hasPrefix("-") }) {
            throw SweepError(.invalidDescription, "train: write options without dashes ('\(dashed.drop(while: { $0 == "-" }))', not '\(dashed)')")
        }
        guard case .text? = train["data"] else { throw SweepError(.invalidDescription, "train: 'data' is required (for example \"digits\" or \"cifar10:DIR\")") }
        for (key, s) in samplers ?? [:] {
            guard s.low > 0, s.low <= s.high, s.quantum > 0, s.low.isFinite, s.high.isFinite else {
                throw SweepError(.invalidDescription, "samplers: \(key) needs 0 < low <= high and quantum > 0")
            }
        }
        if let classes = model?.classes, !(1...100_000).contains(classes) { throw SweepError(.invalidDescription, "model: classes must be 1...100000") }
        if let stem = model?.stem_width, !(1...4096).contains(stem) { throw SweepError(.invalidDescription, "model: stem_width must be 1...4096") }
        if let stride = model?.stem_stride, !(1...2).contains(stride) { throw SweepError(.invalidDescription, "model: stem_stride must be 1 or 2") }
        if let se = model?.se_ratio, !(0...1).contains(se) { throw SweepError(.invalidDescription, "model: se_ratio must be in 0...1") }
        if model?.stem_stride != nil || model?.se_ratio != nil,
           let anyNet = samples.first(where: { !["regnet", "regnetx"].contains($0.space.lowercased()) }) {
            throw SweepError(.invalidDescription, "model: stem_stride and se_ratio apply to RegNet spaces; \(anyNet.space) has neither")
        }
    }

    /// A decoding error as a readable sentence.
    static func explain(_ error: any Error) -> String {
        switch error as? DecodingError {
        case .keyNotFound(let key, let context)?: "missing '\(path(context.codingPath + [key]))'"
        case .typeMismatch(_, let context)?, .valueNotFound(_, let context)?: "'\(path(context.codingPath))': \(context.debugDescription)"
        case .dataCorrupted(let context)?: context.codingPath.isEmpty ? "a value does not fit its field (\(context.debugDescription))" : "'\(path(context.codingPath))': \(context.debugDescription)"
        default: "\(error)"
        }
    }

    private static func path(_ keys: [any CodingKey]) -> String {
        keys.map { $0.intValue.map { "[\($0)]" } ?? $0.stringValue }.joined(separator: ".")
    }
}

/// A sweep that cannot be set up, run or collected: `kind` to switch on, `message` to show.
public struct SweepError: Error, Hashable, CustomStringConvertible, Sendable {
    /// What kind of failure.
    public enum Kind: Hashable, Sendable {
        /// A sweep description that is not valid JSON or breaks a rule (the message names the field).
        case invalidDescription
        /// A directory that is not a sweep, is damaged, or cannot be written.
        case invalidDirectory
        /// A `--shard I/N` outside 0 <= I < N.
        case invalidShard
    }

    /// What kind of failure.
    public var kind: Kind
    /// What went wrong.
    public var message: String
    /// An error of `kind` saying `message`.
    public init(_ kind: Kind, _ message: String) {
        self.kind = kind
        self.message = message
    }
    /// The message.
    public var description: String { message }
}
