import ArgumentParser
import Foundation
import Stepwise

/// `stepwise fetch org/name[@rev]`: a hub model into the Hugging Face cache (or found there).
struct FetchCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "fetch",
        abstract: "Find a Hugging Face hub model in the local cache, or download it there; print its snapshot folder.",
        discussion: """
            Fetches what a T5 student needs (config.json, the weights, the tokenizer) into the cache \
            huggingface_hub uses (HF_HUB_CACHE, else HF_HOME/hub, else ~/.cache/huggingface/hub), in its \
            layout, so transformers finds it too. HF_ENDPOINT names another hub, HF_TOKEN a token for private \
            or gated models. With --offline (or HF_HUB_OFFLINE=1) nothing is downloaded.
            """)

    @Argument(help: "A hub model id, org/name or org/name@revision (a branch, tag or commit).")
    var model: String

    @Flag(help: "Use the local cache only (as HF_HUB_OFFLINE=1 does).")
    var offline = false

    func run() throws {
        guard let id = HubModelID.parse(model) else {
            printError("\(model) is not a hub model id (expected org/name or org/name@revision)")
            throw ExitCode(2)
        }
        let display = ProgressDisplay()
        do {
            let offline = offline
            let snapshot = try waitFor { try await HubResolver.resolve(id, offline: offline, progress: { display.show($0) }) }
            display.end()
            print(snapshot.folder.path)
        } catch let e as StepwiseError {
            display.end()
            printError(e.description)
            throw ExitCode(1)
        }
    }
}

/// The command line is synchronous (its `main` re-executes for the BLAS kernels first); this
/// runs async work to its end on the concurrency pool.
func waitFor<T>(_ work: @escaping @Sendable () async throws -> T) throws -> T {
    let done = DispatchSemaphore(value: 0)
    nonisolated(unsafe) var result: Result<T, Error>?
    Task {
        do { result = .success(try await work()) } catch { result = .failure(error) }
        done.signal()
    }
    done.wait()
    return try result!.get()
}

/// Progress lines on stderr: rewritten in place on a terminal (a new line when the file
/// changes), one per line otherwise.
final class ProgressDisplay: @unchecked Sendable {
    private let lock = NSLock()
    private let terminal = isatty(STDERR_FILENO) != 0
    private var current: Substring?

    func show(_ line: String) {
        lock.lock(); defer { lock.unlock() }
        guard terminal else { return printError(line) }
        let subject = line.split(separator: " ", maxSplits: 1).first
        let prefix = current == nil ? "" : (subject == current ? "\r\u{1B}[K" : "\n")
        FileHandle.standardError.write(Data((prefix + line).utf8))
        current = subject
    }

    func end() {
        lock.lock(); defer { lock.unlock() }
        if terminal, current != nil { FileHandle.standardError.write(Data("\n".utf8)) }
        current = nil
    }
}
