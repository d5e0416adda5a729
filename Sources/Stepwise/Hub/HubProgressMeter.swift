import Foundation

/// One file's progress as text for the `progress` callback — name, bytes done of the total,
/// rate — at most every half second, and always once when the file is done.
final class HubProgressMeter {
    private let name: String
    private let total: Int64?
    private let report: (@Sendable (String) -> Void)?
    private let started = Date()
    /// The first line comes after half a second: a small file shows only its final line.
    private var lastReport = Date()
    /// Bytes that were already on disk (a resumed file): not part of the rate.
    private let resumedFrom: Int64

    init(name: String, total: Int64?, resumedFrom: Int64, report: (@Sendable (String) -> Void)?) {
        self.name = name
        self.total = total
        self.resumedFrom = resumedFrom
        self.report = report
    }

    func update(_ done: Int64) {
        guard let report, Date().timeIntervalSince(lastReport) >= 0.5 else { return }
        lastReport = Date()
        report(line(done, finished: false))
    }

    func finish(_ done: Int64) {
        report?(line(done, finished: true))
    }

    func line(_ done: Int64, finished: Bool) -> String {
        let elapsed = max(Date().timeIntervalSince(started), 1e-3)
        let rate = Self.bytes(Int64(Double(done - resumedFrom) / elapsed)) + "/s"
        let amount = total.map { "\(Self.bytes(done)) / \(Self.bytes($0))" } ?? Self.bytes(done)
        let percent = total.flatMap { $0 > 0 ? String(format: " %3d%%", Int(100 * done / $0)) : nil } ?? ""
        let resumed = resumedFrom > 0 ? ", resumed at \(Self.bytes(resumedFrom))" : ""
        return "\(name)  \(amount)\(percent)  \(rate)\(finished ? "  done" : "")\(resumed)"
    }

    /// Decimal units, as the hub's pages show sizes.
    static func bytes(_ n: Int64) -> String {
        let units = ["B", "kB", "MB", "GB", "TB"]
        var v = Double(n)
        var u = 0
        while v >= 1000 && u < units.count - 1 { v /= 1000; u += 1 }
        return u == 0 ? "\(n) B" : String(format: "%.1f", v) + " " + units[u]
    }
}
