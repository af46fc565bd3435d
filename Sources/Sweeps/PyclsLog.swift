import Foundation
import Training

/// A model's `stdout.log` read as pycls's `load_log_data` and `sort_log_data` read it: records grouped
/// by `_type` (the per-iteration ones skipped, as `sweep_collect` skips them); per type, each metric's
/// values over epochs, sorted by epoch, with `epoch_ind` and `epoch_max` parsed from `"i/max"`; types
/// without an epoch (`cfg`, `complexity`) keep their first record.
struct PyclsLog {
    /// type → metric → values over epochs, or type → metric → value for types without an epoch.
    let data: [String: [String: Any]]

    init(text: String) {
        var grouped: [String: [[String: Any]]] = [:]
        for line in text.split(separator: "\n") {
            guard let range = line.range(of: StatsLog.tag),
                  var record = try? JSONSerialization.jsonObject(with: Data(line[range.upperBound...].utf8)) as? [String: Any],
                  let type = record["_type"] as? String, !["train_iter", "test_iter"].contains(type) else { continue }
            record["_type"] = nil
            grouped[type, default: []].append(record)
        }
        var data: [String: [String: Any]] = [:]
        for (type, records) in grouped {
            guard records.allSatisfy({ $0["epoch"] is String }) else { data[type] = records[0]; continue }
            let epochs = records.map { ($0["epoch"] as! String).split(separator: "/").compactMap { Int($0) } }
            let order = records.indices.sorted { (epochs[$0].first ?? 0, $0) < (epochs[$1].first ?? 0, $1) }
            var metrics: [String: Any] = [:]
            for key in Set(records.flatMap(\.keys)) { metrics[key] = order.map { records[$0][key] ?? NSNull() } }
            metrics["epoch_ind"] = order.map { epochs[$0].first ?? 0 }
            metrics["epoch_max"] = order.map { epochs[$0].last ?? 0 }
            data[type] = metrics
        }
        self.data = data
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
