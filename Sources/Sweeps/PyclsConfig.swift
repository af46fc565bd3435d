import DesignSpaces

/// A job as pycls's config file (`cfgs/NNNNNN.yaml`): the model under `MODEL`/`ANYNET`/`REGNET` and the
/// recipe under `OPTIM`/`TRAIN`, with pycls's key names, so pycls's tools read a sweep made here.
enum PyclsConfig {
    static func yaml(for job: SweepJob, sweep: SweepDescription) -> String {
        var sections: [(String, [(String, String)])] = []
        func list(_ values: [Int]) -> String { "[" + values.map(String.init).joined(separator: ", ") + "]" }
        func number(_ d: Double) -> String { d == d.rounded() && abs(d) < 1e15 ? String(format: "%.1f", d) : String(d) }
        switch job.configuration {
        case .anyNet(let c):
            sections.append(("MODEL", [("TYPE", "anynet"), ("NUM_CLASSES", String(c.classes))]))
            sections.append(("ANYNET", [("STEM_TYPE", "simple_stem_in"), ("STEM_W", String(c.stemWidth)), ("BLOCK_TYPE", "res_bottleneck_block"),
                                        ("DEPTHS", list(c.stages.map(\.depth))), ("WIDTHS", list(c.stages.map(\.width))),
                                        ("BOT_MULS", "[" + c.stages.map { number(1 / Double($0.bottleneckRatio)) }.joined(separator: ", ") + "]"),
                                        ("GROUP_WS", list(c.stages.map(\.groupWidth))), ("STRIDES", list(c.stages.map { _ in 2 }))]))
        case .regNet(let c):
            sections.append(("MODEL", [("TYPE", "regnet"), ("NUM_CLASSES", String(c.classes))]))
            sections.append(("REGNET", [("STEM_TYPE", c.stemStride == 1 ? "res_stem_cifar" : "simple_stem_in"), ("STEM_W", String(c.stemWidth)), ("BLOCK_TYPE", "res_bottleneck_block"),
                                        ("DEPTH", String(c.depth)), ("W0", String(Int(c.w0))), ("WA", number(c.wa)), ("WM", number(c.wm)),
                                        ("GROUP_W", String(c.groupWidth)), ("BOT_MUL", number(1 / c.bottleneckRatio)),
                                        ("SE_ON", c.seRatio > 0 ? "True" : "False"), ("SE_R", number(c.seRatio)), ("STRIDE", "2")]))
        }
        func option(_ key: String) -> Double? { if case .number(let d)? = job.train[key] { return d }; return nil }
        var optim: [(String, String)] = []
        if let lr = option("lr") { optim.append(("BASE_LR", number(lr))) }
        if let e = option("epochs") { optim.append(("MAX_EPOCH", String(Int(e)))) }
        if let m = option("momentum") { optim.append(("MOMENTUM", number(m))) }
        if let wd = option("weight-decay") { optim.append(("WEIGHT_DECAY", number(wd))) }
        if let w = option("warmup-epochs") { optim.append(("WARMUP_EPOCHS", String(Int(w)))) }
        if !optim.isEmpty { sections.append(("OPTIM", optim)) }
        var train: [(String, String)] = []
        if case .text(let data)? = job.train["data"] { train.append(("DATASET", data)) }
        if let b = option("batch") { train.append(("BATCH_SIZE", String(Int(b)))) }
        if let r = sweep.constraints?.resolution { train.append(("IM_SIZE", String(r))) }
        if !train.isEmpty { sections.append(("TRAIN", train)) }
        var text = ""
        for (name, entries) in sections {
            text += "\(name):\n" + entries.map { "  \($0.0): \($0.1)\n" }.joined()
        }
        text += "RNG_SEED: \(option("seed").map { String(Int($0)) } ?? "0")\n"
        return text
    }
}
