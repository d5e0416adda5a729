import XCTest
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
@testable import Stepwise

/// A Python fixture server from Fixtures/ (started here, stopped by `stop()`), listening on
/// 127.0.0.1 on the port it prints as "PORT <n>".
class FixtureProcess {
    let process = Process()
    let port: Int

    init(script: String, arguments: [String]) throws {
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3", TestFixtures.path(script)] + arguments
        let out = Pipe()
        process.standardOutput = out
        process.standardError = FileHandle.nullDevice
        try process.run()
        var buffer = Data()
        while !buffer.contains(UInt8(ascii: "\n")) {
            let chunk = out.fileHandleForReading.availableData
            if chunk.isEmpty { break }
            buffer.append(chunk)
        }
        let line = String(decoding: buffer, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
        guard line.hasPrefix("PORT "), let p = Int(line.dropFirst(5)) else {
            process.terminate()
            throw XCTSkip("\(script) did not start (python3 missing, or: \(line))")
        }
        port = p
    }

    /// SIGTERM, then SIGKILL if the server is still there after two seconds; never blocks for long.
    func stop() {
        guard process.isRunning else { return }
        process.terminate()
        let deadline = Date().addingTimeInterval(2)
        while process.isRunning && Date() < deadline { usleep(20_000) }
        if process.isRunning {
            kill(process.processIdentifier, SIGKILL)
            process.waitUntilExit()
        }
    }

    /// GET `path` on the server as JSON, over plain HTTP.
    func getJSON(_ path: String) async throws -> [String: Any] {
        let (data, _) = try await URLSession.shared.data(from: URL(string: "http://127.0.0.1:\(port)\(path)")!)
        return try JSONSerialization.jsonObject(with: data) as! [String: Any]
    }
}

/// Fixtures/fake_openai_server.py. With `tls`, it serves HTTPS with a self-signed certificate it
/// writes to `certificateFile` (the test trusts it through `SSL_CERT_FILE`).
final class FakeOpenAIServer: FixtureProcess {
    /// The certificate to trust, for a TLS server.
    let certificateFile: String?

    init(arguments: [String] = [], tls: Bool = false) throws {
        var args = arguments
        var certificate: String?
        if tls {
            let dir = FileManager.default.temporaryDirectory.appendingPathComponent("stepwise-tls-\(UUID().uuidString)").path
            args += ["--tls-dir", dir]
            certificate = dir + "/cert.pem"
        }
        certificateFile = certificate
        try super.init(script: "fake_openai_server.py", arguments: args)
    }

    var scheme: String { certificateFile == nil ? "http" : "https" }
    var baseURL: String { "\(scheme)://127.0.0.1:\(port)/v1" }
    /// The environment a client needs to trust this server's certificate (empty for plain HTTP).
    var trustEnvironment: [String: String] { certificateFile.map { ["SSL_CERT_FILE": $0] } ?? [:] }

    func stats() async throws -> [String: Any] {
        guard let certificateFile else { return try await getJSON("/stats") }
        // URLSession cannot be told to trust one certificate on Linux; our transport can.
        let t = AsyncHTTPTransport(for: URL(string: baseURL)!, maxConnections: 1, timeout: 5,
                                   environment: TransportEnvironment(trustRootsFile: certificateFile))
        defer { t.shutdown() }
        let r = try await t.send(HTTPRequest(method: "GET", url: URL(string: "\(scheme)://127.0.0.1:\(port)/stats")!, body: Data(), timeout: 5))
        return try JSONSerialization.jsonObject(with: r.body) as! [String: Any]
    }

    func requests() async throws -> Int { try await stats()["requests"] as! Int }
}

/// Fixtures/forward_proxy.py: a CONNECT proxy that counts its tunnels.
final class ForwardProxy: FixtureProcess {
    init(arguments: [String] = []) throws {
        try super.init(script: "forward_proxy.py", arguments: arguments)
    }

    var url: String { "http://127.0.0.1:\(port)" }

    func tunnels() async throws -> Int { try await getJSON("/stats")["tunnels"] as! Int }
}

final class ProgressCounter: @unchecked Sendable {
    private let lock = NSLock()
    private var _calls: [[Int]] = []
    func record(_ done: Int, _ total: Int) { lock.lock(); _calls.append([done, total]); lock.unlock() }
    var calls: [[Int]] { lock.lock(); defer { lock.unlock() }; return _calls }
}

/// Test cases that start fixture servers; every one a test started is stopped after it.
class FakeServerTestCase: XCTestCase {
    var fixtures: [FixtureProcess] = []

    override func tearDown() {
        for s in fixtures { s.stop() }
        fixtures = []
    }

    func server(_ args: [String] = [], tls: Bool = false) throws -> FakeOpenAIServer {
        let s = try FakeOpenAIServer(arguments: args, tls: tls)
        fixtures.append(s)
        return s
    }

    func proxy(_ args: [String] = []) throws -> ForwardProxy {
        let p = try ForwardProxy(arguments: args)
        fixtures.append(p)
        return p
    }
}
