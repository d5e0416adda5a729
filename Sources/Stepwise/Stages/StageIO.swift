import Foundation

/// Where a stored artifact's bytes are: small payloads inline (from SQLite, or a file a job
/// was handed), large ones as a folder beside the store, read by path.
public enum ArtifactLocation: Sendable, Codable, Equatable {
    case inline(Data)
    case file(URL)
    case folder(URL)
}

/// What a stage's `run` reads: its inputs by role, and the services that cannot change an
/// artifact (the thread budget is only a speed knob: results do not depend on it).
public final class StageInputs: @unchecked Sendable {
    /// Roles in plan order, with where each artifact is.
    public let artifacts: [(role: String, location: ArtifactLocation)]
    /// Threads this stage may use. Never changes a number (the trainer's results do not depend on it).
    public let threads: Int
    /// Updates the live status of this stage (a training step, a request count).
    public let status: (String) -> Void
    /// The teacher-request cache, when the stage runs where the store is.
    public let teacherCache: ((_ model: String, _ api: String) throws -> StoreTeacherCache)?
    let label: String

    public init(label: String, artifacts: [(role: String, location: ArtifactLocation)], threads: Int,
                status: @escaping (String) -> Void = { _ in },
                teacherCache: ((String, String) throws -> StoreTeacherCache)? = nil) {
        self.label = label
        self.artifacts = artifacts
        self.threads = threads
        self.status = status
        self.teacherCache = teacherCache
    }

    public func has(_ role: String) -> Bool { artifacts.contains { $0.role == role } }

    func location(_ role: String) throws -> ArtifactLocation {
        guard let a = artifacts.first(where: { $0.role == role }) else {
            throw StepwiseError("\(label): missing input `\(role)`")
        }
        return a.location
    }

    /// A small artifact's bytes.
    public func data(_ role: String) throws -> Data {
        switch try location(role) {
        case .inline(let d): return d
        case .file(let url): return try ArtifactFiles.read(url, what: "\(role) input of \(label)")
        case .folder(let url): return try ArtifactFiles.read(url.appendingPathComponent(ArtifactFiles.payloadName), what: "\(role) input of \(label)")
        }
    }

    public func decode<T: Decodable>(_ role: String, as type: T.Type) throws -> T {
        try ArtifactCodec.decode(type, from: try data(role), what: "\(role) input of \(label)")
    }

    /// A folder artifact (a checkpoint), read in place.
    public func folder(_ role: String) throws -> URL {
        guard case .folder(let url) = try location(role) else {
            throw StepwiseError("\(label): input `\(role)` is not a folder artifact (a store from an older Stepwise? run `stepwise gc`)")
        }
        return url
    }

    /// Inputs whose roles are not fixed names (the report's evaluations), in plan order.
    public func decodeAll<T: Decodable>(except roles: Set<String>, as type: T.Type) throws -> [(String, T)] {
        try artifacts.filter { !roles.contains($0.role) }.map { ($0.role, try decode($0.role, as: type)) }
    }
}

/// Where a stage puts its artifact: a small payload (`write`), or files in `folder` (a
/// checkpoint). The executor stores it: inline in SQLite when small, else the folder is
/// fsynced and renamed into the store's artifact directory.
public final class StageOutput: @unchecked Sendable {
    /// A scratch folder on the artifact directory's file system (so moving it in is a rename).
    public let folder: URL
    public private(set) var payload: Data?

    public init(folder: URL) { self.folder = folder }

    public func write(_ data: Data) { payload = data }
    public func write<T: Encodable>(_ value: T) throws { payload = try ArtifactCodec.encode(value) }
}

extension JSONDecoder {
    /// Reads what `JSONValue(encoding:)` wrote (snake_case keys).
    static var snakeCase: JSONDecoder {
        let d = JSONDecoder()
        d.keyDecodingStrategy = .convertFromSnakeCase
        return d
    }
}

/// Artifacts are JSON unless a stage writes a folder.
public enum ArtifactCodec {
    public static func encode<T: Encodable>(_ value: T) throws -> Data {
        let e = JSONEncoder()
        e.outputFormatting = [.sortedKeys]
        return try e.encode(value)
    }

    public static func decode<T: Decodable>(_ type: T.Type, from data: Data, what: String) throws -> T {
        do { return try JSONDecoder().decode(type, from: data) } catch {
            throw StepwiseError("cannot read the \(what) (\(error)); `stepwise gc` and re-run if the store is from an older Stepwise")
        }
    }
}
