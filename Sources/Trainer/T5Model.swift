import Foundation

/// The student: transformers' T5ForConditionalGeneration, as T5 v1.1 / Flan-T5 (gated-gelu, untied
/// head) or the original T5 (relu, tied head, decoder output scaled by d_model^-0.5), float32,
/// parameters in one flat buffer named like transformers' state dict.
///
/// Forward and backward over a batch are written out layer by layer below; each layer's math is
/// in its own file (RMSNorm, Attention, RelativePositionBias, GatedGELU/DenseReLU, Embedding, CrossEntropy).
public final class T5Model {
    public let config: T5Config
    let store = ParameterStore()
    let layout: T5Layout
    private(set) var workspace: Workspace?
    /// Workspaces of the threads that decode batches side by side.
    var decodeWorkspaces: [Workspace?] = []
    /// The decoder's weights as greedy decoding reads them (repacked at each call).
    var packedDecoder: PackedDecoderWeights?
    /// Relative-position bucket tables by (length, bidirectional).
    private var bucketTables: [Int: [Int32]] = [:]
    /// Seeds the dropout masks of the model's own workspace; reseeded by the trainer.
    var dropoutRNG = SplitMix64(seed: 0) {
        didSet { workspace?.rng = dropoutRNG }
    }

    /// A randomly initialised model (T5's init: normal with std 1 for the embedding,
    /// d^-½ for k, v, wi and the relative bias, (d·d_kv)^-½ for q, (H·d_kv)^-½ for o,
    /// d_ff^-½ for wo, ones for the norms). The untied head gets d^-½ rather than transformers'
    /// 1.0 so that initial logits have unit scale without the tied-head rescaling.
    public convenience init(config: T5Config, seed: UInt64 = 0) {
        self.init(allocating: config)
        var rng = SplitMix64(seed: seed)
        let d = Float(config.dModel)
        for info in store.infos {
            let n = info.name
            let std: Float
            if n.hasSuffix("layer_norm.weight") {
                for i in 0..<info.count { store.values[info.offset + i] = 1 }
                continue
            } else if n == "shared.weight" { std = 1 }
            else if n == "lm_head.weight" { std = 1 / d.squareRoot() }
            else if n.hasSuffix(".q.weight") { std = 1 / (d * Float(config.dKv)).squareRoot() }
            else if n.hasSuffix(".o.weight") { std = 1 / Float(config.innerDim).squareRoot() }
            else if n.hasSuffix(".wo.weight") { std = 1 / Float(config.dFF).squareRoot() }
            else { std = 1 / d.squareRoot() }
            for i in 0..<info.count { store.values[info.offset + i] = rng.nextGaussian() * std }
        }
    }

    /// A model whose parameters are all zero, to be filled from a checkpoint (random
    /// initialisation of a large model takes longer than reading its weights).
    init(allocating config: T5Config) {
        self.config = config
        layout = T5Layout(config: config, store: store)
        store.allocate()
    }

    /// Number of scalar parameters (shared embedding and head counted once each).
    public var parameterCount: Int { store.count }

    /// Names and shapes of all tensors, in transformers' state-dict naming.
    public var parameterInfos: [ParameterInfo] { store.infos }

    /// A copy of all parameters (e.g. to keep the best checkpoint on a validation split).
    public func snapshot() -> [Float] { store.values.array }
    /// Puts back parameters taken with `snapshot()`.
    public func restore(_ snapshot: [Float]) {
        precondition(snapshot.count == store.count)
        snapshot.withUnsafeBufferPointer { store.values.p.update(from: $0.baseAddress!, count: store.count) }
    }

    /// One tensor's values by transformers name (nil if unknown).
    public func parameter(named name: String) -> [Float]? {
        guard let info = store.info(name) else { return nil }
        return Array(UnsafeBufferPointer(start: store.values.p + info.offset, count: info.count))
    }
    /// One tensor's gradient from the last `computeGradients` (nil if unknown).
    public func gradient(named name: String) -> [Float]? {
        guard let info = store.info(name) else { return nil }
        return Array(UnsafeBufferPointer(start: store.grads.p + info.offset, count: info.count))
    }
    func setParameter(named name: String, _ values: [Float]) throws {
        guard let info = store.info(name) else { throw TrainerError.missingTensor(name) }
        guard values.count == info.count else { throw TrainerError.badFile("\(name): \(values.count) values, want \(info.count)") }
        values.withUnsafeBufferPointer { (store.values.p + info.offset).update(from: $0.baseAddress!, count: info.count) }
    }

    /// The model's own workspace, grown to fit `batch` (its dropout generator carries over).
    func workspace(for batch: Batch) -> Workspace {
        let ws = makeWorkspace(fitting: batch, atLeast: workspace)
        if ws !== workspace {
            if workspace == nil { ws.rng = dropoutRNG }
            workspace = ws
        }
        return ws
    }

    /// Whether training keeps only each layer's input and recomputes the layer's forward during
    /// the backward pass (`TrainOptions.recomputeActivations`; see `Workspace`).
    var recomputeActivations = false

    /// Square bucket table [len, len] for self-attention in the encoder or decoder.
    func buckets(length: Int, bidirectional: Bool) -> [Int32] {
        let key = length * 2 + (bidirectional ? 1 : 0)
        if let t = bucketTables[key] { return t }
        let t = RelativePositionBias.buckets(tq: length, tk: length, bidirectional: bidirectional, config: config)
        bucketTables[key] = t
        return t
    }

    // MARK: - Public entry points used by tests and the parity harness

    /// Loss (mean CE over non-pad targets) and, in `logits`, [B·T_dec·V] logits, without dropout.
    public func evaluate(inputs: [[Int32]], targets: [[Int32]]) -> (loss: Float, logits: [Float]) {
        let batch = Batch(inputs: inputs, targets: targets)
        let ws = workspace(for: batch)
        forward(batch, ws, training: false)
        let rows = batch.size * batch.decoderLength
        var logits = [Float](repeating: 0, count: rows * config.vocabSize)
        let loss = batch.targets.withUnsafeBufferPointer { targets in
            logits.withUnsafeMutableBufferPointer {
                OutputHead.run(hidden: ws.decoderOut.p, weight: store.values.p + layout.lmHead, rows: rows, d: config.dModel,
                               vocab: config.vocabSize,
                               terms: [CrossEntropy(targets: targets.baseAddress!, rows: rows, weight: 1)],
                               scratch: ws.head, logitsOut: $0.baseAddress!)[0]
            }
        }
        return (Float(loss), logits)
    }

    /// Zeroes the gradients, then computes loss and gradients of `weight · loss` on one batch
    /// (no dropout unless `training`). Read them with `gradient(named:)`.
    @discardableResult
    public func computeGradients(inputs: [[Int32]], targets: [[Int32]], weight: Float = 1, training: Bool = false) -> Float {
        zeroGradients()
        return Float(accumulateGradients(Batch(inputs: inputs, targets: targets), weight: weight, training: training).loss)
    }

    /// `exampleWeights` (one per pair, nil = all 1): the loss is the weighted mean CE per target
    /// token, Σ wᵢ·CEᵢ / Σ wᵢ·nᵢ, as the trainer computes it for a weighted stream.
    @discardableResult
    public func computeGradients(inputs: [[Int32]], targets: [[Int32]], weight: Float = 1, training: Bool = false,
                                 exampleWeights: [Float]?) -> Float {
        zeroGradients()
        var batch = Batch(inputs: inputs, targets: targets, weights: exampleWeights)
        let count = batch.targets.reduce(0) { $0 + ($1 != SpecialTokens.pad ? 1 : 0) }
        batch.normalizeWeights(tokenCount: count)
        return Float(accumulateGradients(batch, weight: weight, training: training, normalizer: count).loss)
    }

    func zeroGradients() { store.grads.zero() }

    /// Returns the pages of the gradient buffer and of the model's own workspace to the operating
    /// system (`FloatBuffer.discard`): the next training step zeroes and rewrites them.
    func discardTrainingScratch() {
        store.grads.discard()
        workspace?.discard()
    }

    /// Forward + backward of one batch, adding weight·∇loss into the gradient buffer.
    /// Shards of a batch running on other threads pass their own workspace and gradient buffer,
    /// and the whole batch's token count as `normalizer`.
    /// With `teacher` (a distillation stream's teacher, already run on the same target rows) the
    /// loss is w_ce·CE + w_kl·T²·KL against the teacher's distributions (`SoftTargetKL`) + w_h·the
    /// hidden-state distance at the decoder's output (`HiddenStateMatch`), whose gradient joins
    /// the head's in the decoder output's before the backward pass; each term also × `weight`.
    func accumulateGradients(_ batch: Batch, weight: Float, training: Bool, workspace shardWorkspace: Workspace? = nil,
                             grads: FloatBuffer? = nil, normalizer: Int? = nil,
                             teacher: TeacherRows? = nil) -> (loss: Double, count: Int) {
        let ws = shardWorkspace ?? workspace(for: batch)
        forward(batch, ws, training: training)
        let rows = batch.size * batch.decoderLength
        let G = (grads ?? store.grads).p
        return batch.targets.withUnsafeBufferPointer { targets in
            let ce = CrossEntropy(targets: targets.baseAddress!, rows: rows, weight: weight * (teacher?.ceWeight ?? 1),
                                  normalizer: normalizer, rowWeights: batch.rowWeights)
            guard ce.count > 0 else { return (0, 0) }
            var terms: [any RowBlockLoss] = [ce]
            if let teacher, teacher.klWeight > 0 {
                terms.append(SoftTargetKL(teacherHidden: teacher.hidden, teacherHead: teacher.head, teacherWidth: teacher.width,
                                          teacherLogits: teacher.logits, targets: targets.baseAddress!,
                                          normalizer: ce.normalizer, temperature: teacher.temperature,
                                          weight: weight * teacher.klWeight, rowWeights: batch.rowWeights))
            }
            // The head's backward leaves the gradient of the decoder output in ws.dnorm.
            let values = OutputHead.run(hidden: ws.decoderOut.p, weight: store.values.p + layout.lmHead, rows: rows,
                                        d: config.dModel, vocab: config.vocabSize, terms: terms, scratch: ws.head,
                                        gradients: .init(weight: G + layout.lmHead, hidden: ws.dnorm.p))
            // Each matched layer's term adds its gradient where that layer's output gradient is:
            // the last layer's into the head's (ws.dnorm), the others' into the residual stream's
            // as the backward pass reaches them.
            var hiddenValue = 0.0
            let points = teacher?.hiddenPoints ?? []
            let t = targets.baseAddress!
            func matchLayer(_ l: Int, _ dHidden: UnsafeMutablePointer<Float>) {
                for p in points where p.studentLayer == l {
                    let m = p.match
                    let term = HiddenStateMatch(distance: m.distance, studentWidth: m.studentWidth, teacherWidth: m.teacherWidth,
                                                projection: m.projection, normalizer: ce.normalizer,
                                                weight: weight * teacher!.hiddenWeight / Float(points.count))
                    hiddenValue += term.evaluate(hidden: ws.decoderLayerOutput(l), teacher: p.teacherStates, rows: rows,
                                                 counted: { t[$0] != SpecialTokens.pad }, scratch: teacher!.hiddenScratch!,
                                                 dHidden: dHidden, dProjection: p.projectionGradient) / Double(points.count)
                }
            }
            matchLayer(config.numDecoderLayers - 1, ws.dnorm.p)
            backward(batch, ws, training: training, grads: G,
                     decoderLayerHook: points.contains { $0.studentLayer < config.numDecoderLayers - 1 } ? matchLayer : nil)
            guard let teacher else { return (values[0], ce.count) }
            // The stream's loss before its weight: w_ce·CE + w_kl·KL + w_h·hidden.
            var loss = Double(teacher.ceWeight) * values[0]
            if terms.count > 1 { loss += Double(teacher.klWeight) * values[1] }
            loss += Double(teacher.hiddenWeight) * hiddenValue
            return (loss, ce.count)
        }
    }

    /// A workspace for a shard of a batch on another thread (the trainer keeps one per thread):
    /// `old` if it fits, else a new one at least as large, with `old`'s dropout generator.
    func makeWorkspace(fitting batch: Batch, atLeast old: Workspace?) -> Workspace {
        if let old, old.fits(batch), old.recomputes == recomputeActivations { return old }
        let ws = Workspace(config: config, batch: max(batch.size, old?.b ?? 0),
                           encoderLength: max(batch.encoderLength, old?.te ?? 0),
                           decoderLength: max(batch.decoderLength, old?.td ?? 0), dropout: config.dropoutRate > 0,
                           layout: recomputeActivations ? .oneLayerPlusInputs : .everyLayer)
        if let old { ws.rng = old.rng }
        return ws
    }

    // MARK: - Forward

    /// Runs the encoder (into ws.encoderOut) and, unless `encoderOnly`, the decoder (into
    /// ws.decoderOut: the output head's input, already scaled for a tied head). The head and the
    /// loss run block by block after it (`OutputHead`).
    func forward(_ batch: Batch, _ ws: Workspace, training: Bool, encoderOnly: Bool = false) {
        batch.inputMask.withUnsafeBufferPointer {
            encoderForward(batch, ws, training: training, mask: $0.baseAddress!, encoderOnly: encoderOnly)
        }
    }

    private func encoderForward(_ batch: Batch, _ ws: Workspace, training: Bool, mask: UnsafePointer<Float>, encoderOnly: Bool) {
        let c = config, W = store.values.p
        let d = c.dModel, eps = c.layerNormEpsilon
        let re = batch.size * batch.encoderLength
        let dropout = ForwardDropout(enabled: training && c.dropoutRate > 0, rate: c.dropoutRate, workspace: ws)
        let encIn = ws.encoder.first?.input ?? ws.encoderResidual
        batch.inputIds.withUnsafeBufferPointer {
            Embedding.forward(out: encIn.p, ids: $0.baseAddress!, table: W + layout.shared, count: re, dim: d, vocab: c.vocabSize)
        }
        dropout(encIn.p, ws.encoderEmbedDrop, re * d)
        if ws.recomputes { ws.encoderLayerRNG.removeAll(keepingCapacity: true) }
        for l in 0..<c.numLayers {
            if ws.recomputes { ws.encoderLayerRNG.append(ws.rng) }
            encoderLayerForward(l, batch, ws, dropout: dropout, mask: mask)
        }
        RMSNorm.forward(out: ws.encoderOut.p, rstd: ws.encoderRstd.p, x: ws.encoderResidual.p,
                        weight: W + layout.encoderFinalNorm, rows: re, dim: d, eps: eps)
        dropout(ws.encoderOut.p, ws.encoderFinalDrop, re * d)
        if !encoderOnly { decoderForward(batch, ws, training: training, mask: mask) }
    }

    /// Encoder layer l: ws.encoder[l].input → the next layer's input (or ws.encoderResidual).
    private func encoderLayerForward(_ l: Int, _ batch: Batch, _ ws: Workspace, dropout: ForwardDropout,
                                     mask: UnsafePointer<Float>) {
        let c = config, W = store.values.p
        let d = c.dModel, ff = c.dFF, eps = c.layerNormEpsilon
        let re = batch.size * batch.encoderLength
        let encShape = AttentionShape(batch: batch.size, tq: batch.encoderLength, tk: batch.encoderLength,
                                      heads: c.numHeads, dk: c.dKv)
        let L = ws.encoder[l], P = layout.encoder[l]
        let next = l + 1 < c.numLayers ? ws.encoder[l + 1].input : ws.encoderResidual
        selfAttentionForward(input: L.input, norm: L.norm1, rstd: L.rstd1, qkv: L.qkv, probs: L.probs, attnOut: L.attnOut,
                             output: L.mid, drop: L.drop1, probsDrop: L.probsDrop, normWeight: P.attentionNorm,
                             params: P.attention, bias: ws.encoderBias, keyMask: mask, causal: false, shape: encShape,
                             ws, dropout: dropout)
        RMSNorm.forward(out: L.norm2.p, rstd: L.rstd2.p, x: L.mid.p, weight: W + P.feedForwardNorm, rows: re, dim: d, eps: eps)
        FeedForward.forward(c.feedForward, out: ws.tmp.p, hidden: L.h01.p, activated: L.gated.p, x: L.norm2.p,
                            params: P.feedForward, weights: W, rows: re, d: d, dff: ff,
                            dropMask: dropout.freshMask(L.hiddenDrop, re * ff))
        dropout(ws.tmp.p, L.drop2, re * d)
        residualAdd(next.p, L.mid.p, ws.tmp.p, re * d)
    }

    private func decoderForward(_ batch: Batch, _ ws: Workspace, training: Bool, mask: UnsafePointer<Float>) {
        let c = config, W = store.values.p
        let d = c.dModel, eps = c.layerNormEpsilon
        let rd = batch.size * batch.decoderLength
        let dropout = ForwardDropout(enabled: training && c.dropoutRate > 0, rate: c.dropoutRate, workspace: ws)
        let decIn = ws.decoder.first?.input ?? ws.decoderResidual
        batch.decoderInputIds.withUnsafeBufferPointer {
            Embedding.forward(out: decIn.p, ids: $0.baseAddress!, table: W + layout.shared, count: rd, dim: d, vocab: c.vocabSize)
        }
        dropout(decIn.p, ws.decoderEmbedDrop, rd * d)
        if ws.recomputes { ws.decoderLayerRNG.removeAll(keepingCapacity: true) }
        for l in 0..<c.numDecoderLayers {
            if ws.recomputes { ws.decoderLayerRNG.append(ws.rng) }
            decoderLayerForward(l, batch, ws, dropout: dropout, mask: mask)
        }
        RMSNorm.forward(out: ws.decoderOut.p, rstd: ws.decoderRstd.p, x: ws.decoderResidual.p,
                        weight: W + layout.decoderFinalNorm, rows: rd, dim: d, eps: eps)
        dropout(ws.decoderOut.p, ws.decoderFinalDrop, rd * d)
        if c.scaleDecoderOutputs { scale(ws.decoderOut.p, 1 / Float(d).squareRoot(), rd * d) }
    }

    /// Decoder layer l: ws.decoder[l].input → the next layer's input (or ws.decoderResidual).
    private func decoderLayerForward(_ l: Int, _ batch: Batch, _ ws: Workspace, dropout: ForwardDropout,
                                     mask: UnsafePointer<Float>) {
        let c = config, W = store.values.p
        let d = c.dModel, inner = c.innerDim, ff = c.dFF, eps = c.layerNormEpsilon
        let re = batch.size * batch.encoderLength, rd = batch.size * batch.decoderLength
        let selfShape = AttentionShape(batch: batch.size, tq: batch.decoderLength, tk: batch.decoderLength,
                                       heads: c.numHeads, dk: c.dKv)
        let crossShape = AttentionShape(batch: batch.size, tq: batch.decoderLength, tk: batch.encoderLength,
                                        heads: c.numHeads, dk: c.dKv)
        let L = ws.decoder[l], P = layout.decoder[l]
        let next = l + 1 < c.numDecoderLayers ? ws.decoder[l + 1].input : ws.decoderResidual
        // causal self-attention with the decoder's relative position bias
        selfAttentionForward(input: L.input, norm: L.norm1, rstd: L.rstd1, qkv: L.qkv, probs: L.probs, attnOut: L.attnOut,
                             output: L.mid1, drop: L.drop1, probsDrop: L.probsDrop, normWeight: P.selfAttentionNorm,
                             params: P.selfAttention, bias: ws.decoderBias, keyMask: nil, causal: true, shape: selfShape,
                             ws, dropout: dropout)
        // cross-attention over the encoder output (no position bias)
        RMSNorm.forward(out: L.norm2.p, rstd: L.rstd2.p, x: L.mid1.p, weight: W + P.crossAttentionNorm, rows: rd, dim: d, eps: eps)
        linearForward(L.crossQ.p, L.norm2.p, W + P.crossAttention.q, m: rd, k: d, n: inner)
        linearForward(L.crossKV.p, ws.encoderOut.p, W + P.crossAttention.k, m: re, k: d, n: 2 * inner)
        Attention.forward(out: L.crossOut.p, probs: L.crossProbs.p, q: L.crossQ.p, ldq: inner, k: L.crossKV.p,
                          v: L.crossKV.p + inner, ldkv: 2 * inner, bias: nil, keyMask: mask, causal: false,
                          dropout: dropout.probs(L.crossProbsDrop, crossShape.probsCount), shape: crossShape)
        linearForward(ws.tmp.p, L.crossOut.p, W + P.crossAttention.o, m: rd, k: inner, n: d)
        dropout(ws.tmp.p, L.drop2, rd * d)
        residualAdd(L.mid2.p, L.mid1.p, ws.tmp.p, rd * d)
        // feed-forward
        RMSNorm.forward(out: L.norm3.p, rstd: L.rstd3.p, x: L.mid2.p, weight: W + P.feedForwardNorm, rows: rd, dim: d, eps: eps)
        FeedForward.forward(c.feedForward, out: ws.tmp.p, hidden: L.h01.p, activated: L.gated.p, x: L.norm3.p,
                            params: P.feedForward, weights: W, rows: rd, d: d, dff: ff,
                            dropMask: dropout.freshMask(L.hiddenDrop, rd * ff))
        dropout(ws.tmp.p, L.drop3, rd * d)
        residualAdd(next.p, L.mid2.p, ws.tmp.p, rd * d)
    }

    /// A self-attention sublayer (the encoder's, or the decoder's causal one): output = input +
    /// dropout(o(attention(q|k|v of norm(input)) with the stack's relative position bias, which
    /// the stack's first layer computes into `bias`)).
    private func selfAttentionForward(input: FloatBuffer, norm: FloatBuffer, rstd: FloatBuffer, qkv: FloatBuffer,
                                      probs: FloatBuffer, attnOut: FloatBuffer, output: FloatBuffer, drop: FloatBuffer?,
                                      probsDrop: FloatBuffer?, normWeight: Int, params A: AttentionParams, bias: FloatBuffer,
                                      keyMask: UnsafePointer<Float>?, causal: Bool, shape: AttentionShape,
                                      _ ws: Workspace, dropout: ForwardDropout) {
        let W = store.values.p, d = config.dModel, inner = config.innerDim
        let rows = shape.batch * shape.tq
        RMSNorm.forward(out: norm.p, rstd: rstd.p, x: input.p, weight: W + normWeight, rows: rows, dim: d,
                        eps: config.layerNormEpsilon)
        linearForward(qkv.p, norm.p, W + A.q, m: rows, k: d, n: 3 * inner)
        if let rb = A.relativeBias {
            RelativePositionBias.forward(bias: bias.p, table: W + rb, buckets: buckets(length: shape.tq, bidirectional: !causal),
                                         heads: shape.heads, tq: shape.tq, tk: shape.tk)
        }
        Attention.forward(out: attnOut.p, probs: probs.p, q: qkv.p, ldq: 3 * inner, k: qkv.p + inner,
                          v: qkv.p + 2 * inner, ldkv: 3 * inner, bias: bias.p, keyMask: keyMask,
                          causal: causal, dropout: dropout.probs(probsDrop, shape.probsCount), shape: shape)
        linearForward(ws.tmp.p, attnOut.p, W + A.o, m: rows, k: inner, n: d)
        dropout(ws.tmp.p, drop, rows * d)
        residualAdd(output.p, input.p, ws.tmp.p, rows * d)
    }

    /// Runs layer l's forward again before its backward (when the workspace keeps only each
    /// layer's input), with the dropout generator as it was then: the same activations and masks.
    private func recomputeLayer(_ l: Int, decoder: Bool, _ batch: Batch, _ ws: Workspace, training: Bool) {
        let after = ws.rng
        ws.rng = decoder ? ws.decoderLayerRNG[l] : ws.encoderLayerRNG[l]
        let dropout = ForwardDropout(enabled: training && config.dropoutRate > 0, rate: config.dropoutRate, workspace: ws)
        batch.inputMask.withUnsafeBufferPointer {
            if decoder {
                decoderLayerForward(l, batch, ws, dropout: dropout, mask: $0.baseAddress!)
            } else {
                encoderLayerForward(l, batch, ws, dropout: dropout, mask: $0.baseAddress!)
            }
        }
        ws.rng = after
    }

    // MARK: - Backward (reverse order of forward; gradients accumulate into store.grads)

    /// Starts from ws.dnorm, the gradient of the decoder output the head read (`OutputHead.run`
    /// wrote it, and added the head's own weight gradient).
    /// `decoderLayerHook(l, dOutput)` may add to the gradient of decoder layer l's output before
    /// that layer's backward (hidden-state matching); called for every layer but the last.
    func backward(_ batch: Batch, _ ws: Workspace, training: Bool, grads G: UnsafeMutablePointer<Float>,
                  decoderLayerHook: ((Int, UnsafeMutablePointer<Float>) -> Void)? = nil) {
        let c = config, W = store.values.p
        let d = c.dModel, inner = c.innerDim, ff = c.dFF
        let re = batch.size * batch.encoderLength, rd = batch.size * batch.decoderLength
        let drop = training && c.dropoutRate > 0
        func undrop(_ x: UnsafeMutablePointer<Float>, _ mask: FloatBuffer?, _ n: Int) {
            guard drop, let m = mask else { return }
            Dropout.apply(x, mask: m.p, count: n)
        }
        /// The forward pass's mask of a dropout inside a layer (nil when not dropping).
        func usedMask(_ mask: FloatBuffer?) -> UnsafePointer<Float>? { drop ? mask.map { UnsafePointer($0.p) } : nil }
        func probsDropout(_ mask: FloatBuffer?) -> (mask: UnsafePointer<Float>, scratch: UnsafeMutablePointer<Float>)? {
            guard let m = usedMask(mask), let scratch = ws.droppedProbs else { return nil }
            return (m, scratch.p)
        }
        let selfShape = AttentionShape(batch: batch.size, tq: batch.decoderLength, tk: batch.decoderLength,
                                       heads: c.numHeads, dk: c.dKv)
        let crossShape = AttentionShape(batch: batch.size, tq: batch.decoderLength, tk: batch.encoderLength,
                                        heads: c.numHeads, dk: c.dKv)
        let encShape = AttentionShape(batch: batch.size, tq: batch.encoderLength, tk: batch.encoderLength,
                                      heads: c.numHeads, dk: c.dKv)
        // ---- decoder final norm (and the tied head's scaling)
        if c.scaleDecoderOutputs { scale(ws.dnorm.p, 1 / Float(d).squareRoot(), rd * d) }
        undrop(ws.dnorm.p, ws.decoderFinalDrop, rd * d)
        ws.dres.zero()
        RMSNorm.backward(dx: ws.dres.p, dweight: G + layout.decoderFinalNorm, dout: ws.dnorm.p, x: ws.decoderResidual.p,
                         rstd: ws.decoderRstd.p, weight: W + layout.decoderFinalNorm, rows: rd, dim: d)
        ws.dEnc.zero()
        ws.dDecoderBias.zero()
        // ---- decoder layers; ws.dres holds the gradient of the residual stream
        for l in stride(from: c.numDecoderLayers - 1, through: 0, by: -1) {
            if ws.recomputes { recomputeLayer(l, decoder: true, batch, ws, training: training) }
            if l < c.numDecoderLayers - 1 { decoderLayerHook?(l, ws.dres.p) }
            let L = ws.decoder[l], P = layout.decoder[l]
            // feed-forward
            ws.tmp.p.update(from: ws.dres.p, count: rd * d)
            undrop(ws.tmp.p, L.drop3, rd * d)
            (ws.dnorm.p).update(repeating: 0, count: rd * d)
            FeedForward.backward(c.feedForward, dx: ws.dnorm.p, grads: G, dout: ws.tmp.p, x: L.norm3.p, hidden: L.h01.p,
                                 activated: L.gated.p, params: P.feedForward, weights: W, dactivated: ws.dgated.p,
                                 dhidden: ws.dh01.p, rows: rd, d: d, dff: ff, dropMask: usedMask(L.hiddenDrop))
            RMSNorm.backward(dx: ws.dres.p, dweight: G + P.feedForwardNorm, dout: ws.dnorm.p, x: L.mid2.p,
                             rstd: L.rstd3.p, weight: W + P.feedForwardNorm, rows: rd, dim: d)
            // cross-attention
            ws.tmp.p.update(from: ws.dres.p, count: rd * d)
            undrop(ws.tmp.p, L.drop2, rd * d)
            let X = P.crossAttention
            linearBackwardWeight(G + X.o, ws.tmp.p, L.crossOut.p, m: rd, k: inner, n: d)
            linearBackwardInput(ws.dAttn.p, ws.tmp.p, W + X.o, m: rd, k: inner, n: d, accumulate: false)
            Attention.backward(dq: ws.dcq.p, ldq: inner, dk: ws.dckv.p, dv: ws.dckv.p + inner, ldkv: 2 * inner, dbias: nil,
                               dout: ws.dAttn.p, probs: L.crossProbs.p, q: L.crossQ.p, k: L.crossKV.p,
                               v: L.crossKV.p + inner, dprobs: ws.dprobs.p, dropout: probsDropout(L.crossProbsDrop),
                               shape: crossShape)
            linearBackwardWeight(G + X.q, ws.dcq.p, L.norm2.p, m: rd, k: d, n: inner)
            linearBackwardInput(ws.dnorm.p, ws.dcq.p, W + X.q, m: rd, k: d, n: inner, accumulate: false)
            linearBackwardWeight(G + X.k, ws.dckv.p, ws.encoderOut.p, m: re, k: d, n: 2 * inner)
            linearBackwardInput(ws.dEnc.p, ws.dckv.p, W + X.k, m: re, k: d, n: 2 * inner, accumulate: true)
            RMSNorm.backward(dx: ws.dres.p, dweight: G + P.crossAttentionNorm, dout: ws.dnorm.p, x: L.mid1.p,
                             rstd: L.rstd2.p, weight: W + P.crossAttentionNorm, rows: rd, dim: d)
            // causal self-attention
            ws.tmp.p.update(from: ws.dres.p, count: rd * d)
            undrop(ws.tmp.p, L.drop1, rd * d)
            let S = P.selfAttention
            linearBackwardWeight(G + S.o, ws.tmp.p, L.attnOut.p, m: rd, k: inner, n: d)
            linearBackwardInput(ws.dAttn.p, ws.tmp.p, W + S.o, m: rd, k: inner, n: d, accumulate: false)
            Attention.backward(dq: ws.dqkv.p, ldq: 3 * inner, dk: ws.dqkv.p + inner, dv: ws.dqkv.p + 2 * inner, ldkv: 3 * inner,
                               dbias: ws.dDecoderBias.p, dout: ws.dAttn.p, probs: L.probs.p, q: L.qkv.p,
                               k: L.qkv.p + inner, v: L.qkv.p + 2 * inner, dprobs: ws.dprobs.p,
                               dropout: probsDropout(L.probsDrop), shape: selfShape)
            linearBackwardWeight(G + S.q, ws.dqkv.p, L.norm1.p, m: rd, k: d, n: 3 * inner)
            linearBackwardInput(ws.dnorm.p, ws.dqkv.p, W + S.q, m: rd, k: d, n: 3 * inner, accumulate: false)
            RMSNorm.backward(dx: ws.dres.p, dweight: G + P.selfAttentionNorm, dout: ws.dnorm.p, x: L.input.p,
                             rstd: L.rstd1.p, weight: W + P.selfAttentionNorm, rows: rd, dim: d)
        }
        if let rb = layout.decoder.first?.selfAttention.relativeBias {
            RelativePositionBias.backward(dtable: G + rb, dbias: ws.dDecoderBias.p,
                                          buckets: buckets(length: batch.decoderLength, bidirectional: false),
                                          heads: c.numHeads, tq: batch.decoderLength, tk: batch.decoderLength)
        }
        undrop(ws.dres.p, ws.decoderEmbedDrop, rd * d)
        batch.decoderInputIds.withUnsafeBufferPointer {
            Embedding.backward(dtable: G + layout.shared, dout: ws.dres.p, ids: $0.baseAddress!, count: rd, dim: d)
        }

        // ---- encoder: ws.dEnc is the gradient of the (dropped-out) encoder output
        undrop(ws.dEnc.p, ws.encoderFinalDrop, re * d)
        ws.dres.zero()
        RMSNorm.backward(dx: ws.dres.p, dweight: G + layout.encoderFinalNorm, dout: ws.dEnc.p, x: ws.encoderResidual.p,
                         rstd: ws.encoderRstd.p, weight: W + layout.encoderFinalNorm, rows: re, dim: d)
        ws.dEncoderBias.zero()
        for l in stride(from: c.numLayers - 1, through: 0, by: -1) {
            if ws.recomputes { recomputeLayer(l, decoder: false, batch, ws, training: training) }
            let L = ws.encoder[l], P = layout.encoder[l]
            ws.tmp.p.update(from: ws.dres.p, count: re * d)
            undrop(ws.tmp.p, L.drop2, re * d)
            ws.dnorm.p.update(repeating: 0, count: re * d)
            FeedForward.backward(c.feedForward, dx: ws.dnorm.p, grads: G, dout: ws.tmp.p, x: L.norm2.p, hidden: L.h01.p,
                                 activated: L.gated.p, params: P.feedForward, weights: W, dactivated: ws.dgated.p,
                                 dhidden: ws.dh01.p, rows: re, d: d, dff: ff, dropMask: usedMask(L.hiddenDrop))
            RMSNorm.backward(dx: ws.dres.p, dweight: G + P.feedForwardNorm, dout: ws.dnorm.p, x: L.mid.p,
                             rstd: L.rstd2.p, weight: W + P.feedForwardNorm, rows: re, dim: d)
            ws.tmp.p.update(from: ws.dres.p, count: re * d)
            undrop(ws.tmp.p, L.drop1, re * d)
            let S = P.attention
            linearBackwardWeight(G + S.o, ws.tmp.p, L.attnOut.p, m: re, k: inner, n: d)
            linearBackwardInput(ws.dAttn.p, ws.tmp.p, W + S.o, m: re, k: inner, n: d, accumulate: false)
            Attention.backward(dq: ws.dqkv.p, ldq: 3 * inner, dk: ws.dqkv.p + inner, dv: ws.dqkv.p + 2 * inner, ldkv: 3 * inner,
                               dbias: ws.dEncoderBias.p, dout: ws.dAttn.p, probs: L.probs.p, q: L.qkv.p,
                               k: L.qkv.p + inner, v: L.qkv.p + 2 * inner, dprobs: ws.dprobs.p,
                               dropout: probsDropout(L.probsDrop), shape: encShape)
            linearBackwardWeight(G + S.q, ws.dqkv.p, L.norm1.p, m: re, k: d, n: 3 * inner)
            linearBackwardInput(ws.dnorm.p, ws.dqkv.p, W + S.q, m: re, k: d, n: 3 * inner, accumulate: false)
            RMSNorm.backward(dx: ws.dres.p, dweight: G + P.attentionNorm, dout: ws.dnorm.p, x: L.input.p,
                             rstd: L.rstd1.p, weight: W + P.attentionNorm, rows: re, dim: d)
        }
        if let rb = layout.encoder.first?.attention.relativeBias {
            RelativePositionBias.backward(dtable: G + rb, dbias: ws.dEncoderBias.p,
                                          buckets: buckets(length: batch.encoderLength, bidirectional: true),
                                          heads: c.numHeads, tq: batch.encoderLength, tk: batch.encoderLength)
        }
        undrop(ws.dres.p, ws.encoderEmbedDrop, re * d)
        batch.inputIds.withUnsafeBufferPointer {
            Embedding.backward(dtable: G + layout.shared, dout: ws.dres.p, ids: $0.baseAddress!, count: re, dim: d)
        }
    }
}

/// out = a + b (the residual add).
@inline(__always) func residualAdd(_ out: UnsafeMutablePointer<Float>, _ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>, _ n: Int) {
    var i = 0
    while i + 8 <= n { store8(out + i, load8(a + i) + load8(b + i)); i += 8 }
    while i < n { out[i] = a[i] + b[i]; i += 1 }
}

/// x ⊙= s.
@inline(__always) func scale(_ x: UnsafeMutablePointer<Float>, _ s: Float, _ n: Int) {
    for i in 0..<n { x[i] *= s }
}
