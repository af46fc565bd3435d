// Build-tool plugin for the package's examples: runs RegNetCheck, which lowers the Swift-declared
// example networks and fails the build at the declaring line when one is invalid. SwiftPM re-runs it
// whenever the tool (and so the networks it links) changes.
import Foundation
import PackagePlugin

@main
struct RegNetCheckPlugin: BuildToolPlugin {
    func createBuildCommands(context: PluginContext, target: Target) throws -> [Command] {
        let stamp = context.pluginWorkDirectoryURL.appending(path: "RegNetCheck.stamp.swift")
        return [.buildCommand(displayName: "Checking the Swift-declared example networks",
                              executable: try context.tool(named: "RegNetCheck").url,
                              arguments: [stamp.path(percentEncoded: false)],
                              outputFiles: [stamp])]
    }
}
