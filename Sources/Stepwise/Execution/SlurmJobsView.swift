import Foundation

/// What `stepwise status` shows of a plan's Slurm jobs: the latest job of each stage, with the
/// queue's current state, elapsed time and node for those still open (one `squeue` call when
/// Slurm answers; the recorded values otherwise). Reads the store, never writes it.
public enum SlurmJobsView {
    public struct Line: Sendable {
        public var label: String
        public var job: JobRecord
    }

    public static func lines(store: Store, keys: [String]) throws -> [Line] {
        let latest = try store.latestJobs(executor: "slurm")
        var lines = keys.compactMap { key in latest[key].map { Line(label: $0.label, job: $0) } }
        let open = lines.filter { SlurmExecutor.openStates.contains($0.job.state) }.compactMap(\.job.jobID)
        if !open.isEmpty, let live = try? SlurmCommands().queue(open) {
            for i in lines.indices {
                guard let id = lines[i].job.jobID, let s = live[id] else { continue }
                lines[i].job.state = s.state
                lines[i].job.elapsed = s.elapsed ?? lines[i].job.elapsed
                lines[i].job.node = s.node ?? lines[i].job.node
            }
        }
        return lines
    }

    /// `  train[…]  job 12  RUNNING  0:42  node01`
    public static func format(_ line: Line) -> String {
        let j = line.job
        var text = "  \(line.label)  job \(j.jobID ?? "?")  \(j.state)  \(j.elapsed ?? "-")  \(j.node ?? "-")"
        if j.attempt > 1 { text += "  (attempt \(j.attempt))" }
        return text
    }
}
