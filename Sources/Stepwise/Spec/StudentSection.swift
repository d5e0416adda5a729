import Foundation
import Trainer
import Yams

/// `student:` — the tokenizer and the named T5 sizes the sweep may use. A size is either a
/// shape trained from scratch (`{d_model: 64, layers: 2, heads: 4, d_ff: 256}`) or a pretrained
/// checkpoint (`{init: google/t5-v1_1-small}` or `{init: /models/t5-v1_1-base}`), whose config
/// gives the shape and whose tokenizer replaces `tokenizer:` for that size.
enum StudentSection {
    static let sizeKeys = ["d_model", "layers", "decoder_layers", "heads", "d_kv", "d_ff"]
    static let initKey = "init"

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
            spec.dropoutWritten = true
        }
        if let s = f.value("sizes") {
            guard case .mapping = s, let sf = reader.fields(s, at: f.path("sizes"), allowed: anyKey(of: s)) else { return nil }
            if sf.order.isEmpty { reader.fail(s, sf.path, "expected at least one size, e.g. `tiny: {d_model: 64, layers: 2, heads: 4, d_ff: 256}`") }
            spec.sizes = sf.order.compactMap { name in readSize(name, sf.value(name)!, at: sf.path(name), reader: reader) }
        }
        return spec
    }

    static func readSize(_ name: String, _ node: Node, at path: String, reader: SpecReader) -> StudentSize? {
        guard let f = reader.fields(node, at: path, allowed: sizeKeys + [initKey]) else { return nil }
        if f.has(initKey) {
            let shapeKeys = sizeKeys.filter(f.has)
            if !shapeKeys.isEmpty {
                reader.fail(f.keyNode(shapeKeys[0]), f.path(shapeKeys[0]),
                            "`init` and shape keys (\(SpecReader.list(shapeKeys))) cannot both be given: a pretrained size's shape is its checkpoint's config.json")
                return nil
            }
            guard let written = f.string(initKey, what: "a hub id such as `google/t5-v1_1-small` or a checkpoint folder"),
                  let source = checkpointSource(written, node: f.value(initKey)!, at: f.path(initKey), reader: reader) else { return nil }
            return StudentSize(name: name, dModel: 0, layers: 0, decoderLayers: 0, heads: 0, dKv: 0, dFF: 0, initFrom: source)
        }
        guard let dModel = f.int("d_model", required: true, min: 8),
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

    /// What `init:` names, decided as transformers' `from_pretrained` does: a path (absolute,
    /// `~`, `./`, `../`) or an existing folder relative to the spec file's folder is a folder;
    /// anything else must be a hub id (`org/name`, optionally `@revision`). The folder's content is checked
    /// when the checkpoint is resolved (`StudentCheckpoints`), not here.
    static func checkpointSource(_ written: String, node: Node, at path: String, reader: SpecReader) -> CheckpointSource? {
        let specFolder = URL(fileURLWithPath: reader.file).standardizedFileURL.deletingLastPathComponent()
        var folder: String?
        if written.hasPrefix("/") {
            folder = written
        } else if written == "~" || written.hasPrefix("~/") {
            folder = NSString(string: written).expandingTildeInPath
        } else if written.hasPrefix("./") || written.hasPrefix("../") || written == "." || written == ".." {
            folder = specFolder.appendingPathComponent(written).standardizedFileURL.path
        } else {
            var isDirectory: ObjCBool = false
            let candidate = specFolder.appendingPathComponent(written).standardizedFileURL.path
            if FileManager.default.fileExists(atPath: candidate, isDirectory: &isDirectory), isDirectory.boolValue { folder = candidate }
        }
        let mark = node.mark
        func source(_ location: CheckpointSource.Location) -> CheckpointSource {
            CheckpointSource(location: location, written: written, file: reader.file, line: mark?.line ?? 1,
                             column: mark?.column ?? 1, path: path)
        }
        if let folder { return source(.folder(URL(fileURLWithPath: folder).standardizedFileURL.path)) }
        guard HubModelID.parse(written) != nil else {
            reader.fail(node, path, "`\(written)` is neither a folder (no such folder next to the spec: \(specFolder.appendingPathComponent(written).path)) nor a hub id such as `google/t5-v1_1-small`")
            return nil
        }
        return source(.hub(written))
    }

    /// `tokenizer:` configures the from-scratch sizes' vocabulary; a spec whose swept sizes are
    /// all pretrained would silently ignore it, so it is an error there.
    static func checkTokenizerUse(_ node: Node?, student: StudentSpec, sweptSizes: [String], reader: SpecReader) {
        guard let node, case .mapping(let m) = node,
              let entry = m.first(where: { $0.key.scalar?.string == "tokenizer" }) else { return }
        let used = student.sizes.filter { sweptSizes.contains($0.name) }
        guard !used.isEmpty, used.allSatisfy({ $0.initFrom != nil }) else { return }
        reader.fail(entry.key, "student.tokenizer",
                    "every size the sweep uses starts from a pretrained checkpoint (`init:`), which brings its own tokenizer; remove `tokenizer:` (it applies to from-scratch sizes only)")
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
                       "max_input_length", "max_target_length", "micro_batches", "seeds", recomputeKey]
    /// Read by `recomputeActivations`: a setting, kept out of `TrainSpec` (the recipe in the key).
    static let recomputeKey = "recompute_activations"

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

    /// `recompute_activations: auto | true | false` (default auto).
    static func recomputeActivations(_ node: Node?, reader: SpecReader) -> RecomputeActivations {
        guard let node, case .mapping(let m) = node,
              let entry = m.first(where: { $0.key.scalar?.string == recomputeKey }) else { return .auto }
        let path = SpecReader.join("train", recomputeKey)
        guard case .scalar(let scalar) = entry.value, let value = RecomputeActivations.parse(scalar.string) else {
            reader.fail(entry.value, path, "expected `auto`, `true` or `false`, found \(SpecReader.describe(entry.value))",
                        suggestion: entry.value.scalar.flatMap { Suggestion.closest(to: $0.string, among: ["auto", "true", "false"]) })
            return .auto
        }
        return value
    }
}
