// Build step for the package's own examples: lowers every Swift-declared network of ExampleNetworks
// with the same code users run, and reports lowering errors at the Swift line that declared the stage
// or block (`file:line:column: error: …`), failing the build. On success it writes the stamp file
// SwiftPM expects as this step's output.
import ExampleNetworks
import Foundation
import RegNet

guard CommandLine.arguments.count == 2 else {
    FileHandle.standardError.write(Data("usage: RegNetCheck STAMP.swift\n".utf8))
    exit(2)
}
var failed = false
for (network, resolution) in ExampleNetworks.all {
    do {
        _ = try network.lower(resolution: resolution)
    } catch {
        let location = error.location.map { "\($0.filePath):\($0.line):\($0.column): " } ?? ""
        let path = error.path.isEmpty ? "" : error.path.joined(separator: ", ") + ": "
        FileHandle.standardError.write(Data("\(location)error: \(network.name): \(path)\(error.message)\n".utf8))
        failed = true
    }
}
if failed { exit(1) }
let stamp = "// Checked by RegNetCheck: \(ExampleNetworks.all.count) example networks lower without errors.\n"
try Data(stamp.utf8).write(to: URL(fileURLWithPath: CommandLine.arguments[1]), options: .atomic)
