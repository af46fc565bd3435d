import RegNet

/// `regnet summary`: per-stage table and totals, or one JSON object.
enum SummaryCommand {
    static let usage = """
    usage: regnet summary <model> [--resolution R] [--json]
           regnet summary --depth D --w0 W0 --wa WA --wm WM --group-width G [--bottleneck-ratio B]
                          [--se-ratio R] [--stem-width S] [--classes K] [--resolution R] [--json]

    Prints depth, width, groups, group width, bottleneck width, SE width, output size, params and
    flops (multiply-adds, pycls's count) per stage, and totals including activations.

    \(ModelSelection.usage)
      --resolution R          input size (default 224); --height/--width for non-square inputs
      --json                  one JSON object instead of the table
    """

    static func run(_ args: inout Arguments) throws {
        let json = args.flag("--json")
        let resolution = try args.int("--resolution"), heightOption = try args.int("--height"), widthOption = try args.int("--width")
        let model = try ModelSelection.parse(&args)
        try args.finish()
        // An ONNX model's own size unless another is given (which is then an error).
        let size = resolution.map { ($0, $0) } ?? model.recordedSize ?? (224, 224)
        let (height, width) = (heightOption ?? size.0, widthOption ?? size.1)
        let summary = Summary(try model.graph(height: height, width: width))
        if json { try printJSON(summary) } else { print(summary.table) }
    }
}
