import Foundation

/// report: the files of `Results/<name>/`, rendered from the evaluations. Stored like any
/// artifact, and written out (materialized) after every run.
public struct ReportArtifact: Codable, Sendable {
    public var files: [String: String]
    /// The spec's claims, checked (also written to report.md and claims.json).
    public var claims: [ClaimVerdict]?
}

/// What the report shows and how: everything about the experiment the report stage reads
/// (it cannot reach the spec), so a change to any of it re-renders the report and nothing else.
public struct ReportContext: Codable, Sendable {
    public var name: String
    public var title: String?
    public var decimals: Int
    public var figures: [FigureSpec]
    public var datasetKind: String
    public var teacherKind: String
    public var metric: String
    /// Sweep order.
    public var sizes: [String]
    public var dataFractions: [Double]
    public var seeds: [Int]
    public var claims: [ClaimSpec]
    public var studentSizes: [StudentSize]
    /// The training recipe's learning-rate schedule (drawn under the training curves).
    public var learningRate: LearningRatePlan?

    public init(_ e: Experiment) {
        // Not the spec's path: a key never depends on where a file lives or what it is called.
        name = e.name; title = e.report.title; decimals = e.report.decimals; figures = e.report.figures
        datasetKind = e.dataset.kind.rawValue; teacherKind = e.teacher.kind.rawValue; metric = e.dataset.metric
        sizes = e.sweep.sizes; dataFractions = e.sweep.dataFractions; seeds = e.sweep.seeds; claims = e.claims
        studentSizes = e.student.sizes
        learningRate = LearningRatePlan(e.train)
    }
}

/// report: the files of `Results/<name>/`, rendered from the evaluations. Stored like any
/// artifact, and written out (materialized) after every run.
public enum ReportStage: StageDefinition {
    public static let kind: StageKind = "report"
    public static let version = 9   // 9: index.html shows the soft labels' missing mass as report.md does; 8: the published numbers and ours side by side; 4: method variants by name; costs filled in when written out; 5: verdicts with uncertainty, predictions/*.jsonl; 6: results.csv keeps the original columns first, variant last; 7: training curves, teacher samples, index.html

    public struct Params: Codable, Sendable {
        public var context: ReportContext
    }

    public static func run(_ p: Params, settings: NoSettings, inputs: StageInputs, output: StageOutput) throws {
        var collected = ReportRenderer.Inputs()
        for (role, location) in inputs.artifacts {
            try ReportRenderer.add(role: role, location: location, label: role, to: &collected)
        }
        try output.write(ReportRenderer.render(context: p.context, inputs: collected))
    }
}

/// The teacher's output quality on one split.
public struct TeacherSplitStats: Codable, Sendable {
    public var split: String
    public var count: Int
    public var parseFailures: Int
    public var accuracy: Double
    public var requests: Int
    public var promptTokens: Int
    public var completionTokens: Int
    /// Soft labels' missing mass (`AnnotationArtifact.labelMassMissing`), when there is one.
    public var labelMassMissing: Double?
}

/// Turns evaluations into the report files; shared by the report stage and `stepwise report`.
public enum ReportRenderer {
    /// What a report is made of: the evaluations present, the teacher's output per split, the
    /// training summaries by cell label, the dataset (for the teacher samples), and the labels
    /// of evaluations not (yet) in the store.
    public struct Inputs {
        public var evaluations: [EvaluationArtifact] = []
        public var teacherSplits: [TeacherSplitStats] = []
        public var annotations: [AnnotationArtifact] = []
        public var training: [String: TrainingSummary] = [:]
        public var dataset: DatasetSplits?
        public var missing: [String] = []
        /// The generate stages' counts and costs (`generate:<label>` roles).
        public var generations: [GenerationStats] = []

        public init(evaluations: [EvaluationArtifact] = [], teacherSplits: [TeacherSplitStats] = [], annotations: [AnnotationArtifact] = [],
                    training: [String: TrainingSummary] = [:], dataset: DatasetSplits? = nil, missing: [String] = []) {
            self.evaluations = evaluations; self.teacherSplits = teacherSplits; self.annotations = annotations
            self.training = training; self.dataset = dataset; self.missing = missing
        }
    }

    /// Reads the report stage's inputs from the store (`stepwise report`), noting the missing ones.
    public static func collect(plan: Plan, stage: Stage, location: (String) throws -> ArtifactLocation?) throws -> Inputs {
        var out = Inputs()
        for input in stage.inputs {
            let source = plan.stages[input.index]
            guard let found = try location(source.key) else {
                if source.kind != .train && source.kind != .generate && input.role != datasetRole { out.missing.append(source.label) }
                continue
            }
            try add(role: input.role, location: found, label: source.label, to: &out)
        }
        return out
    }

    /// Roles: `teacher:<split>` (annotations), `train:<cell label>` (a checkpoint folder whose
    /// `training.json` has the curves), `dataset`, and the evaluations (any other role).
    static func add(role: String, location: ArtifactLocation, label: String, to out: inout Inputs) throws {
        if role.hasPrefix(trainRolePrefix) {
            guard case .folder(let folder) = location else { return }
            let url = folder.appendingPathComponent(TrainStage.summaryFile)
            out.training[String(role.dropFirst(trainRolePrefix.count))] =
                try ArtifactCodec.decode(TrainingSummary.self, from: ArtifactFiles.read(url, what: "training summary of \(label)"),
                                         what: "training summary in \(url.path)")
            return
        }
        let data: Data
        switch location {
        case .inline(let d): data = d
        case .file(let url): data = try ArtifactFiles.read(url, what: "\(role) input of the report")
        case .folder(let url): data = try ArtifactFiles.read(url.appendingPathComponent(ArtifactFiles.payloadName), what: "\(role) input of the report")
        }
        if role.hasPrefix(generateRolePrefix) {
            out.generations.append(GenerationStats(try ArtifactCodec.decode(GenerationArtifact.self, from: data, what: label)))
        } else if role == datasetRole {
            out.dataset = try ArtifactCodec.decode(DatasetSplits.self, from: data, what: label)
        } else if role.hasPrefix(teacherRolePrefix) {
            let a = try ArtifactCodec.decode(AnnotationArtifact.self, from: data, what: label)
            out.teacherSplits.append(TeacherSplitStats(split: a.split, count: a.annotations.count, parseFailures: a.parseFailures,
                                                       accuracy: a.teacherAccuracy, requests: a.requests,
                                                       promptTokens: a.promptTokens, completionTokens: a.completionTokens,
                                                       labelMassMissing: a.labelMassMissing))
            out.annotations.append(a)
        } else {
            out.evaluations.append(try ArtifactCodec.decode(EvaluationArtifact.self, from: data, what: label))
        }
    }

    static let teacherRolePrefix = "teacher:"
    static let trainRolePrefix = "train:"
    static let generateRolePrefix = "generate:"
    static let datasetRole = "dataset"

    public static func render(context: ReportContext, inputs: Inputs) throws -> ReportArtifact {
        let evaluations = inputs.evaluations
        let rows = evaluations.map(ResultRow.init)
        let teacher = evaluations.first { $0.size == "teacher" }
        let arms = ResultArms(evaluations)
        let verdicts = ClaimChecker.check(context.claims, arms: arms, sizes: context.sizes,
                                          fractions: context.dataFractions.sorted())
        var files: [String: String] = [:]
        var figures: [HTMLReport.Figure] = []
        if context.dataFractions.count > 1 {
            for size in context.sizes where rows.contains(where: { $0.size == size }) {
                figures.append(.init(file: "data-size-\(size).svg", caption: "Test \(context.metric) against the share of training data, student \(size)",
                                     svg: Figures.dataSize(title: "\(context.name): data size", metric: context.metric, size: size, rows: rows, arms: arms)))
            }
        }
        if context.sizes.count > 1 {
            for f in context.dataFractions.sorted() where rows.contains(where: { $0.dataFraction == f }) {
                figures.append(.init(file: "model-size-\(JSONValue.format(f * 100)).svg",
                                     caption: "Test \(context.metric) against student size, \(JSONValue.format(f * 100)) % of the training data",
                                     svg: Figures.modelSize(title: "\(context.name): model size", metric: context.metric, fraction: f, rows: rows, arms: arms)))
            }
        }
        let curves = curveFigures(context: context, evaluations: evaluations, training: inputs.training)
        let samples = teacherSamples(context: context, annotations: inputs.annotations, dataset: inputs.dataset)
        let predictions = PredictionFiles.render(evaluations)
        for f in figures + curves { files[f.file] = f.svg }
        for (name, text) in predictions { files["predictions/\(name)"] = text }
        let md = MarkdownReport(context: context, rows: rows, teacher: teacher, teacherSplits: inputs.teacherSplits,
                                missing: inputs.missing, claims: verdicts, arms: arms, curveFigures: curves.map(\.file),
                                teacherSamples: samples, predictionFiles: predictions.keys.sorted(),
                                generations: GenerationTable(generations: inputs.generations))
        let html = HTMLReport(context: context, table: ResultsTable(context: context, rows: rows, teacher: teacher, arms: arms),
                              teacher: teacher, teacherSplits: inputs.teacherSplits, missing: inputs.missing, claims: verdicts,
                              figures: figures, curves: curves, teacherSamples: samples, predictionFiles: predictions.count,
                              generations: GenerationTable(generations: inputs.generations))
        return ReportArtifact(files: files.merging([
            "results.csv": ResultsCSV.render(rows),
            "results.json": String(decoding: try ArtifactCodec.encode(rows), as: UTF8.self) + "\n",
            "claims.json": String(decoding: try ArtifactCodec.encode(verdicts), as: UTF8.self) + "\n",
            "results.tex": LatexTable(context: context, rows: rows).render(),
            "report.md": md.render(figures: figures.map(\.file)),
            "index.html": html.render(),
        ]) { _, b in b }, claims: verdicts)
    }

    /// One small-multiples figure per (method variant, size), in results-table order; a cell's
    /// curves are drawn once its evaluation is in (the evaluation names the cell).
    static func curveFigures(context: ReportContext, evaluations: [EvaluationArtifact], training: [String: TrainingSummary]) -> [HTMLReport.Figure] {
        var groups: [String: [TrainingCurve]] = [:]
        var order: [(name: String, size: String, file: String)] = []
        for e in evaluations {
            guard let fraction = e.dataFraction, let seed = e.seed else { continue }
            let cell = Cell(method: e.method, size: e.size, dataFraction: fraction, seed: seed, variant: e.options ?? MethodVariant())
            guard let summary = training[cell.label] else { continue }
            let name = ResultRow(e).displayName
            let id = "\(name)\u{1}\(e.size)"
            if groups[id] == nil { order.append((name, e.size, PredictionFiles.fileStem(method: e.method, options: e.options, parts: [e.size]))) }
            groups[id, default: []].append(TrainingCurve(cell: cell, summary: summary))
        }
        let sizeRank = Dictionary(context.sizes.enumerated().map { ($1, $0) }, uniquingKeysWith: { a, _ in a })
        let ranked = order.enumerated().sorted { ((sizeRank[$0.element.size] ?? .max), $0.offset) < ((sizeRank[$1.element.size] ?? .max), $1.offset) }
        return ranked.map(\.element).map { g in
            let curves = groups["\(g.name)\u{1}\(g.size)"]!
            let svg = TrainingCurveFigure(title: "\(context.name): training curves — \(g.name), \(g.size)", metric: context.metric,
                                          curves: curves, learningRate: context.learningRate).render()
            return HTMLReport.Figure(file: "curves-\(g.file).svg", caption: "\(g.name) · \(g.size) · \(curves.count) cells", svg: svg)
        }
    }

    static func teacherSamples(context: ReportContext, annotations: [AnnotationArtifact], dataset: DatasetSplits?) -> [TeacherSampleSet] {
        guard let dataset else { return [] }
        let metric = Metric(rawValue: context.metric) ?? .exactMatch
        return annotations.compactMap { a in
            guard let split = Split(rawValue: a.split) else { return nil }
            return TeacherSampleSet.choose(split: a.split, annotations: a.annotations, examples: dataset[split], metric: metric)
        }
    }

    /// Wall time per stage kind over the plan's stages that are in the store.
    public static func stageCosts(store: Store, plan: Plan) throws -> [(kind: String, count: Int, seconds: Double)] {
        let wanted = Set(plan.stages.map(\.key))
        var byKind: [StageKind: (Int, Double)] = [:]
        for s in try store.summaries() where wanted.contains(s.key) {
            let c = byKind[s.kind] ?? (0, 0)
            byKind[s.kind] = (c.0 + 1, c.1 + s.duration)
        }
        return StageKind.allCases.compactMap { k in byKind[k].map { (k.rawValue, $0.0, $0.1) } }
    }

    /// Writes the files to `Results/<name>/` (atomically, one file at a time). A file whose
    /// bytes are already there is left alone, so a fully cached run rewrites nothing.
    public static func materialize(_ report: ReportArtifact, experiment: Experiment,
                                   stageCosts: [(kind: String, count: Int, seconds: Double)] = [], into dir: URL? = nil) throws -> URL {
        var report = report
        // The spec's path as the project knows it (not as this command was typed), so the page
        // does not change with the working directory.
        let spec = URL(fileURLWithPath: experiment.file).standardizedFileURL.path
        let root = experiment.root.standardizedFileURL.path + "/"
        let values = ReportPlaceholder.Values(costs: stageCosts, specPath: spec.hasPrefix(root) ? String(spec.dropFirst(root.count)) : spec,
                                              specText: try? String(contentsOfFile: spec, encoding: .utf8))
        if let md = report.files["report.md"] { report.files["report.md"] = ReportPlaceholder.fillMarkdown(md, values) }
        if let page = report.files["index.html"] { report.files["index.html"] = HTMLReport.fill(page, values) }
        let out = dir ?? experiment.root.appendingPathComponent("Results").appendingPathComponent(experiment.name)
        try FileManager.default.createDirectory(at: out, withIntermediateDirectories: true)
        var written: Set<String> = []
        for (name, text) in report.files {
            let url = out.appendingPathComponent(name), data = Data(text.utf8)
            if (try? Data(contentsOf: url)) == data { continue }
            try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
            try data.write(to: url, options: .atomic)
            written.insert(name)
        }
        // Figures of an earlier layout (a size or fraction no longer in the sweep) would sit next
        // to the new ones looking current; remove our own figure files that this report lacks.
        let current = Set(report.files.keys)
        for name in (try? FileManager.default.contentsOfDirectory(atPath: out.path)) ?? []
        where isFigureFile(name) && !current.contains(name) && !current.contains(svgName(ofPNG: name)) {
            try? FileManager.default.removeItem(at: out.appendingPathComponent(name))
        }
        // Prediction files of rows no longer in the report would look current: remove them.
        let predictions = out.appendingPathComponent("predictions")
        for name in (try? FileManager.default.contentsOfDirectory(atPath: predictions.path)) ?? []
        where name.hasSuffix(".jsonl") && !current.contains("predictions/\(name)") {
            try? FileManager.default.removeItem(at: predictions.appendingPathComponent(name))
        }
        // PNG copies for viewers without SVG support, when a renderer is installed. They are
        // derived files (renderer-dependent bytes), so they live only in Results/, not the store.
        // Rendered only for a new or changed SVG (or a missing PNG): one renderer process per
        // figure on every cached re-run took it from 0.04 s to 1.3 s.
        if let renderer = executableInPath("rsvg-convert") {
            for name in report.files.keys where name.hasSuffix(".svg") {
                let svg = out.appendingPathComponent(name)
                let png = svg.deletingPathExtension().appendingPathExtension("png")
                if !written.contains(name) && FileManager.default.fileExists(atPath: png.path) { continue }
                let process = Process()
                process.executableURL = renderer
                process.arguments = ["--zoom", "2", "-o", png.path, svg.path]
                process.standardError = FileHandle.nullDevice
                try? process.run()
                process.waitUntilExit()
            }
        }
        return out
    }

    static func isFigureFile(_ name: String) -> Bool {
        (name.hasPrefix("data-size-") || name.hasPrefix("model-size-") || name.hasPrefix("curves-")) && (name.hasSuffix(".svg") || name.hasSuffix(".png"))
    }

    static func svgName(ofPNG name: String) -> String {
        name.hasSuffix(".png") ? String(name.dropLast(4)) + ".svg" : name
    }

    public static func executableInPath(_ tool: String) -> URL? {
        let path = ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin"
        return path.split(separator: ":").map { URL(fileURLWithPath: String($0)).appendingPathComponent(tool) }
            .first { FileManager.default.isExecutableFile(atPath: $0.path) }
    }
}

extension StageKind { public static let report = ReportStage.kind }
