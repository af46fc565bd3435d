import RegNet

/// How a command names its network: a zoo name, or the six RegNet parameters as flags.
enum ModelSelection {
    static let usage = """
      <model>                 a zoo name (RegNetX-400MF, regnety_008, …; see `regnet models`)
      --depth D --w0 W0 --wa WA --wm WM --group-width G
                              or the RegNet parameters, with optionally
      [--bottleneck-ratio B] [--se-ratio R] [--stem-width S] [--classes K]
    """

    /// Reads the selection from `args`; throws a usage error when neither form is complete.
    static func parse(_ args: inout Arguments) throws -> Network {
        let depth = try args.int("--depth")
        let w0 = try args.double("--w0"), wa = try args.double("--wa"), wm = try args.double("--wm")
        let groupWidth = try args.int("--group-width")
        let bottleneck = try args.double("--bottleneck-ratio")
        let se = try args.double("--se-ratio")
        let stem = try args.int("--stem-width")
        let classes = try args.int("--classes")
        let name = args.positional()
        let parametric = [depth != nil, w0 != nil, wa != nil, wm != nil, groupWidth != nil]
        if let name {
            guard !parametric.contains(true), bottleneck == nil, se == nil, stem == nil else {
                throw UsageError("give either a model name or --depth/--w0/--wa/--wm/--group-width, not both")
            }
            do {
                return try Zoo.model(named: name).network(classes: classes)
            } catch {
                throw RuntimeError(error.description + " (run `regnet models` for the list)")
            }
        }
        guard parametric.allSatisfy({ $0 }), let depth, let w0, let wa, let wm, let groupWidth else {
            throw UsageError("name a model, or give all of --depth, --w0, --wa, --wm and --group-width")
        }
        do {
            return try RegNet(depth: depth, w0: w0, wa: wa, wm: wm, groupWidth: groupWidth,
                              bottleneckRatio: bottleneck ?? 1, seRatio: se ?? 0, stemWidth: stem ?? 32,
                              classes: classes ?? 1000)
        } catch {
            throw RuntimeError(error.description)
        }
    }

    /// Lowers `network`, turning a lowering error into a runtime error.
    static func lower(_ network: Network, height: Int, width: Int) throws -> Graph {
        do { return try network.lower(height: height, width: width) } catch { throw RuntimeError(error.description) }
    }
}
