/// Preallocated activations and gradient scratch for batches up to (B, encoder length, decoder
/// length). All indexing uses the actual batch's sizes, so a workspace serves any batch that fits;
/// the model grows its single workspace to the largest shape seen, after which a training step
/// allocates nothing.
///
/// How a stack's layers hold their activations is the workspace's `Layout`:
/// - `.everyLayer` (training): every layer has its own buffers, which the backward pass reads.
/// - `.oneLayerPlusInputs` (training with `recomputeActivations`): the layers of a stack share one
///   set of activation buffers and only each layer's input is kept: the backward pass runs a
///   layer's forward again (from its input, with the dropout generator as it was) just before
///   that layer's backward. Same numbers bit for bit, one more forward pass of every layer, and
///   the activations of one layer per stack instead of all of them (for T5-base at 8 × 128
///   inputs and 8 × 64 targets per micro-batch: ~0.3 GB instead of ~1.7 GB per workspace).
/// - `.oneLayer` (greedy decoding's encoder pass): nothing is read back, so the layers share one
///   set of buffers and two inputs in turn (layer l reads one and writes the other). The same
///   forward code and numbers; for T5-base at 64 × 128 inputs ~0.5 GB instead of ~5.4 GB.
final class Workspace {
    enum Layout { case everyLayer, oneLayerPlusInputs, oneLayer }

    let b: Int, te: Int, td: Int
    let layout: Layout
    /// Whether the backward pass recomputes each layer's activations (`.oneLayerPlusInputs`).
    var recomputes: Bool { layout == .oneLayerPlusInputs }
    /// Every buffer the workspace allocated, once each (for `discard` and `floatCount`).
    private var buffers: [FloatBuffer] = []
    /// Floats allocated for activations and scratch (the decoding caches are not counted).
    var floatCount: Int { buffers.reduce(0) { $0 + $1.count } }
    /// The dropout generator as each layer's forward began (only when `recomputes`).
    var encoderLayerRNG: [SplitMix64] = [], decoderLayerRNG: [SplitMix64] = []
    /// Dropout masks of passes through this workspace (one workspace per thread).
    var rng = SplitMix64(seed: 0)
    /// Greedy decoding's caches, reused from batch to batch (see DecodeBuffers).
    var decodeBuffers: DecodeBuffers?

    struct EncoderLayer {
        /// The layer's input (its own buffer); the others may be shared by the stack's layers.
        var input: FloatBuffer
        let norm1, qkv, probs, attnOut, mid, norm2, h01, gated: FloatBuffer
        let rstd1, rstd2: FloatBuffer
        let drop1, drop2: FloatBuffer?
        /// Dropout of the attention probabilities [B, H, te, te] and of the gated hidden [re, d_ff].
        let probsDrop, hiddenDrop: FloatBuffer?
    }
    struct DecoderLayer {
        /// The layer's input (its own buffer); the others may be shared by the stack's layers.
        var input: FloatBuffer
        let norm1, qkv, probs, attnOut, mid1, norm2, crossQ, crossKV, crossProbs, crossOut, mid2,
            norm3, h01, gated: FloatBuffer
        let rstd1, rstd2, rstd3: FloatBuffer
        let drop1, drop2, drop3: FloatBuffer?
        /// Dropout of the self- and cross-attention probabilities and of the gated hidden.
        let probsDrop, crossProbsDrop, hiddenDrop: FloatBuffer?
    }

    var encoder: [EncoderLayer] = []
    var decoder: [DecoderLayer] = []
    let encoderResidual, encoderOut, encoderRstd: FloatBuffer   // final norm in/out
    let decoderResidual, decoderOut, decoderRstd: FloatBuffer
    let encoderEmbedDrop, decoderEmbedDrop, encoderFinalDrop, decoderFinalDrop: FloatBuffer?
    /// The output head's logits (and their gradient) for one row block of target positions.
    let head: OutputHead.Scratch
    let encoderBias, decoderBias, dEncoderBias, dDecoderBias: FloatBuffer
    // Scratch for the backward pass (and the sublayer outputs in the forward pass).
    let tmp, dres, dnorm, dAttn, dqkv, dprobs, dgated, dh01, dEnc, dcq, dckv: FloatBuffer
    /// One (batch, head) block of dropped-out attention probabilities (forward and backward).
    let droppedProbs: FloatBuffer?

    func fits(_ batch: Batch) -> Bool {
        batch.size <= b && batch.encoderLength <= te && batch.decoderLength <= td
    }

    /// `inference`: no backward pass will run, so the gradient scratch is left out (decoding
    /// allocates one workspace per thread; the scratch would be most of its size).
    init(config c: T5Config, batch b: Int, encoderLength te: Int, decoderLength td: Int, dropout: Bool,
         inference: Bool = false, layout: Layout = .everyLayer) {
        self.b = b; self.te = te; self.td = td
        self.layout = layout
        let d = c.dModel, inner = c.innerDim, ff = c.dFF, H = c.numHeads
        let re = b * te, rd = b * td
        var buffers: [FloatBuffer] = []
        func f(_ n: Int) -> FloatBuffer { let buffer = FloatBuffer(n); buffers.append(buffer); return buffer }
        func fd(_ n: Int) -> FloatBuffer? { dropout ? f(n) : nil }
        /// Layer l's input in a layout that shares the activations: its own buffer, or with
        /// `.oneLayer` the one of layer l - 2 (two inputs in turn).
        func sharedInput<Layer>(_ l: Int, _ layers: [Layer], _ input: KeyPath<Layer, FloatBuffer>, rows: Int) -> FloatBuffer {
            layout == .oneLayer && l >= 2 ? layers[l - 2][keyPath: input] : f(rows * d)
        }
        for l in 0..<c.numLayers {
            if layout != .everyLayer, let first = encoder.first {
                var layer = first
                layer.input = sharedInput(l, encoder, \.input, rows: re)
                encoder.append(layer)
                continue
            }
            encoder.append(EncoderLayer(input: f(re * d), norm1: f(re * d), qkv: f(re * 3 * inner), probs: f(b * H * te * te),
                                        attnOut: f(re * inner), mid: f(re * d), norm2: f(re * d), h01: f(re * 2 * ff),
                                        gated: f(re * ff), rstd1: f(re), rstd2: f(re), drop1: fd(re * d), drop2: fd(re * d),
                                        probsDrop: fd(b * H * te * te), hiddenDrop: fd(re * ff)))
        }
        for l in 0..<c.numDecoderLayers {
            if layout != .everyLayer, let first = decoder.first {
                var layer = first
                layer.input = sharedInput(l, decoder, \.input, rows: rd)
                decoder.append(layer)
                continue
            }
            decoder.append(DecoderLayer(input: f(rd * d), norm1: f(rd * d), qkv: f(rd * 3 * inner), probs: f(b * H * td * td),
                                        attnOut: f(rd * inner), mid1: f(rd * d), norm2: f(rd * d), crossQ: f(rd * inner),
                                        crossKV: f(re * 2 * inner), crossProbs: f(b * H * td * te), crossOut: f(rd * inner),
                                        mid2: f(rd * d), norm3: f(rd * d), h01: f(rd * 2 * ff), gated: f(rd * ff),
                                        rstd1: f(rd), rstd2: f(rd), rstd3: f(rd),
                                        drop1: fd(rd * d), drop2: fd(rd * d), drop3: fd(rd * d),
                                        probsDrop: fd(b * H * td * td), crossProbsDrop: fd(b * H * td * te), hiddenDrop: fd(rd * ff)))
        }
        encoderResidual = f(re * d); encoderOut = f(re * d); encoderRstd = f(re)
        decoderResidual = f(rd * d); decoderOut = f(rd * d); decoderRstd = f(rd)
        encoderEmbedDrop = fd(re * d); decoderEmbedDrop = fd(rd * d)
        encoderFinalDrop = fd(re * d); decoderFinalDrop = fd(rd * d)
        func g(_ n: Int) -> FloatBuffer { f(inference ? 0 : n) }
        head = OutputHead.Scratch(vocab: c.vocabSize, blockRows: min(rd, OutputHead.blockRows(vocab: c.vocabSize)),
                                  training: !inference)
        encoderBias = f(H * te * te); decoderBias = f(H * td * td)
        dEncoderBias = g(H * te * te); dDecoderBias = g(H * td * td)
        let rows = max(re, rd)
        tmp = f(rows * d); dres = g(rows * d); dnorm = g(rows * d); dAttn = g(rows * inner)
        dqkv = g(rows * 3 * inner); dprobs = g(max(te, td) * max(te, td)); dgated = g(rows * ff)
        dh01 = g(rows * 2 * ff); dEnc = g(re * d); dcq = g(rd * inner); dckv = g(re * 2 * inner)
        droppedProbs = fd(max(te, td) * max(te, td))
        head.buffers.forEach { buffers.append($0) }
        self.buffers = buffers
    }

    /// Returns the activations' and scratch's pages to the operating system (`FloatBuffer.discard`):
    /// a step writes them before reading them. The decoding caches are kept.
    func discard() { buffers.forEach { $0.discard() } }
}
