import ArgumentParser
import Foundation
import Stepwise

/// The spec argument and store option that most commands share.
struct SpecOptions: ParsableArguments {
    @Argument(help: "The experiment spec (YAML), e.g. Experiments/quickstart.yaml.")
    var spec: String

    @Option(help: "The SQLite store (default: .stepwise/store.sqlite at the project root).")
    var store: String?

    func load() throws -> Experiment {
        do {
            return try SpecParser.load(file: spec)
        } catch let error as SpecError {
            printError(error.description)
            throw ExitCode(2)
        }
    }

    func storeURL(for e: Experiment) -> URL {
        store.map { URL(fileURLWithPath: $0) } ?? Store.defaultURL(root: e.root)
    }

    /// Opens the store only if it exists: looking at a plan must not create files.
    func existingStore(for e: Experiment) throws -> Store? {
        let url = storeURL(for: e)
        return FileManager.default.fileExists(atPath: url.path) ? try Store(url: url) : nil
    }
}

/// `--offline` and the plan built with the pretrained sizes' checkpoints found (validate, plan, run).
struct CheckpointOptions: ParsableArguments {
    @Flag(help: ArgumentHelp("Never download: a hub id must already be in the local Hugging Face cache (as HF_HUB_OFFLINE=1).",
                             discussion: "Otherwise a pretrained size's hub id missing from the cache is downloaded into it."))
    var offline = false

    /// Resolves every pretrained size (downloading hub ids when allowed) and plans; a checkpoint
    /// problem is a spec error at the size's `init:` (exit 2).
    func plan(_ e: Experiment) throws -> Plan {
        let offline = self.offline
        let outcome = BlockingAsync.run {
            try await StudentCheckpoints.resolve(e, offline: offline, progress: { printError($0) })
        }
        do {
            return try Planner.plan(e, checkpoints: try outcome.get())
        } catch let error as SpecError {
            printError(error.description)
            throw ExitCode(2)
        }
    }
}

/// Runs async work to completion from a synchronous command.
enum BlockingAsync {
    static func run<T: Sendable>(_ work: @escaping @Sendable () async throws -> T) -> Result<T, Error> {
        let done = DispatchSemaphore(value: 0)
        let box = ResultBox<T>()
        Task {
            do { box.result = .success(try await work()) } catch { box.result = .failure(error) }
            done.signal()
        }
        done.wait()
        return box.result!
    }

    private final class ResultBox<T>: @unchecked Sendable { var result: Result<T, Error>? }
}

func printError(_ text: String) {
    FileHandle.standardError.write(Data((text + "\n").utf8))
}
