import Foundation

/// A validated experiment spec: everything `plan` needs to expand the DAG of stages.
public struct Experiment: Sendable {
    public var name: String
    /// The spec file as given on the command line.
    public var file: String
    /// The project root: relative paths in the spec (datasets, prompts) resolve against it,
    /// and `Results/` and `.stepwise/` live in it.
    public var root: URL
    public var dataset: DatasetSpec
    public var teacher: TeacherSpec
    public var student: StudentSpec
    public var train: TrainSpec
    /// Declared methods, in spec order.
    public var methods: [MethodSpec]
    public var sweep: SweepSpec
    public var report: ReportSpec
    public var claims: [ClaimSpec]

    public func method(_ name: String) -> MethodSpec? { methods.first { $0.name == name } }
    public func resolve(_ path: String) -> URL {
        path.hasPrefix("/") ? URL(fileURLWithPath: path) : root.appendingPathComponent(path)
    }
}

public enum DatasetKind: String, Codable, CaseIterable, Sendable {
    case syntheticArith = "synthetic-arith"
    case svamp, cqa, esnli, anli1, jsonl
}

/// Fields that apply to one kind only are nil for the others, so a stage key (the JSON of
/// this struct) holds exactly what was set.
public struct DatasetSpec: Codable, Hashable, Sendable {
    public var kind: DatasetKind
    public var metric: String
    // synthetic-arith
    public var trainSize: Int?
    public var validSize: Int?
    public var testSize: Int?
    public var seed: Int?
    /// Relative weights of problems with 1, 2 and 3 operations (nil = the generator's default).
    public var operationWeights: [Int]?
    /// Share of problems with an unused number in the story (nil = the generator's default).
    public var distractorRate: Double?
    /// Multiple choice: this many lettered candidate equations in each input (nil = open answers).
    public var choices: Int?
    // paper datasets
    public var path: String?
    // jsonl
    public var trainFile: String?
    public var validFile: String?
    public var testFile: String?
    public var inputField: String?
    public var labelField: String?
    public var rationaleField: String?

    public static func defaultMetric(for kind: DatasetKind) -> String {
        switch kind {
        // The paper scores CQA by exact answer text; `choice` is the forgiving alternative.
        case .syntheticArith, .svamp: return "equation"
        case .cqa, .esnli, .anli1, .jsonl: return "exact_match"
        }
    }
}

public enum TeacherKind: String, Codable, CaseIterable, Sendable {
    case synthetic, replay, openai
}

public struct TeacherSpec: Codable, Hashable, Sendable {
    public var kind: TeacherKind
    // synthetic
    public var errorRate: Double?
    public var seed: Int?
    // replay
    public var path: String?
    public var parse: String?
    // openai
    public var baseURL: String?
    public var model: String?
    public var api: String?
    public var apiKeyEnv: String?
    public var temperature: Double?
    public var maxTokens: Int?
    public var stop: [String]?
    public var concurrency: Int?
    public var timeout: Double?
    public var maxRetries: Int?
    public var prompt: String?
    /// Which of the paper's answer rules parse the completions (default: by dataset kind).
    public var parseAs: String?
    /// Ask the server for token log-probabilities (nil: not asked; stage keys stay as they were).
    public var logprobs: Bool?
    public var topLogprobs: Int?

    /// The fields that change what the teacher says. Where the server lives, how many requests
    /// are in flight, timeouts and the key's variable name do not: moving the server keeps the cache.
    public var keyFields: TeacherSpec {
        var k = self
        k.baseURL = nil; k.apiKeyEnv = nil; k.concurrency = nil; k.timeout = nil; k.maxRetries = nil
        return k
    }
}

public struct StudentSize: Codable, Hashable, Sendable {
    public var name: String
    public var dModel: Int
    public var layers: Int
    public var decoderLayers: Int
    public var heads: Int
    public var dKv: Int
    public var dFF: Int
}

public struct TokenizerSpec: Codable, Hashable, Sendable {
    public var kind: String   // bpe | word
    public var vocab: Int
}

public struct StudentSpec: Codable, Hashable, Sendable {
    public var tokenizer: TokenizerSpec
    /// In spec order.
    public var sizes: [StudentSize]
    public var dropout: Double

    public func size(named name: String) -> StudentSize? { sizes.first { $0.name == name } }
}

public struct TrainSpec: Codable, Hashable, Sendable {
    public var steps: Int
    public var batchSize: Int
    public var learningRate: Double
    public var warmupSteps: Int
    public var schedule: String      // linear | cosine | constant
    public var weightDecay: Double
    public var clipNorm: Double
    public var evalEvery: Int
    public var maxInputLength: Int
    public var maxTargetLength: Int
    /// Each batch is cut into this many micro-batches whose gradients are summed in a fixed
    /// order: part of the recipe (the weights depend on it), unlike the thread count.
    public var microBatches: Int
    public var seeds: [Int]
}

/// A declared method and the values given for its options (absent options take the method's defaults).
public struct MethodSpec: Codable, Hashable, Sendable {
    public var name: String
    public var options: [String: [JSONValue]]
}

public struct SweepSpec: Codable, Hashable, Sendable {
    public var dataFractions: [Double]
    public var sizes: [String]
    public var methods: [String]
    /// Method options swept here (`lambda`, `labels`, …): override each method's own values.
    public var optionValues: [String: [JSONValue]]
    public var seeds: [Int]
}

public struct FigureSpec: Codable, Hashable, Sendable {
    public var x: String              // data_fraction | size
    public var series: String         // method
    public var size: String?
    public var dataFraction: Double?
}

public struct ReportSpec: Codable, Hashable, Sendable {
    public var title: String?
    public var decimals: Int
    public var figures: [FigureSpec]
}

/// A claim as written; `Claims` parses and checks them against the results.
public struct ClaimSpec: Codable, Hashable, Sendable {
    public var text: String
    public var line: Int
    public var column: Int
}
