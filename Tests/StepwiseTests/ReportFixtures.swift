import Foundation
@testable import Stepwise

/// A small, fixed report input: two methods × two fractions × two seeds, their training curves,
/// the teacher's annotations of a five-example split (one output unparsable, one wrong, one hostile).
enum ReportFixture {
    static let yaml = spec(train: "{steps: 200, warmup: 20, lr: 1.0e-3, seeds: [0, 1]}",
                           claims: ["distill_step_by_step > standard_finetune at every data_fraction"])

    /// Two methods and the teacher on one tiny size, two fractions.
    static func spec(train: String, claims: [String]) -> String {
        var yaml = """
            name: fixed
            dataset: {kind: synthetic-arith}
            teacher: {kind: synthetic}
            student:
              sizes:
                tiny: {d_model: 16, layers: 1, heads: 2, d_ff: 32}
            train: \(train)
            methods:
              few_shot_cot: {}
              standard_finetune: {}
              distill_step_by_step: {lambda: 1}
            sweep: {data_fraction: [0.25, 1.0]}
            """
        if !claims.isEmpty { yaml += "\nclaims:\n" + claims.map { "  - \"\($0)\"" }.joined(separator: "\n") + "\n" }
        return yaml
    }

    /// A row scored on 100 test examples, the first `v · 100` of them right.
    static func row(_ m: String, _ f: Double, _ seed: Int?, _ v: Double, lambda: Double? = nil, size: String = "tiny") -> EvaluationArtifact {
        let right = Int((v * 100).rounded())
        return EvaluationArtifact(method: m, size: size, dataFraction: f,
                                  options: lambda.map { MethodVariant(["lambda": .number($0), "labels": .string("gold")]) }, seed: seed,
                                  split: "test", metric: "equation", value: v, count: 100,
                                  predictions: (0..<100).map { $0 < right ? "right" : "wrong" },
                                  exampleIDs: (0..<100).map { "test-\($0)" }, scores: (0..<100).map { $0 < right ? 1 : 0 })
    }

    static var evaluations: [EvaluationArtifact] {
        [row("standard_finetune", 0.25, 0, 0.10), row("standard_finetune", 0.25, 1, 0.14),
         row("standard_finetune", 1, 0, 0.30), row("standard_finetune", 1, 1, 0.34),
         row("distill_step_by_step", 0.25, 0, 0.40, lambda: 1), row("distill_step_by_step", 0.25, 1, 0.44, lambda: 1),
         row("distill_step_by_step", 1, 0, 0.60, lambda: 1), row("distill_step_by_step", 1, 1, 0.64, lambda: 1),
         { var t = row("few_shot_cot", 1, nil, 0.8, size: "teacher"); t.dataFraction = nil; t.parseFailures = 3; return t }()]
    }

    /// A decaying loss per stream every 10 steps and a validation curve every 50.
    static func summary(streams: [String], steps: Int = 200, best: Int = 150) -> TrainingSummary {
        let loss = stride(from: 10, through: steps, by: 10).map { s in
            [Double(s)] + streams.indices.map { 3.0 * exp(-Double(s) / 60) + 0.05 * Double($0 + 1) }
        }
        let validation = stride(from: 50, through: steps, by: 50).map { [Double($0), $0 == best ? 0.5 : 0.3] }
        return TrainingSummary(steps: steps, parameters: 1000, lossCurve: loss, streamNames: streams, validationCurve: validation,
                               bestStep: best, bestValidation: 0.5, trainExamples: 10)
    }

    static var training: [String: TrainingSummary] {
        var out: [String: TrainingSummary] = [:]
        for e in evaluations where e.seed != nil {
            let cell = Cell(method: e.method, size: e.size, dataFraction: e.dataFraction!, seed: e.seed!, variant: e.options ?? MethodVariant())
            out[cell.label] = summary(streams: e.method == "distill_step_by_step" ? ["label", "rationale"] : ["label"])
        }
        return out
    }

    static let hostileInput = "Tom has <script>alert('x')</script> 3 apples & \"2\" pears <!-- stepwise:spec --></pre>"
    static let hostileCompletion = "<img src=x onerror=alert(1)> He eats 1. The answer is ( 3 - 1 )"

    static var dataset: DatasetSplits {
        let train = (0..<5).map { i in
            Example(id: "train-\(i)", input: i == 1 ? hostileInput : "Ann has \(i) apples and buys 2. How many?", label: "( \(i) + 2 )")
        }
        return DatasetSplits(train: train, valid: [], test: [])
    }

    static var annotations: AnnotationArtifact {
        let list = dataset.train.enumerated().map { i, e -> Annotation in
            if i == 3 { return Annotation(id: e.id, raw: "I am not sure.", rationale: "", label: "", parsed: false) }
            if i == 1 { return Annotation(id: e.id, raw: hostileCompletion, rationale: "<b>He eats 1.</b>", label: "( 3 - 1 )", parsed: true) }
            let label = i == 4 ? "( \(i) - 2 )" : e.label
            return Annotation(id: e.id, raw: "She buys 2. The answer is \(label)", rationale: "She buys 2.", label: label, parsed: true)
        }
        return AnnotationArtifact(split: "train", annotations: list, parseFailures: 1, teacherAccuracy: 0.77, requests: 0,
                                  promptTokens: 0, completionTokens: 0)
    }

    /// Five examples: every one is a teacher sample, so the hostile one is on the page.
    static func inputs() -> ReportRenderer.Inputs {
        let a = annotations
        return ReportRenderer.Inputs(evaluations: evaluations,
                                     teacherSplits: [TeacherSplitStats(split: "train", count: a.annotations.count, parseFailures: 1,
                                                                       accuracy: a.teacherAccuracy, requests: 0, promptTokens: 0, completionTokens: 0)],
                                     annotations: [a], training: training, dataset: dataset)
    }
}

extension ReportFixture {
    /// The fixture's experiment in a throwaway project (its spec file exists until `remove`).
    static func project() throws -> (TempProject, Experiment) {
        let project = try TempProject()
        return (project, try project.experiment(yaml))
    }
}
