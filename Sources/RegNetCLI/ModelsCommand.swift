import RegNet

/// `regnet models`: the zoo with complexity and published errors.
enum ModelsCommand {
    static let usage = """
    usage: regnet models [--json]

    Lists the 24 RegNetX and RegNetY models of the paper and torchvision's 3 variants (-tv, whose
    widths torchvision rounds differently) with params, flops (multiply-adds) at 224x224 and the
    published ImageNet top-1/top-5 errors (%): pycls's for the paper's models, torchvision's for -tv.
    """

    struct Row: Encodable {
        var name: String, timmName: String, params: Int, flops: Int, acts: Int, top1Error: Double, top5Error: Double
        var depth: Int, w0: Double, wa: Double, wm: Double, groupWidth: Int, seRatio: Double
    }

    static func run(_ args: inout Arguments) throws {
        let json = args.flag("--json")
        try args.finish()
        let rows = try Zoo.allModels.map { model in
            let cx = try model.network().lower().complexity
            let c = model.configuration
            return Row(name: model.name, timmName: model.timmName, params: cx.params, flops: cx.flops, acts: cx.acts,
                       top1Error: model.top1Error, top5Error: model.top5Error, depth: c.depth, w0: c.w0, wa: c.wa,
                       wm: c.wm, groupWidth: c.groupWidth, seRatio: c.seRatio)
        }
        if json { return try printJSON(rows) }
        let header = ["model", "timm", "params", "flops", "top-1", "top-5"]
        let cells = rows.map { [$0.name, $0.timmName, formatCount($0.params), formatCount($0.flops),
                                String(format2($0.top1Error)), String(format2($0.top5Error))] }
        printTable(header: header, rows: cells)
    }
}

func format2(_ x: Double) -> String {
    let scaled = (x * 100).rounded() / 100
    return "\(scaled)"
}

/// Right-aligned columns, first column left-aligned.
func printTable(header: [String], rows: [[String]]) {
    let widths = header.indices.map { i in ([header] + rows).map { $0[i].count }.max() ?? 0 }
    for row in [header] + rows {
        print(row.enumerated().map { i, cell in
            let pad = String(repeating: " ", count: widths[i] - cell.count)
            return i == 0 ? cell + pad : pad + cell
        }.joined(separator: "  "))
    }
}
