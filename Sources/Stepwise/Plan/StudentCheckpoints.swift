import Foundation
import Trainer

/// A pretrained size's checkpoint, found and checked before anything trains: what `plan` shows
/// and what the train stage's key and settings are built from.
public struct PretrainedCheckpoint: Sendable {
    public var size: String
    public var source: CheckpointSource
    /// The folder read: the spec's folder, or a hub id's snapshot folder in the hub cache.
    public var folder: URL
    public var config: T5Config
    public var parameterCount: Int
    /// The tokenizer's ids (≤ the embedding's rows, checked).
    public var tokenizerVocabulary: Int
    /// sha256 of the tokenizer's pieces in id order: two checkpoints share a vocabulary when equal.
    public var vocabularyDigest: String
    /// config.json, the weight files, the tokenizer files: what `identity` covers and the stage re-checks.
    public var files: [URL]
    public var identity: CheckpointIdentity

    /// Where the weights come from, for `plan`: `google/t5-v1_1-small@<commit> (<snapshot folder>)` or the folder.
    public var origin: String {
        switch source.location {
        case .hub(let id): return "\(id)@\(identity.commit ?? "?") (\(folder.path))"
        case .folder: return folder.path
        }
    }

    /// The size's shape as the checkpoint's config gives it (the spec's size only names it).
    func size(named name: String) -> StudentSize {
        StudentSize(name: name, dModel: config.dModel, layers: config.numLayers, decoderLayers: config.numDecoderLayers,
                    heads: config.numHeads, dKv: config.dKv, dFF: config.dFF, initFrom: source)
    }
}

/// Finds and checks the checkpoint of every pretrained size the sweep uses. Every problem is a
/// spec error at the size's `init:` field, naming the file: no such folder, no config.json, an
/// unsupported architecture, no or broken weights, no tokenizer, a tokenizer with more ids than
/// the embedding has rows, a hub id that is not cached (offline) or cannot be fetched.
public struct StudentCheckpoints: Sendable {
    public var bySize: [String: PretrainedCheckpoint]

    public init(bySize: [String: PretrainedCheckpoint]) { self.bySize = bySize }

    /// The pretrained sizes that train (swept, or an embedded teacher), in spec order.
    static func pretrainedSizes(_ e: Experiment) -> [(name: String, source: CheckpointSource)] {
        let trained = e.trainedSizes
        return e.student.sizes.compactMap { s in
            guard let source = s.initFrom, trained.contains(s.name) else { return nil }
            return (s.name, source)
        }
    }

    /// Without the network: folders, and hub ids already in the local hub cache.
    public static func resolveCached(_ e: Experiment,
                                     environment: [String: String] = ProcessInfo.processInfo.environment) throws -> StudentCheckpoints {
        try check(e) { id in try HubCheckpoints.cached(id, environment: environment) }
    }

    /// Hub ids missing from the cache are downloaded into it, unless `offline` (or
    /// `HF_HUB_OFFLINE=1`), when the error says where it looked and how to fetch them.
    public static func resolve(_ e: Experiment, offline: Bool,
                               environment: [String: String] = ProcessInfo.processInfo.environment,
                               progress: @escaping @Sendable (String) -> Void = { _ in }) async throws -> StudentCheckpoints {
        var snapshots: [String: Result<HubSnapshot, Error>] = [:]
        for (_, source) in pretrainedSizes(e) {
            guard case .hub(let id) = source.location, snapshots[id] == nil else { continue }
            do {
                snapshots[id] = .success(try await HubCheckpoints.resolve(id, offline: offline, environment: environment, progress: progress))
            } catch {
                snapshots[id] = .failure(error)
            }
        }
        return try check(e) { id in try snapshots[id]!.get() }
    }

    static func check(_ e: Experiment, hub: (String) throws -> HubSnapshot) throws -> StudentCheckpoints {
        var found: [String: PretrainedCheckpoint] = [:]
        var issues: [SpecIssue] = []
        for (name, source) in pretrainedSizes(e) {
            do {
                found[name] = try checkpoint(name, source: source, hub: hub)
            } catch {
                var message = describe(error)
                if case .hub = source.location {
                    // `models/t5` is a hub id when no such folder exists: say so, in case a folder was meant.
                    let folder = URL(fileURLWithPath: source.file).standardizedFileURL.deletingLastPathComponent()
                        .appendingPathComponent(source.written).path
                    message += "\n(`\(source.written)` was read as a hub id: there is no folder \(folder))"
                }
                issues.append(source.issue(message))
            }
        }
        guard issues.isEmpty else { throw SpecError(issues: issues) }
        try checkTeacherVocabularies(e, found)
        return StudentCheckpoints(bySize: found)
    }

    /// An embedded teacher's logits are matched token by token: a pretrained teacher and a
    /// pretrained student need one vocabulary (the same pieces in the same order), else an error
    /// at the teacher size's `init:`.
    static func checkTeacherVocabularies(_ e: Experiment, _ found: [String: PretrainedCheckpoint]) throws {
        var issues: [SpecIssue] = []
        for teacher in e.teacherStudents.sorted(by: { $0.size < $1.size }) {
            guard let t = found[teacher.size] else { continue }
            for name in e.sweep.sizes where name != teacher.size {
                guard let s = found[name] else { continue }
                if t.config.vocabSize != s.config.vocabSize || t.vocabularyDigest != s.vocabularyDigest {
                    issues.append(t.source.issue("the teacher size `\(teacher.size)` and the student size `\(name)` do not share a "
                        + "vocabulary (\(t.tokenizerVocabulary) pieces and \(t.config.vocabSize) embedding rows against "
                        + "\(s.tokenizerVocabulary) and \(s.config.vocabSize), or other pieces): knowledge distillation matches "
                        + "their token distributions, so both need one tokenizer"))
                }
            }
        }
        guard issues.isEmpty else { throw SpecError(issues: issues) }
    }

    static func checkpoint(_ name: String, source: CheckpointSource,
                           hub: (String) throws -> HubSnapshot) throws -> PretrainedCheckpoint {
        let folder: URL, commit: String?
        switch source.location {
        case .folder(let path):
            var isDirectory: ObjCBool = false
            guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory), isDirectory.boolValue else {
                throw StepwiseError("no checkpoint folder at \(path)")
            }
            folder = URL(fileURLWithPath: path)
            commit = nil
        case .hub(let id):
            let snapshot = try hub(id)
            folder = snapshot.folder
            commit = snapshot.commit
        }
        let checkpoint = try T5Checkpoint.open(folder: folder)
        let tokenizer = try PretrainedFolder.tokenizer(in: folder)
        guard tokenizer.vocabularySize <= checkpoint.config.vocabSize else {
            let tokenizerFile = ["tokenizer.json", "spiece.model"].map { folder.appendingPathComponent($0) }
                .first { FileManager.default.fileExists(atPath: $0.path) }!
            throw StepwiseError("\(tokenizerFile.path) has \(tokenizer.vocabularySize) ids but \(folder.appendingPathComponent("config.json").path) gives the embedding \(checkpoint.config.vocabSize) rows (vocab_size): the tokenizer does not belong to these weights")
        }
        let files = PretrainedFolder.files(of: checkpoint)
        return PretrainedCheckpoint(size: name, source: source, folder: folder, config: checkpoint.config,
                                    parameterCount: checkpoint.config.parameterCount, tokenizerVocabulary: tokenizer.vocabularySize,
                                    vocabularyDigest: Hashing.sha256Hex(tokenizer.pieces.joined(separator: "\n")),
                                    files: files, identity: try CheckpointIdentity.of(files: files, commit: commit))
    }

    static func describe(_ error: Error) -> String {
        if let e = error as? SpecError { return e.issues.map(\.message).joined(separator: "; ") }
        return "\(error)"
    }
}
