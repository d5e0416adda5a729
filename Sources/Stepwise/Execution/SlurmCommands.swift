import Foundation

/// The Slurm command-line tools as the coordinator calls them: one process per call, each call
/// appended to the file `STEPWISE_SLURM_TRACE` names when it is set, as `time pid tool args`
/// (the tests check the polling rate with it).
struct SlurmCommands: Sendable {
    struct Output {
        var status: Int32
        var stdout: String
        var stderr: String
    }

    /// What Slurm says about one job.
    struct JobState: Equatable {
        var id: String
        var state: String
        var elapsed: String?
        var node: String?
        var reason: String?
    }

    let trace: String?

    init(environment: [String: String] = ProcessInfo.processInfo.environment) {
        trace = environment["STEPWISE_SLURM_TRACE"]
    }

    func run(_ tool: String, _ args: [String]) throws -> Output {
        if let trace { Self.append("\(Date().timeIntervalSince1970) \(getpid()) \(tool) \(args.joined(separator: " "))\n", to: trace) }
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        p.arguments = [tool] + args
        let out = Pipe(), err = Pipe()
        p.standardOutput = out
        p.standardError = err
        p.standardInput = FileHandle.nullDevice
        do { try p.run() } catch { throw StepwiseError("cannot run `\(tool)`: \(error)") }
        // Both pipes drained at once: a full stderr pipe must not stall a long stdout.
        final class Box: @unchecked Sendable { var data = Data() }
        let errBox = Box()
        let group = DispatchGroup()
        group.enter()
        DispatchQueue.global().async { errBox.data = err.fileHandleForReading.readDataToEndOfFile(); group.leave() }
        let outData = out.fileHandleForReading.readDataToEndOfFile()
        group.wait()
        p.waitUntilExit()
        return Output(status: p.terminationStatus, stdout: String(decoding: outData, as: UTF8.self),
                      stderr: String(decoding: errBox.data, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines))
    }

    private static let traceLock = NSLock()
    private static func append(_ line: String, to path: String) {
        traceLock.lock(); defer { traceLock.unlock() }
        if let h = FileHandle(forWritingAtPath: path) ?? (FileManager.default.createFile(atPath: path, contents: nil)
                                                           ? FileHandle(forWritingAtPath: path) : nil) {
            h.seekToEndOfFile()
            h.write(Data(line.utf8))
            try? h.close()
        }
    }

    /// The controller did not answer (restarting, overloaded): worth trying again.
    static func controllerUnreachable(_ stderr: String) -> Bool {
        ["Unable to contact slurm controller", "Socket timed out", "Connection refused", "Zero Bytes were transmitted",
         "Slurm temporarily unable"].contains { stderr.localizedCaseInsensitiveContains($0) }
    }

    /// `sbatch --parsable`; returns the job id.
    func submit(script: URL, name: String, log: URL, arguments: [String]) throws -> String {
        let r = try run("sbatch", ["--parsable", "--job-name=\(name)", "--output=\(log.path)", "--open-mode=append",
                                   "--chdir=\(script.deletingLastPathComponent().path)", "--no-requeue"] + arguments + [script.path])
        let id = r.stdout.split(separator: ";").first.map { $0.trimmingCharacters(in: .whitespacesAndNewlines) } ?? ""
        guard r.status == 0, !id.isEmpty, id.allSatisfy(\.isNumber) else {
            throw SubmitError(message: r.stderr.isEmpty ? "sbatch exited with status \(r.status)" : r.stderr)
        }
        return id
    }

    struct SubmitError: Error, CustomStringConvertible {
        var message: String
        var description: String { "sbatch: \(message)" }
        var transient: Bool { SlurmCommands.controllerUnreachable(message) }
    }

    static let queueFormat = "%i|%T|%M|%N|%r"

    /// One `squeue` call for all these jobs, finished ones included while the controller keeps
    /// them (`MinJobAge`). Jobs it no longer knows are absent. Throws when it cannot answer.
    func queue(_ ids: [String]) throws -> [String: JobState] {
        let r = try run("squeue", ["--noheader", "--states=all", "--jobs=\(ids.joined(separator: ","))", "--format=\(Self.queueFormat)"])
        if r.status != 0 {
            if r.stderr.contains("Invalid job id") { return [:] }  // none of them is known any more
            throw StepwiseError("squeue: \(r.stderr.isEmpty ? "exit status \(r.status)" : r.stderr)")
        }
        return Self.parseQueue(r.stdout)
    }

    /// The job with this name (a submission whose id was never recorded), if the controller knows it.
    func find(name: String) throws -> JobState? {
        let r = try run("squeue", ["--noheader", "--states=all", "--name=\(name)", "--format=\(Self.queueFormat)"])
        guard r.status == 0 else { throw StepwiseError("squeue: \(r.stderr)") }
        return Self.parseQueue(r.stdout).values.first
    }

    static func parseQueue(_ text: String) -> [String: JobState] {
        var states: [String: JobState] = [:]
        for line in text.split(separator: "\n") {
            let f = line.split(separator: "|", omittingEmptySubsequences: false).map(String.init)
            guard f.count >= 5 else { continue }
            states[f[0]] = JobState(id: f[0], state: f[1], elapsed: f[2], node: f[3].isEmpty ? nil : f[3],
                                    reason: f[4] == "None" ? nil : f[4])
        }
        return states
    }

    /// A finished job's state from accounting: `sacct` (slurmdbd), else `sacct -c` (the
    /// controller's job-completion file). Nil when neither knows the job.
    func accounting(_ id: String) -> JobState? {
        for extra in [[], ["-c"]] {
            guard let r = try? run("sacct", extra + ["-j", id, "-X", "-n", "-P", "-o", "JobID,State,ExitCode,Elapsed,NodeList"]),
                  r.status == 0 else { continue }
            for line in r.stdout.split(separator: "\n") {
                let f = line.split(separator: "|", omittingEmptySubsequences: false).map(String.init)
                guard f.count >= 5, f[0] == id else { continue }
                // "CANCELLED by 0" → CANCELLED; the exit code says how a FAILED job ended.
                let state = String(f[1].split(separator: " ").first ?? "UNKNOWN")
                return JobState(id: id, state: state, elapsed: f[3], node: f[4].isEmpty ? nil : f[4],
                                reason: f[2] == "0:0" ? nil : "exit code \(f[2])")
            }
        }
        return nil
    }

    func cancel(_ ids: [String]) throws {
        guard !ids.isEmpty else { return }
        let r = try run("scancel", ids)
        if r.status != 0 { throw StepwiseError("scancel \(ids.joined(separator: " ")): \(r.stderr)") }
    }

    /// The cluster's node names; throws when Slurm does not answer.
    func nodes() throws -> [String] {
        let r = try run("sinfo", ["--noheader", "--Node", "--format=%N"])
        guard r.status == 0 else { throw StepwiseError("sinfo: \(r.stderr.isEmpty ? "exit status \(r.status)" : r.stderr)") }
        return Array(Set(r.stdout.split(separator: "\n").map { $0.trimmingCharacters(in: .whitespaces) })).sorted()
    }

    /// States a job does not leave by itself: it will not write a result any more.
    static let terminalStates: Set<String> = ["COMPLETED", "FAILED", "CANCELLED", "TIMEOUT", "OUT_OF_MEMORY", "NODE_FAIL",
                                              "PREEMPTED", "BOOT_FAIL", "DEADLINE", "REVOKED", "SPECIAL_EXIT"]
    /// Terminal states that say nothing about the stage itself: worth submitting again.
    static let transientStates: Set<String> = ["PREEMPTED", "NODE_FAIL", "BOOT_FAIL"]
}
