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

    public init(_ e: Experiment) {
        // Not the spec's path: a key never depends on where a file lives or what it is called.
        name = e.name; title = e.report.title; decimals = e.report.decimals; figures = e.report.figures
        datasetKind = e.dataset.kind.rawValue; teacherKind = e.teacher.kind.rawValue; metric = e.dataset.metric
        sizes = e.sweep.sizes; dataFractions = e.sweep.dataFractions; seeds = e.sweep.seeds; claims = e.claims
        studentSizes = e.student.sizes
    }
}

/// report: the files of `Results/<name>/`, rendered from the evaluations. Stored like any
/// artifact, and written out (materialized) after every run.
public enum ReportStage: StageDefinition {
    public static let kind: StageKind = "report"
    public static let version = 6   // 4: method variants by name; costs filled in when written out; 5: verdicts with uncertainty, predictions/*.jsonl; 6: results.csv keeps the original columns first, variant last

    public struct Params: Codable, Sendable {
        public var context: ReportContext
    }

    public static func run(_ p: Params, settings: NoSettings, inputs: StageInputs, output: StageOutput) throws {
        var collected = ReportRenderer.Inputs()
        for (role, _) in inputs.artifacts {
            try ReportRenderer.add(role: role, data: try inputs.data(role), label: role, to: &collected)
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
    /// What a report is made of: the evaluations present, the teacher's quality per split, and
    /// the labels of evaluations not (yet) in the store.
    public struct Inputs {
        public var evaluations: [EvaluationArtifact] = []
        public var teacherSplits: [TeacherSplitStats] = []
        public var missing: [String] = []
    }

    /// Reads the report stage's inputs from the store (`stepwise report`), noting the missing ones.
    public static func collect(plan: Plan, stage: Stage, payload: (String) throws -> Data?) throws -> Inputs {
        var out = Inputs()
        for input in stage.inputs {
            let source = plan.stages[input.index]
            guard let data = try payload(source.key) else { out.missing.append(source.label); continue }
            try add(role: input.role, data: data, label: source.label, to: &out)
        }
        return out
    }

    /// Teacher inputs have roles `teacher:<split>`; the others are evaluations.
    static func add(role: String, data: Data, label: String, to out: inout Inputs) throws {
        if role.hasPrefix(teacherRolePrefix) {
            let a = try ArtifactCodec.decode(AnnotationArtifact.self, from: data, what: label)
            out.teacherSplits.append(TeacherSplitStats(split: a.split, count: a.annotations.count, parseFailures: a.parseFailures,
                                                       accuracy: a.teacherAccuracy, requests: a.requests,
                                                       promptTokens: a.promptTokens, completionTokens: a.completionTokens,
                                                       labelMassMissing: a.labelMassMissing))
        } else {
            out.evaluations.append(try ArtifactCodec.decode(EvaluationArtifact.self, from: data, what: label))
        }
    }

    static let teacherRolePrefix = "teacher:"

    public static func render(context: ReportContext, inputs: Inputs) throws -> ReportArtifact {
        let evaluations = inputs.evaluations
        let rows = evaluations.map(ResultRow.init)
        let teacher = evaluations.first { $0.size == "teacher" }
        let arms = ResultArms(evaluations)
        let verdicts = ClaimChecker.check(context.claims, arms: arms, sizes: context.sizes,
                                          fractions: context.dataFractions.sorted())
        let md = MarkdownReport(context: context, rows: rows, teacher: teacher, teacherSplits: inputs.teacherSplits,
                                missing: inputs.missing, claims: verdicts, arms: arms)
        let json = try ArtifactCodec.encode(rows)
        var figures: [String: String] = [:]
        if context.dataFractions.count > 1 {
            for size in context.sizes where rows.contains(where: { $0.size == size }) {
                figures["data-size-\(size).svg"] = Figures.dataSize(title: "\(context.name): data size",
                                                                    metric: context.metric, size: size, rows: rows, arms: arms)
            }
        }
        if context.sizes.count > 1 {
            for f in context.dataFractions.sorted() where rows.contains(where: { $0.dataFraction == f }) {
                figures["model-size-\(JSONValue.format(f * 100)).svg"] = Figures.modelSize(
                    title: "\(context.name): model size", metric: context.metric, fraction: f, rows: rows, arms: arms)
            }
        }
        for (name, text) in PredictionFiles.render(evaluations) { figures["predictions/\(name)"] = text }
        return ReportArtifact(files: figures.merging([
            "results.csv": ResultsCSV.render(rows),
            "results.json": String(decoding: json, as: UTF8.self) + "\n",
            "claims.json": String(decoding: try ArtifactCodec.encode(verdicts), as: UTF8.self) + "\n",
            "results.tex": LatexTable(context: context, rows: rows).render(),
            "report.md": md.render(figures: figures.keys.sorted()),
        ]) { _, b in b }, claims: verdicts)
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
        if let md = report.files["report.md"] { report.files["report.md"] = MarkdownReport.withCosts(md, stageCosts) }
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
        (name.hasPrefix("data-size-") || name.hasPrefix("model-size-")) && (name.hasSuffix(".svg") || name.hasSuffix(".png"))
    }

    static func svgName(ofPNG name: String) -> String {
        name.hasSuffix(".png") ? String(name.dropLast(4)) + ".svg" : name
    }

    static func executableInPath(_ tool: String) -> URL? {
        let path = ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin"
        return path.split(separator: ":").map { URL(fileURLWithPath: String($0)).appendingPathComponent(tool) }
            .first { FileManager.default.isExecutableFile(atPath: $0.path) }
    }
}

extension StageKind { public static let report = ReportStage.kind }
