import Foundation
import Yams

/// `dataset:` — which examples, from where, scored how.
enum DatasetSection {
    static let commonKeys = ["kind", "metric"]
    static let keysByKind: [DatasetKind: [String]] = [
        .syntheticArith: ["train_size", "valid_size", "test_size", "seed", "operations", "distractor_rate", "choices", "answer"],
        .svamp: ["path"], .cqa: ["path"], .esnli: ["path"], .anli1: ["path"],
        .jsonl: ["train", "valid", "test", "input_field", "label_field", "rationale_field"],
    ]

    static func read(_ node: Node, reader: SpecReader, root: URL) -> DatasetSpec? {
        let path = "dataset"
        let allKeys = commonKeys + Set(keysByKind.values.flatMap { $0 }).sorted()
        guard let f = reader.fields(node, at: path, allowed: allKeys),
              let kindName = f.oneOf("kind", DatasetKind.allCases.map(\.rawValue), required: true),
              let kind = DatasetKind(rawValue: kindName) else { return nil }
        // Keys valid for another kind are an error too: they would be silently ignored.
        let valid = commonKeys + (keysByKind[kind] ?? [])
        for key in f.order where !valid.contains(key) {
            reader.fail(f.keyNode(key), f.path(key), "`\(key)` does not apply to dataset kind `\(kindName)`; expected one of \(SpecReader.list(valid))",
                        suggestion: Suggestion.closest(to: key, among: valid))
        }
        let metricWritten = f.oneOf("metric", SpecParser.metrics)
        var spec = DatasetSpec(kind: kind, metric: metricWritten ?? DatasetSpec.defaultMetric(for: kind))
        switch kind {
        case .syntheticArith:
            spec.trainSize = f.int("train_size", min: 8) ?? 2000
            spec.validSize = f.int("valid_size", min: 1) ?? 200
            spec.testSize = f.int("test_size", min: 1) ?? 500
            spec.seed = f.int("seed") ?? 0
            // The difficulty mix; unset keeps the generator's default (and the stage key unchanged).
            if let items = f.intList("operations") {
                let w = items.map(\.1)
                if items.count != 3 || w.contains(where: { $0 < 0 }) || w.allSatisfy({ $0 == 0 }) {
                    reader.fail(f.value("operations"), f.path("operations"),
                                "expected three relative weights ≥ 0 for problems with 1, 2 and 3 operations, e.g. [4, 4, 2], not all 0")
                } else {
                    spec.operationWeights = w
                }
            }
            // Multiple choice (a label set): unset keeps open answers and the stage key unchanged.
            if let k = f.int("choices", min: 2) {
                if k > 26 {
                    reader.fail(f.value("choices"), f.path("choices"), "expected at most 26 lettered choices, found \(k)")
                } else {
                    spec.choices = k
                }
            }
            readAnswer(f, into: &spec, metricWritten: metricWritten, reader: reader)
            if let r = f.double("distractor_rate") {
                if r < 0 || r > 1 {
                    reader.fail(f.value("distractor_rate"), f.path("distractor_rate"), "expected a share in [0, 1], found \(r)")
                } else {
                    spec.distractorRate = r
                }
            }
        case .svamp, .cqa, .esnli, .anli1:
            spec.path = f.string("path", required: true, what: "the folder holding \(kindName)_{train,valid,test}.json")
            if let p = spec.path {
                let file = resolve(p, root).appendingPathComponent("\(kindName)_train.json")
                checkExists(file, node: f.value("path"), path: f.path("path"), reader: reader, root: root,
                            hint: "see the README for where to unzip the paper's datasets.zip")
            }
        case .jsonl:
            spec.trainFile = f.string("train", required: true, what: "a JSON Lines file")
            spec.testFile = f.string("test", required: true, what: "a JSON Lines file")
            spec.validFile = f.string("valid", what: "a JSON Lines file")
            for key in ["train", "valid", "test"] {
                if let p = f.string(key) {
                    checkExists(resolve(p, root), node: f.value(key), path: f.path(key), reader: reader, root: root, hint: nil)
                }
            }
            spec.inputField = f.string("input_field") ?? "input"
            spec.labelField = f.string("label_field") ?? "label"
            spec.rationaleField = f.string("rationale_field")
        }
        return spec
    }

    /// `answer: letter` (multiple choice answered by the letter): needs `choices:`, and is scored
    /// by `choice` (a letter against a letter) unless the spec says otherwise — never `equation`,
    /// which no letter passes. Unset: the equation, and the stage key unchanged.
    static func readAnswer(_ f: Fields, into spec: inout DatasetSpec, metricWritten: String?, reader: SpecReader) {
        guard let answer = f.oneOf("answer", answerForms), answer == "letter" else { return }
        guard spec.choices != nil else {
            reader.fail(f.value("answer"), f.path("answer"), "`answer: letter` names a choice by its letter; add `choices:` (e.g. `choices: 4`)")
            return
        }
        if metricWritten == Metric.equation.rawValue {
            reader.fail(f.value("metric"), f.path("metric"), "`metric: equation` scores no letter answer (`answer: letter`); use `choice` or `exact_match`")
        }
        spec.answer = answer
        if metricWritten == nil { spec.metric = Metric.choice.rawValue }
    }

    /// What a synthetic multiple-choice label is: the gold equation (default) or its letter.
    static let answerForms = ["equation", "letter"]

    static func resolve(_ p: String, _ root: URL) -> URL {
        p.hasPrefix("/") ? URL(fileURLWithPath: p) : root.appendingPathComponent(p)
    }

    static func checkExists(_ url: URL, node: Node?, path: String, reader: SpecReader, root: URL, hint: String?) {
        guard !FileManager.default.fileExists(atPath: url.path) else { return }
        var message = "no such file: \(url.path)"
        if let hint { message += " (\(hint))" }
        reader.fail(node, path, message)
    }
}
