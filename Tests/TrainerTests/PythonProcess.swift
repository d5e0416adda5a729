import Foundation
import XCTest

/// Runs `python3 args…` and returns its exit status and combined output (for the parity tests,
/// whose references are Python packages).
func runPython(_ args: [String]) throws -> (status: Int32, output: String) {
    let p = Process()
    p.executableURL = URL(fileURLWithPath: "/usr/bin/env")
    p.arguments = ["python3"] + args
    let pipe = Pipe()
    p.standardOutput = pipe
    p.standardError = pipe
    try p.run()
    let data = pipe.fileHandleForReading.readDataToEndOfFile()
    p.waitUntilExit()
    return (p.terminationStatus, String(decoding: data, as: UTF8.self))
}

/// Skips the calling test, saying why, unless `python3 -c "import <modules>"` works.
func skipUnlessPythonImports(_ modules: String, test: String) throws {
    let probe = try runPython(["-c", "import \(modules)"])
    if probe.status != 0 {
        print("\(test): SKIPPED — python3 cannot import \(modules):\n\(probe.output)")
        throw XCTSkip("python3 cannot import \(modules)")
    }
}
