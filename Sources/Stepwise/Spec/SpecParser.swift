import Foundation
import Yams

/// YAML text → validated `Experiment`, or a `SpecError` listing every problem with its
/// file, line, column, field path and (for typos) the closest valid spelling.
public enum SpecParser {
    static let topKeys = ["name", "dataset", "teacher", "student", "train", "methods", "sweep", "report", "claims", "executor"]
    static let metrics = ["exact_match", "choice", "equation"]

    public static func load(file: String, root: URL? = nil) throws -> Experiment {
        let url = URL(fileURLWithPath: file)
        guard let data = FileManager.default.contents(atPath: url.path) else {
            throw SpecError(issues: [SpecIssue(file: file, line: 1, column: 1, path: "",
                                               message: "cannot read spec file")])
        }
        guard let text = String(data: data, encoding: .utf8) else {
            throw SpecError(issues: [SpecIssue(file: file, line: 1, column: 1, path: "", message: "spec is not UTF-8 text")])
        }
        return try parse(text, file: file, root: root ?? ProjectRoot.forSpec(at: url))
    }

    public static func parse(_ text: String, file: String, root: URL) throws -> Experiment {
        let reader = SpecReader(file: file)
        let document: Node
        do {
            guard let node = try Yams.compose(yaml: text) else {
                throw SpecError(issues: [SpecIssue(file: file, line: 1, column: 1, path: "", message: "the spec is empty")])
            }
            document = node
        } catch let error as SpecError {
            throw error
        } catch let error as YamlError {
            throw SpecError(issues: [yamlIssue(error, file: file)])
        }
        guard let top = reader.fields(document, at: "", allowed: topKeys) else { throw SpecError(issues: reader.issues) }

        let fallbackName = URL(fileURLWithPath: file).deletingPathExtension().lastPathComponent
        let name = top.string("name") ?? fallbackName
        if !name.allSatisfy({ $0.isLetter || $0.isNumber || "-_.".contains($0) }) {
            reader.fail(top.value("name"), "name", "expected letters, digits, `-`, `_` or `.` (it names the Results folder)")
        }
        let dataset = top.requireKey("dataset", "the data to distill on").flatMap { DatasetSection.read($0, reader: reader, root: root) }
        var teacher = top.requireKey("teacher", "who writes the rationales").flatMap { TeacherSection.read($0, reader: reader, root: root) }
        let student = StudentSection.read(top.value("student"), reader: reader)
        let train = TrainSection.read(top.value("train"), reader: reader)
        let recompute = TrainSection.recomputeActivations(top.value("train"), reader: reader)
        let methods = top.requireKey("methods", "the rows to compare").flatMap {
            MethodsSection.read($0, reader: reader, teacher: teacher, student: student)
        }
        let sweep = SweepSection.read(top.value("sweep"), reader: reader, student: student, methods: methods, train: train,
                                      teacher: teacher)
        if let student, let methods, let sweep {
            TeacherStudentCheck.run(top.value("methods"), sweepNode: top.value("sweep"), student: student, methods: methods,
                                    sweep: sweep, reader: reader)
        }
        if let methods, let sweep { OptionTermCheck.run(top.value("methods"), methods: methods, sweep: sweep, reader: reader) }
        let report = ReportSection.read(top.value("report"), reader: reader, student: student)
        let claims = ClaimsSection.read(top.value("claims"), reader: reader)
        if let student, let sweep {
            StudentSection.checkTokenizerUse(top.value("student"), student: student, sweptSizes: sweep.sizes, reader: reader)
        }
        _ = ExecutorSection.read(top.value("executor"), reader: reader)  // settings for `--executor slurm`; never in a key

        if let dataset, let teacher, teacher.kind == .replay,
           ![.svamp, .cqa, .esnli, .anli1].contains(dataset.kind) {
            reader.fail(top.value("teacher"), "teacher.kind",
                        "the replay teacher reads the paper's released outputs, which exist for dataset kinds `svamp`, `cqa`, `esnli`, `anli1`, not `\(dataset.kind.rawValue)`")
        }
        if let dataset, let teacher, teacher.kind == .openai, dataset.kind == .jsonl, teacher.parseAs == nil {
            reader.fail(top.value("teacher"), "teacher.parse_as",
                        "an LLM teacher on a jsonl dataset needs `parse_as`: which answer rule parses its completions; expected one of `svamp`, `cqa`, `esnli`, `anli`")
        }
        if let dataset, var t = teacher, let methods, let sweep {
            GenerateSection.settle(&t, dataset: dataset, methods: methods, sweep: sweep, teacherNode: top.value("teacher"),
                                   reader: reader, root: root)
            teacher = t
        }
        guard reader.issues.isEmpty, let dataset, let teacher, let student, let train, let methods, let sweep,
              let report, let claims else {
            throw SpecError(issues: reader.issues)
        }
        return Experiment(name: name, file: file, root: root, dataset: dataset, teacher: teacher, student: student,
                          train: train, methods: methods, sweep: sweep, report: report, claims: claims,
                          recomputeActivations: recompute)
    }

    static func yamlIssue(_ error: YamlError, file: String) -> SpecIssue {
        switch error {
        case .scanner(let context, let problem, let mark, _), .parser(let context, let problem, let mark, _),
             .composer(let context, let problem, let mark, _):
            let what = [context?.text, problem].compactMap { $0 }.filter { !$0.isEmpty }.joined(separator: ": ")
            return SpecIssue(file: file, line: mark.line, column: mark.column, path: "", message: "invalid YAML: \(what)")
        case .duplicatedKeysInMapping(let duplicates, let context):
            return SpecIssue(file: file, line: context.mark.line, column: context.mark.column, path: "",
                             message: "duplicate key\(duplicates.count == 1 ? "" : "s") \(SpecReader.list(duplicates)) in one mapping")
        default:
            return SpecIssue(file: file, line: 1, column: 1, path: "", message: "invalid YAML: \(error)")
        }
    }
}

/// Where a spec's relative paths, `Results/` and `.stepwise/` live: the folder holding the
/// `Experiments/` folder the spec sits in, else the current directory.
public enum ProjectRoot {
    public static func forSpec(at url: URL) -> URL {
        var dir = url.standardizedFileURL.deletingLastPathComponent()
        for _ in 0..<4 {
            if dir.lastPathComponent == "Experiments" { return dir.deletingLastPathComponent() }
            if dir.path == "/" { break }
            dir = dir.deletingLastPathComponent()
        }
        return URL(fileURLWithPath: FileManager.default.currentDirectoryPath)
    }
}
