/// Where one named tensor lives inside the flat parameter buffer.
public struct ParameterInfo: Sendable {
    public let name: String
    public let shape: [Int]
    public let offset: Int
    public var count: Int { shape.reduce(1, *) }
}

/// All parameters of the model in one flat buffer (and the gradients in a second buffer with the
/// same layout), so that the optimizer, clipping, snapshots and checkpoints are single loops.
/// Tensors a layer reads together with one matrix product are allocated next to each other
/// (q,k,v; wi_0,wi_1), which lets the forward pass fuse them into one sgemm.
final class ParameterStore {
    private(set) var infos: [ParameterInfo] = []
    private var index: [String: Int] = [:]
    private var total = 0
    private(set) var values = FloatBuffer(0)
    private(set) var grads = FloatBuffer(0)

    /// Registers a tensor and returns its offset. Call `allocate()` once all are declared.
    func declare(_ name: String, _ shape: [Int]) -> Int {
        let info = ParameterInfo(name: name, shape: shape, offset: total)
        index[name] = infos.count
        infos.append(info)
        total += info.count
        return info.offset
    }
    func allocate() {
        blasSingleThreaded
        values = FloatBuffer(total)
        grads = FloatBuffer(total)
    }
    var count: Int { total }
    func info(_ name: String) -> ParameterInfo? { index[name].map { infos[$0] } }
}

// Offsets of each layer's tensors (the same offsets index values and grads).

struct AttentionParams {
    var q = 0, k = 0, v = 0, o = 0
    /// relative_attention_bias [num_buckets, H] — only in the first layer of each stack.
    var relativeBias: Int? = nil
}

/// Gated GELU: wi_0 then wi_1 (adjacent), wo. ReLU: `wi0` is `wi`, and there is no `wi1`.
struct FeedForwardParams { var wi0 = 0, wi1: Int? = nil, wo = 0 }

struct EncoderLayerParams {
    var attentionNorm = 0
    var attention = AttentionParams()
    var feedForwardNorm = 0
    var feedForward = FeedForwardParams()
}

struct DecoderLayerParams {
    var selfAttentionNorm = 0
    var selfAttention = AttentionParams()
    var crossAttentionNorm = 0
    var crossAttention = AttentionParams()
    var feedForwardNorm = 0
    var feedForward = FeedForwardParams()
}

/// Declares every tensor with transformers' state-dict names and shapes.
struct T5Layout {
    var shared = 0
    var encoder: [EncoderLayerParams] = []
    var encoderFinalNorm = 0
    var decoder: [DecoderLayerParams] = []
    var decoderFinalNorm = 0
    /// `lm_head.weight`, or `shared` itself when the head is tied.
    var lmHead = 0

    init(config c: T5Config, store: ParameterStore) {
        let d = c.dModel, inner = c.innerDim
        shared = store.declare("shared.weight", [c.vocabSize, d])
        func attention(_ prefix: String, bias: Bool) -> AttentionParams {
            var a = AttentionParams()
            a.q = store.declare(prefix + ".q.weight", [inner, d])
            a.k = store.declare(prefix + ".k.weight", [inner, d])
            a.v = store.declare(prefix + ".v.weight", [inner, d])
            a.o = store.declare(prefix + ".o.weight", [d, inner])
            if bias {
                a.relativeBias = store.declare(prefix + ".relative_attention_bias.weight",
                                               [c.relativeAttentionNumBuckets, c.numHeads])
            }
            return a
        }
        func feedForward(_ prefix: String) -> FeedForwardParams {
            var f = FeedForwardParams()
            switch c.feedForward {
            case .gatedGELU:
                f.wi0 = store.declare(prefix + ".wi_0.weight", [c.dFF, d])
                f.wi1 = store.declare(prefix + ".wi_1.weight", [c.dFF, d])
            case .relu:
                f.wi0 = store.declare(prefix + ".wi.weight", [c.dFF, d])
            }
            f.wo = store.declare(prefix + ".wo.weight", [d, c.dFF])
            return f
        }
        for l in 0..<c.numLayers {
            let p = "encoder.block.\(l).layer"
            var e = EncoderLayerParams()
            e.attention = attention(p + ".0.SelfAttention", bias: l == 0)
            e.attentionNorm = store.declare(p + ".0.layer_norm.weight", [d])
            e.feedForward = feedForward(p + ".1.DenseReluDense")
            e.feedForwardNorm = store.declare(p + ".1.layer_norm.weight", [d])
            encoder.append(e)
        }
        encoderFinalNorm = store.declare("encoder.final_layer_norm.weight", [d])
        for l in 0..<c.numDecoderLayers {
            let p = "decoder.block.\(l).layer"
            var e = DecoderLayerParams()
            e.selfAttention = attention(p + ".0.SelfAttention", bias: l == 0)
            e.selfAttentionNorm = store.declare(p + ".0.layer_norm.weight", [d])
            e.crossAttention = attention(p + ".1.EncDecAttention", bias: false)
            e.crossAttentionNorm = store.declare(p + ".1.layer_norm.weight", [d])
            e.feedForward = feedForward(p + ".2.DenseReluDense")
            e.feedForwardNorm = store.declare(p + ".2.layer_norm.weight", [d])
            decoder.append(e)
        }
        decoderFinalNorm = store.declare("decoder.final_layer_norm.weight", [d])
        lmHead = c.tieWordEmbeddings ? shared : store.declare("lm_head.weight", [c.vocabSize, d])
    }
}
