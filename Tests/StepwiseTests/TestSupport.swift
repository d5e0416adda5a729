import Foundation
import XCTest
@testable import Stepwise

/// A throwaway project folder: `Experiments/<name>.yaml`, a store, Results/.
struct TempProject {
    let root: URL

    init() throws {
        root = FileManager.default.temporaryDirectory.appendingPathComponent("stepwise-test-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: root.appendingPathComponent("Experiments"), withIntermediateDirectories: true)
    }

    @discardableResult
    func write(_ yaml: String, name: String = "exp") throws -> String {
        let url = root.appendingPathComponent("Experiments/\(name).yaml")
        try yaml.write(to: url, atomically: true, encoding: .utf8)
        return url.path
    }

    func experiment(_ yaml: String, name: String = "exp") throws -> Experiment {
        try SpecParser.load(file: try write(yaml, name: name), root: root)
    }

    var storeURL: URL { root.appendingPathComponent(".stepwise/store.sqlite") }

    /// The problems of a spec that must be rejected (a test failure if it parses).
    func specIssues(_ yaml: String, file: StaticString = #filePath, line: UInt = #line) throws -> [SpecIssue] {
        do {
            _ = try experiment(yaml)
            XCTFail("expected the spec to be rejected", file: file, line: line)
            return []
        } catch let e as SpecError {
            return e.issues
        }
    }

    func remove() { try? FileManager.default.removeItem(at: root) }
}

/// Runs the `stepwise` executable that `swift test` built next to the test bundle.
enum CLI {
    static var binary: URL {
        var dir = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
        // On Linux the test runner is `.build/<config>/StepwisePackageTests.xctest`; on macOS it is a bundle.
        while !FileManager.default.fileExists(atPath: dir.appendingPathComponent("stepwise").path), dir.path != "/" {
            dir = dir.deletingLastPathComponent()
        }
        return dir.appendingPathComponent("stepwise")
    }

    struct Result { var status: Int32; var stdout: String; var stderr: String }

    static func process(_ args: [String], cwd: URL, env: [String: String] = [:]) -> Process {
        let p = Process()
        p.executableURL = binary
        p.arguments = args
        p.currentDirectoryURL = cwd
        p.environment = ProcessInfo.processInfo.environment.merging(env) { _, b in b }
        // Never the test runner's terminal: `run` asks questions on a TTY (Ctrl-C with Slurm jobs).
        p.standardInput = FileHandle.nullDevice
        return p
    }

    /// Starts `stepwise` in the background with its output discarded (for kill and lock tests).
    static func start(_ args: [String], cwd: URL, env: [String: String] = [:]) throws -> Process {
        let p = process(args, cwd: cwd, env: env)
        p.standardOutput = FileHandle.nullDevice
        p.standardError = FileHandle.nullDevice
        try p.run()
        return p
    }

    @discardableResult
    static func run(_ args: [String], cwd: URL, env: [String: String] = [:]) throws -> Result {
        let p = process(args, cwd: cwd, env: env)
        // stdout through a pipe read to EOF, stderr to a file: neither can fill up and block the child.
        let out = Pipe()
        let errURL = FileManager.default.temporaryDirectory.appendingPathComponent("stepwise-stderr-\(UUID().uuidString)")
        _ = FileManager.default.createFile(atPath: errURL.path, contents: nil)
        let errHandle = try FileHandle(forWritingTo: errURL)
        defer { try? FileManager.default.removeItem(at: errURL) }
        p.standardOutput = out
        p.standardError = errHandle
        try p.run()
        let outData = out.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        try errHandle.close()
        let errData = (try? Data(contentsOf: errURL)) ?? Data()
        return Result(status: p.terminationStatus, stdout: String(decoding: outData, as: UTF8.self),
                      stderr: String(decoding: errData, as: UTF8.self))
    }
}

/// The smallest complete spec; tests append or replace sections.
let minimalSpec = """
    name: mini
    dataset: {kind: synthetic-arith, train_size: 64, valid_size: 16, test_size: 32, seed: 1}
    teacher: {kind: synthetic, error_rate: 0.2, seed: 3}
    methods:
      few_shot_cot: {}
    """

/// Polls `condition` every 20 ms until it holds or `seconds` pass; returns whether it held.
@discardableResult
func waitUntil(seconds: Double, _ condition: () -> Bool) -> Bool {
    let deadline = Date().addingTimeInterval(seconds)
    while Date() < deadline {
        if condition() { return true }
        usleep(20_000)
    }
    return condition()
}
