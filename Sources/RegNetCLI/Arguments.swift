/// A wrong command line: printed with the command's usage, exit status 2.
struct UsageError: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}

/// A failure while doing the work (bad file, invalid model): exit status 1.
struct RuntimeError: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}

/// Minimal argument reader: options are taken out as they are asked for, and `finish()` rejects leftovers.
struct Arguments {
    private var items: [String]

    init(_ items: [String]) { self.items = items }

    var isEmpty: Bool { items.isEmpty }

    /// Adds arguments a command implies (`quantize` implies `--precision int8`).
    mutating func insert(_ extra: [String]) { items += extra }

    /// Options already read, so a second occurrence is reported as given twice, not as unknown.
    private var seen: Set<String> = []

    /// Removes `--name` and reports whether it was there.
    mutating func flag(_ name: String) -> Bool {
        guard let i = items.firstIndex(of: name) else { return false }
        items.remove(at: i)
        seen.insert(name)
        return true
    }

    /// Removes `--name VALUE` (or `--name=VALUE`) and returns VALUE.
    mutating func option(_ name: String) throws -> String? {
        seen.insert(name)
        let value: String
        if let i = items.firstIndex(where: { $0.hasPrefix(name + "=") }) {
            value = String(items[i].dropFirst(name.count + 1))
            items.remove(at: i)
        } else {
            guard let i = items.firstIndex(of: name) else { return nil }
            guard i + 1 < items.count else { throw UsageError("\(name) needs a value") }
            value = items[i + 1]
            items.removeSubrange(i...(i + 1))
        }
        if items.contains(where: { $0 == name || $0.hasPrefix(name + "=") }) { throw UsageError("\(name) was given twice") }
        return value
    }

    /// Every value of a repeatable option, plus the plain words that follow each occurrence; nil when
    /// the option is absent, an error when it is present with no value.
    mutating func values(_ name: String) throws -> [String]? {
        guard items.contains(name) else { return nil }
        seen.insert(name)
        var result: [String] = []
        while let i = items.firstIndex(of: name) {
            items.remove(at: i)
            while i < items.count, !items[i].hasPrefix("--") { result.append(items.remove(at: i)) }
        }
        guard !result.isEmpty else { throw UsageError("\(name) needs at least one value") }
        return result
    }

    mutating func int(_ name: String, range: ClosedRange<Int> = 1...Int.max) throws -> Int? {
        guard let text = try option(name) else { return nil }
        guard let value = Int(text), range.contains(value) else {
            throw UsageError("\(name) expects an integer in \(range.lowerBound)...\(range.upperBound == Int.max ? "" : "\(range.upperBound)") (got '\(text)')")
        }
        return value
    }

    mutating func double(_ name: String) throws -> Double? {
        guard let text = try option(name) else { return nil }
        guard let value = Double(text), value.isFinite else { throw UsageError("\(name) expects a number (got '\(text)')") }
        return value
    }

    /// Removes and returns the first word that is not an option.
    mutating func positional() -> String? {
        guard let i = items.firstIndex(where: { !$0.hasPrefix("-") }) else { return nil }
        return items.remove(at: i)
    }

    /// The options a command's help text names (every `--word` in it): what the command accepts.
    static func optionNames(in usage: String) -> Set<String> {
        var names = Set<String>(), rest = usage[...]
        while let start = rest.range(of: "--") {
            let name = rest[start.upperBound...].prefix { $0.isLetter || $0.isNumber || $0 == "-" }
            if let first = name.first, first.isLetter || first.isNumber { names.insert("--" + name) }
            rest = rest[start.upperBound...]
        }
        return names
    }

    /// Fails on the first option that is not in `known`, naming the closest known one: checked before
    /// a command reads anything, so a misspelt option is never taken for a value or reported as
    /// something else missing.
    func rejectUnknownOptions(_ known: Set<String>) throws {
        for item in items where item.hasPrefix("--") {
            let name = String(item.prefix { $0 != "=" })
            guard !known.contains(name) else { continue }
            let hint = closest(to: name, among: known).map { " (did you mean '\($0)'?)" } ?? ""
            throw UsageError("unknown option '\(name)'\(hint)")
        }
    }

    /// Fails on anything not consumed.
    func finish() throws {
        if let extra = items.first {
            if seen.contains(extra) { throw UsageError("\(extra) was given twice") }
            throw UsageError(extra.hasPrefix("-") ? "unknown option '\(extra)'" : "unexpected argument '\(extra)'")
        }
    }
}

/// The word of `candidates` closest to `word` by edit distance, when within `maximumDistance` edits
/// (default: one per four characters, at least one): a likely typo.
func closest(to word: String, among candidates: some Collection<String>, maximumDistance: Int? = nil) -> String? {
    func distance(_ a: String, _ b: String) -> Int {
        let a = Array(a), b = Array(b)
        guard !a.isEmpty, !b.isEmpty else { return max(a.count, b.count) }
        var row = Array(0...b.count)
        for i in 1...a.count {
            var previous = row[0]
            row[0] = i
            for j in 1...b.count {
                let current = row[j]
                row[j] = min(row[j] + 1, row[j - 1] + 1, previous + (a[i - 1] == b[j - 1] ? 0 : 1))
                previous = current
            }
        }
        return row[b.count]
    }
    let scored = candidates.map { ($0, distance(word, $0)) }
    guard let best = scored.min(by: { ($0.1, $0.0) < ($1.1, $1.0) }), best.1 <= maximumDistance ?? max(1, word.count / 4) else { return nil }
    return best.0
}
