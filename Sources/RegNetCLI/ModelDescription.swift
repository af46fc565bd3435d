import DeclarationFormat
import Foundation
import RegNet

/// What a weights file records about its network, so that `--weights W` alone names it: the model
/// flags that declare it again (a zoo name, the RegNet parameters, `--stages`, or a `--declaration`
/// with the `.regnet` text embedded, since the file it came from may move), and the input size it
/// was made at. Stored as JSON under `regnet.model` in the safetensors metadata of every file `train`
/// (checkpoints, final weights, `--save`), `quantize` and `export-weights` write.
struct ModelDescription: Codable, Equatable {
    /// The metadata key.
    static let metadataKey = "regnet.model"

    /// The model flags, as `ModelSelection` reads them.
    var arguments: [String]
    /// The `.regnet` text a `--declaration` names (nil otherwise).
    var declaration: String?
    /// Input height and width the weights were made at.
    var height: Int, width: Int

    /// The description as metadata for a safetensors file.
    var metadata: [String: String] {
        let encoder = JSONEncoder()
        encoder.outputFormatting = .sortedKeys
        guard let json = try? encoder.encode(self) else { return [:] }
        return [Self.metadataKey: String(decoding: json, as: UTF8.self)]
    }

    /// The flags as a user would type them (with the input size), for messages.
    var flags: String { (arguments + ["--resolution", height == width ? "\(height)" : "\(height)x\(width)"]).joined(separator: " ") }

    /// The description `path` records, nil when it records none (a file from timm, pycls or torchvision,
    /// or one written before descriptions were stored). A damaged one is an error naming the file.
    static func read(from path: String) throws -> ModelDescription? {
        let metadata: [String: String]
        do { metadata = try SafeTensors.metadata(contentsOf: URL(fileURLWithPath: path)) } catch { throw RuntimeError(error.description) }
        guard let text = metadata[metadataKey] else { return nil }
        guard let description = try? JSONDecoder().decode(ModelDescription.self, from: Data(text.utf8)),
              description.height >= 1, description.width >= 1 else {
            throw RuntimeError("\(path): its network description (\(metadataKey) in the metadata) cannot be read; give the model flags")
        }
        return description
    }

    /// The model the description declares (`path` names the file in messages).
    func model(recordedIn path: String) throws -> SelectedModel {
        var args = Arguments(arguments)
        let selected: SelectedModel?
        do {
            selected = try ModelSelection.parseGiven(&args, declarationText: declaration)
            try args.finish()
        } catch {
            throw RuntimeError("\(path) records its network as '\(arguments.joined(separator: " "))', which does not declare one: \(error)")
        }
        guard let selected else { throw RuntimeError("\(path) records an empty network description; give the model flags") }
        return selected
    }
}
