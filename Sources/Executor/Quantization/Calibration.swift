import NetworkIR
import Weights

extension Quantization {
    /// Static post-training calibration: runs `graph` in float32 over `batches` (each `batch` NCHW
    /// images) and sets the uint8 input scale of every convolution that can run in int8
    /// (`Graph.isInt8Candidate`: its input is never negative; a squeeze-excite gated input is bounded
    /// by its ungated values) from the values it saw: the largest one (`.minMax`) or a percentile of
    /// them, mapped to 255. The weight scales are recorded too (largest magnitude / 127 per channel).
    ///
    /// A last pass measures, on the same images, the error uint8 quantisation makes on each layer's input
    /// (relative RMS: ‖x − q(x)‖ / ‖x‖); layers above `maximumInputError` stay float32 and are listed in
    /// `excluded` with their error.
    public static func calibrate(graph: Graph, weights: WeightSet, batches: [[Float]], batch: Int,
                                 method: CalibrationMethod = .minMax, maximumInputError: Double = defaultMaximumInputError,
                                 threads: Int? = nil) throws(ExecutorError) -> Quantization {
        guard !batches.isEmpty else { throw ExecutorError(.invalidArgument, "calibration needs at least one batch of images") }
        if case .percentile(let p) = method, !(p > 0 && p <= 100) {
            throw ExecutorError(.invalidArgument, "calibration percentile must be in (0, 100] (got \(p))")
        }
        let model = try CompiledModel(graph: graph, weights: weights, batch: batch, threads: threads)
        // Each candidate convolution and the value whose range bounds its input: the input itself, or
        // for a squeeze-excite gated input folded into it (gates ≤ 1), the value before the gate.
        var sources: [(name: String, value: Int)] = [], candidates: [String: NodeID] = [:]
        for (id, node) in graph.nodes.enumerated() where graph.isInt8Candidate(id) {
            candidates[node.name] = id
            let source = model.plan.fused.fusions[id].inputGate?.input ?? node.inputs[0]
            if let value = model.plan.nodeValues[source] { sources.append((node.name, value)) }
        }
        let watched = Set(sources.map(\.value)), layouts = model.plan.layouts
        /// Calls `body` with every element of `value` for `images`.
        func visit(_ value: Int, _ images: Range<Int>, _ arena: UnsafeMutablePointer<Float>, _ body: (Float) -> Void) {
            let layout = layouts[value], count = layout.width * layout.channels
            for n in images {
                for y in 0..<layout.height {
                    let row = arena + layout.index(n, y, 0)
                    for i in 0..<count { body(row[i]) }
                }
            }
        }
        var largest: [Int: Float] = [:]
        for input in batches {
            try model.run(input) { value, images, arena in
                guard watched.contains(value) else { return }
                var m = largest[value] ?? 0
                visit(value, images, arena) { m = max(m, $0) }
                largest[value] = m
            }
        }
        var top = largest
        if case .percentile(let percentile) = method {
            // A second pass: a histogram over [0, largest] per value, then the percentile's bin edge.
            let bins = 2048
            var histograms: [Int: [Int]] = [:]
            for input in batches {
                try model.run(input) { value, images, arena in
                    guard watched.contains(value), let m = largest[value], m > 0 else { return }
                    var h = histograms[value] ?? [Int](repeating: 0, count: bins)
                    let perBin = Float(bins) / m
                    visit(value, images, arena) { h[min(bins - 1, max(0, Int($0 * perBin)))] += 1 }
                    histograms[value] = h
                }
            }
            for (value, h) in histograms {
                let total = h.reduce(0, +), wanted = Double(total) * percentile / 100
                var seen = 0, bin = bins - 1
                for (i, c) in h.enumerated() {
                    seen += c
                    if Double(seen) >= wanted { bin = i; break }
                }
                top[value] = largest[value]! * Float(bin + 1) / Float(bins)
            }
        }
        var valueScales: [Int: Float] = [:]
        for (value, t) in top { valueScales[value] = t > 0 && t.isFinite ? t / 255 : 1 }
        for value in watched where valueScales[value] == nil { valueScales[value] = 1 }
        // The quantisation error on each watched value: sums of x² and of (x − q(x))².
        var sums: [Int: (signal: Double, error: Double)] = [:]
        for input in batches {
            try model.run(input) { value, images, arena in
                guard let scale = valueScales[value] else { return }
                var sum = sums[value] ?? (0, 0)
                let inverse = 1 / scale
                visit(value, images, arena) { x in
                    let q = min(max((x * inverse).rounded(.toNearestOrEven), 0), 255) * scale
                    sum.signal += Double(x) * Double(x)
                    sum.error += Double(x - q) * Double(x - q)
                }
                sums[value] = sum
            }
        }
        var scales: [String: Float] = [:], perChannel: [String: [Float]] = [:], excluded: [String: Float] = [:]
        for (name, value) in sources {
            let sum = sums[value] ?? (0, 0), error = sum.signal > 0 ? (sum.error / sum.signal).squareRoot() : 0
            guard error <= maximumInputError else {
                excluded[name] = Float(error)
                continue
            }
            scales[name] = valueScales[value]
            if let id = candidates[name], let weight = graph.parameterName(id, .weight), let w = weights[weight] {
                perChannel[name] = perChannelWeightScales(w.scalars, channels: w.shape[0])
            }
        }
        return Quantization(inputScales: scales, weightScales: perChannel, excluded: excluded)
    }
}
