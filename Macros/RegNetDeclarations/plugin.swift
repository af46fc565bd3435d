// Build-tool plugin: every `*.regnet` file of a target becomes a generated Swift file of `Network`
// properties, plus one registry (`RegNetDeclarations.all`) for the target. Checking happens in the
// DeclarationCompiler tool, so errors carry the .regnet file's line and column and fail the build.
import Foundation
import PackagePlugin

@main
struct RegNetDeclarationsPlugin: BuildToolPlugin {
    func createBuildCommands(context: PluginContext, target: Target) throws -> [Command] {
        guard let target = target as? SourceModuleTarget else { return [] }
        let tool = try context.tool(named: "DeclarationCompiler")
        let files = target.sourceFiles(withSuffix: "regnet").map(\.url)
        guard !files.isEmpty else { return [] }
        var commands: [Command] = files.map { file in
            let base = file.deletingPathExtension().lastPathComponent
            let output = context.pluginWorkDirectoryURL.appending(path: "\(base).regnet.swift")
            return .buildCommand(displayName: "Checking and generating \(file.lastPathComponent)",
                                 executable: tool.url,
                                 arguments: ["generate", file.path(percentEncoded: false), output.path(percentEncoded: false)],
                                 inputFiles: [file], outputFiles: [output])
        }
        let registry = context.pluginWorkDirectoryURL.appending(path: "RegNetDeclarations.registry.swift")
        commands.append(.buildCommand(displayName: "Generating the RegNetDeclarations registry",
                                      executable: tool.url,
                                      arguments: ["registry", registry.path(percentEncoded: false)] + files.map { $0.path(percentEncoded: false) },
                                      inputFiles: files, outputFiles: [registry]))
        return commands
    }
}
