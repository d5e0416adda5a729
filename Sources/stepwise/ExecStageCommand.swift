import ArgumentParser
import Foundation
import Stepwise

/// Runs one stage from its job file, in this process: what `--executor process` starts for
/// each stage (and what a cluster job will run on a node). Writes the output into the job's
/// output folder and a result marker beside the job file; never touches the store's index.
struct ExecStageCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "exec-stage",
        abstract: "Run one stage from its job file (used by executors; not for direct use).",
        shouldDisplay: false)

    @Argument(help: "The job file (job.json) an executor wrote.")
    var job: String

    func run() throws {
        // Die with the coordinator: a stage whose coordinator was killed has nobody to commit it.
        ParentWatch.dieWithParent()
        let status = StageJobFile.execute(URL(fileURLWithPath: job))
        if status != 0 { throw ExitCode(status) }
    }
}

/// The path of this executable, for starting `exec-stage` children.
enum ExecutablePath {
    static var current: URL {
        let link = (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")) ?? CommandLine.arguments[0]
        return URL(fileURLWithPath: link)
    }
}

/// SIGINT delivered on a queue instead of killing the process.
final class Interrupt {
    let source: DispatchSourceSignal
    init(source: DispatchSourceSignal) { self.source = source }

    static func onSIGINT(_ handler: @escaping (_ first: Bool) -> Void) -> Interrupt {
        signal(SIGINT, SIG_IGN)
        let source = DispatchSource.makeSignalSource(signal: SIGINT, queue: .global())
        var count = 0
        source.setEventHandler {
            count += 1
            handler(count == 1)
        }
        source.resume()
        return Interrupt(source: source)
    }

    /// Asks a yes/no question on the terminal; yes unless the answer starts with n.
    static func confirm(_ question: String) -> Bool {
        FileHandle.standardError.write(Data(question.utf8))
        guard let answer = readLine() else { return true }
        return !answer.trimmingCharacters(in: .whitespaces).lowercased().hasPrefix("n")
    }
}
