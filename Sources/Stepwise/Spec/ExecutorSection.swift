import Foundation
import Yams

/// `executor:` — resources for `--executor slurm` (see `SlurmSettings`). Read from the spec
/// and from the user's config file, with positions like every other section. Never part of a key.
public enum ExecutorSection {
    static let keys = ["partition", "account", "time", "cpus", "memory", "sbatch_flags", "setup", "max_jobs", "max_retries",
                       "poll_interval"]

    /// Reads the section, reporting problems to `reader`; also returns which keys were written.
    static func read(_ node: Node?, reader: SpecReader, at path: String = "executor") -> (SlurmSettings, Set<String>)? {
        guard let node else { return (SlurmSettings(), []) }
        guard let f = reader.fields(node, at: path, allowed: keys) else { return nil }
        var s = SlurmSettings()
        s.partition = f.string("partition")
        s.account = f.string("account")
        s.time = perKind(f, "time") { node, at in
            guard let text = node.scalar?.string, text.range(of: #"^(\d+-)?\d+(:\d+){0,2}$"#, options: .regularExpression) != nil else {
                reader.fail(node, at, "expected a Slurm time limit (`30`, `1:30:00`, `2-00:00:00`), found \(SpecReader.describe(node))")
                return nil
            }
            return text
        }
        s.cpus = perKind(f, "cpus") { node, at in Fields.int(node, at: at, reader: reader, min: 1) }
        s.memory = perKind(f, "memory") { node, at in
            guard let text = node.scalar?.string, text.range(of: #"^\d+[KMGTkmgt]?$"#, options: .regularExpression) != nil else {
                reader.fail(node, at, "expected a memory size (`4G`, `500M`), found \(SpecReader.describe(node))")
                return nil
            }
            return text
        }
        s.sbatchFlags = strings(f, "sbatch_flags") ?? []
        for (i, flag) in s.sbatchFlags.enumerated() where !flag.hasPrefix("-") {
            reader.fail(f.value("sbatch_flags"), "\(f.path("sbatch_flags"))[\(i)]", "expected an sbatch flag like `--qos=low`, found `\(flag)`")
        }
        s.setup = strings(f, "setup") ?? []
        s.maxJobs = f.int("max_jobs", min: 1)
        s.maxRetries = f.int("max_retries", min: 0) ?? s.maxRetries
        if let p = f.double("poll_interval") {
            if p < 0.5 { reader.fail(f.value("poll_interval"), f.path("poll_interval"), "expected at least 0.5 seconds, found \(p)") }
            s.pollInterval = p
        }
        return (s, Set(f.order))
    }

    /// A scalar for every cluster kind, or a mapping from kind (`train`, `evaluate`) to a value.
    private static func perKind<V>(_ f: Fields, _ key: String, _ parse: (Node, String) -> V?) -> SlurmSettings.PerKind<V> {
        guard let node = f.value(key) else { return .init() }
        if case .mapping = node {
            let kinds = SlurmSettings.clusterKinds.map(\.rawValue).sorted()
            guard let m = f.reader.fields(node, at: f.path(key), allowed: kinds) else { return .init() }
            var byKind: [StageKind: V] = [:]
            for k in m.order { if let v = m.value(k).flatMap({ parse($0, m.path(k)) }) { byKind[StageKind(rawValue: k)] = v } }
            return .init(byKind: byKind)
        }
        return .init(all: parse(node, f.path(key)))
    }

    private static func strings(_ f: Fields, _ key: String) -> [String]? {
        f.scalarList(key)?.map(\.1)
    }

    /// The settings for a spec: the user's config file, then the spec's `executor:` section.
    public static func settings(specFile: String, environment: [String: String] = ProcessInfo.processInfo.environment) throws -> SlurmSettings {
        var settings = SlurmSettings()
        let config = environment["STEPWISE_CONFIG"]
            ?? URL(fileURLWithPath: environment["HOME"] ?? NSHomeDirectory()).appendingPathComponent(".config/stepwise/config.yaml").path
        if FileManager.default.fileExists(atPath: config) {
            let (s, present) = try section(inFile: config, topKeys: ["executor"])
            settings = settings.overlaid(with: s, present: present)
        }
        let (s, present) = try section(inFile: specFile, topKeys: nil)
        return settings.overlaid(with: s, present: present)
    }

    /// The `executor:` section of a YAML file; `topKeys` checks the file's other keys too (a
    /// config file has only this section; a spec was validated by `SpecParser`).
    static func section(inFile file: String, topKeys: [String]?) throws -> (SlurmSettings, Set<String>) {
        let reader = SpecReader(file: file)
        guard let text = try? String(contentsOfFile: file, encoding: .utf8) else {
            throw SpecError(issues: [SpecIssue(file: file, line: 1, column: 1, path: "", message: "cannot read the file")])
        }
        let document: Node?
        do { document = try Yams.compose(yaml: text) } catch let error as YamlError {
            throw SpecError(issues: [SpecParser.yamlIssue(error, file: file)])
        }
        guard let document else { return (SlurmSettings(), []) }
        let node: Node?
        if let topKeys {
            node = reader.fields(document, at: "", allowed: topKeys)?.value("executor")
        } else if case .mapping(let m) = document {
            node = m.first { $0.key.scalar?.string == "executor" }?.value
        } else {
            node = nil
        }
        let read = ExecutorSection.read(node, reader: reader)
        guard reader.issues.isEmpty, let read else { throw SpecError(issues: reader.issues) }
        return read
    }
}
