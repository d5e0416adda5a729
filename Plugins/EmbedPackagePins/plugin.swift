import Foundation
import PackagePlugin

/// Writes the dependency versions pinned in Package.resolved into the Stepwise module at build
/// time, so an installed binary reports what it was built with (the report's versions section)
/// without needing the source tree.
@main
struct EmbedPackagePins: BuildToolPlugin {
    func createBuildCommands(context: PluginContext, target: Target) throws -> [Command] {
        let resolved = context.package.directoryURL.appending(path: "Package.resolved")
        let output = context.pluginWorkDirectoryURL.appending(path: "PackagePins.swift")
        let present = FileManager.default.fileExists(atPath: resolved.path)
        return [.buildCommand(displayName: "Embedding dependency versions from Package.resolved",
                              executable: try context.tool(named: "PackagePinsTool").url,
                              arguments: [resolved.path, output.path],
                              inputFiles: present ? [resolved] : [], outputFiles: [output])]
    }
}
