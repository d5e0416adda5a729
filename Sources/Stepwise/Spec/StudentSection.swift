import Trainer
import Yams

/// `student:` — the tokenizer and the named T5 sizes the sweep may use.
enum StudentSection {
    static let sizeKeys = ["d_model", "layers", "decoder_layers", "heads", "d_kv", "d_ff"]

    /// The embedded defaults, used when a spec has no `student:` section.
    static let defaultSizes = [
        StudentSize(name: "tiny", dModel: 64, layers: 2, decoderLayers: 2, heads: 4, dKv: 16, dFF: 256),
        StudentSize(name: "small", dModel: 128, layers: 2, decoderLayers: 2, heads: 4, dKv: 32, dFF: 512),
    ]

    static func read(_ node: Node?, reader: SpecReader) -> StudentSpec? {
        var spec = StudentSpec(tokenizer: TokenizerSpec(kind: "bpe", vocab: 1000), sizes: defaultSizes, dropout: 0.1)
        guard let node else { return spec }
        guard let f = reader.fields(node, at: "student", allowed: ["tokenizer", "sizes", "dropout"]) else { return nil }
        if let t = f.value("tokenizer"), let tf = reader.fields(t, at: f.path("tokenizer"), allowed: ["kind", "vocab"]) {
            spec.tokenizer = TokenizerSpec(kind: tf.oneOf("kind", ["bpe", "word"]) ?? "bpe", vocab: tf.int("vocab", min: 32) ?? 1000)
        }
        if let d = f.double("dropout") {
            if !(0..<1).contains(d) { reader.fail(f.value("dropout"), f.path("dropout"), "expected a rate in [0, 1), found \(d)") }
            spec.dropout = d
        }
        if let s = f.value("sizes") {
            guard case .mapping = s, let sf = reader.fields(s, at: f.path("sizes"), allowed: anyKey(of: s)) else { return nil }
            if sf.order.isEmpty { reader.fail(s, sf.path, "expected at least one size, e.g. `tiny: {d_model: 64, layers: 2, heads: 4, d_ff: 256}`") }
            spec.sizes = sf.order.compactMap { name in readSize(name, sf.value(name)!, at: sf.path(name), reader: reader) }
        }
        return spec
    }

    static func readSize(_ name: String, _ node: Node, at path: String, reader: SpecReader) -> StudentSize? {
        guard let f = reader.fields(node, at: path, allowed: sizeKeys),
              let dModel = f.int("d_model", required: true, min: 8),
              let layers = f.int("layers", required: true, min: 1),
              let heads = f.int("heads", required: true, min: 1),
              let dFF = f.int("d_ff", required: true, min: 1) else { return nil }
        let dKv = f.int("d_kv", min: 1) ?? dModel / heads
        if !f.has("d_kv"), dModel % heads != 0 {
            reader.fail(f.value("heads"), f.path("heads"), "d_model \(dModel) is not divisible by \(heads) heads; give `d_kv` explicitly")
        }
        return StudentSize(name: name, dModel: dModel, layers: layers, decoderLayers: f.int("decoder_layers", min: 1) ?? layers,
                           heads: heads, dKv: dKv, dFF: dFF)
    }

    /// Size names are the user's own: any key is allowed.
    static func anyKey(of node: Node) -> [String] {
        guard case .mapping(let m) = node else { return [] }
        return m.compactMap { $0.key.scalar?.string }
    }
}

/// `train:` — the optimisation recipe shared by every trained cell.
enum TrainSection {
    static let keys = ["steps", "batch_size", "lr", "warmup", "schedule", "weight_decay", "clip_norm", "eval_every",
                       "max_input_length", "max_target_length", "micro_batches", "seeds"]

    static func read(_ node: Node?, reader: SpecReader) -> TrainSpec? {
        var t = TrainSpec(steps: 1000, batchSize: 32, learningRate: 1e-3, warmupSteps: 50, schedule: "linear",
                          weightDecay: 0.01, clipNorm: 1.0, evalEvery: 250, maxInputLength: 128, maxTargetLength: 128,
                          microBatches: TrainOptions().microBatches, seeds: [0])
        guard let node else { return t }
        guard let f = reader.fields(node, at: "train", allowed: keys) else { return nil }
        t.steps = f.int("steps", min: 1) ?? t.steps
        t.batchSize = f.int("batch_size", min: 1) ?? t.batchSize
        t.warmupSteps = f.int("warmup", min: 0) ?? t.warmupSteps
        t.schedule = f.oneOf("schedule", ["linear", "cosine", "constant"]) ?? t.schedule
        t.evalEvery = f.int("eval_every", min: 1) ?? t.evalEvery
        t.maxInputLength = f.int("max_input_length", min: 4) ?? t.maxInputLength
        t.maxTargetLength = f.int("max_target_length", min: 4) ?? t.maxTargetLength
        t.microBatches = f.int("micro_batches", min: 1) ?? t.microBatches
        for (key, keyPath) in [("lr", \TrainSpec.learningRate), ("weight_decay", \.weightDecay), ("clip_norm", \.clipNorm)] {
            guard let v = f.double(key) else { continue }
            if v < 0 || (key == "lr" && v == 0) {
                reader.fail(f.value(key), f.path(key), "expected a \(key == "lr" ? "positive" : "non-negative") number, found \(v)")
            }
            t[keyPath: keyPath] = v
        }
        if let seeds = f.intList("seeds") {
            t.seeds = SweepSection.unique(seeds, at: f.path("seeds"), reader: reader)
        }
        return t
    }
}
