import Foundation

/// Runs each job in its own `stepwise exec-stage JOB.json` process (`--executor process`):
/// the path a cluster executor takes, on one machine. A job folder under the store's
/// `artifacts/jobs/` holds the job file, the inputs the child cannot read from SQLite (inline
/// payloads, exported as files), the child's output folder, its log, and its result marker.
public final class ProcessExecutor: Executor, @unchecked Sendable {
    public let name = "process"
    public let slots: Int
    public var status: (@Sendable (String, String) -> Void)?
    let binary: URL
    let jobsDirectory: URL
    private let lock = NSLock()
    private var running: [Int32: Process] = [:]

    public init(slots: Int, binary: URL, artifactDirectory: URL) {
        self.slots = max(1, slots)
        self.binary = binary
        self.jobsDirectory = artifactDirectory.appendingPathComponent("jobs")
    }

    public func submit(_ job: StageJob, work: StageWork, onFinish: @escaping @Sendable (Result<StageResult, Error>) -> Void) {
        do {
            let dir = URL(fileURLWithPath: job.output).deletingLastPathComponent()
            let written = try JobFolder.write(job, into: dir)
            let process = Process()
            process.executableURL = binary
            process.arguments = ["exec-stage", written.path]
            let log = dir.appendingPathComponent(JobFolder.logName)
            FileManager.default.createFile(atPath: log.path, contents: nil)
            process.standardError = try FileHandle(forWritingTo: log)
            let pipe = Pipe()
            process.standardOutput = pipe
            let status = self.status
            pipe.fileHandleForReading.readabilityHandler = { handle in
                let data = handle.availableData
                guard !data.isEmpty else { handle.readabilityHandler = nil; return }
                for line in String(decoding: data, as: UTF8.self).split(separator: "\n") where line.hasPrefix(JobFolder.statusPrefix) {
                    status?(job.key, String(line.dropFirst(JobFolder.statusPrefix.count)))
                }
            }
            process.terminationHandler = { [weak self] p in
                pipe.fileHandleForReading.readabilityHandler = nil
                self?.forget(p)
                onFinish(Result { try JobFolder.result(of: job, in: dir, exit: p.terminationStatus, reason: p.terminationReason) })
            }
            // Under the lock: the termination handler's `forget` cannot run before the insert.
            lock.lock()
            defer { lock.unlock() }
            try process.run()
            running[process.processIdentifier] = process
        } catch {
            onFinish(.failure(error))
        }
    }

    private func forget(_ p: Process) {
        lock.lock(); running[p.processIdentifier] = nil; lock.unlock()
    }

    public func cancelAll() {
        lock.lock(); let all = Array(running.values); lock.unlock()
        for p in all where p.isRunning { kill(p.processIdentifier, SIGTERM) }
    }
}

/// The files of one job: `job.json`, `inputs/`, `output/`, `log`, `result.json`.
enum JobFolder {
    static let logName = "log"
    static let resultName = "result.json"
    static let statusPrefix = "status: "

    struct Marker: Codable {
        var ok: Bool
        var error: String?
        var seconds: Double
        var payload: Bool
        /// Where the stage ran (a cluster node's name; `status` shows it).
        var node: String?
    }

    /// Writes the job file; inline inputs become files so the child never opens SQLite for them.
    static func write(_ job: StageJob, into dir: URL) throws -> URL {
        var job = job
        let inputsDir = dir.appendingPathComponent("inputs")
        try FileManager.default.createDirectory(at: inputsDir, withIntermediateDirectories: true)
        for (i, input) in job.inputs.enumerated() {
            guard case .inline(let data) = input.location else { continue }
            let file = inputsDir.appendingPathComponent("\(i)")
            try ArtifactFiles.write(data, to: file, label: job.label)
            job.inputs[i].location = .file(file)
        }
        let url = dir.appendingPathComponent("job.json")
        try ArtifactFiles.write(try JSONEncoder().encode(job), to: url, label: job.label)
        return url
    }

    /// Runs a job file's stage in this process and leaves its result marker (`exec-stage`).
    static func execute(jobFile: URL) -> Int32 {
        let dir = jobFile.deletingLastPathComponent()
        let marker: Marker
        do {
            var job = try JSONDecoder().decode(StageJob.self, from: try Data(contentsOf: jobFile))
            // On a Slurm node: as many threads as CPUs the job was given (a speed knob only).
            if let cpus = ProcessInfo.processInfo.environment["SLURM_CPUS_PER_TASK"].flatMap(Int.init), cpus > 0 {
                job.threads = cpus
            }
            let result = try StageRunner.run(job) { text in
                print(statusPrefix + text)
                fflush(stdout)
            }
            if let payload = result.payload {
                try ArtifactFiles.write(payload, to: result.folder.appendingPathComponent(ArtifactFiles.payloadName), label: job.label)
            }
            marker = Marker(ok: true, error: nil, seconds: result.seconds, payload: result.payload != nil, node: nodeName)
        } catch {
            marker = Marker(ok: false, error: "\(error)", seconds: 0, payload: false, node: nodeName)
        }
        let data = (try? JSONEncoder().encode(marker)) ?? Data()
        // Atomic: the coordinator never reads half a marker.
        try? data.write(to: dir.appendingPathComponent(resultName), options: .atomic)
        return marker.ok ? 0 : 1
    }

    static var nodeName: String {
        ProcessInfo.processInfo.environment["SLURMD_NODENAME"] ?? ProcessInfo.processInfo.hostName
    }

    /// Reads what a finished child left.
    static func result(of job: StageJob, in dir: URL, exit: Int32, reason: Process.TerminationReason) throws -> StageResult {
        guard let marker = marker(in: dir) else {
            let how = reason == .uncaughtSignal ? "was killed by signal \(exit)" : "exited with status \(exit)"
            throw StepwiseError("the stage process \(how) without a result; log: \(logTail(dir))")
        }
        return try collect(job, marker: marker)
    }

    /// The result marker a job left, if it left one.
    static func marker(in dir: URL) -> Marker? {
        guard let data = try? Data(contentsOf: dir.appendingPathComponent(resultName)) else { return nil }
        return try? JSONDecoder().decode(Marker.self, from: data)
    }

    /// The stage's result as its marker describes it (the output folder, its payload read back).
    static func collect(_ job: StageJob, marker: Marker) throws -> StageResult {
        let output = URL(fileURLWithPath: job.output)
        guard marker.ok else { throw StepwiseError(marker.error ?? "failed") }
        var payload: Data?
        let payloadFile = output.appendingPathComponent(ArtifactFiles.payloadName)
        if marker.payload {
            payload = try Data(contentsOf: payloadFile)
            try FileManager.default.removeItem(at: payloadFile)
        }
        return StageResult(payload: payload, folder: output, seconds: marker.seconds)
    }

    static func logTail(_ dir: URL, lines: Int = 10) -> String {
        let text = (try? String(contentsOf: dir.appendingPathComponent(logName), encoding: .utf8)) ?? ""
        let tail = text.split(separator: "\n").suffix(lines).joined(separator: "\n")
        return tail.isEmpty ? "(empty) \(dir.appendingPathComponent(logName).path)" : tail
    }
}

/// `stepwise exec-stage JOB.json`: the child's side.
public enum StageJobFile {
    /// Runs the job's stage and writes its result marker; the exit status for the process.
    public static func execute(_ jobFile: URL) -> Int32 { JobFolder.execute(jobFile: jobFile) }
}

/// A stage process whose coordinator died has nobody to commit its work: it exits too.
/// (Polling the parent id: prctl's PR_SET_PDEATHSIG is a variadic C call Swift cannot import.)
public enum ParentWatch {
    public static func dieWithParent() {
        let parent = getppid()
        Thread.detachNewThread {
            while getppid() == parent { usleep(200_000) }
            exit(137)
        }
    }
}
