import Foundation

/// Soft-target cross-entropy and the label transforms of pycls (`pycls/core/net.py`).
public enum Loss {
    /// One-hot rows with label smoothing `s` over `classes`: s/K off target, 1 − s + s/K on target.
    public static func smoothOneHot(labels: [Int], classes: Int, smoothing: Double) -> [Float] {
        let off = Float(smoothing / Double(classes)), on = Float(1 - smoothing) + off
        var targets = [Float](repeating: off, count: labels.count * classes)
        for (n, label) in labels.enumerated() { targets[n * classes + label] = on }
        return targets
    }

    /// Mean over the batch of −Σ targets · log_softmax(logits), and its gradient with respect to the
    /// logits ((softmax − targets) / batch). Sums run in Double.
    public static func softCrossEntropy(logits: UnsafePointer<Float>, targets: [Float], batch: Int, classes: Int)
        -> (loss: Double, gradient: [Float]) {
        var loss = 0.0
        var gradient = [Float](repeating: 0, count: batch * classes)
        for n in 0..<batch {
            let row = logits + n * classes
            var peak = -Double.infinity
            for k in 0..<classes { peak = max(peak, Double(row[k])) }
            if peak.isNaN || peak.isInfinite { peak = 0 }
            var sum = 0.0
            for k in 0..<classes { sum += exp(Double(row[k]) - peak) }
            let logSum = log(sum) + peak
            for k in 0..<classes {
                let logProbability = Double(row[k]) - logSum, target = Double(targets[n * classes + k])
                loss -= target * logProbability
                gradient[n * classes + k] = Float((exp(logProbability) - target) / Double(batch))
            }
        }
        return (loss / Double(batch), gradient)
    }

    /// Top-k errors in percent, as pycls's meters report them: (1 − correct_k / N) · 100 for each k
    /// (k is clamped to the class count).
    public static func topKErrors(logits: UnsafePointer<Float>, labels: [Int], classes: Int, ks: [Int] = [1, 5]) -> [Double] {
        var correct = [Int](repeating: 0, count: ks.count)
        for (n, label) in labels.enumerated() {
            let row = logits + n * classes, target = row[label]
            // Rank of the label: classes scoring higher, plus equal scores at lower indices (a stable top-k).
            var rank = 0
            for k in 0..<classes where row[k] > target || (row[k] == target && k < label) || row[k].isNaN { rank += 1 }
            for (i, k) in ks.enumerated() where rank < min(k, classes) { correct[i] += 1 }
        }
        return correct.map { labels.isEmpty ? 0 : (1 - Double($0) / Double(labels.count)) * 100 }
    }
}
