import DesignSpaces
import Foundation
import Training

/// pycls's configuration keys for a sweep's models, both ways: a job's model and recipe as pycls's
/// config (`cfgs/NNNNNN.yaml`, and the `cfg` record of its `stdout.log`), and a model read back from
/// the `cfg` record pycls's trainer logs, so a sweep made by either side is read by the other.
enum PyclsConfig {
    typealias Value = StatsLog.Value

    /// `MODEL` and `REGNET` or `ANYNET`, as pycls names them.
    static func modelSections(_ configuration: DesignConfiguration) -> [String: Value] {
        func ints(_ values: [Int]) -> Value { .list(values.map { .integer($0) }) }
        switch configuration {
        case .anyNet(let c):
            return ["MODEL": .object(["TYPE": .text("anynet"), "NUM_CLASSES": .integer(c.classes)]),
                    "ANYNET": .object(["STEM_TYPE": .text("simple_stem_in"), "STEM_W": .integer(c.stemWidth),
                                       "BLOCK_TYPE": .text("res_bottleneck_block"),
                                       "DEPTHS": ints(c.stages.map(\.depth)), "WIDTHS": ints(c.stages.map(\.width)),
                                       "BOT_MULS": .list(c.stages.map { .number(1 / Double($0.bottleneckRatio)) }),
                                       "GROUP_WS": ints(c.stages.map(\.groupWidth)), "STRIDES": ints(c.stages.map { _ in 2 })])]
        case .regNet(let c):
            return ["MODEL": .object(["TYPE": .text("regnet"), "NUM_CLASSES": .integer(c.classes)]),
                    "REGNET": .object(["STEM_TYPE": .text(c.stemStride == 1 ? "res_stem_cifar" : "simple_stem_in"),
                                       "STEM_W": .integer(c.stemWidth), "BLOCK_TYPE": .text("res_bottleneck_block"),
                                       "DEPTH": .integer(c.depth), "W0": .integer(Int(c.w0)), "WA": .number(c.wa), "WM": .number(c.wm),
                                       "GROUP_W": .integer(c.groupWidth), "BOT_MUL": .number(1 / c.bottleneckRatio),
                                       "SE_ON": .flag(c.seRatio > 0), "SE_R": .number(c.seRatio), "STRIDE": .integer(2)])]
        }
    }

    /// The job's whole config: its model, and its recipe under `OPTIM` and `TRAIN`.
    static func sections(for job: SweepJob, sweep: SweepDescription) -> [String: Value] {
        var sections = modelSections(job.configuration)
        func option(_ key: String) -> Double? { if case .number(let d)? = job.train[key] { return d }; return nil }
        var optim: [String: Value] = [:]
        if let lr = option("lr") { optim["BASE_LR"] = .number(lr) }
        if let e = option("epochs") { optim["MAX_EPOCH"] = .integer(Int(e)) }
        if let m = option("momentum") { optim["MOMENTUM"] = .number(m) }
        if let wd = option("weight-decay") { optim["WEIGHT_DECAY"] = .number(wd) }
        if let w = option("warmup-epochs") { optim["WARMUP_EPOCHS"] = .integer(Int(w)) }
        if !optim.isEmpty { sections["OPTIM"] = .object(optim) }
        var train: [String: Value] = [:]
        if case .text(let data)? = job.train["data"] { train["DATASET"] = .text(data) }
        if let b = option("batch") { train["BATCH_SIZE"] = .integer(Int(b)) }
        if let r = sweep.constraints?.resolution { train["IM_SIZE"] = .integer(r) }
        if !train.isEmpty { sections["TRAIN"] = .object(train) }
        sections["RNG_SEED"] = .integer(option("seed").map { Int($0) } ?? 0)
        return sections
    }

    /// `sections` as YAML, keys sorted at every level, as yacs writes a config.
    static func yaml(_ sections: [String: Value], indent: String = "") -> String {
        sections.keys.sorted().map { key -> String in
            switch sections[key]! {
            case .object(let inner): "\(indent)\(key):\n" + yaml(inner, indent: indent + "  ")
            case let value: "\(indent)\(key): \(scalar(value))\n"
            }
        }.joined()
    }

    private static func scalar(_ value: Value) -> String {
        switch value {
        case .integer(let i): String(i)
        case .number(let d): d == d.rounded() && abs(d) < 1e15 ? String(format: "%.1f", d) : String(d)
        case .text(let s): s.isEmpty || s.contains(where: { ":#[]{},'\"".contains($0) }) ? "'\(s.replacingOccurrences(of: "'", with: "''"))'" : s
        case .flag(let b): b ? "true" : "false"
        case .list(let items): "[" + items.map(scalar).joined(separator: ", ") + "]"
        case .object: "{}"
        }
    }

    /// The model a pycls `cfg` record describes (`MODEL.TYPE` regnet or anynet), or nil.
    static func configuration(from cfg: [String: Any]) -> DesignConfiguration? {
        func section(_ name: String) -> [String: Any]? { cfg[name] as? [String: Any] }
        func int(_ s: [String: Any], _ key: String) -> Int? { (s[key] as? NSNumber)?.intValue }
        func double(_ s: [String: Any], _ key: String) -> Double? { (s[key] as? NSNumber)?.doubleValue }
        func ints(_ s: [String: Any], _ key: String) -> [Int]? { (s[key] as? [NSNumber])?.map(\.intValue) }
        guard let model = section("MODEL"), let type = (model["TYPE"] as? String)?.lowercased() else { return nil }
        let classes = int(model, "NUM_CLASSES") ?? 1000
        if type == "regnet", let r = section("REGNET"), let depth = int(r, "DEPTH"), let w0 = double(r, "W0"), let wa = double(r, "WA"),
           let wm = double(r, "WM"), let g = int(r, "GROUP_W") {
            let se = (r["SE_ON"] as? Bool ?? false) ? double(r, "SE_R") ?? 0.25 : 0
            return .regNet(RegNetConfiguration(depth: depth, w0: w0, wa: wa, wm: wm, groupWidth: g,
                                               bottleneckRatio: 1 / (double(r, "BOT_MUL") ?? 1), seRatio: se,
                                               stemWidth: int(r, "STEM_W") ?? 32, classes: classes,
                                               stemStride: r["STEM_TYPE"] as? String == "res_stem_cifar" ? 1 : 2))
        }
        if type == "anynet", let a = section("ANYNET"), let depths = ints(a, "DEPTHS"), let widths = ints(a, "WIDTHS"),
           let groups = ints(a, "GROUP_WS"), let muls = (a["BOT_MULS"] as? [NSNumber])?.map(\.doubleValue),
           depths.count == widths.count, widths.count == groups.count, groups.count == muls.count, muls.allSatisfy({ $0 > 0 }) {
            let stages = depths.indices.map {
                AnyNetStage(depth: depths[$0], width: widths[$0], bottleneckRatio: Int((1 / muls[$0]).rounded()), groupWidth: groups[$0])
            }
            return .anyNet(AnyNetConfiguration(stages: stages, stemWidth: int(a, "STEM_W") ?? 32, classes: classes))
        }
        return nil
    }
}
