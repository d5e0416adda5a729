import ArgumentParser
import Foundation
import Stepwise

struct GCCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "gc",
        abstract: "Drop artifacts that no spec under Experiments/ reaches.")

    @Option(help: "The project root holding Experiments/ (default: the current directory).")
    var root: String = "."

    @Option(help: "The SQLite store (default: .stepwise/store.sqlite at the project root).")
    var store: String?

    @Flag(help: "List what would be dropped and how many bytes, and drop nothing.")
    var dryRun = false

    @Flag(help: "Leave out specs that do not parse (e.g. datasets not downloaded) instead of refusing.")
    var skipInvalid = false

    func run() throws {
        let rootURL = URL(fileURLWithPath: root).standardizedFileURL
        let url = store.map { URL(fileURLWithPath: $0) } ?? Store.defaultURL(root: rootURL)
        guard FileManager.default.fileExists(atPath: url.path) else { print("no store at \(url.path)"); return }
        let specs = GarbageCollector.specs(in: rootURL)
        // gc must not race a run that is about to store what it plans.
        let lock = try StoreLock(store: url, mode: .fail)
        let db = try Store(url: url)
        let finding = try GarbageCollector.find(store: db, specs: specs, root: rootURL, skipInvalid: skipInvalid,
                                                   warn: { printError($0) })
        for a in finding.unreachable { print("\(dryRun ? "would drop" : "drop") \(a.key.prefix(10)) \(a.kind.rawValue) \(a.label) (\(a.size) bytes)") }
        if !dryRun, !finding.unreachable.isEmpty {
            try db.delete(keys: finding.unreachable.map(\.key))
            try db.vacuum()
        }
        // Folders no row indexes (scratch of killed stages, a folder whose row was never written).
        let orphans = try GarbageCollector.orphanFolders(store: db)
        for o in orphans {
            print("\(dryRun ? "would remove" : "remove") unindexed folder \(o.url.path) (\(o.bytes) bytes)")
            if !dryRun { try? FileManager.default.removeItem(at: o.url) }
        }
        let orphanBytes = orphans.reduce(0) { $0 + $1.bytes }
        print("\(finding.unreachable.count) unreachable artifact(s), \(finding.bytes + orphanBytes) bytes\(dryRun ? " (dry run: nothing dropped)" : " dropped") — \(specs.count) spec(s) checked")
        withExtendedLifetime(lock) {}
    }
}
