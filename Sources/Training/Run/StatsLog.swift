import Foundation

/// pycls's `json_stats:` log lines (`pycls/core/logging.py`): one JSON object per line with a
/// `_type`, keys sorted, floats written with 4 decimals, so pycls's `load_log_data` reads the file.
public enum StatsLog {
    /// A value in a record: pycls logs numbers, integers and strings, and its whole configuration as
    /// nested objects with lists.
    public indirect enum Value: Sendable, Hashable {
        case number(Double), integer(Int), text(String), flag(Bool), list([Value]), object([String: Value])
    }

    /// The tag pycls's readers look for.
    public static let tag = "json_stats: "

    /// `json_stats: {…}` for `record` of type `type`.
    public static func line(_ type: String, _ record: [String: Value]) -> String {
        var record = record
        record["_type"] = .text(type)
        let body = record.keys.sorted().map { key in "\(quoted(key)): \(format(record[key]!))" }.joined(separator: ", ")
        return tag + "{" + body + "}"
    }

    static func format(_ value: Value) -> String {
        switch value {
        case .integer(let i): return String(i)
        case .text(let s): return quoted(s)
        case .flag(let b): return b ? "true" : "false"
        case .list(let items): return "[" + items.map(format).joined(separator: ", ") + "]"
        case .object(let fields): return "{" + fields.keys.sorted().map { "\(quoted($0)): \(format(fields[$0]!))" }.joined(separator: ", ") + "}"
        case .number(let d):
            guard d.isFinite else { return d.isNaN ? "NaN" : (d > 0 ? "Infinity" : "-Infinity") }
            return String(format: "%.4f", d)
        }
    }

    static func quoted(_ s: String) -> String {
        var out = "\""
        for scalar in s.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\t": out += "\\t"
            default:
                if scalar.value < 0x20 { out += String(format: "\\u%04x", scalar.value) } else { out.unicodeScalars.append(scalar) }
            }
        }
        return out + "\""
    }

    /// pycls `time_string`: "DD,HH:MM:SS".
    public static func timeString(_ seconds: Double) -> String {
        let total = max(0, Int(seconds.isFinite ? seconds : 0))
        let days = total / 86400, hours = total % 86400 / 3600, minutes = total % 3600 / 60, secs = total % 60
        return String(format: "%02d,%02d:%02d:%02d", days, hours, minutes, secs)
    }

    /// The records of type `type` in a log's text, parsed (what pycls's `load_log_data` reads).
    public static func records(_ type: String, in text: String) -> [[String: Any]] {
        text.split(separator: "\n").compactMap { line -> [String: Any]? in
            guard let range = line.range(of: tag) else { return nil }
            let json = line[range.upperBound...]
            guard let object = try? JSONSerialization.jsonObject(with: Data(json.utf8)) as? [String: Any],
                  object["_type"] as? String == type else { return nil }
            return object
        }
    }
}
