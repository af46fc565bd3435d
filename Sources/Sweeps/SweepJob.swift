import DesignSpaces
import Foundation
import NetworkIR
import Training

/// One model of a sweep: its drawn configuration and complexity, and the `regnet train` options it
/// trains with (the base recipe plus its own drawn values). Stored as `cfgs/NNNNNN.json`.
public struct SweepJob: Codable, Sendable, Hashable {
    /// Position in the sweep (pycls's six-digit config name).
    public var index: Int
    /// `AnyNetXA-0003`-style name.
    public var name: String
    /// The design space it was drawn from.
    public var space: String
    /// The drawn network.
    public var configuration: DesignConfiguration
    /// Complexity at the sweep's resolution.
    public var complexity: Complexity
    /// Recipe values drawn for this model (`lr`, `weight-decay`, …).
    public var sampled: [String: Double]
    /// Every `regnet train` option the job passes, without dashes.
    public var train: [String: SweepDescription.OptionValue]
    /// Models in the sweep (written by `sweep setup`, so a missing config file is noticed; nil in
    /// sweeps set up before it was recorded and in pycls's own).
    public var of: Int?

    /// The model as pycls's config sections (`MODEL`, `REGNET` or `ANYNET`), for the logged `cfg` record.
    public var pyclsModelSections: [String: StatsLog.Value] { PyclsConfig.modelSections(configuration) }

    /// pycls's config name: the index in six digits.
    public var id: String { SweepJob.id(index) }

    /// `000042` for 42.
    public static func id(_ index: Int) -> String {
        let digits = String(index)
        return String(repeating: "0", count: max(0, 6 - digits.count)) + digits
    }

    /// The `regnet train` arguments, sorted by option so the command line is reproducible.
    public var trainArguments: [String] { Self.arguments(train) }

    /// `options` as `regnet train` arguments, sorted by option.
    public static func arguments(_ options: [String: SweepDescription.OptionValue]) -> [String] {
        options.keys.sorted().flatMap { key -> [String] in
            switch options[key]! {
            case .flag(let on): on ? ["--\(key)"] : []
            case let value: ["--\(key)", value.word!]
            }
        }
    }
}
