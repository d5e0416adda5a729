import Foundation

/// Runs each job on a thread of this process (`--executor local`, the default): no process
/// start-up, inputs read straight from the store.
public final class InProcessExecutor: Executor, @unchecked Sendable {
    public let name = "local"
    public let slots: Int
    public var status: (@Sendable (String, String) -> Void)?

    public init(slots: Int) { self.slots = max(1, slots) }

    public func submit(_ job: StageJob, work: StageWork, onFinish: @escaping @Sendable (Result<StageResult, Error>) -> Void) {
        let status = self.status
        Thread.detachNewThread {
            onFinish(Result { try StageRunner.run(job, work: work) { text in status?(job.key, text) } })
        }
    }

    /// Threads cannot be stopped from outside; the process exits on Ctrl-C and finished
    /// stages are already committed.
    public func cancelAll() {}
}
