import Foundation

/// Where stages run: this process, child processes, a cluster. The scheduler hands an executor
/// self-contained jobs (`StageJob`) and learns of each one's end through `onFinish`, called
/// exactly once per job from any thread; how the executor tracks its jobs (threads, child
/// processes, polling a queue) is its own business. Every executor passes the conformance
/// suite in Tests/StepwiseTests/ExecutorConformanceTests.swift: dependency order, failure
/// isolation, kill -9 of the coordinator then resume, cancellation, and results identical to
/// the in-process executor's.
public protocol Executor: AnyObject, Sendable {
    /// How it is named on the command line (`--executor NAME`).
    var name: String { get }
    /// How many jobs may run at once.
    var slots: Int { get }
    /// Starts a job; returns at once.
    func submit(_ job: StageJob, work: StageWork, onFinish: @escaping @Sendable (Result<StageResult, Error>) -> Void)
    /// Stops every job still running (Ctrl-C). Jobs already finished are kept by the scheduler.
    func cancelAll()
    /// Progress lines of running jobs (training steps, request counts) go here.
    var status: (@Sendable (String, String) -> Void)? { get set }
    /// Re-attach: before submitting `job`, the scheduler offers the executor to take over a job
    /// for the same key that an earlier coordinator submitted and that is still queued or
    /// running, or finished with its result not yet committed (the coordinator was killed).
    /// Returns true when it did: `onFinish` is then called exactly once, as for `submit`, and the
    /// stage is not started again. Executors whose jobs die with their coordinator return false.
    func adopt(_ job: StageJob, onFinish: @escaping @Sendable (Result<StageResult, Error>) -> Void) -> Bool
}

extension Executor {
    public func adopt(_ job: StageJob, onFinish: @escaping @Sendable (Result<StageResult, Error>) -> Void) -> Bool { false }
}

/// The executors `--executor` accepts.
public enum ExecutorKind: String, CaseIterable, Sendable {
    case local, process, slurm
}
