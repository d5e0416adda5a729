import Foundation

/// One task's training pairs and its weight in the summed loss, e.g. `[label] x → y` with
/// weight 1 and `[rationale] x → r` with weight λ. Targets should end with eos.
public struct TrainingStream: Sendable {
    public var name: String
    public var inputs: [[Int32]]
    public var targets: [[Int32]]
    public var weight: Float
    /// One weight per pair (nil = all 1): the stream's loss is then the weighted mean CE per
    /// target token, Σ wᵢ·CEᵢ / Σ wᵢ·nᵢ over the batch — soft targets written as one weighted
    /// (input → label_j) pair per label. Weights of exactly 1 give the unweighted loss bit for bit.
    public var exampleWeights: [Float]?
    /// An embedded teacher whose token distributions the student matches on this stream's
    /// targets (nil = plain cross-entropy).
    public var teacher: StreamTeacher?
    public init(name: String = "", inputs: [[Int32]], targets: [[Int32]], weight: Float = 1, exampleWeights: [Float]? = nil,
                teacher: StreamTeacher? = nil) {
        precondition(inputs.count == targets.count && !inputs.isEmpty, "a stream needs ≥ 1 pair")
        precondition(exampleWeights == nil || exampleWeights!.count == inputs.count, "one weight per pair")
        precondition(exampleWeights?.allSatisfy({ $0 >= 0 && $0.isFinite }) ?? true, "pair weights must be finite and ≥ 0")
        precondition(teacher == nil || teacher!.inputs.count == inputs.count, "one teacher input per pair")
        self.name = name; self.inputs = inputs; self.targets = targets; self.weight = weight
        self.exampleWeights = exampleWeights
        self.teacher = teacher
    }
}

public struct TrainOptions: Sendable {
    public var steps = 1000
    public var batchSize = 32
    public var learningRate: Float = 1e-3
    public var warmupSteps = 0
    public var schedule: LearningRateSchedule = .linear
    public var weightDecay: Float = 0.01
    /// Global gradient-norm clip (nil = no clipping).
    public var clipNorm: Float? = 1.0
    public var seed: UInt64 = 0
    public var threads = defaultThreadCount
    public var maxInputLength = 512
    public var maxTargetLength = 512
    /// Call `evaluate` every this many steps (0 = never) and after the last step.
    public var evaluateEvery = 0
    /// Every stream's batch is cut into this many micro-batches (consecutive rows; fewer when the
    /// batch is smaller), each with its own dropout masks and gradient sum, added up in
    /// micro-batch order. Part of the recipe: the result depends on it, not on `threads`, which
    /// only decides how many micro-batches run side by side. 2 keeps both cores of a 2-core
    /// machine busy at the cost of one extra gradient buffer; more lets more cores help (each
    /// thread trains one micro-batch at a time, with one gradient buffer per thread) but makes
    /// each matrix product smaller.
    public var microBatches = 2
    /// Keep only each layer's input during the forward pass and run the layer's forward again
    /// just before its backward: the same weights bit for bit, about a third more work in the
    /// layers, and the activations of one layer per stack instead of all (T5-base, batch 16:
    /// ~1.4 GB less per thread). Only speed and memory; not part of the recipe.
    public var recomputeActivations = false
    public init() {}
}

public struct TrainingProgress: Sendable {
    public var step: Int               // 1-based, after the update
    public var lossPerStream: [Float]  // mean CE of each stream on this step's batch (before its stream weight; weighted by pair for a weighted stream; (1−α)·CE + α·T²·KL for a stream with a teacher)
    public var tokensPerSecond: Double // non-pad input + target tokens per second, this step
    public var learningRate: Float
    public var gradientNorm: Float     // before clipping
}

/// Trains a model on weighted streams: each step takes one batch from every stream, sums
/// weight · mean CE, clips, and applies AdamW with the scheduled learning rate. Batches are drawn
/// by walking a per-stream shuffled order (reshuffled each epoch) from the seed, so the same
/// seed gives the same loss curve and weights, whatever the thread count.
///
/// Each batch is cut into `options.microBatches` micro-batches, and micro-batch k of every stream
/// goes to gradient slot k (streams in order), with dropout masks seeded from (seed, step, stream,
/// k). Slots run in waves of `threads` side by side, each on one thread with single-threaded
/// sgemm and its own workspace; slot 0 sums into the model's gradient buffer and every other
/// slot into a scratch buffer that is then added in slot order. So every gradient element is
/// ((g₀ + g₁) + g₂) + … whatever the number of threads or waves: the weights are bit-identical
/// with 1, 2 or 8 threads.
public final class Trainer {
    public let model: T5Model
    public let options: TrainOptions
    private let optimizer: AdamW
    private var orders: [[Int]] = []
    private var cursors: [Int] = []
    private var rngs: [SplitMix64] = []
    /// Per thread of a wave: the workspace (thread 0 uses the model's) and the gradient buffer
    /// of slots other than 0, allocated when first needed.
    private(set) var threadWorkspaces: [Workspace?] = []
    private(set) var threadGrads: [FloatBuffer?] = []
    /// Per thread of a wave, per stream: the stream's teacher buffers (distillation streams only).
    private var teacherSlots: [[Int: TeacherSlot]] = []
    /// Per stream with hidden-state matching between different widths: a learned projection per
    /// matched layer.
    private var projections: [Int: [HiddenProjection]] = [:]
    public private(set) var step = 0

    public init(model: T5Model, options: TrainOptions) {
        self.model = model
        self.options = options
        optimizer = AdamW(store: model.store, weightDecay: options.weightDecay)
    }

    /// Runs `options.steps` steps (or the remainder if called again). `evaluate(step)` is called
    /// every `evaluateEvery` steps and after the last; snapshot the model there to keep the best.
    public func train(streams: [TrainingStream], progress: ((TrainingProgress) -> Void)? = nil,
                      evaluate: ((Int) -> Void)? = nil) {
        while step < options.steps {
            let p = trainStep(streams: streams)
            progress?(p)
            if let evaluate, (options.evaluateEvery > 0 && step % options.evaluateEvery == 0) || step == options.steps {
                // Evaluation decodes with buffers of its own, which are freed again before the
                // next step: the two phases' scratch is never allocated at once.
                discardStepScratch()
                evaluate(step)
                model.releaseDecodingBuffers()
            }
        }
    }

    /// Returns the pages of what only a step uses — the gradient buffers and every thread's
    /// activations — to the operating system until the next step rewrites them (for T5-base with
    /// two threads ~2 GB of gradients). The parameters and AdamW's moments are kept, and so are
    /// the results: a step zeroes its gradients and writes its activations before reading them.
    public func discardStepScratch() {
        model.discardTrainingScratch()
        threadGrads.forEach { $0?.discard() }
        threadWorkspaces.forEach { $0?.discard() }
    }

    /// One optimizer step over one batch of every stream.
    @discardableResult
    public func trainStep(streams: [TrainingStream]) -> TrainingProgress {
        setThreads(options.threads)
        model.recomputeActivations = options.recomputeActivations
        if rngs.count != streams.count {
            rngs = streams.indices.map { SplitMix64(seed: options.seed &+ UInt64($0) &* 0x1000_0001) }
            orders = Array(repeating: [], count: streams.count)
            cursors = Array(repeating: 0, count: streams.count)
        }
        let start = Date()
        let slots = max(1, options.microBatches)
        let threads = max(1, min(options.threads, slots))
        // parts[s][k]: micro-batch k of stream s (nil when the batch has fewer rows than slots).
        var parts: [[Batch?]] = []
        // teacherParts[s][k]: the same rows as the teacher reads them (streams with an active teacher).
        var teacherParts: [[Batch?]] = []
        var normalizers: [Int] = []
        var tokens = 0
        for (s, stream) in streams.enumerated() {
            let idx = nextIndices(stream: s, count: stream.inputs.count)
            let slices = (0..<slots).map { k in idx[(idx.count * k / slots)..<(idx.count * (k + 1) / slots)] }
            var streamParts: [Batch?] = slices.map { rows in
                if rows.isEmpty { return nil }
                return Batch(inputs: rows.map { stream.inputs[$0] }, targets: rows.map { stream.targets[$0] },
                             maxInputLength: options.maxInputLength, maxTargetLength: options.maxTargetLength,
                             weights: stream.exampleWeights.map { w in rows.map { w[$0] } })
            }
            // A teacher no term reads (α = 0) never runs: the stream is then cross-entropy × its
            // weight (plain cross-entropy bit for bit at weight 1).
            if let teacher = stream.teacher, teacher.isActive {
                precondition(teacher.model.config.vocabSize == model.config.vocabSize, "the teacher's vocabulary is not the student's")
                teacherParts.append(slices.map { rows in
                    rows.isEmpty ? nil : Batch(inputs: rows.map { teacher.inputs[$0] }, targets: rows.map { stream.targets[$0] },
                                               maxInputLength: options.maxInputLength, maxTargetLength: options.maxTargetLength)
                })
            } else {
                teacherParts.append([])
            }
            // Each micro-batch's CE is divided by the whole batch's target count: the sum over
            // micro-batches is the batch's mean CE.
            let count = streamParts.reduce(0) { n, part in
                n + (part?.targets.reduce(0) { $0 + ($1 != SpecialTokens.pad ? 1 : 0) } ?? 0)
            }
            normalizers.append(count)
            if stream.exampleWeights != nil {
                // A weighted stream's mean is over the whole batch's weighted count.
                let weighted = streamParts.reduce(0.0) { $0 + ($1?.weightedTargetCount ?? 0) }
                for k in streamParts.indices { streamParts[k]?.normalizeWeights(tokenCount: count, weightedCount: weighted) }
            }
            parts.append(streamParts)
            tokens += streamParts.reduce(0) { $0 + ($1?.tokenCount ?? 0) }
        }
        let workspaces = prepareWorkspaces(parts: parts, threads: threads)
        prepareTeachers(streams: streams, parts: teacherParts, workspaces: workspaces)
        for projection in projections.values.joined() { projection.zeroGradients(slots: slots) }
        let grads = model.store.grads
        forEachChunk(count: grads.count, threads: threads) { r in (grads.p + r.lowerBound).update(repeating: 0, count: r.count) }

        var partLosses = [[Float]](repeating: [Float](repeating: 0, count: slots), count: streams.count)
        let lock = NSLock()
        var norm: Float = 0
        for wave in stride(from: 0, to: slots, by: threads) {
            let waveSlots = wave..<min(slots, wave + threads)
            for k in waveSlots where k != 0 && threadGrads[k - wave] == nil {
                threadGrads[k - wave] = FloatBuffer(grads.count)
            }
            let slotGrads = waveSlots.map { $0 == 0 ? grads : threadGrads[$0 - wave]! }
            let run = { (j: Int) in
                let k = wave + j
                if k != 0 { slotGrads[j].zero() }
                for (s, stream) in streams.enumerated() {
                    guard let part = parts[s][k] else { continue }
                    workspaces[j].rng = SplitMix64(seed: self.dropoutSeed(stream: s, slot: k))
                    var teacherRows: TeacherRows?
                    var weight = stream.weight, reported: Float = 1
                    if let teacher = stream.teacher, let teacherPart = teacherParts[s].isEmpty ? nil : teacherParts[s][k] {
                        let projections = self.projections[s] ?? []
                        teacherRows = self.teacherSlots[j][s]!.forward(teacher, batch: teacherPart, student: self.model.config,
                                                                        projections: projections,
                                                                        projectionGradients: projections.map { $0.gradient(slot: k) })
                    } else if let teacher = stream.teacher, teacher.ceWeight != 1 {
                        weight *= teacher.ceWeight   // only the cross-entropy, at its weight
                        reported = teacher.ceWeight
                    }
                    let r = self.model.accumulateGradients(part, weight: weight, training: true,
                                                           workspace: workspaces[j], grads: slotGrads[j],
                                                           normalizer: normalizers[s], teacher: teacherRows)
                    lock.lock(); partLosses[s][k] = Float(r.loss) * reported; lock.unlock()
                }
            }
            if waveSlots.count == 1 { run(0) } else { DispatchQueue.concurrentPerform(iterations: waveSlots.count, execute: run) }
            // Slots after 0 are added in slot order; after the last wave, the global norm too.
            // Both passes over all parameters run on every thread (each is memory-bound).
            let others = Array(slotGrads.dropFirst(wave == 0 ? 1 : 0))
            norm = reduceGradients(grads, adding: others, threads: threads, norm: waveSlots.upperBound == slots)
        }
        let lr = options.schedule.rate(step: step, totalSteps: options.steps, warmupSteps: options.warmupSteps,
                                       peak: options.learningRate)
        if !projections.isEmpty {
            // The projections train with the student: their gradients count in the clipped norm.
            let squares = projections.keys.sorted().flatMap { projections[$0]! }
                .reduce(Double(norm) * Double(norm)) { $0 + $1.reduce(slots: slots) }
            norm = Float(squares.squareRoot())
        }
        let gradScale = clipScale(norm: norm, maxNorm: options.clipNorm)
        // Every element's update is independent: the result does not depend on the thread count.
        optimizer.update(params: model.store.values, grads: grads, learningRate: lr, gradScale: gradScale, threads: options.threads)
        for s in projections.keys.sorted() { for p in projections[s]! { p.update(learningRate: lr, gradScale: gradScale) } }
        step += 1
        let seconds = Date().timeIntervalSince(start)
        return TrainingProgress(step: step, lossPerStream: partLosses.map { $0.reduce(0, +) },
                                tokensPerSecond: Double(tokens) / max(seconds, 1e-9), learningRate: lr, gradientNorm: norm)
    }

    /// One workspace per thread of a wave, each grown to fit the micro-batches it will train
    /// (slot k runs on thread k mod threads), and the shared lookup tables filled, before any
    /// thread starts: the threads only read shared state.
    private func prepareWorkspaces(parts: [[Batch?]], threads: Int) -> [Workspace] {
        while threadWorkspaces.count < threads { threadWorkspaces.append(nil); threadGrads.append(nil) }
        var modelWorkspace: Workspace?
        for streamParts in parts {
            for (k, part) in streamParts.enumerated() {
                guard let part else { continue }
                _ = model.buckets(length: part.encoderLength, bidirectional: true)
                _ = model.buckets(length: part.decoderLength, bidirectional: false)
                let j = k % threads
                if j == 0 {
                    modelWorkspace = model.workspace(for: part)
                } else {
                    threadWorkspaces[j] = model.makeWorkspace(fitting: part, atLeast: threadWorkspaces[j])
                }
            }
        }
        return (0..<threads).map { $0 == 0 ? modelWorkspace! : threadWorkspaces[$0]! }
    }

    /// Each thread's teacher buffers, grown to fit the teacher micro-batches it will run (slot k
    /// on thread k mod threads) and a block of the student's head, before any thread starts.
    private func prepareTeachers(streams: [TrainingStream], parts: [[Batch?]], workspaces: [Workspace]) {
        while teacherSlots.count < workspaces.count { teacherSlots.append([:]) }
        for (s, streamParts) in parts.enumerated() {
            guard let teacher = streams[s].teacher else { continue }
            let width = teacher.model.config.dModel
            if let hidden = teacher.hidden, hidden.weight > 0, width != model.config.dModel, projections[s] == nil {
                let pairs = hidden.layers.pairs(studentLayers: model.config.numDecoderLayers,
                                                teacherLayers: teacher.model.config.numDecoderLayers)
                projections[s] = pairs.indices.map { p in
                    HiddenProjection(studentWidth: model.config.dModel, teacherWidth: width,
                                     seed: options.seed ^ 0x9E37_79B9 &+ UInt64(s) &* 0x100 &+ UInt64(p), weightDecay: options.weightDecay)
                }
            }
            for (k, part) in streamParts.enumerated() {
                guard let part else { continue }
                let j = k % workspaces.count
                let slot = teacherSlots[j][s] ?? TeacherSlot()
                teacherSlots[j][s] = slot
                slot.prepare(teacher, batch: part, blockRows: workspaces[j].head.blockRows)
            }
        }
    }

    /// The dropout seed of one micro-batch: a hash of (seed, step, stream, slot), so the masks do
    /// not depend on which thread trains it or what it trained before.
    private func dropoutSeed(stream s: Int, slot k: Int) -> UInt64 {
        var h = options.seed ^ 0xD0D0
        for v in [UInt64(step), UInt64(s), UInt64(k)] {
            var g = SplitMix64(seed: h ^ v)
            h = g.next()
        }
        return h
    }

    private func nextIndices(stream s: Int, count n: Int) -> [Int] {
        var out: [Int] = []
        out.reserveCapacity(options.batchSize)
        while out.count < options.batchSize {
            if cursors[s] >= orders[s].count {
                orders[s] = Array(0..<n)
                orders[s].shuffle(using: &rngs[s])
                cursors[s] = 0
            }
            out.append(orders[s][cursors[s]])
            cursors[s] += 1
        }
        return out
    }
}
