import ArgumentParser
import Foundation
import Trainer

/// `stepwise bench trainer`: trains the reference student on random token batches (label and
/// rationale streams every step, AdamW, clipping) and decodes greedily, with the same sizes and
/// token accounting as /work/shared/bench/peer_t5_torch.py, so the two JSON outputs compare.
struct BenchTrainerCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "trainer",
        abstract: "Benchmark the embedded T5 trainer (tokens/s, GFLOP/s, decoding examples/s)."
    )

    @Option(help: "Timed training steps.") var steps = 20
    @Option(help: "Untimed warm-up steps.") var warmup = 3
    @Option(help: "Threads (OpenBLAS).") var threads = ProcessInfo.processInfo.activeProcessorCount
    @Option(help: ArgumentHelp("A checkpoint's config.json (transformers' T5 keys): benchmark at its shapes and architecture.",
                               discussion: "Replaces --d-model, --d-kv, --heads, --layers, --decoder-layers, --d-ff, --vocab, --tied and --dropout; weights are not read."))
    var config: String?
    @Option(help: ArgumentHelp("A checkpoint folder (transformers' layout): start from its weights and architecture.",
                               discussion: "Reports the load time; with --load-only, stops there."))
    var weights: String?
    @Flag(name: .customLong("load-only"), help: "With --weights: only time loading the checkpoint.") var loadOnly = false
    @Option(name: .customLong("d-model")) var dModel = 256
    @Option(name: .customLong("d-kv"), help: "Width of one head (default d-model / heads).") var dKv: Int?
    @Option var heads = 4
    @Option(help: "Encoder layers (and decoder layers unless --decoder-layers).") var layers = 3
    @Option(name: .customLong("decoder-layers"), help: "Decoder layers (default: --layers).") var decoderLayers: Int?
    @Flag(help: "The original T5 (ReLU feed-forward, head tied to the embedding, d_model^-0.5 output scaling), as the peer's --tied; default T5 v1.1.")
    var tied = false
    @Option(help: "Dropout rate (T5's default 0.1).") var dropout: Float = 0.1
    @Option(name: .customLong("d-ff")) var dFF = 1024
    @Option var vocab = 900
    @Option var batch = 32
    @Option(name: .customLong("in-len")) var inLen = 40
    @Option(name: .customLong("label-len")) var labelLen = 13
    @Option(name: .customLong("rationale-len")) var rationaleLen = 40
    @Option(name: .customLong("lambda")) var lambda: Float = 1
    @Flag(name: .customLong("label-only"), help: "Train the label stream alone (standard fine-tuning's step) instead of label and rationale.")
    var labelOnly = false
    @Option(name: .customLong("decode-examples")) var decodeExamples = 128
    @Option(name: .customLong("decode-batch"), help: "Examples decoded per batch (default: --batch).") var decodeBatch: Int?
    @Option(name: .customLong("decode-len")) var decodeLen = 24
    @Flag(help: "Print one JSON line.") var json = false
    @Option(name: .customLong("micro-batches"), help: "Micro-batches per batch (the recipe's; threads run them side by side).")
    var microBatches = TrainOptions().microBatches
    @Flag(name: .customLong("sequential-decode"), help: "Decode batches one after another on one thread.")
    var sequentialDecode = false
    @Flag(help: "Keep only each layer's input and recompute its forward in the backward pass (less memory, same weights).")
    var recompute = false

    func run() throws {
        setThreads(threads)

        var loadSeconds: Double?
        let model: T5Model
        if let weights {
            let l0 = Date()
            model = try T5Model(checkpoint: T5Checkpoint.open(folder: URL(fileURLWithPath: weights)))
            loadSeconds = Date().timeIntervalSince(l0)
            if loadOnly {
                let result: [String: Any] = ["checkpoint": weights, "params": model.parameterCount, "load_seconds": loadSeconds!]
                print(String(decoding: try JSONSerialization.data(withJSONObject: result, options: [.sortedKeys]), as: UTF8.self))
                return
            }
        } else {
            let config = try config.map { try T5Config.read(from: URL(fileURLWithPath: $0)) }
                ?? T5Config(dModel: dModel, dKv: dKv ?? dModel / heads, dFF: dFF, numLayers: layers,
                            numDecoderLayers: decoderLayers ?? layers, numHeads: heads, vocabSize: vocab, dropoutRate: dropout,
                            original: tied)
            model = T5Model(config: config, seed: 0)
        }
        let config = model.config, vocab = config.vocabSize
        let sgemmPeak = measureSgemmGFLOPS(m: 2048, n: 256, k: 256, threads: threads)
        var rng = SplitMix64(seed: 0)
        func tokens(_ n: Int) -> [Int32] { (0..<n).map { _ in Int32(2 + Int(rng.next() % UInt64(vocab - 2))) } }
        // Enough distinct pairs that batches differ from step to step.
        let pool = batch * 8
        let label = TrainingStream(name: "label", inputs: (0..<pool).map { _ in tokens(inLen) },
                                   targets: (0..<pool).map { _ in tokens(labelLen) }, weight: 1)
        let rationale = TrainingStream(name: "rationale", inputs: (0..<pool).map { _ in tokens(inLen) },
                                       targets: (0..<pool).map { _ in tokens(rationaleLen) }, weight: lambda)
        var options = TrainOptions()
        options.steps = warmup + steps; options.batchSize = batch; options.learningRate = 1e-3
        options.weightDecay = 0.01; options.clipNorm = 1.0; options.threads = threads; options.schedule = .constant
        options.microBatches = microBatches
        options.recomputeActivations = recompute
        let trainer = Trainer(model: model, options: options)
        let streams = labelOnly ? [label] : [label, rationale]
        for _ in 0..<warmup { trainer.trainStep(streams: streams) }

        MatmulProfiler.reset()
        MatmulProfiler.enabled = true
        let t0 = Date()
        var lastLoss: [Float] = []
        var bestStep = Double.infinity
        for _ in 0..<steps {
            let s0 = Date()
            lastLoss = trainer.trainStep(streams: streams).lossPerStream
            bestStep = min(bestStep, Date().timeIntervalSince(s0))
        }
        let trainSeconds = Date().timeIntervalSince(t0)
        MatmulProfiler.enabled = false
        let parallel = max(1, min(threads, microBatches))   // threads inside sgemm at once
        let tokensPerStep = batch * (labelOnly ? inLen + labelLen : 2 * inLen + labelLen + rationaleLen)
        let matmulFlops = MatmulProfiler.flops, matmulSeconds = MatmulProfiler.seconds

        // As a train stage validates: the step's scratch goes back to the OS while decoding.
        trainer.discardStepScratch()
        let memory = TrainingMemory(config: config, options: options, encoderLength: inLen,
                                    decoderLength: labelOnly ? labelLen : max(labelLen, rationaleLen))
        let decodeBatch = self.decodeBatch ?? batch
        let decodeInputs = (0..<decodeExamples).map { _ in tokens(inLen) }
        // Warm-up like the training warm-up steps: one call on two batches allocates the decoding
        // workspaces, caches and packed weights that later calls reuse (the peer's allocator is
        // already warm from training at this point).
        _ = model.greedyDecode(inputs: Array(decodeInputs.prefix(2 * decodeBatch)), maxNewTokens: decodeLen, batchSize: decodeBatch,
                               parallelBatches: !sequentialDecode)
        let d0 = Date()
        let outputs = model.greedyDecode(inputs: decodeInputs, maxNewTokens: decodeLen, batchSize: decodeBatch, minNewTokens: decodeLen,
                                         parallelBatches: !sequentialDecode)
        let decodeSeconds = Date().timeIntervalSince(d0)
        // Diagnostics for a noisy machine: the best of two more decoding runs.
        var bestDecode = decodeSeconds
        for _ in 0..<2 {
            let r0 = Date()
            _ = model.greedyDecode(inputs: decodeInputs, maxNewTokens: decodeLen, batchSize: decodeBatch, minNewTokens: decodeLen,
                                         parallelBatches: !sequentialDecode)
            bestDecode = min(bestDecode, Date().timeIntervalSince(r0))
        }

        let result: [String: Any] = [
            "trainer": "stepwise embedded T5 (Swift + OpenBLAS)",
            "blas_core": BLASKernels.coreName,
            "kernel_isa": trainerKernelISA,
            "threads": threads,
            "params": model.parameterCount,
            "steps": steps,
            "tokens_per_s": Double(tokensPerStep * steps) / trainSeconds,
            "step_ms": trainSeconds / Double(steps) * 1000,
            "best_step_ms": bestStep * 1000,
            "tokens_per_s_best_step": Double(tokensPerStep) / bestStep,
            "decode_examples_per_s_best_of_3": Double(decodeExamples) / bestDecode,
            "matmul_gflops": matmulFlops / (matmulSeconds / Double(parallel)) / 1e9,
            "matmul_gflops_basis": "model sgemm FLOPs (2mnk, forward+backward) / (thread-seconds inside sgemm calls / threads side by side): each thread trains a micro-batch with single-threaded sgemm",
            "matmul_gflops_over_total_time": matmulFlops / trainSeconds / 1e9,
            "matmul_time_fraction": matmulSeconds / Double(parallel) / trainSeconds,
            "micro_batches": microBatches, "parallel_decode_batches": !sequentialDecode, "recompute_activations": recompute,
            "sgemm_peak_gflops": sgemmPeak,
            "load_seconds": loadSeconds as Any? ?? NSNull(),
            "sgemm_peak_shape": "2048x256 · 256x256, best of 8 windows of 0.15 s, OpenBLAS with all the threads",
            "decode_examples_per_s": Double(decodeExamples) / decodeSeconds,
            "decode_warmup": "one greedy call on 2 batches (same length) before timing",
            "decode_tokens_generated": outputs.reduce(0) { $0 + $1.count },
            "final_losses": lastLoss.map { Double($0) },
            "label_only": labelOnly,
            "training_memory_estimate_bytes": memory.totalBytes,
            "config": ["d_model": config.dModel, "d_kv": config.dKv, "heads": config.numHeads, "layers": config.numLayers,
                       "decoder_layers": config.numDecoderLayers, "d_ff": config.dFF, "vocab": vocab,
                       "feed_forward_proj": config.feedForward.rawValue, "tied_head": config.tieWordEmbeddings,
                       "dropout": Double(config.dropoutRate), "config_file": weights.map { $0 + "/config.json" } ?? self.config ?? "", "batch": batch,
                       "in_len": inLen, "label_len": labelLen, "rationale_len": rationaleLen, "decode_len": decodeLen,
                       "decode_batch": decodeBatch],
        ]
        let data = try JSONSerialization.data(withJSONObject: result, options: json ? [.sortedKeys] : [.sortedKeys, .prettyPrinted])
        print(String(decoding: data, as: UTF8.self))
    }
}
