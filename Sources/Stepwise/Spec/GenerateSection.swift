import Foundation
import Yams

/// `teacher.generate:` — how the teacher writes new training examples for methods with
/// `synthetic: {per_example: n}` — and the checks that need the whole spec.
enum GenerateSection {
    static func read(_ node: Node, at path: String, teacher: TeacherKind, reader: SpecReader, root: URL) -> GenerateSpec? {
        let keys = teacher == .openai ? ["prompt", "shots", "per_request", "temperature", "max_tokens", "stop"] : ["shots", "per_request"]
        guard let f = reader.fields(node, at: path, allowed: keys) else { return nil }
        var g = GenerateSpec()
        g.shots = f.int("shots", min: 1) ?? GenerateSpec.defaultShots
        g.perRequest = f.int("per_request", min: 1) ?? GenerateSpec.defaultPerRequest
        if let k = f.int("per_request"), k > maxPerRequest {
            reader.fail(f.value("per_request"), f.path("per_request"), "expected at most \(maxPerRequest) new examples per request, found \(k)")
        }
        g.temperature = f.double("temperature")
        g.maxTokens = f.int("max_tokens", min: 1)
        g.stop = f.scalarList("stop")?.map(\.1)
        if let p = f.string("prompt") {
            g.prompt = p
            DatasetSection.checkExists(DatasetSection.resolve(p, root), node: f.value("prompt"), path: f.path("prompt"),
                                       reader: reader, root: root, hint: "prompt files ship in Experiments/prompts/")
        }
        return g
    }

    static let maxPerRequest = 50

    /// Whether any method or the sweep asks for generated examples (a `synthetic` value above 0).
    static func inUse(methods: [MethodSpec], sweep: SweepSpec) -> Bool {
        let key = GeneratedData.option.key
        let values = (sweep.optionValues[key] ?? []) + methods.flatMap { $0.options[key] ?? [] }
        return values.contains { $0 != GeneratedData.option.absentValue }
    }

    /// With generated examples in use: the teacher's `generate` settings with their defaults
    /// filled in, and an OpenAI-compatible teacher's prompt found and checked — the default is
    /// `Experiments/prompts/<task>_generate.txt` (task: svamp, cqa, esnli or anli, as for parsing).
    static func settle(_ t: inout TeacherSpec, dataset: DatasetSpec, methods: [MethodSpec], sweep: SweepSpec,
                       teacherNode: Node?, reader: SpecReader, root: URL) {
        guard inUse(methods: methods, sweep: sweep), t.kind != .replay else { return }
        var g = t.generate ?? GenerateSpec()
        defer { t.generate = g }
        guard t.kind == .openai else { return }
        let written = g.prompt != nil
        if g.prompt == nil {
            guard let task = try? AnnotateStage.parseTask(dataset.kind, override: t.parseAs) else { return }  // reported beside parse_as
            g.prompt = defaultPrompt(task)
        }
        let url = DatasetSection.resolve(g.prompt!, root)
        guard FileManager.default.fileExists(atPath: url.path) else {
            if !written {
                reader.fail(teacherNode, "teacher.generate.prompt",
                            "methods ask for generated examples (`synthetic`), and the default generation prompt \(g.prompt!) does not exist; "
                            + "write `generate: {prompt: FILE}` under teacher (a prompt with {examples} and {count} placeholders)")
            }
            return   // a written path that does not exist is reported where it is written
        }
        do {
            _ = try GenerationPrompt(contentsOfFile: url.path)
        } catch {
            reader.fail(teacherNode, "teacher.generate.prompt", "\(error)")
        }
    }

    static func defaultPrompt(_ task: PaperTask) -> String { "Experiments/prompts/\(task.rawValue)_generate.txt" }
}
