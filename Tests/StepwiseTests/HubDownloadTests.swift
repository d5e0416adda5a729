import Foundation
import XCTest
@testable import Stepwise

/// Fixtures/fake_hub_server.py: one repository served as huggingface.co serves it.
final class FakeHubServer: FixtureProcess {
    static let commit = "0123456789abcdef0123456789abcdef01234567"
    let repoFolder: URL

    /// Serves `files` as `repo` at `FakeHubServer.commit` (branch main); `faults` are the
    /// script's fault options.
    init(repo: String, files: [String: Data], faults: [String] = []) throws {
        repoFolder = FileManager.default.temporaryDirectory.appendingPathComponent("stepwise-fakehub-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: repoFolder, withIntermediateDirectories: true)
        for (name, data) in files { try data.write(to: repoFolder.appendingPathComponent(name)) }
        try super.init(script: "fake_hub_server.py",
                       arguments: ["--repo", repo, "--dir", repoFolder.path, "--commit", Self.commit] + faults)
    }

    var endpoint: String { "http://127.0.0.1:\(port)" }

    func stats() async throws -> [String: Any] { try await getJSON("/stats") }

    func requests() async throws -> Int { try await stats()["requests"] as! Int }

    /// Bytes of `file` sent from the CDN path, over all requests.
    func cdnBytes(_ file: String) async throws -> Int { (try await stats()["cdn_bytes"] as! [String: Any])[file] as? Int ?? 0 }

    override func stop() {
        super.stop()
        try? FileManager.default.removeItem(at: repoFolder)
    }
}

/// Downloading into the Hugging Face cache from a fake hub on 127.0.0.1 (never the real hub).
final class HubDownloadTests: FakeServerTestCase {
    var temp: URL!
    let id = HubModelID.parse("org/t5-tiny")!
    /// A weights file large enough to arrive in many pieces.
    static let weights = Data((0..<600_000).map { UInt8(truncatingIfNeeded: $0 &* 2_654_435_761 >> 13) })
    static let files: [String: Data] = [
        "config.json": Data(#"{"d_model": 8, "feed_forward_proj": "gated-gelu"}"#.utf8),
        "model.safetensors": weights,
        "spiece.model": Data((0..<3000).map { UInt8($0 % 200) }),
        "tokenizer_config.json": Data("{}".utf8),
        "README.md": Data("not needed".utf8),
        "tf_model.h5": Data("not needed either".utf8),
    ]

    override func setUpWithError() throws {
        temp = FileManager.default.temporaryDirectory.appendingPathComponent("stepwise-hubdl-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: temp, withIntermediateDirectories: true)
    }

    override func tearDown() {
        super.tearDown()
        try? FileManager.default.removeItem(at: temp)
    }

    func hub(_ files: [String: Data] = HubDownloadTests.files, faults: [String] = []) throws -> FakeHubServer {
        let s = try FakeHubServer(repo: id.repo, files: files, faults: faults)
        fixtures.append(s)
        return s
    }

    var cacheRoot: URL { temp.appendingPathComponent("hub") }
    var repoFolder: URL { cacheRoot.appendingPathComponent("models--org--t5-tiny") }

    /// A clean environment (no proxy variables of the machine's): the cache, the fake hub.
    func environment(_ server: FakeHubServer, _ extra: [String: String] = [:]) -> [String: String] {
        ["HOME": temp.path, "HF_HUB_CACHE": cacheRoot.path, "HF_ENDPOINT": server.endpoint].merging(extra) { $1 }
    }

    func sha256(_ name: String) -> String { Hashing.sha256Hex(Self.files[name]!) }

    /// The message of the error resolving `id` throws; a failure of the test when it resolves.
    func resolveError(_ id: HubModelID, _ env: [String: String], _ why: String,
                      file: StaticString = #filePath, line: UInt = #line) async -> String {
        do {
            _ = try await HubResolver.resolve(id, offline: false, environment: env)
            XCTFail(why, file: file, line: line)
            return ""
        } catch {
            return "\(error)"
        }
    }

    func testDownloadWritesHuggingFaceHubLayoutThenUsesTheCache() async throws {
        let server = try hub()
        let lines = ProgressLines()
        let snapshot = try await HubResolver.resolve(id, offline: false, environment: environment(server), progress: { lines.add($0) })
        XCTAssertEqual(snapshot.commit, FakeHubServer.commit)
        XCTAssertEqual(snapshot.folder.path, repoFolder.appendingPathComponent("snapshots/\(FakeHubServer.commit)").path)
        let fm = FileManager.default
        // Exactly the student's files, each a relative link to its blob (sha256 for LFS files,
        // the git blob hash for small ones), as huggingface_hub names them.
        XCTAssertEqual(Set(try fm.contentsOfDirectory(atPath: snapshot.folder.path)),
                       ["config.json", "model.safetensors", "spiece.model", "tokenizer_config.json"])
        let etags = try await server.stats()["etags"] as! [String: String]
        XCTAssertEqual(etags["model.safetensors"], sha256("model.safetensors"))
        let expectedBlobs = etags.filter { ["model.safetensors", "spiece.model", "config.json", "tokenizer_config.json"].contains($0.key) }
        XCTAssertEqual(expectedBlobs.count, 4)
        for (name, blob) in expectedBlobs {
            let link = snapshot.folder.appendingPathComponent(name).path
            XCTAssertEqual(try fm.destinationOfSymbolicLink(atPath: link), "../../blobs/\(blob)", name)
            XCTAssertEqual(try Data(contentsOf: URL(fileURLWithPath: link)), Self.files[name], name)
        }
        XCTAssertEqual(Set(try fm.contentsOfDirectory(atPath: repoFolder.appendingPathComponent("blobs").path)), Set(expectedBlobs.values),
                       "no .incomplete left, nothing else")
        XCTAssertEqual(try String(contentsOf: repoFolder.appendingPathComponent("refs/main"), encoding: .utf8), FakeHubServer.commit)
        XCTAssertTrue(lines.all.contains { $0.hasPrefix("model.safetensors  600.0 kB / 600.0 kB 100%") && $0.contains("done") },
                      lines.all.joined(separator: "\n"))
        let stats = try await server.stats()
        XCTAssertEqual((stats["auth"] as! [Any]).count, 0, "no token configured, none sent")

        // Now cached: no request at all, online or offline.
        let before = try await server.requests()
        let again = try await HubResolver.resolve(id, offline: false, environment: environment(server))
        XCTAssertEqual(again, snapshot)
        XCTAssertEqual(HubResolver.cached(id, environment: environment(server)), snapshot)
        let after = try await server.requests()
        XCTAssertEqual(after, before)
    }

    func testResumeSendsOnlyTheRestOfAPartialFile() async throws {
        let server = try hub()
        let blobs = repoFolder.appendingPathComponent("blobs")
        try FileManager.default.createDirectory(at: blobs, withIntermediateDirectories: true)
        let have = 250_000
        try Self.weights.prefix(have).write(to: blobs.appendingPathComponent(sha256("model.safetensors") + ".incomplete"))
        let snapshot = try await HubResolver.resolve(id, offline: false, environment: environment(server))
        XCTAssertEqual(try Data(contentsOf: snapshot.folder.appendingPathComponent("model.safetensors")), Self.weights)
        let sent = try await server.cdnBytes("model.safetensors")
        XCTAssertEqual(sent, Self.weights.count - have, "only the missing bytes are sent again")
        let ranges = try await server.stats()["ranges"] as! [[Any]]
        XCTAssertEqual(ranges.map { "\($0[0]) \($0[1])" }, ["model.safetensors \(have)"])
    }

    func testCompletePartialFileIsOnlyCheckedAndAnOverlongOneRefetched() async throws {
        let server = try hub()
        let blobs = repoFolder.appendingPathComponent("blobs")
        try FileManager.default.createDirectory(at: blobs, withIntermediateDirectories: true)
        try Self.weights.write(to: blobs.appendingPathComponent(sha256("model.safetensors") + ".incomplete"))
        try Data(repeating: 7, count: 9000).write(to: blobs.appendingPathComponent(sha256("spiece.model") + ".incomplete"))
        let snapshot = try await HubResolver.resolve(id, offline: false, environment: environment(server))
        XCTAssertEqual(try Data(contentsOf: snapshot.folder.appendingPathComponent("model.safetensors")), Self.weights)
        XCTAssertEqual(try Data(contentsOf: snapshot.folder.appendingPathComponent("spiece.model")), Self.files["spiece.model"])
        let weightsSent = try await server.cdnBytes("model.safetensors")
        XCTAssertEqual(weightsSent, 0, "a whole file on disk is checked, not fetched again")
        let spieceSent = try await server.cdnBytes("spiece.model")
        XCTAssertEqual(spieceSent, Self.files["spiece.model"]!.count, "longer than the file: fetched whole")
    }

    func testDroppedConnectionIsResumedFromWhatArrived() async throws {
        let server = try hub(faults: ["--drop-once", "model.safetensors"])
        let snapshot = try await HubResolver.resolve(id, offline: false, environment: environment(server))
        XCTAssertEqual(try Data(contentsOf: snapshot.folder.appendingPathComponent("model.safetensors")), Self.weights)
        let stats = try await server.stats()
        XCTAssertEqual((stats["by_kind"] as! [String: Int])["cdn"], 3, "spiece.model once, the weights twice")
        let ranges = stats["ranges"] as! [[Any]]
        XCTAssertEqual(ranges.count, 1, "the second request continues the first: \(ranges)")
        let sent = try await server.cdnBytes("model.safetensors")
        XCTAssertLessThan(sent, 2 * Self.weights.count - 1000, "the retry does not start over")
    }

    func testServerErrorIsRetried() async throws {
        let server = try hub(faults: ["--fail-5xx-once", "config.json"])
        let snapshot = try await HubResolver.resolve(id, offline: false, environment: environment(server))
        XCTAssertEqual(try Data(contentsOf: snapshot.folder.appendingPathComponent("config.json")), Self.files["config.json"])
    }

    func testSha256MismatchIsRefusedAndNothingIsLinked() async throws {
        let server = try hub(faults: ["--wrong-sha", "model.safetensors"])
        let e = await resolveError(id, environment(server), "accepted bytes whose sha256 differs from the hub's")
        XCTAssertTrue(e.contains("model.safetensors"), e)
        XCTAssertTrue(e.contains("its sha256 is \(sha256("model.safetensors"))"), e)
        let fm = FileManager.default
        XCTAssertFalse(fm.fileExists(atPath: repoFolder.appendingPathComponent("snapshots").path), "no snapshot of a failed download")
        XCTAssertFalse(fm.fileExists(atPath: repoFolder.appendingPathComponent("refs/main").path))
        let blobs = try fm.contentsOfDirectory(atPath: repoFolder.appendingPathComponent("blobs").path)
        XCTAssertFalse(blobs.contains { $0.hasSuffix(".incomplete") }, "the bad bytes are deleted: \(blobs)")
        XCTAssertFalse(blobs.contains(sha256("model.safetensors")))
        XCTAssertNil(HubResolver.cached(id, environment: environment(server)))
    }

    func testPrivateRepositoryNeedsHFToken() async throws {
        let server = try hub(faults: ["--require-token", "hf_secret"])
        let noToken = await resolveError(id, environment(server), "downloaded a private repository without a token")
        XCTAssertTrue(noToken.contains("401"), noToken)
        XCTAssertTrue(noToken.contains("set HF_TOKEN"), noToken)
        let wrongToken = await resolveError(id, environment(server, ["HF_TOKEN": "hf_wrong"]), "downloaded with a wrong token")
        XCTAssertTrue(wrongToken.contains("token from HF_TOKEN was sent and refused"), wrongToken)
        // The token file `huggingface-cli login` writes, when HF_TOKEN is not set.
        let hfHome = temp.appendingPathComponent("hfhome")
        try FileManager.default.createDirectory(at: hfHome, withIntermediateDirectories: true)
        try Data("hf_secret\n".utf8).write(to: hfHome.appendingPathComponent("token"))
        let snapshot = try await HubResolver.resolve(id, offline: false, environment: environment(server, ["HF_HOME": hfHome.path]))
        XCTAssertEqual(try Data(contentsOf: snapshot.folder.appendingPathComponent("model.safetensors")), Self.weights)
        let auth = (try await server.stats()["auth"] as! [Any]).map { $0 as? String }
        XCTAssertTrue(auth.contains("Bearer hf_secret"), "\(auth)")
        XCTAssertFalse(auth.contains { $0?.hasPrefix("cdn:") == true }, "the token is not sent to the CDN: \(auth)")
    }

    func testMissingRevisionAndFileAreNamed() async throws {
        let server = try hub(faults: ["--missing", "spiece.model"])
        let revision = await resolveError(HubModelID.parse("org/t5-tiny@v9")!, environment(server), "resolved a revision the hub does not have")
        XCTAssertTrue(revision.contains("org/t5-tiny has no revision v9"), revision)
        let file = await resolveError(id, environment(server), "resolved without spiece.model")
        XCTAssertTrue(file.contains("has no file spiece.model"), file)
    }

    func testRepositoryWithoutUsableWeightsIsRefusedNamingItsFiles() async throws {
        var files = Self.files
        files["model.safetensors"] = nil
        let server = try hub(files)
        let e = await resolveError(id, environment(server), "resolved a repository without weights")
        XCTAssertTrue(e.contains("lacks weights"), e)
        XCTAssertTrue(e.contains("tf_model.h5"), e)
    }

    func testShardedWeightsFetchEveryShard() async throws {
        var files = Self.files
        files["model.safetensors"] = nil
        files["model.safetensors.index.json"] = Data(#"{"metadata": {}, "weight_map": {"a": "model-00001-of-00002.safetensors", "b": "model-00002-of-00002.safetensors", "c": "model-00001-of-00002.safetensors"}}"#.utf8)
        files["model-00001-of-00002.safetensors"] = Self.weights.prefix(1000)
        files["model-00002-of-00002.safetensors"] = Self.weights.suffix(2000)
        let server = try hub(files)
        let snapshot = try await HubResolver.resolve(id, offline: false, environment: environment(server))
        for shard in ["model-00001-of-00002.safetensors", "model-00002-of-00002.safetensors", "model.safetensors.index.json"] {
            XCTAssertEqual(try Data(contentsOf: snapshot.folder.appendingPathComponent(shard)), files[shard], shard)
        }
    }

    /// huggingface_hub finds, offline, what Stepwise downloaded; and Stepwise finds, offline,
    /// what huggingface_hub downloaded from the same fake hub.
    func testHuggingFaceHubParity() async throws {
        guard Self.python(["-c", "import huggingface_hub"]).status == 0 else {
            throw XCTSkip("huggingface_hub is not installed (pip install huggingface_hub); the cache-parity test is skipped")
        }
        let server = try hub()
        let snapshot = try await HubResolver.resolve(id, offline: false, environment: environment(server))
        let found = Self.python(["-c", """
            import sys
            from huggingface_hub import snapshot_download
            print(snapshot_download(sys.argv[1], local_files_only=True, cache_dir=sys.argv[2]))
            """, id.repo, cacheRoot.path], environment: ["HF_HUB_OFFLINE": "1"])
        XCTAssertEqual(found.status, 0, found.output)
        XCTAssertEqual(found.output.trimmingCharacters(in: .whitespacesAndNewlines), snapshot.folder.path)

        let theirs = temp.appendingPathComponent("theirs")
        let fetched = Self.python(["-c", """
            import sys
            from huggingface_hub import hf_hub_download
            for f in ["config.json", "model.safetensors", "spiece.model"]:
                hf_hub_download(sys.argv[1], f, cache_dir=sys.argv[2])
            """, id.repo, theirs.path], environment: ["HF_ENDPOINT": server.endpoint])
        XCTAssertEqual(fetched.status, 0, fetched.output)
        let ours = try XCTUnwrap(HubResolver.cached(id, environment: ["HOME": temp.path, "HF_HUB_CACHE": theirs.path]))
        XCTAssertEqual(ours.commit, FakeHubServer.commit)
        XCTAssertEqual(try Data(contentsOf: ours.folder.appendingPathComponent("model.safetensors")), Self.weights)
        for name in ["config.json", "model.safetensors", "spiece.model"] {
            let mine = try FileManager.default.destinationOfSymbolicLink(atPath: snapshot.folder.appendingPathComponent(name).path)
            let hf = try FileManager.default.destinationOfSymbolicLink(atPath: ours.folder.appendingPathComponent(name).path)
            XCTAssertEqual(mine, hf, "same blob name and link for \(name)")
        }
    }

    func testFetchCommandPrintsTheSnapshotFolder() async throws {
        let server = try hub()
        let env = environment(server).merging(["HF_HUB_OFFLINE": ""]) { $1 }
        let offline = try CLI.run(["fetch", id.repo, "--offline"], cwd: temp, env: env)
        XCTAssertEqual(offline.status, 1)
        XCTAssertTrue(offline.stderr.contains("huggingface-cli download org/t5-tiny"), offline.stderr)
        let r = try CLI.run(["fetch", id.repo], cwd: temp, env: env)
        XCTAssertEqual(r.status, 0, r.stderr)
        XCTAssertEqual(r.stdout.trimmingCharacters(in: .whitespacesAndNewlines),
                       repoFolder.appendingPathComponent("snapshots/\(FakeHubServer.commit)").path)
        XCTAssertTrue(r.stderr.contains("model.safetensors  600.0 kB / 600.0 kB 100%"), r.stderr)
        let bad = try CLI.run(["fetch", "./local/folder"], cwd: temp, env: env)
        XCTAssertEqual(bad.status, 2)
    }

    static func python(_ args: [String], environment: [String: String] = [:]) -> (status: Int32, output: String) {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        p.arguments = ["python3"] + args
        // No proxy settings of the machine's: the fake hub is local.
        var env = ProcessInfo.processInfo.environment.filter { !$0.key.lowercased().hasSuffix("_proxy") }
        env.merge(environment) { $1 }
        p.environment = env
        let out = Pipe()
        p.standardOutput = out
        p.standardError = out
        do { try p.run() } catch { return (-1, "\(error)") }
        let data = out.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        return (p.terminationStatus, String(decoding: data, as: UTF8.self))
    }
}

final class ProgressLines: @unchecked Sendable {
    private let lock = NSLock()
    private var lines: [String] = []
    func add(_ line: String) { lock.lock(); lines.append(line); lock.unlock() }
    var all: [String] { lock.lock(); defer { lock.unlock() }; return lines }
}
