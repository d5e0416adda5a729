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
    /// `train.recompute_activations`: a setting of the train stages, outside the key (the weights
    /// do not depend on it).
    public var recomputeActivations: RecomputeActivations = .auto

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
    /// Multiple choice answered by the choice's letter (`answer: letter`: the label is `c`, not
    /// the equation; nil = the equation). A letter is one token, so a small student has a label
    /// it can learn to pick; the rationale still works the equation out.
    public var answer: String?
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
    /// How it writes new training examples (`teacher.generate`); nil when not written and no
    /// method asks for generated examples.
    public var generate: GenerateSpec?

    /// The fields that change what the teacher says. Where the server lives, how many requests
    /// are in flight, timeouts and the key's variable name do not: moving the server keeps the cache.
    /// Nor does how it generates examples: annotations keep their keys (the generate stage's
    /// params hold `generate`).
    public var keyFields: TeacherSpec {
        var k = self
        k.baseURL = nil; k.apiKeyEnv = nil; k.concurrency = nil; k.timeout = nil; k.maxRetries = nil
        k.generate = nil
        return k
    }
}

/// `teacher.generate`: how the teacher is asked for new training examples (GPTMix /
/// self-instruct style): `shots` real training examples shown per request, `per_request` new
/// ones asked for, and for an OpenAI-compatible teacher the prompt file (`{examples}` and
/// `{count}` placeholders).
public struct GenerateSpec: Codable, Hashable, Sendable {
    public var prompt: String?
    public var shots: Int
    public var perRequest: Int
    /// OpenAI-compatible teacher: sampling for generation requests (the annotation's `stop`
    /// would end a completion after its first example). nil: the teacher's temperature,
    /// `defaultMaxTokens`, no stop sequence.
    public var temperature: Double?
    public var maxTokens: Int?
    public var stop: [String]?

    public static let defaultShots = 4
    public static let defaultPerRequest = 4
    public static let defaultMaxTokens = 1024
    public init(prompt: String? = nil, shots: Int = 4, perRequest: Int = 4) {
        self.prompt = prompt; self.shots = shots; self.perRequest = perRequest
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
    /// Where a pretrained (`init:`) size's weights come from; nil for a size trained from scratch.
    /// Never encoded (so never in a key): a train key holds the checkpoint's identity instead, and
    /// moving a folder keeps keys. An `init:` size's shape fields are its checkpoint's, filled in
    /// when the checkpoint is resolved (`StudentCheckpoints`), zero before.
    public var initFrom: CheckpointSource? = nil

    enum CodingKeys: String, CodingKey { case name, dModel, layers, decoderLayers, heads, dKv, dFF }

    public init(name: String, dModel: Int, layers: Int, decoderLayers: Int, heads: Int, dKv: Int, dFF: Int,
                initFrom: CheckpointSource? = nil) {
        self.name = name; self.dModel = dModel; self.layers = layers; self.decoderLayers = decoderLayers
        self.heads = heads; self.dKv = dKv; self.dFF = dFF; self.initFrom = initFrom
    }

    public var kind: StudentKind { initFrom == nil ? .fromScratch : .pretrained }
}

/// A size's `init:` as the spec wrote it: a Hugging Face hub id (found in, or fetched into, the
/// local hub cache) or a folder in transformers' layout, and where it was written (the position
/// of every later error about the checkpoint).
public struct CheckpointSource: Hashable, Sendable {
    public enum Location: Hashable, Sendable {
        case hub(String)
        /// An absolute path (a relative one is resolved against the spec file's folder).
        case folder(String)
    }
    public var location: Location
    /// The value as written.
    public var written: String
    public var file: String
    public var line: Int
    public var column: Int
    /// The field path, e.g. `student.sizes.small.init`.
    public var path: String

    public func issue(_ message: String) -> SpecIssue {
        SpecIssue(file: file, line: line, column: column, path: path, message: message)
    }
}

public struct TokenizerSpec: Codable, Hashable, Sendable {
    public var kind: String   // bpe | word
    public var vocab: Int
}

public struct StudentSpec: Codable, Hashable, Sendable {
    /// The from-scratch sizes' vocabulary (pretrained sizes use their checkpoint's tokenizer).
    public var tokenizer: TokenizerSpec
    /// In spec order.
    public var sizes: [StudentSize]
    public var dropout: Double
    /// `dropout` was written in the spec: it then applies to pretrained sizes too, which
    /// otherwise keep their checkpoint's `dropout_rate`.
    public var dropoutWritten: Bool = false

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
