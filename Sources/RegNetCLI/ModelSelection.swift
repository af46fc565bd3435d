import DeclarationFormat
import Foundation
import RegNet

/// A network as the model flags (or a weights file's record of them) declare it, or as an ONNX file holds it.
struct SelectedModel {
    /// A declared network, lowered at the size a command asks for; or an ONNX model, with its own size and weights.
    enum Source { case declared(Network), onnx(ONNXImport) }
    var source: Source
    /// The model flags that declare it again (`ModelDescription.arguments`).
    var arguments: [String]
    /// The `.regnet` text of a `--declaration`.
    var declarationText: String? = nil
    /// The input size recorded with the weights it came from (or the ONNX model's), if any: the default size then.
    var recordedSize: (height: Int, width: Int)? = nil

    init(network: Network, arguments: [String], declarationText: String? = nil, recordedSize: (height: Int, width: Int)? = nil) {
        (source, self.arguments, self.declarationText, self.recordedSize) = (.declared(network), arguments, declarationText, recordedSize)
    }

    /// An ONNX file's model (`path` recorded as its model flags).
    init(onnx model: ONNXImport, path: String) {
        (source, arguments) = (.onnx(model), [path])
        recordedSize = (model.graph.inputShape.height, model.graph.inputShape.width)
    }

    /// The declared network (nil for an ONNX model).
    var network: Network? { if case .declared(let n) = source { n } else { nil } }
    /// The weights the model file holds (an ONNX model's), if any.
    var embeddedWeights: WeightSet? { if case .onnx(let m) = source { m.weights } else { nil } }

    /// The graph for inputs of `height` × `width`: the declared network lowered, or the ONNX model's
    /// (whose size is fixed: another is an error).
    func graph(height: Int, width: Int) throws -> Graph {
        switch source {
        case .declared(let network): return try ModelSelection.lower(network, height: height, width: width)
        case .onnx(let model):
            let shape = model.graph.inputShape
            guard (shape.height, shape.width) == (height, width) else {
                throw RuntimeError("\(arguments[0]) takes \(shape.height)x\(shape.width) inputs; it cannot run at \(height)x\(width)")
            }
            return model.graph
        }
    }

    /// What a weights file made for it at `height` × `width` records.
    func description(height: Int, width: Int) -> ModelDescription {
        ModelDescription(arguments: arguments, declaration: declarationText, height: height, width: width)
    }
}

/// How a command names its network: a zoo name, the RegNet parameters, explicit stages, or a
/// declaration in a `.regnet` file.
enum ModelSelection {
    static let usage = """
      <model>                 a zoo name (RegNetX-400MF, regnety_008, …; see `regnet models`), or
                              MODEL.onnx: an ONNX file (its own input size and weights)
      --depth D --w0 W0 --wa WA --wm WM --group-width G
                              or the RegNet parameters
      --stages 1x24,2x48,… --group-width G
                              or explicit stages (DEPTHxWIDTH), as in .regnet files
      with either of those, optionally
      [--bottleneck-ratio B] [--se-ratio R] [--stem-width S] [--stem-stride 1|2] [--classes K]
      --declaration FILE.regnet:NAME
                              or a network declared in a .regnet file
      (none of these with --weights W from regnet train, quantize or export-weights: the file records
      its network and input size; flags that declare another network are an error)
    """

    /// Reads the selection from `args`; throws a usage error when no form is complete or two are mixed.
    /// With `weights` (a `--weights` file), the file's recorded network (`ModelDescription`) is the
    /// default, and model flags that declare another network are an error naming both.
    static func parse(_ args: inout Arguments, weights: String? = nil) throws -> SelectedModel {
        let given = try parseGiven(&args)
        guard let weights, let recorded = try ModelDescription.read(from: weights) else {
            guard let given else {
                throw UsageError("name a model, or give all of --depth, --w0, --wa, --wm and --group-width, or --stages, or --declaration"
                                 + (weights.map { " (\($0) does not record its network: it was not written by regnet train, quantize or export-weights)" } ?? ""))
            }
            return given
        }
        var stored = try recorded.model(recordedIn: weights)
        stored.recordedSize = (recorded.height, recorded.width)
        guard let given else { return stored }
        // Both: they must declare the same network (names aside), compared where the weights were made.
        let mine = try given.graph(height: recorded.height, width: recorded.width)
        let theirs = try stored.graph(height: recorded.height, width: recorded.width)
        guard mine.nodes == theirs.nodes else {
            throw RuntimeError("the model flags (\(given.arguments.joined(separator: " "))) declare another network than \(weights) holds (\(recorded.flags)); drop the flags, or give weights made for them")
        }
        var chosen = given
        chosen.recordedSize = stored.recordedSize
        return chosen
    }

    /// The network the model flags in `args` declare, nil when they name none (a partial form is an
    /// error). `declarationText` stands in for the file a `--declaration` names (a recorded description).
    static func parseGiven(_ args: inout Arguments, declarationText: String? = nil) throws -> SelectedModel? {
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
        // The flags given, in one order, to be recorded with the weights.
        func flags(_ pairs: [(String, String?)]) -> [String] { pairs.flatMap { key, value in value.map { [key, $0] } ?? [] } }
        let shared = flags([("--group-width", groupWidth.map(String.init)), ("--bottleneck-ratio", bottleneck.map { "\($0)" }),
                            ("--se-ratio", se.map { "\($0)" }), ("--stem-width", stem.map(String.init)),
                            ("--stem-stride", stemStride.map(String.init)), ("--classes", classes.map(String.init))])
        if let name, name.lowercased().hasSuffix(".onnx") {
            guard groupWidth == nil, bottleneck == nil, se == nil, stem == nil, stemStride == nil, classes == nil else {
                throw UsageError("an ONNX model is fixed: it takes no model flags")
            }
            do { return SelectedModel(onnx: try ONNXImport(contentsOf: URL(fileURLWithPath: name)), path: name) } catch {
                throw RuntimeError("\(name): \(error)")
            }
        }
        if let name {
            guard groupWidth == nil, bottleneck == nil, se == nil, stem == nil, stemStride == nil else {
                throw UsageError("a zoo model is fixed: only --classes may change it")
            }
            do {
                return SelectedModel(network: try Zoo.model(named: name).network(classes: classes), arguments: [name] + shared)
            } catch {
                throw RuntimeError(error.description + " (run `regnet models` for the list)")
            }
        }
        if let declaration {
            guard groupWidth == nil, bottleneck == nil, se == nil, stem == nil, stemStride == nil, classes == nil else {
                throw UsageError("--declaration takes its settings from the file; change them there")
            }
            let (network, text) = try declared(declaration, text: declarationText)
            return SelectedModel(network: network, arguments: ["--declaration", declaration], declarationText: text)
        }
        if let stages {
            guard let groupWidth else { throw UsageError("--stages needs --group-width") }
            let line = "Stages: stages=\(stages) group_width=\(groupWidth)" + [("bottleneck_ratio", bottleneck.map { "\($0)" }),
                ("se_ratio", se.map { "\($0)" }), ("stem", stem.map(String.init)), ("stem_stride", stemStride.map(String.init)),
                ("classes", classes.map(String.init))].compactMap { key, value in value.map { " \(key)=\($0)" } }.joined()
            return SelectedModel(network: try network(from: DeclarationFile(parsing: line), name: "Stages", source: nil),
                                 arguments: ["--stages", stages] + shared)
        }
        guard rule.contains(true) || groupWidth != nil || bottleneck != nil || se != nil || stem != nil || stemStride != nil || classes != nil else {
            return nil
        }
        guard rule.allSatisfy({ $0 }), let depth, let w0, let wa, let wm, let groupWidth else {
            throw UsageError("name a model, or give all of --depth, --w0, --wa, --wm and --group-width, or --stages, or --declaration")
        }
        do {
            let network = try RegNetConfiguration(depth: depth, w0: w0, wa: wa, wm: wm, groupWidth: groupWidth, bottleneckRatio: bottleneck ?? 1,
                                                  seRatio: se ?? 0, stemWidth: stem ?? 32, classes: classes ?? 1000,
                                                  stemStride: stemStride ?? 2).network()
            return SelectedModel(network: network, arguments: flags([("--depth", "\(depth)"), ("--w0", "\(w0)"), ("--wa", "\(wa)"), ("--wm", "\(wm)")]) + shared)
        } catch {
            throw RuntimeError(error.description)
        }
    }

    /// The network `NAME` of `FILE.regnet:NAME`, and the file's text (`text`, when given, instead of
    /// the file's: a recorded declaration).
    static func declared(_ reference: String, text recorded: String? = nil) throws -> (Network, String) {
        guard let colon = reference.lastIndex(of: ":"), colon != reference.startIndex, colon != reference.index(before: reference.endIndex) else {
            throw UsageError("--declaration takes FILE.regnet:NAME (got '\(reference)')")
        }
        let path = String(reference[..<colon]), name = String(reference[reference.index(after: colon)...])
        let text: String
        if let recorded {
            text = recorded
        } else {
            do { text = try String(contentsOfFile: path, encoding: .utf8) } catch {
                throw RuntimeError("cannot read \(path): \((error as NSError).localizedDescription)")
            }
        }
        return (try network(from: DeclarationFile(parsing: text), name: name, source: path), text)
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
