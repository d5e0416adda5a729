import Foundation

/// `gc`: artifacts that no spec under `Experiments/` reaches any more.
public enum GarbageCollector {
    public struct Finding {
        public var unreachable: [ArtifactSummary]
        public var bytes: Int { unreachable.reduce(0) { $0 + $1.size } }
    }

    /// Plans every spec; refuses when one does not parse, since its artifacts would look unreachable.
    /// With `skipInvalid`, specs that do not parse are left out (their artifacts may be dropped).
    public static func find(store: Store, specs: [URL], root: URL, skipInvalid: Bool = false,
                            warn: (String) -> Void = { _ in }) throws -> Finding {
        var reachable = Set<String>()
        var problems: [String] = []
        for spec in specs {
            do {
                let e = try SpecParser.load(file: spec.path, root: root)
                for s in try Planner.plan(e).stages { reachable.insert(s.key) }
            } catch {
                problems.append("\(spec.path): \(error)")
            }
        }
        if skipInvalid {
            for p in problems { warn("skipping invalid spec: \(p.split(separator: "\n").first ?? "")") }
        } else if !problems.isEmpty {
            throw StepwiseError("gc needs every spec to be valid, so that it never drops an artifact a spec still uses:\n"
                                + problems.joined(separator: "\n")
                                + "\n(fix them, or pass --skip-invalid to collect as if they did not exist)")
        }
        return Finding(unreachable: try store.summaries().filter { !reachable.contains($0.key) })
    }

    /// Every spec under `Experiments/`, in sub-folders too (`Experiments/paper/`).
    public static func specs(in root: URL) -> [URL] {
        let dir = root.appendingPathComponent("Experiments")
        let names = FileManager.default.enumerator(atPath: dir.path)?.compactMap { $0 as? String } ?? []
        return names.filter { $0.hasSuffix(".yaml") || $0.hasSuffix(".yml") }.sorted().map { dir.appendingPathComponent($0) }
    }
}

extension GarbageCollector {
    /// Folders under the artifact directory that no row indexes: scratch output of stages that
    /// were killed (`tmp/`, `jobs/`), and folders renamed into place by a run that died before
    /// writing their row. Only safe to drop while no run holds the store (gc takes its lock).
    public static func orphanFolders(store: Store) throws -> [(url: URL, bytes: Int)] {
        let dir = store.artifactDirectory
        let fm = FileManager.default
        guard fm.fileExists(atPath: dir.path) else { return [] }
        let indexed = Set(try store.folderArtifacts().compactMap(\.location))
        // Cluster jobs outlive their coordinator: their folders are not scratch until they end.
        let inUse = try store.jobFoldersInUse()
        var out: [(URL, Int)] = []
        for top in (try? fm.contentsOfDirectory(atPath: dir.path))?.sorted() ?? [] {
            let topURL = dir.appendingPathComponent(top)
            for name in (try? fm.contentsOfDirectory(atPath: topURL.path))?.sorted() ?? [] {
                let rel = "\(top)/\(name)"
                if top != "tmp" && top != "jobs" && indexed.contains(rel) { continue }
                if top == "jobs" && inUse.contains(topURL.appendingPathComponent(name).standardizedFileURL.path) { continue }
                out.append((topURL.appendingPathComponent(name), bytes(under: topURL.appendingPathComponent(name))))
            }
        }
        return out
    }

    static func bytes(under url: URL) -> Int {
        guard let e = FileManager.default.enumerator(at: url, includingPropertiesForKeys: [.fileSizeKey]) else { return 0 }
        var total = 0
        for case let f as URL in e { total += (try? f.resourceValues(forKeys: [.fileSizeKey]).fileSize) ?? 0 }
        return total
    }
}
