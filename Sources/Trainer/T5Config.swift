import Foundation

/// The feed-forward block of each layer: T5 v1.1's gated GELU (`wi_0`, `wi_1`, `wo`) or the
/// original T5's ReLU (`wi`, `wo`). transformers' `feed_forward_proj` values.
public enum FeedForwardKind: String, Codable, Sendable {
    case gatedGELU = "gated-gelu"
    case relu = "relu"
}

/// The model's architecture and sizes, with transformers' `T5Config` key names so that
/// `config.json` is shared with `T5ForConditionalGeneration.from_pretrained`.
public struct T5Config: Codable, Equatable, Sendable {
    public var dModel: Int
    public var dKv: Int
    public var dFF: Int
    public var numLayers: Int
    public var numDecoderLayers: Int
    public var numHeads: Int
    public var vocabSize: Int
    public var relativeAttentionNumBuckets: Int
    public var relativeAttentionMaxDistance: Int
    public var dropoutRate: Float
    public var layerNormEpsilon: Float
    public var feedForward: FeedForwardKind
    /// The head is the shared embedding (original T5): `lm_head.weight` is not a parameter of its
    /// own and the head's gradient adds into `shared.weight`'s.
    public var tieWordEmbeddings: Bool
    /// Original T5 (tied head) scales the decoder output by d_model^-0.5 before the head; T5 v1.1
    /// (untied head) does not. transformers 5.x stores this as `scale_decoder_outputs`, older
    /// versions derive it from `tie_word_embeddings`.
    public var scaleDecoderOutputs: Bool

    /// Defaults to T5 v1.1 (gated GELU, untied head, no output scaling); `original` = true gives
    /// the original T5 (ReLU, tied head, output scaled by d_model^-0.5).
    public init(dModel: Int, dKv: Int, dFF: Int, numLayers: Int, numDecoderLayers: Int? = nil,
                numHeads: Int, vocabSize: Int, relativeAttentionNumBuckets: Int = 32,
                relativeAttentionMaxDistance: Int = 128, dropoutRate: Float = 0.1,
                layerNormEpsilon: Float = 1e-6, original: Bool = false) {
        self.dModel = dModel; self.dKv = dKv; self.dFF = dFF
        self.numLayers = numLayers; self.numDecoderLayers = numDecoderLayers ?? numLayers
        self.numHeads = numHeads; self.vocabSize = vocabSize
        self.relativeAttentionNumBuckets = relativeAttentionNumBuckets
        self.relativeAttentionMaxDistance = relativeAttentionMaxDistance
        self.dropoutRate = dropoutRate; self.layerNormEpsilon = layerNormEpsilon
        self.feedForward = original ? .relu : .gatedGELU
        self.tieWordEmbeddings = original
        self.scaleDecoderOutputs = original
    }

    /// Width of the concatenated heads (H · d_kv), which need not equal d_model.
    public var innerDim: Int { numHeads * dKv }

    enum CodingKeys: String, CodingKey {
        case dModel = "d_model", dKv = "d_kv", dFF = "d_ff", numLayers = "num_layers"
        case numDecoderLayers = "num_decoder_layers", numHeads = "num_heads", vocabSize = "vocab_size"
        case relativeAttentionNumBuckets = "relative_attention_num_buckets"
        case relativeAttentionMaxDistance = "relative_attention_max_distance"
        case dropoutRate = "dropout_rate", layerNormEpsilon = "layer_norm_epsilon"
        case scaleDecoderOutputs = "scale_decoder_outputs"
        case feedForwardProj = "feed_forward_proj", tieWordEmbeddings = "tie_word_embeddings"
        // Written for transformers, checked on load.
        case modelType = "model_type", architectures
        case isEncoderDecoder = "is_encoder_decoder"
        case decoderStartTokenId = "decoder_start_token_id", padTokenId = "pad_token_id"
        case eosTokenId = "eos_token_id", denseActFn = "dense_act_fn", isGatedAct = "is_gated_act"
    }

    /// Reads transformers' `config.json`, with transformers' defaults for absent keys (notably
    /// `feed_forward_proj: relu` and `tie_word_embeddings: true`, the original T5's). Anything
    /// this trainer does not implement is refused with the file and the field in the message.
    public static func read(from url: URL) throws -> T5Config {
        let data: Data
        do { data = try Data(contentsOf: url) } catch {
            throw TrainerError.badFile("\(url.path): cannot read (\(error.localizedDescription))")
        }
        do {
            return try JSONDecoder().decode(T5Config.self, from: data)
        } catch let e as ConfigFieldError {
            throw TrainerError.badFile("\(url.path): field \"\(e.field)\": \(e.problem)")
        } catch let e as DecodingError {
            throw TrainerError.badFile("\(url.path): \(describe(e))")
        }
    }

    private static func describe(_ e: DecodingError) -> String {
        func path(_ keys: [CodingKey]) -> String { keys.map(\.stringValue).joined(separator: ".") }
        switch e {
        case .keyNotFound(let key, _): return "missing field \"\(key.stringValue)\""
        case .typeMismatch(let type, let ctx): return "field \"\(path(ctx.codingPath))\": expected \(type)"
        case .valueNotFound(let type, let ctx): return "field \"\(path(ctx.codingPath))\": expected \(type), found null"
        case .dataCorrupted(let ctx): return "not valid JSON (\(ctx.debugDescription))"
        @unknown default: return "\(e)"
        }
    }

    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        func refuse(_ key: CodingKeys, _ problem: String) -> ConfigFieldError { ConfigFieldError(field: key.stringValue, problem: problem) }
        if let type = try c.decodeIfPresent(String.self, forKey: .modelType), type != "t5" {
            throw refuse(.modelType, "\"\(type)\" is not supported (only \"t5\": T5 v1.1, Flan-T5, original T5)")
        }
        if let archs = try c.decodeIfPresent([String].self, forKey: .architectures),
           let other = archs.first(where: { !["T5ForConditionalGeneration", "T5WithLMHeadModel"].contains($0) }) {
            throw refuse(.architectures, "\"\(other)\" is not supported (only T5ForConditionalGeneration)")
        }
        if try c.decodeIfPresent(Bool.self, forKey: .isEncoderDecoder) == false {
            throw refuse(.isEncoderDecoder, "false is not supported (an encoder-decoder T5 is needed)")
        }
        dModel = try c.decode(Int.self, forKey: .dModel)
        dKv = try c.decode(Int.self, forKey: .dKv)
        dFF = try c.decode(Int.self, forKey: .dFF)
        numLayers = try c.decode(Int.self, forKey: .numLayers)
        numDecoderLayers = try c.decodeIfPresent(Int.self, forKey: .numDecoderLayers) ?? numLayers
        numHeads = try c.decode(Int.self, forKey: .numHeads)
        vocabSize = try c.decode(Int.self, forKey: .vocabSize)
        relativeAttentionNumBuckets = try c.decodeIfPresent(Int.self, forKey: .relativeAttentionNumBuckets) ?? 32
        relativeAttentionMaxDistance = try c.decodeIfPresent(Int.self, forKey: .relativeAttentionMaxDistance) ?? 128
        dropoutRate = try c.decodeIfPresent(Float.self, forKey: .dropoutRate) ?? 0.1
        layerNormEpsilon = try c.decodeIfPresent(Float.self, forKey: .layerNormEpsilon) ?? 1e-6
        let proj = try c.decodeIfPresent(String.self, forKey: .feedForwardProj) ?? FeedForwardKind.relu.rawValue
        guard let kind = FeedForwardKind(rawValue: proj) else {
            throw refuse(.feedForwardProj, "\"\(proj)\" is not supported (only \"gated-gelu\", T5 v1.1/Flan-T5, and \"relu\", original T5)")
        }
        feedForward = kind
        let tie = try c.decodeIfPresent(Bool.self, forKey: .tieWordEmbeddings)
        tieWordEmbeddings = tie ?? true
        // transformers' rule: scale unless tie_word_embeddings is explicitly false.
        scaleDecoderOutputs = try c.decodeIfPresent(Bool.self, forKey: .scaleDecoderOutputs) ?? (tie != false)
        for (key, value) in [(CodingKeys.dModel, dModel), (.dKv, dKv), (.dFF, dFF), (.numLayers, numLayers),
                             (.numDecoderLayers, numDecoderLayers), (.numHeads, numHeads), (.vocabSize, vocabSize),
                             (.relativeAttentionNumBuckets, relativeAttentionNumBuckets),
                             (.relativeAttentionMaxDistance, relativeAttentionMaxDistance)] where value < 1 {
            throw refuse(key, "\(value) must be at least 1")
        }
    }

    public func encode(to encoder: Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(dModel, forKey: .dModel); try c.encode(dKv, forKey: .dKv); try c.encode(dFF, forKey: .dFF)
        try c.encode(numLayers, forKey: .numLayers); try c.encode(numDecoderLayers, forKey: .numDecoderLayers)
        try c.encode(numHeads, forKey: .numHeads); try c.encode(vocabSize, forKey: .vocabSize)
        try c.encode(relativeAttentionNumBuckets, forKey: .relativeAttentionNumBuckets)
        try c.encode(relativeAttentionMaxDistance, forKey: .relativeAttentionMaxDistance)
        try c.encode(dropoutRate, forKey: .dropoutRate); try c.encode(layerNormEpsilon, forKey: .layerNormEpsilon)
        try c.encode(scaleDecoderOutputs, forKey: .scaleDecoderOutputs)
        try c.encode("t5", forKey: .modelType)
        try c.encode(["T5ForConditionalGeneration"], forKey: .architectures)
        try c.encode(feedForward.rawValue, forKey: .feedForwardProj)
        try c.encode(feedForward == .gatedGELU ? "gelu_new" : "relu", forKey: .denseActFn)
        try c.encode(feedForward == .gatedGELU, forKey: .isGatedAct)
        // An untied head is written as lm_head.weight next to shared.weight; its values differ,
        // so transformers keeps them separate. A tied head is not written at all.
        try c.encode(tieWordEmbeddings, forKey: .tieWordEmbeddings)
        try c.encode(true, forKey: .isEncoderDecoder)
        try c.encode(0, forKey: .decoderStartTokenId); try c.encode(0, forKey: .padTokenId)
        try c.encode(1, forKey: .eosTokenId)
    }
}

/// A config.json field this trainer cannot use (turned into `TrainerError.badFile` with the path).
struct ConfigFieldError: Error {
    let field: String
    let problem: String
}

public enum TrainerError: Error, CustomStringConvertible {
    case unsupported(String)
    case badFile(String)
    case missingTensor(String)
    public var description: String {
        switch self {
        case .unsupported(let s): return "unsupported: \(s)"
        case .badFile(let s): return "bad file: \(s)"
        case .missingTensor(let s): return "missing tensor: \(s)"
        }
    }
}

/// Token ids fixed by T5's conventions (and by our tokenizer).
public enum SpecialTokens {
    public static let pad: Int32 = 0
    public static let eos: Int32 = 1
}
