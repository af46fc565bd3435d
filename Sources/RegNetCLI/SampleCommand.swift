import Foundation
import RegNet

/// `regnet sample`: draw networks from a design space, optionally inside a complexity window.
enum SampleCommand {
    static let usage = """
    usage: regnet sample --space AnyNetXA|AnyNetXB|AnyNetXC|AnyNetXD|AnyNetXE|RegNet|RegNetX
                         [--count N] [--flops LO..HI] [--params LO..HI] [--acts LO..HI]
                         [--resolution R] [--seed S] [--json | --csv]
                         [--depth LO..HI] [--w0 LO..HI] [--wa LO..HI] [--wm LO..HI]
                         [--group-width LO..HI] [--bottleneck-ratios 1,2,4] [--stage-count LO..HI]

    Draws N configurations (default 10) as the paper and pycls sample them, redrawing until each
    lies in the complexity windows (computed from the IR). Sizes take K, M and G suffixes:
    --flops 360M..400M. Seeded and reproducible (default seed 0). Prints a table, one JSON array,
    or CSV with one row per model (name, space, flops, params, acts, parameters).
    For RegNet and RegNetX the sampler ranges may be changed, as pycls's regnet_sampler settings:
    --depth, --w0, --wa, --wm, --group-width (ranges), --bottleneck-ratios (a list) and
    --stage-count (pycls's NUM_STAGES constraint; its CIFAR sweep uses 2..2).
    """

    static func run(_ args: inout Arguments) throws {
        guard let spaceName = try args.option("--space") else { throw UsageError("--space is required") }
        let count = try args.int("--count", range: 1...1_000_000) ?? 10
        let seed = UInt64(try args.int("--seed", range: 0...Int.max) ?? 0)
        let resolution = try args.int("--resolution") ?? 224
        let window = ComplexityWindow(flops: try range(args.option("--flops"), "--flops"),
                                      params: try range(args.option("--params"), "--params"),
                                      acts: try range(args.option("--acts"), "--acts"), resolution: resolution)
        let json = args.flag("--json"), csv = args.flag("--csv")
        var rangesText: [(String, String)] = []
        for name in ["--depth", "--w0", "--wa", "--wm", "--group-width", "--bottleneck-ratios", "--stage-count"] {
            if let text = try args.option(name) { rangesText.append((name, text)) }
        }
        try args.finish()
        guard !(json && csv) else { throw UsageError("choose one of --json and --csv") }
        var space = try DesignSpaceCatalog.named(spaceName)
        if !rangesText.isEmpty {
            guard let regNet = space as? RegNetSpace else { throw UsageError("sampler ranges apply to RegNet and RegNetX only") }
            var ranges: [String: [Double]] = [:]
            for (name, text) in rangesText {
                let key = String(name.dropFirst(2)).replacingOccurrences(of: "-", with: "_")
                let parts = name == "--bottleneck-ratios" ? text.split(separator: ",").map(String.init) : text.components(separatedBy: "..")
                let numbers = parts.compactMap { Double($0) }
                guard numbers.count == parts.count, name == "--bottleneck-ratios" || numbers.count == 2 else {
                    throw UsageError(name == "--bottleneck-ratios" ? "\(name) expects positive integers separated by commas (got '\(text)')"
                                                                  : "\(name) expects LO..HI (got '\(text)')")
                }
                ranges[key] = numbers
            }
            do { space = try regNet.applying(ranges: ranges) } catch { throw UsageError("--" + error.description.replacingOccurrences(of: "_", with: "-")) }
        }
        let showProgress = isatty(2) != 0 && count >= 10
        let samples = try space.sample(count: count, seed: seed, window: window) { accepted, drawn in
            if showProgress, drawn % 25 == 0 || accepted == count {
                let filled = accepted * 30 / count
                printError("\r[\(String(repeating: "#", count: filled))\(String(repeating: ".", count: 30 - filled))] \(accepted)/\(count) accepted, \(drawn) drawn", newline: accepted == count)
            }
        }
        if json { return try printJSON(samples) }
        let columns = samples.first?.configuration.fields.map(\.0) ?? []
        if csv {
            print((["name", "space", "flops", "params", "acts"] + columns).joined(separator: ","))
            for s in samples {
                print(([s.name, s.space, "\(s.complexity.flops)", "\(s.complexity.params)", "\(s.complexity.acts)"]
                       + s.configuration.fields.map(\.1)).joined(separator: ","))
            }
            return
        }
        printTable(header: ["name", "flops", "params", "acts"] + columns,
                   rows: samples.map { s in
                       [s.name, formatCount(s.complexity.flops), formatCount(s.complexity.params), formatCount(s.complexity.acts)]
                           + s.configuration.fields.map(\.1)
                   })
        print("\(space.name): \(String(format: "%.3g", space.size)) configurations on the grid")
    }

    /// `360M..400M` → 360_000_000...400_000_000; either end may be empty.
    static func range(_ text: String?, _ name: String) throws -> ClosedRange<Int>? {
        guard let text else { return nil }
        let parts = text.components(separatedBy: "..")
        guard parts.count == 2 else { throw UsageError("\(name) expects LO..HI, for example 360M..400M (got '\(text)')") }
        let lo = parts[0].isEmpty ? 0 : try size(parts[0], name), hi = parts[1].isEmpty ? Int.max : try size(parts[1], name)
        guard lo <= hi else { throw UsageError("\(name): \(parts[0]) is above \(parts[1])") }
        return lo...hi
    }

    static func size(_ text: String, _ name: String) throws -> Int {
        let multipliers: [Character: Double] = ["K": 1e3, "M": 1e6, "G": 1e9, "k": 1e3, "m": 1e6, "g": 1e9]
        var digits = text, factor = 1.0
        if let last = text.last, let m = multipliers[last] { digits = String(text.dropLast()); factor = m }
        guard let value = Double(digits), value >= 0, value * factor < 9e18 else { throw UsageError("\(name): '\(text)' is not a size like 400M") }
        return Int(value * factor)
    }
}
