// The tool behind the RegNetDeclarations and RegNetSummary plugins. It links the same Declarations
// library as the package (and through it the DSL's own checks), so the rules exist once.
//
//   DeclarationCompiler generate FILE.regnet OUTPUT.swift     check, and write the Swift (nothing on errors)
//   DeclarationCompiler registry OUTPUT.swift FILE.regnet …   the target's RegNetDeclarations.all
//   DeclarationCompiler summary FILE.regnet …                 summary table of every declaration
//
// Diagnostics go to standard error as `path:line:column: error: message`, which SwiftPM and IDEs show
// at the line; any error makes the tool exit 1, which fails the build.
import DeclarationFormat
import Foundation
import NetworkIR

func fail(_ message: String) -> Never {
    FileHandle.standardError.write(Data("DeclarationCompiler: error: \(message)\n".utf8))
    exit(1)
}

func load(_ path: String) -> DeclarationFile {
    guard let data = FileManager.default.contents(atPath: path), let text = String(data: data, encoding: .utf8) else {
        fail("cannot read \(path)")
    }
    return DeclarationFile(parsing: text)
}

func report(_ file: DeclarationFile, path: String) {
    for d in file.diagnostics {
        FileHandle.standardError.write(Data((d.formatted(path: path) + "\n").utf8))
    }
}

func write(_ text: String, to path: String) {
    do { try Data(text.utf8).write(to: URL(fileURLWithPath: path), options: .atomic) } catch { fail("cannot write \(path): \(error)") }
}

var arguments = Array(CommandLine.arguments.dropFirst())
guard !arguments.isEmpty else { fail("usage: DeclarationCompiler generate|registry|summary …") }
switch arguments.removeFirst() {
case "generate":
    guard arguments.count == 2 else { fail("usage: DeclarationCompiler generate FILE.regnet OUTPUT.swift") }
    let file = load(arguments[0])
    report(file, path: arguments[0])
    if file.hasErrors { exit(1) }
    write(SwiftGenerator.source(for: file, sourceName: URL(fileURLWithPath: arguments[0]).lastPathComponent), to: arguments[1])
case "registry":
    guard arguments.count >= 1 else { fail("usage: DeclarationCompiler registry OUTPUT.swift FILE.regnet …") }
    let output = arguments.removeFirst()
    var names: [(String, String)] = []
    var owner: [String: String] = [:]
    for path in arguments {
        let file = load(path)
        for d in file.declarations where file.networks[d.name] != nil {
            if let other = owner[d.name] {
                fail("\(path): '\(d.name)' is also declared in \(other)")
            }
            owner[d.name] = path
            names.append((d.name, d.propertyName))
        }
    }
    write(SwiftGenerator.registry(names: names), to: output)
case "summary":
    var failed = false
    for path in arguments {
        let file = load(path)
        report(file, path: path)
        failed = failed || file.hasErrors
        print("== \(path)")
        for d in file.declarations {
            guard let network = file.networks[d.name], let graph = try? network.network(name: d.name).lower() else { continue }
            print(Summary(graph).table + "\n")
        }
    }
    if failed { exit(1) }
case let other:
    fail("unknown command '\(other)' (generate, registry or summary)")
}
