import Foundation

/// One task's training pairs and its weight in the summed loss, e.g. `[label] x → y` with
/// weight 1 and `[rationale] x → r` with weight λ. Targets should end with eos.
public struct TrainingStream: Sendable {
    public var name: String
    public var inputs: [[Int32]]
    public var targets: [[Int32]]
    public var weight: Float
    public init(name: String = "", inputs: [[Int32]], targets: [[Int32]], weight: Float = 1) {
        precondition(inputs.count == targets.count && !inputs.isEmpty, "a stream needs ≥ 1 pair")
        self.name = name; self.inputs = inputs; self.targets = targets; self.weight = weight
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
    /// With threads > 1: split every batch into one shard per thread, each trained with
    /// single-threaded sgemm, instead of one pass with multi-threaded sgemm (whose helper threads
    /// idle through all the non-matrix work). Results depend on the thread count either way.
    public var dataParallel = true
    public init() {}
}

public struct TrainingProgress: Sendable {
    public var step: Int               // 1-based, after the update
    public var lossPerStream: [Float]  // mean CE of each stream on this step's batch (unweighted)
    public var tokensPerSecond: Double // non-pad input + target tokens per second, this step
    public var learningRate: Float
    public var gradientNorm: Float     // before clipping
}

/// Trains a model on weighted streams: each step takes one batch from every stream, sums
/// weight · mean CE, clips, and applies AdamW with the scheduled learning rate. Batches are drawn
/// by walking a per-stream shuffled order (reshuffled each epoch) from the seed, so the same
/// seed and thread count give the same loss curve.
public final class Trainer {
    public let model: T5Model
    public let options: TrainOptions
    private let optimizer: AdamW
    private var orders: [[Int]] = []
    private var cursors: [Int] = []
    private var rngs: [SplitMix64] = []
    // Data parallelism over threads: shard s > 0 of every batch runs on its own thread with its
    // own workspace and gradient buffer (shard 0 uses the model's); gradients are summed in
    // shard order, so results depend on the thread count but are reproducible for a given one.
    private var shardWorkspaces: [Workspace?] = []
    private var shardGrads: [FloatBuffer] = []
    public private(set) var step = 0

    public init(model: T5Model, options: TrainOptions) {
        self.model = model
        self.options = options
        optimizer = AdamW(store: model.store, weightDecay: options.weightDecay)
        model.dropoutRNG = SplitMix64(seed: options.seed ^ 0xD0D0)
    }

    /// Runs `options.steps` steps (or the remainder if called again). `evaluate(step)` is called
    /// every `evaluateEvery` steps and after the last; snapshot the model there to keep the best.
    public func train(streams: [TrainingStream], progress: ((TrainingProgress) -> Void)? = nil,
                      evaluate: ((Int) -> Void)? = nil) {
        while step < options.steps {
            let p = trainStep(streams: streams)
            progress?(p)
            if let evaluate, (options.evaluateEvery > 0 && step % options.evaluateEvery == 0) || step == options.steps {
                evaluate(step)
            }
        }
    }

    /// One optimizer step over one batch of every stream.
    @discardableResult
    public func trainStep(streams: [TrainingStream]) -> TrainingProgress {
        setThreads(options.threads)
        if rngs.count != streams.count {
            rngs = streams.indices.map { SplitMix64(seed: options.seed &+ UInt64($0) &* 0x1000_0001) }
            orders = Array(repeating: [], count: streams.count)
            cursors = Array(repeating: 0, count: streams.count)
        }
        let start = Date()
        var losses: [Float] = []
        var tokens = 0
        let shards = options.dataParallel ? max(1, min(options.threads, options.batchSize / 4)) : 1
        if shards > 1 && shardGrads.count != shards - 1 {
            shardGrads = (1..<shards).map { _ in FloatBuffer(model.store.count) }
            shardWorkspaces = Array(repeating: nil, count: shards)
        }
        let zeroThreads = options.dataParallel ? options.threads : 1
        for g in [model.store.grads] + shardGrads {
            forEachChunk(count: g.count, threads: zeroThreads) { r in (g.p + r.lowerBound).update(repeating: 0, count: r.count) }
        }
        for (s, stream) in streams.enumerated() {
            let idx = nextIndices(stream: s, count: stream.inputs.count)
            let whole = Batch(inputs: idx.map { stream.inputs[$0] }, targets: idx.map { stream.targets[$0] },
                              maxInputLength: options.maxInputLength, maxTargetLength: options.maxTargetLength)
            tokens += whole.tokenCount
            if shards == 1 {
                losses.append(model.accumulateGradients(whole, weight: stream.weight, training: true).loss)
                continue
            }
            let targetCount = whole.targets.reduce(0) { $0 + ($1 != SpecialTokens.pad ? 1 : 0) }
            let parts: [Batch] = (0..<shards).map { k in
                let lo = idx.count * k / shards, hi = idx.count * (k + 1) / shards
                let sub = idx[lo..<hi]
                return Batch(inputs: sub.map { stream.inputs[$0] }, targets: sub.map { stream.targets[$0] },
                             maxInputLength: options.maxInputLength, maxTargetLength: options.maxTargetLength)
            }
            // Everything shared is prepared here; the threads only read it.
            for (k, part) in parts.enumerated() {
                _ = model.buckets(length: part.encoderLength, bidirectional: true)
                _ = model.buckets(length: part.decoderLength, bidirectional: false)
                if k == 0 {
                    _ = model.workspace(for: part)
                } else {
                    if shardWorkspaces[k] == nil {
                        // Each shard's dropout stream is seeded from the run's seed and its index.
                        let ws = model.makeWorkspace(fitting: part, atLeast: nil)
                        ws.rng = SplitMix64(seed: options.seed ^ 0xD0D0 &+ UInt64(k) &* 0x9E37_79B9)
                        shardWorkspaces[k] = ws
                    }
                    shardWorkspaces[k] = model.makeWorkspace(fitting: part, atLeast: shardWorkspaces[k])
                }
            }
            var partLosses = [Float](repeating: 0, count: shards)
            let lock = NSLock()
            setThreads(1)
            DispatchQueue.concurrentPerform(iterations: shards) { k in
                let r = model.accumulateGradients(parts[k], weight: stream.weight, training: true,
                                                  workspace: k == 0 ? nil : shardWorkspaces[k],
                                                  grads: k == 0 ? nil : shardGrads[k - 1], normalizer: targetCount)
                lock.lock(); partLosses[k] = r.loss; lock.unlock()
            }
            setThreads(options.threads)
            losses.append(partLosses.reduce(0, +))
        }
        // The passes over all parameters (shard sum + norm, then AdamW with the clipping factor
        // folded in) run on every thread: each is memory-bound and would otherwise leave the
        // other threads idle. Results do not depend on how the chunks are split.
        let tailThreads = options.dataParallel ? options.threads : 1
        let norm = reduceGradients(model.store.grads, adding: shardGrads, threads: tailThreads)
        let lr = options.schedule.rate(step: step, totalSteps: options.steps, warmupSteps: options.warmupSteps,
                                       peak: options.learningRate)
        optimizer.update(params: model.store.values, grads: model.store.grads, learningRate: lr,
                         gradScale: clipScale(norm: norm, maxNorm: options.clipNorm), threads: tailThreads)
        step += 1
        let seconds = Date().timeIntervalSince(start)
        return TrainingProgress(step: step, lossPerStream: losses, tokensPerSecond: Double(tokens) / max(seconds, 1e-9),
                                learningRate: lr, gradientNorm: norm)
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
