import Foundation

/// Asks a teacher for new examples until a cell has `perExample ×` its real examples kept, or
/// until `maxRequestFactor ×` the requests that would take if nothing were rejected.
///
/// Requests are numbered 0, 1, …, and request i's prompt depends only on i and the cell's
/// subsample (`GenerationShots`). Completions are read in request order and reading stops at
/// the first request after which enough are kept; requests are sent in batches, and a batch's
/// requests past that point are answered (and cached) but not read. So the artifact does not
/// depend on batch sizes or concurrency, and an interrupted generation, re-run, reads the same
/// completions from the request cache.
public struct GenerationRun {
    public var examples: [Example]
    public var shots: Int
    public var perRequest: Int
    public var dataFraction: Double
    public var seed: Int
    public var perExample: Int

    /// How many requests past the nominal number a generation may send when candidates are rejected.
    public static let maxRequestFactor = 3
    /// The first batch is small, so a prompt that yields nothing readable fails after a few requests.
    public static let firstBatch = 4

    public var target: Int { perExample * examples.count }
    /// Requests if every candidate were kept.
    public var nominalRequests: Int { Self.nominalRequests(target: target, perRequest: perRequest) }
    public var maxRequests: Int { Self.maxRequestFactor * nominalRequests }

    public static func nominalRequests(target: Int, perRequest: Int) -> Int { (target + perRequest - 1) / max(1, perRequest) }

    /// The examples request `index` shows the teacher.
    public func shown(_ index: Int) -> [Example] {
        GenerationShots.pick(examples, shots: shots, fraction: dataFraction, seed: seed, request: index)
    }

    /// `complete` answers a batch of request indices, in order.
    public func run(filter: GenerationFilter, what: String,
                    complete: ([Int]) throws -> [CachedTeacherResponse]) throws -> GenerationArtifact {
        var filter = filter
        var out = GenerationArtifact(dataFraction: dataFraction, seed: seed, perExample: perExample, realExamples: examples.count,
                                     target: target, requests: 0, promptTokens: 0, completionTokens: 0, candidates: [])
        var kept = 0, next = 0
        var firstOutputs: [String] = []
        while kept < target && next < maxRequests {
            let size = next == 0 ? min(Self.firstBatch, maxRequests)
                                 : min(maxRequests - next, max(1, (target - kept + perRequest - 1) / perRequest))
            let indices = Array(next..<(next + size))
            let responses = try complete(indices)
            next += size
            for (i, r) in zip(indices, responses) where kept < target {
                out.requests += 1
                out.promptTokens += r.promptTokens ?? 0
                out.completionTokens += r.completionTokens ?? 0
                if firstOutputs.count < 3 { firstOutputs.append(r.text) }
                for (j, block) in GeneratedExampleParser.blocks(r.text).enumerated() {
                    let c = filter.judge(block, id: "gen-\(i)-\(j)", request: i)
                    if c.verdict == .kept { kept += 1 }
                    out.candidates.append(c)
                }
            }
            try Self.checkParsable(out, firstOutputs: firstOutputs, what: what)
        }
        return out
    }

    /// A prompt whose completions hold no example with a readable label fails the stage with
    /// the first few raw outputs, after the first batch already.
    static func checkParsable(_ g: GenerationArtifact, firstOutputs: [String], what: String) throws {
        guard !g.candidates.contains(where: { $0.verdict != .unparseable && $0.verdict != .labelRejected }) else { return }
        var message = "\(what): the teacher's first \(g.requests) completion\(g.requests == 1 ? "" : "s") hold no parsable example "
        message += "(\(g.count(.unparseable)) unreadable blocks, \(g.count(.labelRejected)) without a label the task's parser accepts); "
        message += "each example must be a `Q: …` line followed by an `A: …` answer in the task's format. The first outputs:"
        for text in firstOutputs {
            let shown = text.count > 600 ? String(text.prefix(600)) + " …" : text
            message += "\n---\n\(shown)"
        }
        throw StepwiseError(message)
    }
}
