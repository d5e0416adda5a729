import Foundation

/// The report of a large synthetic sweep (`stepwise bench report`): made-up but plausible
/// inputs for every cell, rendered and written out, timed. Nothing is trained.
public enum ReportBenchmark {
    public struct Result {
        public var cells: Int
        public var renderSeconds: Double
        public var writeSeconds: Double
        public var pageBytes: Int
        public var page: URL
    }

    /// 5 method variants × 2 sizes × 5 fractions × `seeds` cells, in a new project folder under `directory`.
    public static func run(in directory: URL, seeds: Int, steps: Int) throws -> Result {
        let root = directory.appendingPathComponent("stepwise-bench-report-\(getpid())")
        try FileManager.default.createDirectory(at: root.appendingPathComponent("Experiments"), withIntermediateDirectories: true)
        let spec = root.appendingPathComponent("Experiments/bench.yaml")
        try """
            name: bench
            dataset: {kind: synthetic-arith, train_size: 2000, valid_size: 100, test_size: 300}
            teacher: {kind: synthetic}
            student:
              sizes:
                small: {d_model: 64, layers: 2, heads: 4, d_ff: 256}
                base: {d_model: 128, layers: 2, heads: 4, d_ff: 512}
            train: {steps: \(steps), warmup: 100, eval_every: \(max(1, steps / 20)), seeds: [\((0..<seeds).map(String.init).joined(separator: ", "))]}
            methods:
              few_shot_cot: {}
              standard_finetune: {}
              task_distillation: {}
              distill_step_by_step: {lambda: [0.5, 1, 2]}
            sweep: {data_fraction: [0.0625, 0.125, 0.25, 0.5, 1.0], size: [small, base]}
            claims:
              - distill_step_by_step > standard_finetune at every data_fraction
            """.write(to: spec, atomically: true, encoding: .utf8)
        let e = try SpecParser.load(file: spec.path, root: root)
        let inputs = SyntheticReportInputs.make(e)
        let t0 = Date()
        let report = try ReportRenderer.render(context: ReportContext(e), inputs: inputs)
        let renderSeconds = Date().timeIntervalSince(t0)
        let t1 = Date()
        let dir = try ReportRenderer.materialize(report, experiment: e, stageCosts: [("train", e.cells.count, 1234.5)])
        let writeSeconds = Date().timeIntervalSince(t1)
        let page = dir.appendingPathComponent("index.html")
        let bytes = (try FileManager.default.attributesOfItem(atPath: page.path)[.size] as? Int) ?? 0
        return Result(cells: e.cells.count, renderSeconds: renderSeconds, writeSeconds: writeSeconds, pageBytes: bytes, page: page)
    }
}

/// Made-up but plausible report inputs for every cell of an experiment (seeded: the same every time).
enum SyntheticReportInputs {
    static func make(_ e: Experiment) -> ReportRenderer.Inputs {
        var rng = SeededRandom(seed: 42)
        let testIDs = (0..<300).map { "test-\($0)" }
        var inputs = ReportRenderer.Inputs()
        for cell in e.cells {
            let skill = 0.1 + 0.3 * cell.dataFraction + (cell.method == "distill_step_by_step" ? 0.15 : 0)
            let scores = testIDs.map { _ in rng.double() < skill ? 1.0 : 0.0 }
            inputs.evaluations.append(EvaluationArtifact(
                method: cell.method, size: cell.size, dataFraction: cell.dataFraction, options: cell.variant, seed: cell.seed,
                split: "test", metric: e.dataset.metric, value: scores.reduce(0, +) / Double(scores.count), count: scores.count,
                parameters: cell.size == "small" ? 1_200_000 : 4_500_000, predictions: scores.map { $0 == 1 ? "right" : "wrong" },
                exampleIDs: testIDs, scores: scores))
            let streams = cell.method == "distill_step_by_step" ? ["label", "rationale"] : ["label"]
            let steps = e.train.steps
            let loss = Swift.stride(from: 10, through: steps, by: 10).map { s in
                [Double(s)] + streams.indices.map { k in 3 * exp(-Double(s) / Double(steps / 4)) + 0.02 * Double(k + 1) + 0.05 * rng.double() }
            }
            let every = max(1, e.train.evalEvery)
            let validation = Swift.stride(from: every, through: steps, by: every).map { s in
                [Double(s), skill * (1 - exp(-Double(s) / Double(steps / 5))) + 0.02 * rng.double()]
            }
            let best = validation.max { $0[1] < $1[1] }.map { Int($0[0]) } ?? steps
            inputs.training[cell.label] = TrainingSummary(steps: steps, parameters: 1, lossCurve: loss, streamNames: streams,
                                                          validationCurve: validation, bestStep: best,
                                                          bestValidation: validation.map { $0[1] }.max() ?? 0, trainExamples: 2000)
        }
        let examples = (0..<e.dataset.trainSize!).map { i in
            Example(id: "train-\(i)", input: "A baker has \(i) loaves and sells \(i % 7). How many are left?", label: "( \(i) - \(i % 7) )")
        }
        let annotations = examples.map { x in
            Annotation(id: x.id, raw: "The baker sells some loaves, so we subtract. The answer is \(x.label)",
                       rationale: "The baker sells some loaves, so we subtract.", label: x.label, parsed: !x.id.hasSuffix("7"))
        }
        inputs.annotations = [AnnotationArtifact(split: "train", annotations: annotations, parseFailures: annotations.filter { !$0.parsed }.count,
                                                 teacherAccuracy: 0.9, requests: 0, promptTokens: 0, completionTokens: 0)]
        inputs.teacherSplits = [TeacherSplitStats(split: "train", count: annotations.count, parseFailures: annotations.filter { !$0.parsed }.count,
                                                  accuracy: 0.9, requests: 0, promptTokens: 0, completionTokens: 0)]
        inputs.dataset = DatasetSplits(train: examples, valid: [], test: [])
        return inputs
    }
}
