import Foundation

/// `predictions/<row>.jsonl`: every evaluated row's per-example predictions, one JSON object a
/// line — `{"id": …, "prediction": …, "correct": true}` — so others can re-run the statistics.
public enum PredictionFiles {
    public static func render(_ evaluations: [EvaluationArtifact]) -> [String: String] {
        var out: [String: String] = [:]
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        for e in evaluations {
            guard let ids = e.exampleIDs, let scores = e.scores, let predictions = e.predictions,
                  ids.count == scores.count, ids.count == predictions.count else { continue }
            var text = ""
            for i in ids.indices {
                let line = Line(id: ids[i], prediction: predictions[i], correct: scores[i] >= 1)
                text += String(decoding: (try? encoder.encode(line)) ?? Data(), as: UTF8.self) + "\n"
            }
            out[fileName(e)] = text
        }
        return out
    }

    struct Line: Encodable { var id: String; var prediction: String; var correct: Bool }

    /// `distill_step_by_step-lambda=1-labels=gold-d64-f0.125-seed0.jsonl`, `few_shot_cot-teacher.jsonl`.
    static func fileName(_ e: EvaluationArtifact) -> String {
        var parts = [e.size]
        if let f = e.dataFraction { parts.append("f\(JSONValue.format(f))") }
        if let s = e.seed { parts.append("seed\(s)") }
        return fileStem(method: e.method, options: e.options, parts: parts) + ".jsonl"
    }

    /// `method-key=value-…-part-…`, with anything but letters, digits and `-_=.` replaced (a safe file name).
    static func fileStem(method: String, options: MethodVariant?, parts: [String]) -> String {
        var all = [method]
        for key in (options?.values.keys.sorted() ?? []) { all.append("\(key)=\(options!.values[key]!.plain)") }
        all += parts
        return String(all.joined(separator: "-").map { $0.isLetter || $0.isNumber || "-_=.".contains($0) ? $0 : "_" })
    }
}
