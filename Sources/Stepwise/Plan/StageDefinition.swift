import Foundation

/// The name of a kind of stage (`dataset`, `train`, …). Open, not an enum: a new stage kind is
/// one new `StageDefinition` plus one line in `StageRegistry`, and nothing switches on kinds.
public struct StageKind: RawRepresentable, Hashable, Codable, Sendable, ExpressibleByStringLiteral, CustomStringConvertible {
    public let rawValue: String
    public init(rawValue: String) { self.rawValue = rawValue }
    public init(stringLiteral value: String) { rawValue = value }
    public var description: String { rawValue }

    /// Every registered kind, in pipeline order (for `status` and the report's cost table).
    public static var allCases: [StageKind] { StageRegistry.definitions.map { $0.kind } }
}

/// One kind of stage: its typed params (everything that can change its artifact: they *are*
/// the key), its settings (what cannot change the artifact — absolute paths of files whose
/// content hash is in the params, a server's address, how many requests are in flight), its
/// version, its cost estimate and its run function. `run` receives nothing else: no spec, no
/// store, no thread count that could change a number. So "the key covers everything that
/// changes the artifact" holds by construction, and a stage can run in another process from
/// its job file alone (`stepwise exec-stage`).
public protocol StageDefinition {
    associatedtype Params: Codable & Sendable
    associatedtype Settings: Codable & Sendable = NoSettings

    static var kind: StageKind { get }
    /// Bumped when a change to `run` changes what it produces; exactly those stages re-run.
    static var version: Int { get }
    /// A relative cost (≈ multiply-adds), for longest-chain-first scheduling and `plan`'s
    /// estimate; calibrated against the durations the store has seen.
    static func estimatedCost(_ params: Params) -> Double
    /// The params as they enter the key: the snake_case JSON of `params`. Kinds planned by the
    /// thousand build it directly (it must equal `JSONValue(encoding: params)`; tested).
    static func keyParams(_ params: Params) -> JSONValue
    static func run(_ params: Params, settings: Settings, inputs: StageInputs, output: StageOutput) throws
}

extension StageDefinition {
    public static func estimatedCost(_ params: Params) -> Double { 0 }
    public static func keyParams(_ params: Params) -> JSONValue { JSONValue(encoding: params) }

    /// A runnable stage of this kind with these params.
    static func work(_ params: Params, settings: Settings) -> StageWork {
        work(params, settings: settings, cost: estimatedCost(params))
    }

    /// The same with a cost the planner estimated from more than the params (an embedded
    /// teacher's shape, which a train stage's params name but do not hold).
    static func work(_ params: Params, settings: Settings, cost: Double) -> StageWork {
        StageWork(kind: kind, version: version, keyParams: keyParams(params),
                  cost: cost,
                  encode: { try JobCodec.encoder.encode(JobPayload(params: params, settings: settings)) },
                  run: { inputs, output in try run(params, settings: settings, inputs: inputs, output: output) })
    }

    /// Decodes a job's params and settings (written by `work(_:settings:)` in another process).
    static func work(decoding data: Data) throws -> StageWork {
        let payload = try JobCodec.decoder.decode(JobPayload<Params, Settings>.self, from: data)
        return work(payload.params, settings: payload.settings)
    }
}

public struct NoSettings: Codable, Sendable, Hashable { public init() {} }

/// A stage's params and settings as a job carries them: plain JSON of the typed values (the
/// key uses the snake_case JSON of the same params; both encode the one value `run` receives).
struct JobPayload<P: Codable, S: Codable>: Codable {
    var params: P
    var settings: S
}

enum JobCodec {
    static var encoder: JSONEncoder { let e = JSONEncoder(); e.outputFormatting = [.sortedKeys]; return e }
    static var decoder: JSONDecoder { JSONDecoder() }
}

/// A stage of some kind, type-erased: what the scheduler and executors hold.
public struct StageWork: @unchecked Sendable {
    public let kind: StageKind
    public let version: Int
    /// The params as they enter the key (snake_case JSON, the spec's spelling).
    public let keyParams: JSONValue
    public let cost: Double
    /// Params + settings as a job file carries them.
    let encode: () throws -> Data
    let run: (StageInputs, StageOutput) throws -> Void
}

/// Key JSON of values shared by many stages of a plan (a size, the training recipe), encoded
/// once: Foundation's encoder round trip per stage made `plan` of a large sweep slow.
enum SharedKeyJSON {
    private static let lock = NSLock()
    nonisolated(unsafe) private static var cache: [AnyHashable: JSONValue] = [:]

    static func of<T: Encodable & Hashable>(_ value: T) -> JSONValue {
        lock.lock(); defer { lock.unlock() }
        if let hit = cache[AnyHashable(value)] { return hit }
        let json = JSONValue(encoding: value)
        if cache.count > 4096 { cache.removeAll() }
        cache[AnyHashable(value)] = json
        return json
    }
}
