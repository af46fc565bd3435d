import Foundation

/// The three public RegNet checkpoint families and their parameter names.
public enum CheckpointFamily: String, Sendable, CaseIterable, Codable {
    /// `s1.b1.conv1.conv.weight`, `s1.b1.downsample.bn.running_var`, `head.fc.weight` (this package's own names).
    case timm
    /// `s1.b1.f.a.weight`, `s1.b1.f.a_bn.bias`, `s1.b1.proj.weight`, `s1.b1.bn.weight`, `s1.b1.f.se.f_ex.0.weight`.
    case pycls
    /// `trunk_output.block1.block1-0.f.a.0.weight`, `stem.0.weight`, `fc.weight`.
    case torchvision
}

/// Maps parameter names between the checkpoint families. The package's graphs use timm's names.
public enum CheckpointNaming {
    /// Block-level module paths: (timm, pycls, torchvision).
    static let blockModules: [(String, String, String)] = [
        ("conv1.conv", "f.a", "f.a.0"), ("conv1.bn", "f.a_bn", "f.a.1"),
        ("conv2.conv", "f.b", "f.b.0"), ("conv2.bn", "f.b_bn", "f.b.1"),
        ("conv3.conv", "f.c", "f.c.0"), ("conv3.bn", "f.c_bn", "f.c.1"),
        ("se.fc1", "f.se.f_ex.0", "f.se.fc1"), ("se.fc2", "f.se.f_ex.2", "f.se.fc2"),
        ("downsample.conv", "proj", "proj.0"), ("downsample.bn", "bn", "proj.1"),
    ]
    /// Network-level module paths: (timm, pycls, torchvision).
    static let topModules: [(String, String, String)] = [
        ("stem.conv", "stem.conv", "stem.0"), ("stem.bn", "stem.bn", "stem.1"), ("head.fc", "head.fc", "fc"),
    ]

    /// The family whose naming `names` use, or nil when no name tells.
    public static func detect<Names: Sequence<String>>(_ names: Names) -> CheckpointFamily? {
        var votes: [CheckpointFamily: Int] = [:]
        for raw in names {
            let name = stripWrapper(raw)
            if name.hasPrefix("trunk_output.") || name.hasPrefix("fc.") || name.hasPrefix("stem.0.") { votes[.torchvision, default: 0] += 1 }
            else if name.contains(".f.a") || name.contains(".f.b") || name.contains(".f_ex.") || name.contains(".proj.") { votes[.pycls, default: 0] += 1 }
            else if name.contains(".conv1.conv.") || name.contains(".downsample.") || name.contains(".conv2.conv.") { votes[.timm, default: 0] += 1 }
        }
        return votes.max { $0.value < $1.value }?.key
    }

    /// The timm name of `name` written in `family`; nil when it is not a RegNet parameter name.
    public static func timmName(_ name: String, from family: CheckpointFamily) -> String? {
        let name = stripWrapper(name)
        guard let dot = name.lastIndex(of: ".") else { return nil }
        let module = String(name[..<dot]), leaf = String(name[name.index(after: dot)...])
        func pick(_ t: (String, String, String)) -> String {
            switch family { case .timm: t.0; case .pycls: t.1; case .torchvision: t.2 }
        }
        if let top = topModules.first(where: { pick($0) == module }) { return "\(top.0).\(leaf)" }
        let (prefix, rest): (String, String)
        switch family {
        case .timm, .pycls:
            let parts = module.split(separator: ".", maxSplits: 2).map(String.init)
            guard parts.count == 3, parts[0].hasPrefix("s"), Int(parts[0].dropFirst()) != nil,
                  parts[1].hasPrefix("b"), Int(parts[1].dropFirst()) != nil else { return nil }
            (prefix, rest) = ("\(parts[0]).\(parts[1])", parts[2])
        case .torchvision:
            // trunk_output.block{i}.block{i}-{j-1}.<module>
            let parts = module.split(separator: ".", maxSplits: 3).map(String.init)
            guard parts.count == 4, parts[0] == "trunk_output", parts[1].hasPrefix("block"), let stage = Int(parts[1].dropFirst(5)),
                  let dash = parts[2].lastIndex(of: "-"), let index = Int(parts[2][parts[2].index(after: dash)...]) else { return nil }
            (prefix, rest) = ("s\(stage).b\(index + 1)", parts[3])
        }
        guard let block = blockModules.first(where: { pick($0) == rest }) else { return nil }
        return "\(prefix).\(block.0).\(leaf)"
    }

    /// The name `timmName` has in `family`.
    public static func name(_ timmName: String, in family: CheckpointFamily) -> String {
        guard family != .timm, let dot = timmName.lastIndex(of: ".") else { return timmName }
        let module = String(timmName[..<dot]), leaf = String(timmName[timmName.index(after: dot)...])
        if let top = topModules.first(where: { $0.0 == module }) { return "\(family == .pycls ? top.1 : top.2).\(leaf)" }
        let parts = module.split(separator: ".", maxSplits: 2).map(String.init)
        guard parts.count == 3, let block = blockModules.first(where: { $0.0 == parts[2] }),
              let stage = Int(parts[0].dropFirst()), let index = Int(parts[1].dropFirst()) else { return timmName }
        switch family {
        case .pycls: return "\(parts[0]).\(parts[1]).\(block.1).\(leaf)"
        case .torchvision: return "trunk_output.block\(stage).block\(stage)-\(index - 1).\(block.2).\(leaf)"
        case .timm: return timmName
        }
    }

    /// `module.` (DataParallel) and `model_state.` (pycls checkpoints) wrap the real names.
    static func stripWrapper(_ name: String) -> String {
        var name = name
        for wrapper in ["model_state.", "module."] where name.hasPrefix(wrapper) { name = String(name.dropFirst(wrapper.count)) }
        return name
    }
}

extension WeightSet {
    /// This set with timm names, converted from whichever family its names use (detected when nil).
    ///
    /// Original pycls weights expect BGR input; `reverseStemChannels` flips the stem's input channels so
    /// they take RGB. Names that belong to no family are kept as they are (binding reports them).
    public func timmNamed(from family: CheckpointFamily? = nil, reverseStemChannels: Bool = false) -> (WeightSet, CheckpointFamily) {
        let family = family ?? CheckpointNaming.detect(tensors.keys) ?? .timm
        var renamed: [String: Tensor] = [:]
        for (name, tensor) in tensors {
            renamed[CheckpointNaming.timmName(name, from: family) ?? name] = tensor
        }
        var result = WeightSet(renamed)
        if reverseStemChannels, let stem = result["stem.conv.weight"], stem.shape.count == 4 {
            let (o, i, k) = (stem.shape[0], stem.shape[1], stem.shape[2] * stem.shape[3])
            var flipped = stem.scalars
            for a in 0..<o { for c in 0..<i { for e in 0..<k { flipped[(a * i + c) * k + e] = stem.scalars[(a * i + (i - 1 - c)) * k + e] } } }
            result["stem.conv.weight"] = Tensor(shape: stem.shape, scalars: flipped)
        }
        return (result, family)
    }

    /// This (timm-named) set with the names of `family`.
    public func named(for family: CheckpointFamily) -> WeightSet {
        WeightSet(Dictionary(uniqueKeysWithValues: tensors.map { (CheckpointNaming.name($0.key, in: family), $0.value) }))
    }

    /// Reads a safetensors checkpoint of any family and returns it with timm names. A training
    /// checkpoint gives its model weights, or with `ema` its EMA weights; its optimizer state is dropped.
    public static func load(contentsOf url: URL, reverseStemChannels: Bool = false, ema: Bool = false) throws(WeightError) -> (weights: WeightSet, family: CheckpointFamily) {
        let (model, _, _, averaged) = try SafeTensors.read(contentsOf: url).splitTrainingState()
        if ema && averaged.tensors.isEmpty { throw WeightError(.incompleteCheckpoint, "\(url.path) holds no EMA weights (ema.* tensors)") }
        return (ema ? averaged : model).timmNamed(reverseStemChannels: reverseStemChannels)
    }

    /// Prefix of SGD momentum buffers (AdamW's running mean of gradients) in a training checkpoint.
    public static let momentumPrefix = "momentum."
    /// Prefix of AdamW's running mean of squared gradients in a training checkpoint (PyTorch's `exp_avg_sq`).
    public static let secondMomentPrefix = "exp_avg_sq."
    /// Prefix of the EMA weights in a training checkpoint.
    public static let emaPrefix = "ema."

    /// The model's tensors, the momentum buffers, AdamW's second moments and the EMA weights of a
    /// training checkpoint (the last three empty for a plain weights file), each under its plain names.
    public func splitTrainingState() -> (model: WeightSet, momentum: WeightSet, secondMoment: WeightSet, ema: WeightSet) {
        var parts: [String: [String: Tensor]] = [:]
        let prefixes = [Self.momentumPrefix, Self.secondMomentPrefix, Self.emaPrefix]
        for (name, tensor) in tensors {
            let prefix = prefixes.first { name.hasPrefix($0) } ?? ""
            parts[prefix, default: [:]][String(name.dropFirst(prefix.count))] = tensor
        }
        let part = { (prefix: String) in WeightSet(parts[prefix] ?? [:]) }
        return (part(""), part(Self.momentumPrefix), part(Self.secondMomentPrefix), part(Self.emaPrefix))
    }

    /// Writes the set (timm-named) as safetensors in `family`'s naming, with `metadata` besides the
    /// format, naming and producer.
    public func write(to url: URL, naming family: CheckpointFamily = .timm, metadata: [String: String] = [:]) throws(WeightError) {
        let standard = ["format": "pt", "naming": family.rawValue, "producer": "swift-regnet"]
        try SafeTensors.write(named(for: family), to: url, metadata: metadata.merging(standard) { _, standard in standard })
    }
}
