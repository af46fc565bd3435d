import DesignSpaces

/// One line of a `.regnet` file: a name and `key=value` entries, with where each was written.
public struct Declaration: Hashable, Sendable {
    /// One `key=value`.
    public struct Entry: Hashable, Sendable {
        /// The key (`w0`).
        public var key: String
        /// The value as written (`24`).
        public var value: String
        /// Column of the key.
        public var column: Int
        /// Column of the value.
        public var valueColumn: Int
    }

    /// The declared name (`MyRegNet`).
    public var name: String
    /// 1-based line.
    public var line: Int
    /// Column of the name.
    public var column: Int
    /// The `key=value` entries, in order.
    public var entries: [Entry]

    /// The entry for `key`.
    public func entry(_ key: String) -> Entry? { entries.first { $0.key == key } }

    /// `myRegNet` for `MyRegNet`, `regNetX400` for `RegNetX_400`: the generated property's name.
    public var propertyName: String {
        let parts = name.split(whereSeparator: { $0 == "_" || $0 == "-" }).map(String.init)
        guard let first = parts.first else { return name }
        var head = first
        // Lower-case the leading capital run, keeping the capital that starts the next word (RegNetX → regNetX).
        let letters = Array(head)
        var upper = 0
        while upper < letters.count, letters[upper].isUppercase { upper += 1 }
        let lowered = upper == letters.count ? letters.count : max(1, upper - 1)
        head = String(letters[..<lowered]).lowercased() + String(letters[lowered...])
        return head + parts.dropFirst().map { $0.prefix(1).uppercased() + $0.dropFirst() }.joined()
    }
}

/// What a declaration describes, once its values are checked.
public enum DeclaredNetwork: Sendable {
    /// The quantised linear rule.
    case regNet(RegNetConfiguration)
    /// Explicit stages `DEPTHxWIDTH`.
    case stages(stem: Int, stemStride: Int, stages: [(depth: Int, width: Int)], groupWidth: Int, bottleneckRatio: Double, seRatio: Double, classes: Int)
    /// A zoo model, possibly with another class count.
    case zoo(ZooModel, classes: Int)


    /// Stage depths, widths and group widths: what the generated Swift spells out.
    public func stages() throws -> [(depth: Int, width: Int, groupWidth: Int)] {
        switch self {
        case .regNet(let c):
            return try c.stages().map { ($0.depth, $0.width, $0.groupWidth) }
        case .stages(_, _, let stages, let g, _, _, _):
            return stages.map { ($0.depth, $0.width, g) }
        case .zoo(let model, _):
            return try model.configuration.stages().map { ($0.depth, $0.width, $0.groupWidth) }
        }
    }

    /// Stem width and stride, bottleneck ratio, SE ratio and classes.
    public var settings: (stem: Int, stemStride: Int, bottleneckRatio: Double, seRatio: Double, classes: Int) {
        switch self {
        case .regNet(let c): (c.stemWidth, c.stemStride, c.bottleneckRatio, c.seRatio, c.classes)
        case .stages(let stem, let stride, _, _, let b, let se, let classes): (stem, stride, b, se, classes)
        case .zoo(let model, let classes):
            (model.configuration.stemWidth, model.configuration.stemStride, model.configuration.bottleneckRatio, model.configuration.seRatio, classes)
        }
    }

    /// The network, through the DSL.
    public func network(name: String) throws -> Network {
        let stages = try stages(), s = settings
        let block: any Block = s.seRatio > 0 ? YBlock(seRatio: s.seRatio) : XBlock()
        return Network(name) {
            Stem(s.stem, stride: s.stemStride)
            Body {
                for stage in stages {
                    Stage(depth: stage.depth, width: stage.width, groupWidth: stage.groupWidth, bottleneckRatio: s.bottleneckRatio, block: block)
                }
            }
            Head(classes: s.classes)
        }
    }
}
