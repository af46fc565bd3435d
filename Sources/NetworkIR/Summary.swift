import Foundation

/// A per-stage account of a graph: widths, groups, output sizes and complexity. Built from the IR only.
public struct Summary: Hashable, Sendable, Codable {
    /// One stage's row.
    public struct StageRow: Hashable, Sendable, Codable {
        /// 1-based index.
        public var index: Int
        /// Number of blocks.
        public var depth: Int
        /// Output width.
        public var width: Int
        /// Groups of the stage's spatial (k×k) convolution, read from the lowered graph; nil when its
        /// blocks have none or several (a basic block), so the notion does not apply.
        public var groups: Int?
        /// Channels per group of that convolution.
        public var groupWidth: Int?
        /// Bottleneck ratio b: the stage width over the width that convolution works at.
        public var bottleneckRatio: Double?
        /// The width that convolution works at (the bottleneck width; an inverted residual's hidden width).
        public var bottleneckWidth: Int?
        /// Squeeze-excite width of the stage's later blocks (its only block when depth is 1); 0 without SE.
        public var seWidth: Int
        /// Output height.
        public var outputHeight: Int
        /// Output width (spatial).
        public var outputWidth: Int
        /// Parameters of the stage.
        public var params: Int
        /// Multiply-adds of the stage.
        public var flops: Int
        /// Activations of the stage.
        public var acts: Int
    }

    /// Network name.
    public var name: String
    /// Input height (the resolution).
    public var resolution: Int
    /// Input width.
    public var inputWidth: Int
    /// Total parameters.
    public var params: Int
    /// Total multiply-adds (pycls flops).
    public var flops: Int
    /// Total activations.
    public var acts: Int
    /// Output classes.
    public var classes: Int
    /// Complexity of everything before the first stage.
    public var stem: Complexity
    /// Complexity of everything after the last stage.
    public var head: Complexity
    /// One row per stage.
    public var stages: [StageRow]

    /// Summarises `graph`.
    public init(_ graph: Graph) {
        name = graph.name
        resolution = graph.inputShape.height
        inputWidth = graph.inputShape.width
        let total = graph.complexity
        params = total.params
        flops = total.flops
        acts = total.acts
        classes = graph.outputShape.elementCount
        let firstStageNode = graph.nodes.firstIndex { $0.scope.stage != nil } ?? graph.nodes.count
        stem = graph.nodes[..<firstStageNode].reduce(into: Complexity()) { $0 += $1.operation.complexity(output: $1.shape) }
        stages = graph.stages.map { record in
            let inStage = graph.nodes.indices.filter { graph.nodes[$0].scope.stage == record.index }
            let cx = graph.complexity { $0.scope.stage == record.index }
            let lastShape = inStage.last.map { graph.nodes[$0].shape } ?? FeatureShape(channels: 0, height: 0, width: 0)
            // The stage's spatial convolution, read off its last block (the first may carry a projection):
            // a k×k convolution that is not part of squeeze-excite. Blocks with none or several have no
            // single group width or bottleneck.
            let spatial = inStage.compactMap { id -> Convolution? in
                guard graph.nodes[id].scope.block == record.depth, case .convolution(let conv) = graph.nodes[id].operation,
                      conv.kernel > 1 else { return nil }
                return conv
            }
            let conv = spatial.count == 1 ? spatial[0] : nil
            // The SE width is the reduce convolution fed by a pooled value inside the stage's last block.
            let se = inStage.last { id in
                let node = graph.nodes[id]
                guard node.scope.block == record.depth, case .convolution = node.operation,
                      let source = node.inputs.first else { return false }
                return graph.nodes[source].operation == .globalAveragePool
            }
            let seWidth = se.map { graph.nodes[$0].shape.channels } ?? 0
            return StageRow(index: record.index, depth: record.depth, width: record.width,
                            groups: conv?.groups, groupWidth: conv?.inChannelsPerGroup,
                            bottleneckRatio: conv.map { Double(record.width) / Double($0.inChannels) },
                            bottleneckWidth: conv?.inChannels, seWidth: seWidth,
                            outputHeight: lastShape.height, outputWidth: lastShape.width,
                            params: cx.params, flops: cx.flops, acts: cx.acts)
        }
        let stageTotal = stages.reduce(Complexity()) { $0 + Complexity(flops: $1.flops, params: $1.params, acts: $1.acts) }
        head = Complexity(flops: total.flops - stem.flops - stageTotal.flops,
                          params: total.params - stem.params - stageTotal.params,
                          acts: total.acts - stem.acts - stageTotal.acts)
    }

    /// A fixed-width text table with totals.
    public var table: String {
        let header = ["stage", "depth", "width", "groups", "gw", "b", "w_b", "se", "out", "params", "flops"]
        var rows: [[String]] = [["stem", "", "", "", "", "", "", "", "", formatCount(stem.params), formatCount(stem.flops)]]
        for s in stages {
            func cell(_ value: Int?) -> String { value.map(String.init) ?? "–" }
            rows.append(["\(s.index)", "\(s.depth)", "\(s.width)", cell(s.groups), cell(s.groupWidth),
                         s.bottleneckRatio.map(formatRatio) ?? "–", cell(s.bottleneckWidth), s.seWidth > 0 ? "\(s.seWidth)" : "-",
                         "\(s.outputHeight)x\(s.outputWidth)", formatCount(s.params), formatCount(s.flops)])
        }
        rows.append(["head", "", "", "", "", "", "", "", "\(classes)", formatCount(head.params), formatCount(head.flops)])
        let widths = header.indices.map { column in ([header] + rows).map { $0[column].count }.max() ?? 0 }
        func line(_ cells: [String]) -> String {
            cells.enumerated().map { i, cell in
                String(repeating: " ", count: widths[i] - cell.count) + cell
            }.joined(separator: "  ")
        }
        var text = "\(name) at \(resolution)x\(inputWidth)\n" + line(header) + "\n"
        text += rows.map(line).joined(separator: "\n")
        text += "\ntotal: params \(params) (\(formatCount(params))), flops \(flops) (\(formatCount(flops))), acts \(acts) (\(formatCount(acts)))"
        return text
    }
}

private func formatRatio(_ value: Double) -> String {
    value == value.rounded() ? "\(Int(value))" : String(format: "%.3g", value)
}
