import DesignSpaces

/// A parsed and checked `.regnet` file.
///
/// Format: one declaration per line, `Name: key=value key=value …`; `#` starts a comment; blank lines
/// are allowed. Three forms:
/// ```
/// MyRegNet: depth=13 w0=24 wa=36.44 wm=2.49 group_width=8 [bottleneck_ratio=1 se_ratio=0.25 stem=32 classes=1000]
/// Tiny: stages=1x24,2x48,2x96 group_width=8 [bottleneck_ratio=1 se_ratio=0 stem=32 stem_stride=2 classes=1000]
/// Baseline: zoo=RegNetX-400MF [classes=100]
/// ```
/// Values are checked with the same rules the DSL and `Network.regNet(...)` apply (the width rule's parameter
/// checks and the network's lowering), so a file that passes builds networks that lower.
public struct DeclarationFile: Sendable {
    /// Keys a declaration may use.
    public static let keys = ["depth", "w0", "wa", "wm", "group_width", "bottleneck_ratio", "se_ratio", "stem", "stem_stride", "classes", "stages", "zoo"]

    /// Declarations in file order (also those with errors).
    public var declarations: [Declaration] = []
    /// The checked network of each valid declaration, by name.
    public var networks: [String: DeclaredNetwork] = [:]
    /// Everything found wrong or suspicious, in file order.
    public var diagnostics: [Diagnostic] = []

    /// Whether any diagnostic is an error.
    public var hasErrors: Bool { diagnostics.contains { $0.severity == .error } }

    /// Parses and checks `text`.
    public init(parsing text: String) {
        var seen: [String: Int] = [:]
        for (index, rawLine) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let lineNumber = index + 1
            let line = rawLine.split(separator: "#", maxSplits: 1, omittingEmptySubsequences: false).first.map(String.init) ?? ""
            guard !line.allSatisfy({ $0 == " " || $0 == "\t" || $0 == "\r" }) else { continue }
            guard let declaration = parseLine(line, number: lineNumber) else { continue }
            if let first = seen[declaration.name] {
                error(declaration.line, declaration.column, "duplicate name '\(declaration.name)' (first declared on line \(first))")
                continue
            }
            seen[declaration.name] = declaration.line
            declarations.append(declaration)
            if let network = check(declaration) { networks[declaration.name] = network }
        }
    }

    private mutating func error(_ line: Int, _ column: Int, _ message: String) {
        diagnostics.append(Diagnostic(.error, line: line, column: column, message))
    }

    private mutating func warning(_ line: Int, _ column: Int, _ message: String) {
        diagnostics.append(Diagnostic(.warning, line: line, column: column, message))
    }

    // MARK: Syntax

    private mutating func parseLine(_ line: String, number: Int) -> Declaration? {
        let chars = Array(line)
        var i = 0
        func skipSpaces() { while i < chars.count, chars[i] == " " || chars[i] == "\t" || chars[i] == "\r" { i += 1 } }
        skipSpaces()
        let nameStart = i
        while i < chars.count, chars[i] != ":", chars[i] != " ", chars[i] != "\t" { i += 1 }
        let name = String(chars[nameStart..<i])
        skipSpaces()
        guard i < chars.count, chars[i] == ":" else {
            error(number, nameStart + 1, "expected 'Name: key=value …' (missing ':' after the name)")
            return nil
        }
        guard let first = name.first, first.isLetter, name.allSatisfy({ $0.isLetter || $0.isNumber || $0 == "_" }) else {
            error(number, nameStart + 1, "'\(name)' is not a valid name: use letters, digits and '_', starting with a letter")
            return nil
        }
        i += 1
        var entries: [Declaration.Entry] = []
        while true {
            skipSpaces()
            guard i < chars.count else { break }
            let start = i
            while i < chars.count, chars[i] != " ", chars[i] != "\t", chars[i] != "\r" { i += 1 }
            let word = String(chars[start..<i])
            guard let eq = word.firstIndex(of: "=") else {
                error(number, start + 1, "'\(word)' has no value: write \(word)=VALUE")
                continue
            }
            let key = String(word[..<eq]), value = String(word[word.index(after: eq)...])
            let valueColumn = start + key.count + 2
            guard Self.keys.contains(key) else {
                error(number, start + 1, "unknown key '\(key)' (known: \(Self.keys.joined(separator: ", ")))")
                continue
            }
            guard !value.isEmpty else {
                error(number, valueColumn, "missing value for '\(key)'")
                continue
            }
            if entries.contains(where: { $0.key == key }) {
                error(number, start + 1, "'\(key)' is given twice")
                continue
            }
            entries.append(.init(key: key, value: value, column: start + 1, valueColumn: valueColumn))
        }
        return Declaration(name: name, line: number, column: nameStart + 1, entries: entries)
    }

    // MARK: Values

    private mutating func check(_ d: Declaration) -> DeclaredNetwork? {
        let errorsBefore = diagnostics.filter { $0.severity == .error }.count
        func int(_ key: String, default value: Int? = nil) -> Int? {
            guard let e = d.entry(key) else { return value }
            guard let v = Int(e.value) else { error(d.line, e.valueColumn, "'\(key)' must be an integer (got '\(e.value)')"); return nil }
            return v
        }
        func number(_ key: String, default value: Double? = nil) -> Double? {
            guard let e = d.entry(key) else { return value }
            guard let v = Double(e.value), v.isFinite else { error(d.line, e.valueColumn, "'\(key)' must be a number (got '\(e.value)')"); return nil }
            return v
        }
        let classes = int("classes", default: 1000), stem = int("stem", default: 32), stemStride = int("stem_stride", default: 2)
        let bottleneck = number("bottleneck_ratio", default: 1), se = number("se_ratio", default: 0)
        let isZoo = d.entry("zoo") != nil, isStages = d.entry("stages") != nil
        let ruleKeys = ["depth", "w0", "wa", "wm"].filter { d.entry($0) != nil }
        var result: DeclaredNetwork?

        if isZoo {
            let zooEntry = d.entry("zoo")!
            let extra = d.entries.filter { !["zoo", "classes"].contains($0.key) }
            if let e = extra.first {
                error(d.line, e.column, "'\(e.key)' cannot be combined with zoo=: a zoo model is fixed (only classes= may change)")
            }
            do {
                let model = try Zoo.model(named: zooEntry.value)
                if let classes, extra.isEmpty { result = .zoo(model, classes: classes) }
            } catch {
                self.error(d.line, zooEntry.valueColumn, error.description)
            }
        } else if isStages {
            let stagesEntry = d.entry("stages")!
            if let e = d.entries.first(where: { ["depth", "w0", "wa", "wm"].contains($0.key) }) {
                error(d.line, e.column, "'\(e.key)' cannot be combined with stages=: give either explicit stages or the RegNet parameters")
            }
            var stages: [(Int, Int)] = []
            for part in stagesEntry.value.split(separator: ",", omittingEmptySubsequences: false) {
                let pair = part.split(separator: "x")
                guard pair.count == 2, let depth = Int(pair[0]), let width = Int(pair[1]) else {
                    error(d.line, stagesEntry.valueColumn, "stages must be DEPTHxWIDTH separated by commas, like 1x24,2x48 (got '\(part)')")
                    stages = []
                    break
                }
                stages.append((depth, width))
            }
            guard d.entry("group_width") != nil else {
                error(d.line, d.column, "'\(d.name)' uses stages= and needs group_width=")
                return nil
            }
            guard let g = int("group_width") else { return nil }
            if !stages.isEmpty, let stem, let stemStride, let bottleneck, let se, let classes {
                result = .stages(stem: stem, stemStride: stemStride, stages: stages, groupWidth: g, bottleneckRatio: bottleneck, seRatio: se, classes: classes)
            }
        } else {
            let missing = ["depth", "w0", "wa", "wm", "group_width"].filter { d.entry($0) == nil }
            if !missing.isEmpty {
                let hint = ruleKeys.isEmpty && missing.count == 5 ? " (or stages=… or zoo=…)" : ""
                error(d.line, d.column, "'\(d.name)' is missing \(missing.joined(separator: ", "))\(hint)")
                return nil
            }
            if let depth = int("depth"), let w0 = number("w0"), let wa = number("wa"), let wm = number("wm"), let g = int("group_width"),
               let bottleneck, let se, let stem, let stemStride, let classes {
                let config = RegNetConfiguration(depth: depth, w0: w0, wa: wa, wm: wm, groupWidth: g, bottleneckRatio: bottleneck,
                                                 seRatio: se, stemWidth: stem, classes: classes, stemStride: stemStride)
                do {
                    try config.validate()
                    result = .regNet(config)
                    warnIfRoundedZooParameters(d, config)
                } catch {
                    self.error(d.line, column(for: error.message, in: d), error.message)
                }
            }
        }
        guard let network = result, diagnostics.filter({ $0.severity == .error }).count == errorsBefore else { return nil }
        // The network must lower: widths divisible by group widths, channels agreeing, and so on.
        do {
            let graph = try network.network(name: d.name).lower()
            if graph.stages.count != 4 {
                warning(d.line, d.column, "'\(d.name)' has \(graph.stages.count) stages; RegNet networks have 4")
            }
        } catch {
            let at = d.entry("stages")?.valueColumn ?? d.entry("group_width")?.valueColumn ?? d.column
            let message = (error as? LoweringError).map { ($0.path.isEmpty ? "" : $0.path.joined(separator: ", ") + ": ") + $0.message } ?? "\(error)"
            self.error(d.line, at, message)
            return nil
        }
        return network
    }

    /// The column of the key a width-rule error is about.
    private func column(for message: String, in d: Declaration) -> Int {
        let keyFor = ["w0": "w0", "wa": "wa", "wm": "wm", "depth": "depth", "group width": "group_width",
                      "bottleneck ratio": "bottleneck_ratio", "SE ratio": "se_ratio", "stem width": "stem", "classes": "classes"]
        for (phrase, key) in keyFor where message.hasPrefix(phrase) {
            if let e = d.entry(key) { return e.valueColumn }
        }
        return d.column
    }

    /// The paper's tables round wa and wm; those values give other networks than the zoo's.
    private mutating func warnIfRoundedZooParameters(_ d: Declaration, _ c: RegNetConfiguration) {
        for model in Zoo.models {
            let z = model.configuration
            guard z.depth == c.depth, z.w0 == c.w0, z.groupWidth == c.groupWidth, (z.seRatio > 0) == (c.seRatio > 0),
                  z.wa != c.wa || z.wm != c.wm, abs(z.wa - c.wa) < 1, abs(z.wm - c.wm) < 0.1 else { continue }
            guard let mine = try? c.stages(), let theirs = try? z.stages(),
                  mine.map(\.width) != theirs.map(\.width) || mine.map(\.depth) != theirs.map(\.depth) else { continue }
            let column = d.entry(z.wa != c.wa ? "wa" : "wm")?.valueColumn ?? d.column
            warning(d.line, column, "these look like \(model.name)'s rounded paper parameters, which do not reproduce it: "
                    + "widths \(mine.map(\.width)), depths \(mine.map(\.depth)) instead of \(theirs.map(\.width)), \(theirs.map(\.depth)); "
                    + "use wa=\(z.wa) wm=\(z.wm) (or zoo=\(model.name))")
            return
        }
    }
}
