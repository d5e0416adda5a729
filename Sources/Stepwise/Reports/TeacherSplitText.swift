import Foundation

/// The teacher's numbers as both report formats print them.
enum TeacherSplitText {
    /// "12.5": `part` as a percentage of `whole` (0 when `whole` is 0).
    static func percent(_ part: Int, of whole: Int) -> String {
        String(format: "%.1f", Double(part) / Double(max(1, whole)) * 100)
    }

    /// The soft labels' missing mass per split, as one sentence; nil when no split has one.
    static func missingMass(_ splits: [TeacherSplitStats]) -> String? {
        let parts = splits.compactMap { t in t.labelMassMissing.map { "\(t.split) \(String(format: "%.1f", $0 * 100)) %" } }
        guard !parts.isEmpty else { return nil }
        return "Soft labels: at its answer, the teacher's top-k alternatives leave on average "
            + parts.joined(separator: ", ") + " of its probability off the label set (missing mass; "
            + "soft targets renormalise over the labels)."
    }
}
