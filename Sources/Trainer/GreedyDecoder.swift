import Foundation

/// Batched greedy decoding with a KV cache: the encoder runs once per batch, each decoder layer
/// keeps its self-attention keys/values for the positions generated so far and its
/// cross-attention keys/values of the encoder output, so each new token costs one row per layer.
extension T5Model {
    /// Greedy continuation of each input, starting from decoder_start = pad = 0, for at most
    /// `maxNewTokens` tokens. A sequence stops at eos (not included in the result); eos is
    /// forbidden before `minNewTokens` tokens (as transformers' `min_new_tokens`).
    ///
    /// With several threads (`setThreads`) and several batches, batches are decoded side by side,
    /// one per thread (sgemm is always single-threaded: a 32-row product is too small to split
    /// across cores efficiently, a whole batch is not). Each batch is decoded by the same code
    /// whichever thread runs it, so results do not depend on the thread count.
    public func greedyDecode(inputs: [[Int32]], maxNewTokens: Int, batchSize: Int = 32, minNewTokens: Int = 0,
                             parallelBatches: Bool = true) -> [[Int32]] {
        let chunks = stride(from: 0, to: inputs.count, by: batchSize).map {
            Array(inputs[$0..<min($0 + batchSize, inputs.count)])
        }
        let workers = parallelBatches ? min(currentThreadCount, chunks.count) : 1
        // Shared lookup tables are filled before any concurrency (the forward pass only reads them then).
        for chunk in chunks {
            _ = buckets(length: max(1, chunk.map(\.count).max() ?? 1), bidirectional: true)
        }
        if chunks.isEmpty { return [] }
        // Packed once per call (the weights change between calls when decoding validates during
        // training): ~3.5 M floats for the reference config, a few ms. The buffers are kept.
        let packed = packedDecoderWeights()
        let maxLength = max(1, inputs.map(\.count).max() ?? 1)
        var results = [[[Int32]]](repeating: [], count: chunks.count)
        let lock = NSLock()
        // One workspace per worker, kept between calls (allocating ~100 MB per call showed up) until
        // `releaseDecodingBuffers`. Never the training workspace: decoding's batches are larger
        // than a training micro-batch, and growing it would keep every layer's activations and
        // gradient scratch at that size for the rest of training (for T5-base at 64 × 128 inputs,
        // over 10 GB). The encoder pass reads nothing back, so its layers share one set of buffers.
        while decodeWorkspaces.count < workers { decodeWorkspaces.append(nil) }
        for w in 0..<workers {
            if let ws = decodeWorkspaces[w], ws.b >= batchSize, ws.te >= maxLength { continue }
            decodeWorkspaces[w] = Workspace(config: config, batch: batchSize, encoderLength: maxLength, decoderLength: 1,
                                            dropout: false, inference: true, layout: .oneLayer)
        }
        let workspaces = decodeWorkspaces
        let decodeShare = { (w: Int) in
            let ws = workspaces[w]!
            for i in stride(from: w, to: chunks.count, by: workers) {
                let out = self.decodeBatch(chunks[i], workspace: ws, packed: packed, maxNewTokens: maxNewTokens,
                                           minNewTokens: minNewTokens)
                lock.lock(); results[i] = out; lock.unlock()
            }
        }
        if workers <= 1 { decodeShare(0) } else { DispatchQueue.concurrentPerform(iterations: workers, execute: decodeShare) }
        return results.flatMap { $0 }
    }

    /// Frees what decoding keeps between calls — its workspaces and caches, the packed copy of the
    /// decoder's weights (for T5-base ~0.5 GB and ~1.5 GB per worker at 64 × 128 inputs) — so that
    /// they do not stay allocated through the training steps after a validation.
    public func releaseDecodingBuffers() {
        decodeWorkspaces = []
        packedDecoder = nil
    }

    /// The decoder's current weights, packed into the buffers of the previous call when there was one.
    private func packedDecoderWeights() -> PackedDecoderWeights {
        if let packed = packedDecoder {
            packed.repack(self)
            return packed
        }
        let packed = PackedDecoderWeights(self)
        packedDecoder = packed
        return packed
    }

    /// Greedy decoding of texts: encodes with `tokenizer`, decodes, and returns both the text
    /// and the generated ids (eos stripped).
    public func generate(_ texts: [String], tokenizer: TextTokenizer, maxNewTokens: Int, batchSize: Int = 32)
        -> [(text: String, ids: [Int32])] {
        let ids = greedyDecode(inputs: texts.map { tokenizer.encode($0, appendEOS: false) }, maxNewTokens: maxNewTokens, batchSize: batchSize)
        return ids.map { (tokenizer.decode($0), $0) }
    }

    private func decodeBatch(_ inputs: [[Int32]], workspace ws: Workspace, packed: PackedDecoderWeights, maxNewTokens: Int,
                             minNewTokens: Int) -> [[Int32]] {
        let c = config, W = store.values.p
        let d = c.dModel, inner = c.innerDim, H = c.numHeads, dk = c.dKv, V = c.vocabSize
        let B = inputs.count
        guard maxNewTokens > 0 else { return Array(repeating: [], count: B) }
        let batch = Batch(inputs: inputs, targets: Array(repeating: [SpecialTokens.eos], count: B))
        let te = batch.encoderLength
        precondition(ws.fits(batch))
        forward(batch, ws, training: false, encoderOnly: true)

        // Caches: self-attention K and V [B, T, inner] per layer (T: capacity ≥ maxNewTokens); cross K|V [B·te, 2·inner].
        let L = c.numDecoderLayers
        if !(ws.decodeBuffers?.fits(batch: B, maxNewTokens: maxNewTokens, encoderLength: te) ?? false) {
            ws.decodeBuffers = DecodeBuffers(config: c, batch: max(B, ws.decodeBuffers?.batch ?? 0),
                                             maxNewTokens: max(maxNewTokens, ws.decodeBuffers?.maxNewTokens ?? 0),
                                             encoderLength: max(te, ws.decodeBuffers?.encoderLength ?? 0))
        }
        let buffers = ws.decodeBuffers!
        let T = buffers.maxNewTokens   // the caches' row stride: their capacity, ≥ maxNewTokens
        let selfK = buffers.selfK, selfV = buffers.selfV, crossKV = buffers.crossKV
        for l in 0..<L {
            linearForward(crossKV[l].p, ws.encoderOut.p, W + layout.decoder[l].crossAttention.k, m: B * te, k: d, n: 2 * inner)
        }
        let x = buffers.x, norm = buffers.norm, tmp = buffers.tmp, qkv = buffers.qkv, attn = buffers.attn
        let h01 = buffers.h01, gated = buffers.gated, logits = buffers.logits, scores = buffers.scores, bias = buffers.bias
        var tokens = [Int32](repeating: SpecialTokens.pad, count: B)
        var outputs = [[Int32]](repeating: [], count: B)
        var finished = [Bool](repeating: false, count: B)
        let eps = c.layerNormEpsilon

        for t in 0..<maxNewTokens {
            tokens.withUnsafeBufferPointer { Embedding.forward(out: x.p, ids: $0.baseAddress!, table: W + layout.shared, count: B, dim: d, vocab: V) }
            // Relative position bias of query t against keys 0...t (causal buckets).
            if let rb = layout.decoder.first?.selfAttention.relativeBias {
                for j in 0...t {
                    let bk = RelativePositionBias.bucket(j - t, bidirectional: false, numBuckets: c.relativeAttentionNumBuckets,
                                                         maxDistance: c.relativeAttentionMaxDistance)
                    for h in 0..<H { bias[h * T + j] = W[rb + bk * H + h] }
                }
            }
            for l in 0..<L {
                let P = layout.decoder[l]
                // self-attention over the cache
                RMSNorm.forward(out: norm.p, rstd: nil, x: x.p, weight: W + P.selfAttentionNorm, rows: B, dim: d, eps: eps)
                packed.layers[l].qkv.forward(qkv.p, norm.p, m: B)
                for b in 0..<B {
                    (selfK[l].p + (b * T + t) * inner).update(from: qkv.p + b * 3 * inner + inner, count: inner)
                    (selfV[l].p + (b * T + t) * inner).update(from: qkv.p + b * 3 * inner + 2 * inner, count: inner)
                    kernels.attend(attn.p + b * inner, qkv.p + b * 3 * inner, selfK[l].p + b * T * inner,
                                   selfV[l].p + b * T * inner, inner, t + 1, H, dk, bias.p, T, nil, scores.p)
                }
                packed.layers[l].selfOut.forward(tmp.p, attn.p, m: B)
                addInPlace(x.p, tmp.p, B * d)
                // cross-attention over the encoder output
                RMSNorm.forward(out: norm.p, rstd: nil, x: x.p, weight: W + P.crossAttentionNorm, rows: B, dim: d, eps: eps)
                packed.layers[l].crossQuery.forward(qkv.p, norm.p, m: B)
                batch.inputMask.withUnsafeBufferPointer { maskBuf in
                    for b in 0..<B {
                        let kv = crossKV[l].p + b * te * 2 * inner
                        kernels.attend(attn.p + b * inner, qkv.p + b * inner, kv, kv + inner, 2 * inner, te, H, dk,
                                       nil, 0, maskBuf.baseAddress! + b * te, scores.p)
                    }
                }
                packed.layers[l].crossOut.forward(tmp.p, attn.p, m: B)
                addInPlace(x.p, tmp.p, B * d)
                // feed-forward
                RMSNorm.forward(out: norm.p, rstd: nil, x: x.p, weight: W + P.feedForwardNorm, rows: B, dim: d, eps: eps)
                FeedForward.forward(c.feedForward, out: tmp.p, hidden: h01.p, activated: gated.p, x: norm.p,
                                    wi: packed.layers[l].wi, wo: packed.layers[l].wo, rows: B)
                addInPlace(x.p, tmp.p, B * d)
            }
            RMSNorm.forward(out: norm.p, rstd: nil, x: x.p, weight: W + layout.decoderFinalNorm, rows: B, dim: d, eps: eps)
            if c.scaleDecoderOutputs { scale(norm.p, 1 / Float(d).squareRoot(), B * d) }
            packed.lmHead.forward(logits.p, norm.p, m: B)
            var allDone = true
            for b in 0..<B {
                let row = logits.p + b * V
                var best = 0
                var bestValue = -Float.infinity
                for v in 0..<V where !(v == Int(SpecialTokens.eos) && t < minNewTokens) {
                    if row[v] > bestValue { bestValue = row[v]; best = v }
                }
                tokens[b] = Int32(best)
                if finished[b] { continue }
                if tokens[b] == SpecialTokens.eos { finished[b] = true } else { outputs[b].append(tokens[b]); allDone = false }
            }
            if allDone { break }
        }
        // The loops above only hold raw pointers; keep the buffers alive until here.
        withExtendedLifetime(buffers) {}
        return outputs
    }
}

/// The decoder's weights packed for `PackedLinear` (one-row-per-sequence products), for one
/// `greedyDecode` call. Read-only once built, so the decoding workers share it.
final class PackedDecoderWeights: @unchecked Sendable {
    struct Layer {
        /// q|k|v of self-attention (adjacent in the parameter buffer), its output, cross-attention's
        /// query and output (its keys and values are computed once per batch with sgemm), wi_0|wi_1 (or wi), wo.
        let qkv, selfOut, crossQuery, crossOut, wi, wo: PackedLinear
    }
    let layers: [Layer]
    let lmHead: PackedLinear

    /// Allocates for the model's shapes and packs its current weights.
    init(_ model: T5Model) {
        let c = model.config
        let d = c.dModel, inner = c.innerDim, ff = c.dFF
        layers = model.layout.decoder.map { _ in
            Layer(qkv: PackedLinear(n: 3 * inner, k: d), selfOut: PackedLinear(n: d, k: inner),
                  crossQuery: PackedLinear(n: inner, k: d), crossOut: PackedLinear(n: d, k: inner),
                  wi: PackedLinear(n: FeedForward.hiddenWidth(c.feedForward, dff: ff), k: d), wo: PackedLinear(n: d, k: ff))
        }
        lmHead = PackedLinear(n: c.vocabSize, k: d)
        repack(model)
    }

    /// Packs the model's current weights, into the same buffers.
    func repack(_ model: T5Model) {
        let W = UnsafePointer(model.store.values.p), layout = model.layout
        for (layer, P) in zip(layers, layout.decoder) {
            layer.qkv.repack(W + P.selfAttention.q)
            layer.selfOut.repack(W + P.selfAttention.o)
            layer.crossQuery.repack(W + P.crossAttention.q)
            layer.crossOut.repack(W + P.crossAttention.o)
            layer.wi.repack(W + P.feedForward.wi0)
            layer.wo.repack(W + P.feedForward.wo)
        }
        lmHead.repack(W + layout.lmHead)
    }
}
