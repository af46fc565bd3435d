import Foundation
import Training

/// A model's `stdout.log` read as pycls's `load_log_data` and `sort_log_data` read it: records grouped
/// by `_type` (the per-iteration ones skipped, as `sweep_collect` skips them); per type, each metric's
/// values over epochs, sorted by epoch, with `epoch_ind` and `epoch_max` parsed from `"i/max"`; types
/// without an epoch (`cfg`, `complexity`) keep their first record.
///
/// Unlike pycls's reader, nothing unreadable is passed over in silence: a line that is not UTF-8, a
/// record that is not a JSON object (a truncated last line), and an epoch record whose error is not a
/// number in 0...100 or whose loss is not a finite number are left out and listed in `problems`, by
/// line.
struct PyclsLog {
    /// type → metric → values over epochs, or type → metric → value for types without an epoch.
    let data: [String: [String: Any]]
    /// What could not be read, as "line N: why".
    let problems: [String]

    /// Metrics of epoch records that must be percentages, and those that must be finite.
    static let percentages = ["top1_err", "top5_err", "min_top1_err", "min_top5_err"], finite = ["loss", "lr"]

    init(contents: Data) {
        var grouped: [String: [[String: Any]]] = [:], problems: [String] = []
        let tag = Data(StatsLog.tag.utf8), lines = contents.split(separator: UInt8(ascii: "\n"), omittingEmptySubsequences: false)
        for (number, bytes) in lines.enumerated() where bytes.range(of: tag) != nil {
            let line = number + 1
            guard let text = String(data: Data(bytes), encoding: .utf8) else { problems.append("line \(line): not UTF-8 text"); continue }
            guard let tagEnd = text.range(of: StatsLog.tag),
                  var record = try? JSONSerialization.jsonObject(with: Data(text[tagEnd.upperBound...].utf8)) as? [String: Any] else {
                let cut = number == lines.count - 1 ? " (the last line, cut short)" : ""
                problems.append("line \(line): not a complete JSON record\(cut)")
                continue
            }
            guard let type = record["_type"] as? String else { problems.append("line \(line): a record without a _type"); continue }
            guard !["train_iter", "test_iter"].contains(type) else { continue }
            if record["epoch"] != nil {
                guard let epoch = record["epoch"] as? String, epoch.split(separator: "/").compactMap({ Int($0) }).count == 2 else {
                    problems.append("line \(line): \(type) has an epoch that is not \"i/max\""); continue
                }
                if let bad = Self.badMetric(record) { problems.append("line \(line): \(type) \(bad)"); continue }
            }
            record["_type"] = nil
            grouped[type, default: []].append(record)
        }
        var data: [String: [String: Any]] = [:]
        for (type, records) in grouped {
            guard records.allSatisfy({ $0["epoch"] is String }) else { data[type] = records[0]; continue }
            let epochs = records.map { ($0["epoch"] as! String).split(separator: "/").compactMap { Int($0) } }
            let order = records.indices.sorted { (epochs[$0][0], $0) < (epochs[$1][0], $1) }
            var metrics: [String: Any] = [:]
            for key in Set(records.flatMap(\.keys)) { metrics[key] = order.map { records[$0][key] ?? NSNull() } }
            metrics["epoch_ind"] = order.map { epochs[$0][0] }
            metrics["epoch_max"] = order.map { epochs[$0][1] }
            data[type] = metrics
        }
        self.data = data
        self.problems = problems
    }

    /// Why an epoch record's metrics cannot be used, or nil.
    static func badMetric(_ record: [String: Any]) -> String? {
        for key in percentages + finite {
            guard let value = record[key] else { continue }
            guard let number = jsonNumber(value), number.isFinite else { return "\(key) is not a finite number (\(value))" }
            if percentages.contains(key), !(0...100).contains(number) { return "\(key) \(value) is outside 0...100" }
        }
        return nil
    }

    /// The values of `metric` in records of `type`, as numbers.
    func numbers(_ type: String, _ metric: String) -> [Double] {
        (data[type]?[metric] as? [Any])?.compactMap { ($0 as? NSNumber)?.doubleValue } ?? []
    }

    /// pycls's progress of a job: the last test epoch and the epochs it runs (0 of 1 before any).
    var progress: (epoch: Int, of: Int) {
        guard let ind = data["test_epoch"]?["epoch_ind"] as? [Int], let max = data["test_epoch"]?["epoch_max"] as? [Int],
              let last = ind.last, let total = max.last else { return (0, 1) }
        return (last, total)
    }
}

/// A JSON number's value (nil for anything else, true and false included: Foundation reads those as
/// numbers of the char type).
func jsonNumber(_ value: Any) -> Double? {
    guard let number = value as? NSNumber, String(cString: number.objCType) != "c" else { return nil }
    return number.doubleValue
}
