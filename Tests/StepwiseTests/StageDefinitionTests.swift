import XCTest
@testable import Stepwise

/// What every stage definition must satisfy: the job file carries exactly the params the key
/// was computed from (a stage rebuilt from its job in another process has the same key params),
/// and every field of the params is in the key.
final class StageDefinitionTests: XCTestCase {
    func testAJobRebuildsTheSameKeyParamsForEveryKind() throws {
        let project = try TempProject()
        defer { project.remove() }
        var kinds = Set<StageKind>()
        // The sweep, and a spec with generated examples (the generate stage).
        for (name, spec) in [("sweep", PlanExpansionTests.sweepSpec), ("generated", Self.generatedSpec)] {
            let plan = try Planner.plan(try project.experiment(spec, name: name))
            for stage in plan.stages {
                let rebuilt = try StageRegistry.work(kind: stage.kind, payload: try stage.work.encode())
                XCTAssertEqual(rebuilt.keyParams, stage.params, stage.label)
                XCTAssertEqual(rebuilt.version, stage.work.version)
                kinds.insert(stage.kind)
            }
        }
        XCTAssertEqual(kinds, Set(StageKind.allCases), "the specs exercise every registered kind")
    }

    static let generatedSpec = GenerateStageTests.base.replacingOccurrences(
        of: "standard_finetune: {}", with: "standard_finetune: {synthetic: {per_example: 2}}")

    func testEveryParamFieldIsInTheKey() throws {
        let project = try TempProject()
        defer { project.remove() }
        for spec in [PlanExpansionTests.sweepSpec, Self.generatedSpec] {
            let plan = try Planner.plan(try project.experiment(spec))
            for stage in plan.stages {
                guard case .object(let fields) = stage.params else { continue }
                for (name, value) in fields {
                    var changed = fields
                    changed[name] = .array([value, .string("changed")])
                    let key = Stage.key(kind: stage.kind, version: stage.work.version, params: .object(changed),
                                        inputs: stage.inputs.map { ($0.role, plan.stages[$0.index].key) })
                    XCTAssertNotEqual(key, stage.key, "\(stage.label): field \(name) does not reach the key")
                }
            }
        }
    }

    func testAnUnknownKindInAJobIsAClearError() {
        XCTAssertThrowsError(try StageRegistry.work(kind: "nope", payload: Data("{}".utf8))) { error in
            XCTAssertTrue("\(error)".contains("unknown stage kind `nope`"), "\(error)")
        }
    }
}
