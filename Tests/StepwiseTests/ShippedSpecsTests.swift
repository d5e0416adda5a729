import XCTest
@testable import Stepwise

/// Every spec under Experiments/ (and Experiments/paper/) stays valid (with the paper-format
/// fixtures standing in for the paper's datasets, which are not in the repository, and a fake
/// Hugging Face cache holding a tiny random checkpoint under each hub id a spec names, found offline).
final class ShippedSpecsTests: XCTestCase {
    static let repo = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    func testEveryShippedSpecValidatesAndPlans() throws {
        let project = try TempProject()
        defer { project.remove() }
        let fm = FileManager.default
        let fixtures = Self.repo.appendingPathComponent("Tests/StepwiseTests/Fixtures/paper")
        try fm.copyItem(at: fixtures, to: project.root.appendingPathComponent("datasets"))
        try fm.copyItem(at: Self.repo.appendingPathComponent("Experiments/prompts"),
                        to: project.root.appendingPathComponent("Experiments/prompts"))
        let tiny = project.root.appendingPathComponent("tiny-t5")
        try fm.createDirectory(at: tiny, withIntermediateDirectories: true)
        try TinyCheckpoint.write(to: tiny)
        let cache = project.root.appendingPathComponent("hf-cache")
        for id in ["google/t5-v1_1-small", "google/t5-v1_1-base"] { try FakeHubCache.add(id, from: tiny, to: cache) }
        let env = ["HF_HUB_CACHE": cache.path, "HF_HUB_OFFLINE": "1"]
        let experiments = Self.repo.appendingPathComponent("Experiments").path + "/"
        let specs = GarbageCollector.specs(in: Self.repo)
        XCTAssertGreaterThanOrEqual(specs.count, 14)
        var pretrained = 0
        for spec in specs {
            let relative = String(spec.path.dropFirst(experiments.count))
            let copy = project.root.appendingPathComponent("Experiments/\(relative)")
            try fm.createDirectory(at: copy.deletingLastPathComponent(), withIntermediateDirectories: true)
            try fm.copyItem(at: spec, to: copy)
            do {
                let e = try SpecParser.load(file: copy.path, root: project.root)
                let checkpoints = try StudentCheckpoints.resolveCached(e, environment: env)
                pretrained += checkpoints.bySize.isEmpty ? 0 : 1
                let plan = try Planner.plan(e, checkpoints: checkpoints)
                XCTAssertFalse(plan.stages.isEmpty)
                if spec.lastPathComponent == "quickstart-families.yaml" {
                    // Offline: the paper's rows and this families at both fractions with 3 seeds.
                    XCTAssertEqual(e.teacher.kind, .synthetic)
                    XCTAssertEqual(e.dataset.kind, .syntheticArith)
                    let trained = Set(plan.stages.compactMap { $0.kind == .train ? $0.cell?.method : nil })
                    XCTAssertEqual(trained, ["standard_finetune", "distill_step_by_step", "pinto",
                                             "soft_label_distillation", "knowledge_distillation"])
                    XCTAssertNil(e.dataset.answer, "the gold equation is the label: letter-answer students stay at a guess")
                    let variants = plan.stages.compactMap { $0.kind == .train ? $0.cell?.variant : nil }
                    XCTAssertTrue(variants.contains { $0.values["counterfactual"]?.plain == "true" }, "PINTO with its regularizer")
                    XCTAssertTrue(variants.contains { $0.values["losses"]?.plain.contains("cosine") ?? false }, "DistilBERT's three terms")
                    XCTAssertTrue(variants.contains { GeneratedData.perExample($0) == 2 }, "teacher-generated data")
                    // The KD rows' teacher is the standard_finetune row's own train stage.
                    for kd in plan.stages where kd.kind == .train && kd.cell?.method == "knowledge_distillation" {
                        let teacher = try XCTUnwrap(kd.inputs.first { $0.role == "teacher" })
                        XCTAssertEqual(plan.stages[teacher.index].cell?.method, "standard_finetune")
                    }
                    XCTAssertEqual(Set(plan.stages.compactMap { $0.cell?.dataFraction }), [0.25, 1.0])
                    XCTAssertEqual(e.sweep.seeds, [0, 1, 2])
                    XCTAssertFalse(e.claims.isEmpty)
                }
            } catch {
                XCTFail("\(relative): \(error)")
            }
        }
        XCTAssertEqual(pretrained, 8, "the four *-t5 specs and the four paper/ specs start from checkpoints")
    }
}
