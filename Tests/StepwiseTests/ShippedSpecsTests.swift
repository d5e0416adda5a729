import XCTest
@testable import Stepwise

/// Every spec under Experiments/ stays valid (with the paper-format fixtures standing in for
/// the paper's datasets, which are not in the repository).
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
        let specs = GarbageCollector.specs(in: Self.repo)
        XCTAssertGreaterThanOrEqual(specs.count, 6)
        for spec in specs {
            let copy = project.root.appendingPathComponent("Experiments/\(spec.lastPathComponent)")
            try fm.copyItem(at: spec, to: copy)
            do {
                let e = try SpecParser.load(file: copy.path, root: project.root)
                let plan = try Planner.plan(e)
                XCTAssertFalse(plan.stages.isEmpty)
                if spec.lastPathComponent == "quickstart-families.yaml" {
                    // Offline: the paper's rows and this families at both fractions with 3 seeds.
                    XCTAssertEqual(e.teacher.kind, .synthetic)
                    XCTAssertEqual(e.dataset.kind, .syntheticArith)
                    let trained = Set(plan.stages.compactMap { $0.kind == .train ? $0.cell?.method : nil })
                    XCTAssertEqual(trained, ["standard_finetune", "task_distillation", "distill_step_by_step", "pinto",
                                             "soft_label_distillation"])
                    XCTAssertEqual(Set(plan.stages.compactMap { $0.cell?.dataFraction }), [0.25, 1.0])
                    XCTAssertEqual(e.sweep.seeds, [0, 1, 2])
                    XCTAssertFalse(e.claims.isEmpty)
                }
            } catch {
                XCTFail("\(spec.lastPathComponent): \(error)")
            }
        }
    }
}
