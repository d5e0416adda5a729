import XCTest
@testable import Stepwise

/// docs/json-interfaces.md lists exactly the fields `status --json` and `plan --json` emit.
final class JSONInterfaceDocsTests: XCTestCase {
    /// Object name (`status.kinds[]`) → the backticked names in the first column of its table.
    func documentedFields() throws -> [String: Set<String>] {
        let url = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("docs/json-interfaces.md")
        var out: [String: Set<String>] = [:]
        var current: String?
        for line in try String(contentsOf: url, encoding: .utf8).split(separator: "\n", omittingEmptySubsequences: false) {
            if line.hasPrefix("<!-- fields: "), line.hasSuffix(" -->") {
                current = String(line.dropFirst("<!-- fields: ".count).dropLast(" -->".count))
                out[current!] = []
            } else if let name = current, line.hasPrefix("| `") {
                out[name]!.insert(String(line.dropFirst(3).prefix { $0 != "`" }))
            } else if !line.hasPrefix("|") {
                current = nil
            }
        }
        return out
    }

    /// The keys of every object in `json`, by the doc's object names (`[]` marks an array's elements).
    func emittedFields(_ json: Any, name: String, into out: inout [String: Set<String>], skip: Set<String>) {
        if let object = json as? [String: Any] {
            out[name, default: []].formUnion(object.keys)
            for (k, v) in object where !skip.contains("\(name).\(k)") { emittedFields(v, name: "\(name).\(k)", into: &out, skip: skip) }
        } else if let array = json as? [Any] {
            for v in array { emittedFields(v, name: "\(name)[]", into: &out, skip: skip) }
        }
    }

    func fields(of text: String, root: String, skip: Set<String> = []) throws -> [String: Set<String>] {
        var out: [String: Set<String>] = [:]
        emittedFields(try JSONSerialization.jsonObject(with: Data(text.utf8), options: .fragmentsAllowed), name: root, into: &out, skip: skip)
        return out
    }

    func testStatusFieldsAreExactlyTheDocumentedOnes() throws {
        let docs = try documentedFields()
        let project = try TempProject()
        defer { project.remove() }
        let e = try project.experiment(minimalSpec)
        let plan = try Planner.plan(e)
        // Every optional part filled in, so every object appears.
        var job = JobRecord(key: plan.stages[0].key, label: plan.stages[0].label, executor: "slurm", name: "n", jobDir: "/j",
                            state: "RUNNING", attempt: 1, runID: nil)
        job.jobID = "12"; job.node = "node01"; job.elapsed = "0:42"
        let full = StatusJSON(status: PlanStatus(plan: plan, cachedKeys: [plan.stages[0].key]), store: "/s", storeExists: true,
                              problems: ["p"], failures: [.init(key: "k", label: "l", error: "e")],
                              slurmJobs: [SlurmJobsView.Line(label: "l", job: job)],
                              lastRun: Store.RunSummary(id: 1, spec: "s", started: Date(timeIntervalSince1970: 0), finished: nil, status: "running"))
        let emitted = try fields(of: full.text, root: "status")
        XCTAssertEqual(emitted, docs.filter { $0.key.hasPrefix("status") })
        XCTAssertTrue(full.text.contains("\"finished\":null"), "absent values are null, not missing")

        // The real command, before any run: its objects are documented with the same fields.
        let r = try CLI.run(["status", project.write(minimalSpec), "--json"], cwd: project.root)
        XCTAssertEqual(r.status, 0, r.stderr)
        for (name, keys) in try fields(of: r.stdout, root: "status") { XCTAssertEqual(keys, docs[name], name) }
    }

    func testPlanFieldsAreExactlyTheDocumentedOnes() throws {
        let docs = try documentedFields()
        let project = try TempProject()
        defer { project.remove() }
        let spec = try project.write(minimalSpec)
        let r = try CLI.run(["plan", spec, "--json", "--explain"], cwd: project.root)
        XCTAssertEqual(r.status, 0, r.stderr)
        // `params` and `inputs` are maps whose keys are the stage's own, not the contract's.
        let emitted = try fields(of: r.stdout, root: "plan", skip: ["plan.stages[].params", "plan.stages[].inputs"])
        XCTAssertEqual(emitted, docs.filter { $0.key.hasPrefix("plan") })
        let plain = try CLI.run(["plan", spec, "--json"], cwd: project.root)
        XCTAssertFalse(plain.stdout.contains("\"why\""), "`why` only with --explain")
    }
}
