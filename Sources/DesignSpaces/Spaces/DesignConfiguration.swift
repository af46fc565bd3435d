/// A point of some design space: an AnyNet stage list or RegNet parameters.
public enum DesignConfiguration: Hashable, Sendable, Codable, CustomStringConvertible {
    /// Free per-stage parameters.
    case anyNet(AnyNetConfiguration)
    /// The six RegNet parameters.
    case regNet(RegNetConfiguration)

    /// The network, declared through the DSL.
    public func network(name: String) throws -> Network {
        switch self {
        case .anyNet(let c): c.network(name: name)
        case .regNet(let c): try c.network(name: name)
        }
    }

    /// The stages as AnyNet parameters (RegNets are converted through the width rule).
    public func anyNetStages() -> [AnyNetStage]? {
        switch self {
        case .anyNet(let c): c.stages
        case .regNet(let c): try? c.anyNet().stages
        }
    }

    /// Flat key/value description, for CSV and tables.
    public var fields: [(String, String)] {
        switch self {
        case .anyNet(let c):
            return [("depths", c.stages.map { String($0.depth) }.joined(separator: "-")),
                    ("widths", c.stages.map { String($0.width) }.joined(separator: "-")),
                    ("bottleneck_ratios", c.stages.map { String($0.bottleneckRatio) }.joined(separator: "-")),
                    ("group_widths", c.stages.map { String($0.groupWidth) }.joined(separator: "-"))]
        case .regNet(let c):
            let stages = (try? c.stages()) ?? []
            return [("depth", String(c.depth)), ("w0", format(c.w0)), ("wa", format(c.wa)), ("wm", format(c.wm)),
                    ("group_width", String(c.groupWidth)), ("bottleneck_ratio", format(c.bottleneckRatio)),
                    ("depths", stages.map { String($0.depth) }.joined(separator: "-")),
                    ("widths", stages.map { String($0.width) }.joined(separator: "-"))]
        }
    }

    /// A readable form for messages and logs.
    public var description: String { fields.map { "\($0.0)=\($0.1)" }.joined(separator: " ") }

    private enum CodingKeys: String, CodingKey { case kind, anyNet, regNet }

    /// Decodes the `{"kind": "anyNet" | "regNet", …}` form.
    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        switch try c.decode(String.self, forKey: .kind) {
        case "anyNet": self = .anyNet(try c.decode(AnyNetConfiguration.self, forKey: .anyNet))
        case "regNet": self = .regNet(try c.decode(RegNetConfiguration.self, forKey: .regNet))
        case let other: throw DecodingError.dataCorruptedError(forKey: .kind, in: c, debugDescription: "unknown kind \(other)")
        }
    }

    /// Encodes as `{"kind": "anyNet" | "regNet", …}`.
    public func encode(to encoder: Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        switch self {
        case .anyNet(let v): try c.encode("anyNet", forKey: .kind); try c.encode(v, forKey: .anyNet)
        case .regNet(let v): try c.encode("regNet", forKey: .kind); try c.encode(v, forKey: .regNet)
        }
    }
}
