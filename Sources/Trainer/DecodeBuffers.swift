import Foundation

/// Scratch of one greedy-decoding batch: the per-layer KV caches and the one-row-per-sequence
/// activations. Kept on the worker's workspace and reused by the next batch: allocating (and
/// page-faulting in) a few MB of fresh caches per 32-sequence batch was ~4 % of decoding time.
/// Every buffer is written before it is read, so reuse needs no clearing.
final class DecodeBuffers {
    let batch: Int, maxNewTokens: Int, encoderLength: Int
    /// Self-attention K and V [B, maxNewTokens, inner] per decoder layer.
    let selfK: [FloatBuffer], selfV: [FloatBuffer]
    /// Cross-attention K|V of the encoder output [B·te, 2·inner] per decoder layer.
    let crossKV: [FloatBuffer]
    let x, norm, tmp, qkv, attn, h01, gated, logits, scores, bias: FloatBuffer

    init(config c: T5Config, batch B: Int, maxNewTokens T: Int, encoderLength te: Int) {
        batch = B; maxNewTokens = T; encoderLength = te
        let d = c.dModel, inner = c.innerDim, L = c.numDecoderLayers
        selfK = (0..<L).map { _ in FloatBuffer(B * T * inner) }
        selfV = (0..<L).map { _ in FloatBuffer(B * T * inner) }
        crossKV = (0..<L).map { _ in FloatBuffer(B * te * 2 * inner) }
        x = FloatBuffer(B * d); norm = FloatBuffer(B * d); tmp = FloatBuffer(B * d)
        qkv = FloatBuffer(B * 3 * inner); attn = FloatBuffer(B * inner)
        h01 = FloatBuffer(B * 2 * c.dFF); gated = FloatBuffer(B * c.dFF)
        logits = FloatBuffer(B * c.vocabSize)
        scores = FloatBuffer(c.numHeads * max(T, te)); bias = FloatBuffer(c.numHeads * T)
    }

    /// Whether a batch fits; the caches' row stride is this buffer's `maxNewTokens`, whatever the call asks for.
    func fits(batch B: Int, maxNewTokens T: Int, encoderLength te: Int) -> Bool {
        B <= batch && T <= maxNewTokens && te <= encoderLength
    }
}
