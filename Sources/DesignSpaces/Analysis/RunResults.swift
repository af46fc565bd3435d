import Foundation

/// One trained model's outcome: its name, error, and any further columns (space, parameters, …).
public struct RunResult: Hashable, Sendable, Codable {
    /// The value of column `column` (case-insensitive): the name, the error, or another field.
    public func value(of column: String) -> String? {
        switch column.lowercased() {
        case "name": name
        case "error": String(error)
        case let other: fields[other]
        }
    }

    /// Model name.
    public var name: String
    /// Top-1 error (%).
    public var error: Double
    /// Other columns by header name.
    public var fields: [String: String]

    /// A result.
    public init(name: String, error: Double, fields: [String: String] = [:]) {
        self.name = name
        self.error = error
        self.fields = fields
    }
}

/// Reads results CSV files: a header with at least `name` and `error`, then one row per run.
public enum RunResults {
    /// Parses CSV text (commas, optional double quotes); errors name the line.
    public static func parse(_ text: String) throws(RegNetError) -> [RunResult] {
        let lines = text.split(omittingEmptySubsequences: false, whereSeparator: \.isNewline)
            .map { String($0) }
        guard let headerLine = lines.first(where: { !$0.trimmingCharacters(in: .whitespaces).isEmpty }) else {
            throw RegNetError(.invalidParameters, "results file is empty: expected a header with name,error")
        }
        let header = split(headerLine).map { $0.trimmingCharacters(in: .whitespaces).lowercased() }
        guard let nameColumn = header.firstIndex(of: "name"), let errorColumn = header.firstIndex(of: "error") else {
            throw RegNetError(.invalidParameters, "the header must name the columns 'name' and 'error' (got \(header.joined(separator: ",")))")
        }
        var results: [RunResult] = []
        let headerIndex = lines.firstIndex(of: headerLine)!
        for (offset, line) in lines.enumerated().dropFirst(headerIndex + 1) {
            guard !line.trimmingCharacters(in: .whitespaces).isEmpty else { continue }
            let cells = split(line)
            guard cells.count == header.count else {
                throw RegNetError(.invalidParameters, "line \(offset + 1): \(cells.count) columns, the header has \(header.count)")
            }
            guard let error = Double(cells[errorColumn].trimmingCharacters(in: .whitespaces)), error.isFinite else {
                throw RegNetError(.invalidParameters, "line \(offset + 1): error '\(cells[errorColumn])' is not a number")
            }
            guard (0...100).contains(error) else {
                throw RegNetError(.invalidParameters, "line \(offset + 1): error \(cells[errorColumn]) is outside 0...100 (errors are percentages)")
            }
            var fields: [String: String] = [:]
            for (i, key) in header.enumerated() where i != nameColumn && i != errorColumn { fields[key] = cells[i] }
            results.append(RunResult(name: cells[nameColumn], error: error, fields: fields))
        }
        guard !results.isEmpty else { throw RegNetError(.invalidParameters, "results file has a header but no rows") }
        return results
    }

    /// Reads and parses the CSV file at `url`.
    public static func read(contentsOf url: URL) throws(RegNetError) -> [RunResult] {
        let text: String
        do { text = try String(contentsOf: url, encoding: .utf8) } catch {
            throw RegNetError(.invalidParameters, "cannot read \(url.path): \(error.localizedDescription)")
        }
        return try parse(text)
    }

    private static func split(_ line: String) -> [String] {
        var cells: [String] = [], cell = "", quoted = false
        var chars = line.makeIterator()
        while let c = chars.next() {
            if c == "\"" { quoted.toggle() }
            else if c == ",", !quoted { cells.append(cell); cell = "" }
            else { cell.append(c) }
        }
        cells.append(cell)
        return cells
    }
}
