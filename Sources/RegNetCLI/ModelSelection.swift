import DeclarationFormat
import Foundation
import RegNet

/// How a command names its network: a zoo name, the RegNet parameters, explicit stages, or a
/// declaration in a `.regnet` file.
enum ModelSelection {
    static let usage = """
      <model>                 a zoo name (RegNetX-400MF, regnety_008, …; see `regnet models`)
      --depth D --w0 W0 --wa WA --wm WM --group-width G
                              or the RegNet parameters
      --stages 1x24,2x48,… --group-width G
                              or explicit stages (DEPTHxWIDTH), as in .regnet files
      with either of those, optionally
      [--bottleneck-ratio B] [--se-ratio R] [--stem-width S] [--stem-stride 1|2] [--classes K]
      --declaration FILE.regnet:NAME
                              or a network declared in a .regnet file
    """

    /// Reads the selection from `args`; throws a usage error when no form is complete or two are mixed.
    static func parse(_ args: inout Arguments) throws -> Network {
        let depth = try args.int("--depth")
        let w0 = try args.double("--w0"), wa = try args.double("--wa"), wm = try args.double("--wm")
        let groupWidth = try args.int("--group-width")
        let bottleneck = try args.double("--bottleneck-ratio")
        let se = try args.double("--se-ratio")
        let stem = try args.int("--stem-width")
        let stemStride = try args.int("--stem-stride", range: 1...Limits.kernel)
        let classes = try args.int("--classes")
        let stages = try args.option("--stages")
        let declaration = try args.option("--declaration")
        let name = args.positional()
        let rule = [depth != nil, w0 != nil, wa != nil, wm != nil]
        let forms = [(name != nil, "the model name '\(name ?? "")'"), (rule.contains(true), "the RegNet parameters"),
                     (stages != nil, "--stages"), (declaration != nil, "--declaration")].filter(\.0).map(\.1)
        guard forms.count <= 1 else {
            throw UsageError("\(forms.joined(separator: " and ")) each name a network; give one of them")
        }
        if let name {
            guard groupWidth == nil, bottleneck == nil, se == nil, stem == nil, stemStride == nil else {
                throw UsageError("a zoo model is fixed: only --classes may change it")
            }
            do {
                return try Zoo.model(named: name).network(classes: classes)
            } catch {
                throw RuntimeError(error.description + " (run `regnet models` for the list)")
            }
        }
        if let declaration {
            guard groupWidth == nil, bottleneck == nil, se == nil, stem == nil, stemStride == nil, classes == nil else {
                throw UsageError("--declaration takes its settings from the file; change them there")
            }
            return try declared(declaration)
        }
        if let stages {
            guard let groupWidth else { throw UsageError("--stages needs --group-width") }
            let line = "Stages: stages=\(stages) group_width=\(groupWidth)" + [("bottleneck_ratio", bottleneck.map { "\($0)" }),
                ("se_ratio", se.map { "\($0)" }), ("stem", stem.map(String.init)), ("stem_stride", stemStride.map(String.init)),
                ("classes", classes.map(String.init))].compactMap { key, value in value.map { " \(key)=\($0)" } }.joined()
            return try network(from: DeclarationFile(parsing: line), name: "Stages", source: nil)
        }
        guard rule.allSatisfy({ $0 }), let depth, let w0, let wa, let wm, let groupWidth else {
            throw UsageError("name a model, or give all of --depth, --w0, --wa, --wm and --group-width, or --stages, or --declaration")
        }
        do {
            return try RegNetConfiguration(depth: depth, w0: w0, wa: wa, wm: wm, groupWidth: groupWidth, bottleneckRatio: bottleneck ?? 1,
                                           seRatio: se ?? 0, stemWidth: stem ?? 32, classes: classes ?? 1000,
                                           stemStride: stemStride ?? 2).network()
        } catch {
            throw RuntimeError(error.description)
        }
    }

    /// The network `NAME` of `FILE.regnet:NAME`.
    static func declared(_ reference: String) throws -> Network {
        guard let colon = reference.lastIndex(of: ":"), colon != reference.startIndex, colon != reference.index(before: reference.endIndex) else {
            throw UsageError("--declaration takes FILE.regnet:NAME (got '\(reference)')")
        }
        let path = String(reference[..<colon]), name = String(reference[reference.index(after: colon)...])
        let text: String
        do { text = try String(contentsOfFile: path, encoding: .utf8) } catch {
            throw RuntimeError("cannot read \(path): \((error as NSError).localizedDescription)")
        }
        return try network(from: DeclarationFile(parsing: text), name: name, source: path)
    }

    /// The network `name` of a declaration file read from `source`, or of the line the model flags
    /// make (`source` nil: its line and column are not the user's, so only the message is shown).
    static func network(from file: DeclarationFile, name: String, source: String?) throws -> Network {
        if let error = file.diagnostics.first(where: { $0.severity == .error }) {
            throw RuntimeError(source.map(error.formatted(path:)) ?? "the model flags: \(error.message)")
        }
        guard let network = file.networks[name] else {
            let known = file.declarations.map(\.name)
            throw RuntimeError("\(source ?? "the model flags") declares no network '\(name)'" + (known.isEmpty ? "" : " (it declares \(known.joined(separator: ", ")))"))
        }
        do { return try network.network(name: name) } catch { throw RuntimeError("\(error)") }
    }

    /// Lowers `network`, turning a lowering error into a runtime error.
    static func lower(_ network: Network, height: Int, width: Int) throws -> Graph {
        do { return try network.lower(height: height, width: width) } catch { throw RuntimeError(error.description) }
    }
}
