import Foundation
import XCTest
@testable import Stepwise

/// Hub model ids and finding them in a Hugging Face cache built by hand in huggingface_hub's
/// layout (no network).
final class HubCacheTests: XCTestCase {
    let commit = String(repeating: "c", count: 40)
    var temp: URL!

    override func setUpWithError() throws {
        temp = FileManager.default.temporaryDirectory.appendingPathComponent("stepwise-hubcache-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: temp, withIntermediateDirectories: true)
    }

    override func tearDown() {
        try? FileManager.default.removeItem(at: temp)
    }

    /// A T5 student's files: config, weights, tokenizer.
    static let studentFiles: [String: Data] = [
        "config.json": Data(#"{"d_model": 8}"#.utf8),
        "model.safetensors": Data((0..<1000).map { UInt8($0 % 251) }),
        "spiece.model": Data("sentencepiece".utf8),
    ]

    /// `root/models--org--name/` as huggingface_hub writes it: blobs by sha256, relative links
    /// from the snapshot, `refs/<name>` for each of `refs`.
    static func writeCache(root: URL, repo: String, commit: String, files: [String: Data], refs: [String] = ["main"]) throws {
        let fm = FileManager.default
        let repoFolder = root.appendingPathComponent("models--" + repo.replacingOccurrences(of: "/", with: "--"))
        let snapshot = repoFolder.appendingPathComponent("snapshots/\(commit)")
        try fm.createDirectory(at: repoFolder.appendingPathComponent("blobs"), withIntermediateDirectories: true)
        try fm.createDirectory(at: snapshot, withIntermediateDirectories: true)
        for (name, data) in files {
            let etag = Hashing.sha256Hex(data)
            try data.write(to: repoFolder.appendingPathComponent("blobs/\(etag)"))
            try fm.createSymbolicLink(atPath: snapshot.appendingPathComponent(name).path, withDestinationPath: "../../blobs/\(etag)")
        }
        for r in refs {
            let ref = repoFolder.appendingPathComponent("refs/\(r)")
            try fm.createDirectory(at: ref.deletingLastPathComponent(), withIntermediateDirectories: true)
            try Data(commit.utf8).write(to: ref)
        }
    }

    func testParseAcceptsHubIdsAndRejectsPaths() {
        XCTAssertEqual(HubModelID.parse("google/t5-v1_1-small"), HubModelID(repo: "google/t5-v1_1-small", revision: "main"))
        XCTAssertEqual(HubModelID.parse("google/flan-t5-base@v1.0"), HubModelID(repo: "google/flan-t5-base", revision: "v1.0"))
        XCTAssertEqual(HubModelID.parse("org/name@refs/pr/1")?.revision, "refs/pr/1")
        XCTAssertEqual(HubModelID.parse("org/name@\(commit)")?.revisionIsCommit, true)
        for path in ["/models/t5", "./t5", "../t5", "~/models/t5", "models/t5/base", "t5-small", "org/", "/org",
                     "org/na--me", "org/name@", "org/name@../x", "org/na me", "org/name.", ""] {
            XCTAssertNil(HubModelID.parse(path), path)
        }
        XCTAssertEqual(HubModelID(repo: "google/t5-v1_1-small").cacheFolderName, "models--google--t5-v1_1-small")
    }

    func testCacheRootPrecedence() {
        let home = ["HOME": "/home/u"]
        XCTAssertEqual(HubCacheLocation(environment: home).root.path, "/home/u/.cache/huggingface/hub")
        XCTAssertEqual(HubCacheLocation(environment: home.merging(["XDG_CACHE_HOME": "/x"]) { $1 }).root.path, "/x/huggingface/hub")
        XCTAssertEqual(HubCacheLocation(environment: home.merging(["XDG_CACHE_HOME": "/x", "HF_HOME": "~/hf"]) { $1 }).root.path,
                       "/home/u/hf/hub")
        let all = home.merging(["XDG_CACHE_HOME": "/x", "HF_HOME": "/hf", "HF_HUB_CACHE": "/hubcache"]) { $1 }
        XCTAssertEqual(HubCacheLocation(environment: all).root.path, "/hubcache")
        XCTAssertEqual(HubCacheLocation(environment: all).source, "HF_HUB_CACHE")
        XCTAssertEqual(HubCacheLocation(environment: home.merging(["HUGGINGFACE_HUB_CACHE": "/legacy", "HF_HOME": "/hf"]) { $1 }).root.path,
                       "/legacy")
    }

    func testOfflineEnvironmentValues() {
        XCTAssertTrue(HubModelID.offline(in: ["HF_HUB_OFFLINE": "1"]))
        XCTAssertTrue(HubModelID.offline(in: ["HF_HUB_OFFLINE": "true"]))
        XCTAssertTrue(HubModelID.offline(in: ["TRANSFORMERS_OFFLINE": "YES"]))
        XCTAssertFalse(HubModelID.offline(in: ["HF_HUB_OFFLINE": "0"]))
        XCTAssertFalse(HubModelID.offline(in: [:]))
    }

    func testCachedFindsRefsMainAndACommitRevision() throws {
        let root = temp.appendingPathComponent("hub")
        try Self.writeCache(root: root, repo: "org/t5", commit: commit, files: Self.studentFiles, refs: ["main", "v1"])
        let env = ["HF_HUB_CACHE": root.path, "HOME": temp.path]
        let expected = root.appendingPathComponent("models--org--t5/snapshots/\(commit)").path
        let main = try XCTUnwrap(HubResolver.cached(HubModelID.parse("org/t5")!, environment: env))
        XCTAssertEqual(main.folder.path, expected)
        XCTAssertEqual(main.commit, commit)
        XCTAssertEqual(HubResolver.cached(HubModelID.parse("org/t5@v1")!, environment: env)?.folder.path, expected)
        XCTAssertEqual(HubResolver.cached(HubModelID.parse("org/t5@\(commit)")!, environment: env)?.commit, commit)
        XCTAssertNil(HubResolver.cached(HubModelID.parse("org/t5@v2")!, environment: env), "a name with no ref")
        XCTAssertNil(HubResolver.cached(HubModelID.parse("org/t5@\(String(repeating: "d", count: 40))")!, environment: env))
        XCTAssertNil(HubResolver.cached(HubModelID.parse("org/other")!, environment: env))
        let content = try Data(contentsOf: main.folder.appendingPathComponent("model.safetensors"))
        XCTAssertEqual(content, Self.studentFiles["model.safetensors"])
    }

    func testHubCacheWinsOverHFHome() throws {
        let hfHome = temp.appendingPathComponent("hfhome")
        try Self.writeCache(root: hfHome.appendingPathComponent("hub"), repo: "org/t5", commit: commit, files: Self.studentFiles)
        let id = HubModelID.parse("org/t5")!
        XCTAssertNotNil(HubResolver.cached(id, environment: ["HF_HOME": hfHome.path, "HOME": temp.path]))
        let empty = temp.appendingPathComponent("empty")
        XCTAssertNil(HubResolver.cached(id, environment: ["HF_HOME": hfHome.path, "HF_HUB_CACHE": empty.path, "HOME": temp.path]),
                     "HF_HUB_CACHE is the cache when set; HF_HOME/hub is not looked at")
    }

    func testIncompleteSnapshotIsNotCached() throws {
        let root = temp.appendingPathComponent("hub")
        let env = ["HF_HUB_CACHE": root.path, "HOME": temp.path]
        var noTokenizer = Self.studentFiles
        noTokenizer["spiece.model"] = nil
        try Self.writeCache(root: root, repo: "org/notok", commit: commit, files: noTokenizer)
        XCTAssertNil(HubResolver.cached(HubModelID.parse("org/notok")!, environment: env))

        try Self.writeCache(root: root, repo: "org/dangling", commit: commit, files: Self.studentFiles)
        let blob = root.appendingPathComponent("models--org--dangling/blobs/\(Hashing.sha256Hex(Self.studentFiles["model.safetensors"]!))")
        try FileManager.default.removeItem(at: blob)
        XCTAssertNil(HubResolver.cached(HubModelID.parse("org/dangling")!, environment: env), "a link to a missing blob")

        var sharded = Self.studentFiles
        sharded["model.safetensors"] = nil
        sharded["model.safetensors.index.json"] = Data(#"{"weight_map": {"a": "model-00001-of-00002.safetensors", "b": "model-00002-of-00002.safetensors"}}"#.utf8)
        sharded["model-00001-of-00002.safetensors"] = Data([1, 2, 3])
        try Self.writeCache(root: root, repo: "org/sharded", commit: commit, files: sharded)
        XCTAssertNil(HubResolver.cached(HubModelID.parse("org/sharded")!, environment: env), "a shard is missing")
        sharded["model-00002-of-00002.safetensors"] = Data([4, 5, 6])
        try Self.writeCache(root: root, repo: "org/sharded2", commit: commit, files: sharded)
        XCTAssertNotNil(HubResolver.cached(HubModelID.parse("org/sharded2")!, environment: env))
    }

    func testOfflineErrorNamesWhereItLookedAndTheFetchCommand() async throws {
        let hfHome = temp.appendingPathComponent("hfhome")
        let env = ["HF_HOME": hfHome.path, "HOME": temp.path, "HF_ENDPOINT": "http://127.0.0.1:9"]
        for (offline, environment) in [(true, env), (false, env.merging(["HF_HUB_OFFLINE": "1"]) { $1 })] {
            do {
                _ = try await HubResolver.resolve(HubModelID.parse("google/t5-v1_1-small")!, offline: offline, environment: environment)
                XCTFail("resolved without a cache or network")
            } catch let e as StepwiseError {
                XCTAssertTrue(e.description.contains(hfHome.appendingPathComponent("hub").path), e.description)
                XCTAssertTrue(e.description.contains("HF_HOME/hub"), e.description)
                XCTAssertTrue(e.description.contains("models--google--t5-v1_1-small/refs/main"), e.description)
                XCTAssertTrue(e.description.contains("huggingface-cli download google/t5-v1_1-small"), e.description)
            }
        }
        // A ref whose snapshot is gone: both places are named.
        let root = hfHome.appendingPathComponent("hub")
        try Self.writeCache(root: root, repo: "org/t5", commit: commit, files: Self.studentFiles)
        try FileManager.default.removeItem(at: root.appendingPathComponent("models--org--t5/snapshots"))
        do {
            _ = try await HubResolver.resolve(HubModelID.parse("org/t5@main")!, offline: true, environment: env)
            XCTFail("resolved a missing snapshot")
        } catch let e as StepwiseError {
            XCTAssertTrue(e.description.contains("refs/main (says \(commit))"), e.description)
            XCTAssertTrue(e.description.contains("snapshots/\(commit) (absent)"), e.description)
        }
    }

    func testStudentFileChoice() throws {
        let base: Set<String> = ["config.json", "spiece.model", "tokenizer_config.json", "README.md"]
        XCTAssertEqual(try HubStudentFiles.choose(from: base.union(["model.safetensors", "pytorch_model.bin"]), repo: "r").files,
                       ["config.json", "model.safetensors", "spiece.model", "tokenizer_config.json"])
        let sharded = try HubStudentFiles.choose(from: base.union(["model.safetensors.index.json", "pytorch_model.bin"]), repo: "r")
        XCTAssertEqual(sharded.weightIndex, "model.safetensors.index.json")
        XCTAssertEqual(try HubStudentFiles.choose(from: base.union(["pytorch_model.bin", "tf_model.h5"]), repo: "r").files[1],
                       "pytorch_model.bin")
        XCTAssertThrowsError(try HubStudentFiles.choose(from: base.union(["tf_model.h5", "flax_model.msgpack"]), repo: "org/tf")) { e in
            let text = "\(e)"
            XCTAssertTrue(text.contains("org/tf lacks weights"), text)
            XCTAssertTrue(text.contains("flax_model.msgpack") && text.contains("tf_model.h5"), "names what it has: \(text)")
        }
        XCTAssertThrowsError(try HubStudentFiles.choose(from: ["config.json", "model.safetensors"], repo: "r")) { e in
            XCTAssertTrue("\(e)".contains("r lacks a tokenizer (spiece.model or tokenizer.json)"), "\(e)")
        }
        XCTAssertThrowsError(try HubStudentFiles.shards(inIndex: Data(#"{"weight_map": {"a": "../../etc/passwd"}}"#.utf8), source: "idx"))
    }
}
