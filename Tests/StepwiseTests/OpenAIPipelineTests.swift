import XCTest
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
@testable import Stepwise

/// The OpenAI-compatible teacher inside `stepwise run`, against the local fake server:
/// per-request cache in the store, resume after `kill -9`, the API key never stored.
final class OpenAIPipelineTests: XCTestCase {
    var project: TempProject!
    var server: FakeOpenAIServer!
    let key = "sekrit-key-4242"

    override func setUpWithError() throws {
        project = try TempProject()
        server = try FakeOpenAIServer(arguments: ["--latency-ms", "100", "--require-key", key])
    }

    override func tearDown() {
        server?.stop()
        project?.remove()
    }

    func spec(concurrency: Int) throws -> String {
        let prompt = project.root.appendingPathComponent("prompt.txt")
        try "Q: Tom has 2 apples and gets 3 more. How many?\nA: 2 + 3 = 5. The answer is ( 2 + 3 ).\n\nQ: {input}\nA:"
            .write(to: prompt, atomically: true, encoding: .utf8)
        return try project.write("""
            name: http
            dataset: {kind: synthetic-arith, train_size: 8, valid_size: 4, test_size: 40}
            teacher:
              kind: openai
              base_url: \(server.baseURL)
              model: fake-70b
              api: chat
              api_key_env: STEPWISE_TEST_KEY
              prompt: prompt.txt
              concurrency: \(concurrency)
              timeout: 10
            methods:
              few_shot_cot: {}
            """)
    }

    /// The fake server's own counters (GET /stats).
    func stats() -> [String: Any] {
        final class Box: @unchecked Sendable { var stats: [String: Any] = [:] }
        let done = DispatchSemaphore(value: 0), box = Box()
        URLSession.shared.dataTask(with: URL(string: "http://127.0.0.1:\(server.port)/stats")!) { data, _, _ in
            if let data, let o = try? JSONSerialization.jsonObject(with: data) as? [String: Any] { box.stats = o }
            done.signal()
        }.resume()
        done.wait()
        return box.stats
    }

    func requests() -> Int { stats()["requests"] as? Int ?? -1 }

    /// Measured against the server's own counts: a response the server delivered is paid for
    /// again only if it had not been committed when the process died — at most two per worker
    /// (`concurrency`): one whose commit had not finished and one received while it ran (see
    /// `StoreTeacherCache`).
    func testAnnotationResumesAfterKillAndNeverResendsACompletedRequest() throws {
        let concurrency = 2
        let spec = try spec(concurrency: concurrency)
        let env = ["STEPWISE_TEST_KEY": key]
        let child = try CLI.start(["run", spec], cwd: project.root, env: env)
        waitUntil(seconds: 30) { requests() >= 12 }
        kill(child.processIdentifier, SIGKILL)
        child.waitUntilExit()

        let cachedAtKill = try Store(url: project.storeURL).teacherRequestCount()
        let atKill = stats()
        let sentAtKill = atKill["requests"] as! Int
        let answeredAtKill = atKill["answered"] as! Int
        XCTAssertGreaterThanOrEqual(cachedAtKill, 8)
        XCTAssertLessThan(cachedAtKill, 40, "killed mid-annotation")
        let lost = answeredAtKill - cachedAtKill
        XCTAssertGreaterThanOrEqual(lost, 0, "every committed response was answered by the server")
        XCTAssertLessThanOrEqual(lost, 2 * concurrency, "answered but not committed: at most two per worker")

        let resumed = try CLI.run(["run", spec], cwd: project.root, env: env)
        XCTAssertEqual(resumed.status, 0, resumed.stderr)
        let after = stats()
        XCTAssertEqual(after["requests"] as! Int - sentAtKill, 40 - cachedAtKill, "only the requests not committed before the kill are sent")
        XCTAssertEqual(after["answered_again"] as? Int, lost, "paid for twice: exactly the answered-but-uncommitted responses")
        XCTAssertEqual(try Store(url: project.storeURL).teacherRequestCount(), 40)

        // Annotating again from scratch (stage artifacts dropped) sends nothing: the cache is per request.
        let before = requests()
        let store = try Store(url: project.storeURL)
        try store.delete(keys: Array(try store.allKeys()))
        try FileManager.default.removeItem(at: project.root.appendingPathComponent("Results"))
        let again = try CLI.run(["run", spec], cwd: project.root, env: env)
        XCTAssertEqual(again.status, 0, again.stderr)
        XCTAssertTrue(again.stdout.contains("4 ran"), again.stdout)
        XCTAssertEqual(requests(), before)

        let csv = try String(contentsOf: project.root.appendingPathComponent("Results/http/results.csv"), encoding: .utf8)
        XCTAssertTrue(csv.contains("few_shot_cot,teacher,,,,test,equation,"), csv)

        // The key is read from the environment and written nowhere.
        for suffix in ["", "-wal", "-shm"] {
            let path = project.storeURL.path + suffix
            guard let bytes = FileManager.default.contents(atPath: path) else { continue }
            XCTAssertNil(bytes.range(of: Data(key.utf8)), "API key found in \(path)")
        }
        let results = project.root.appendingPathComponent("Results/http")
        for case let f as URL in FileManager.default.enumerator(at: results, includingPropertiesForKeys: nil)! {
            guard let bytes = FileManager.default.contents(atPath: f.path) else { continue }   // a folder
            XCTAssertNil(bytes.range(of: Data(key.utf8)), "API key found in \(f.path)")
        }
    }

    func testMissingKeyVariableFailsTheStageClearly() throws {
        let r = try CLI.run(["run", try spec(concurrency: 4)], cwd: project.root, env: ["STEPWISE_TEST_KEY": ""])
        XCTAssertEqual(r.status, 1)
        XCTAssertTrue(r.stderr.contains("STEPWISE_TEST_KEY"), r.stderr)
        XCTAssertEqual(requests(), 0)
    }

    func testMovingTheServerKeepsTheCache() throws {
        let a = try spec(concurrency: 8)
        XCTAssertEqual(try CLI.run(["run", a], cwd: project.root, env: ["STEPWISE_TEST_KEY": key]).status, 0)
        let other = try FakeOpenAIServer(arguments: ["--require-key", key])
        defer { other.stop() }
        let text = try String(contentsOfFile: a, encoding: .utf8).replacingOccurrences(of: server.baseURL, with: other.baseURL)
        try text.write(toFile: a, atomically: true, encoding: .utf8)
        let r = try CLI.run(["run", a], cwd: project.root, env: ["STEPWISE_TEST_KEY": key])
        XCTAssertEqual(r.status, 0, r.stderr)
        XCTAssertTrue(r.stdout.contains("0 ran"), "the base URL is not part of any key: \(r.stdout)")
    }
}
