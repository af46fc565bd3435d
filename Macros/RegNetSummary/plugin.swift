// Command plugin: `swift package regnet-summary [--target NAME …]` prints the summary table of every
// declaration in the package's .regnet files (or in the named targets').
import Foundation
import PackagePlugin

@main
struct RegNetSummaryPlugin: CommandPlugin {
    func performCommand(context: PluginContext, arguments: [String]) async throws {
        var extractor = ArgumentExtractor(arguments)
        let names = extractor.extractOption(named: "target")
        let targets = names.isEmpty ? context.package.targets : try context.package.targets(named: names)
        let files = targets.compactMap { $0 as? SourceModuleTarget }
            .flatMap { $0.sourceFiles(withSuffix: "regnet").map { $0.url.path(percentEncoded: false) } }
        guard !files.isEmpty else {
            print("no .regnet files in \(names.isEmpty ? "the package" : names.joined(separator: ", "))")
            return
        }
        let process = Process()
        process.executableURL = try context.tool(named: "DeclarationCompiler").url
        process.arguments = ["summary"] + files
        try process.run()
        process.waitUntilExit()
        if process.terminationStatus != 0 {
            Diagnostics.error("some declarations have errors (see above)")
        }
    }
}
