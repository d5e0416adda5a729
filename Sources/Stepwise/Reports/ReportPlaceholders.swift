import Foundation
import Trainer

/// What Stepwise was built as: its version, the trainer's, and the dependency versions pinned
/// in Package.resolved (compiled in by the EmbedPackagePins build plugin, so an installed binary
/// knows them without the source tree).
public enum BuildInfo {
    public static let stepwiseVersion = "0.1.0"
    public static var trainerVersion: Int { TrainerVersion.current }
    public static var dependencies: [(identity: String, location: String, version: String)] { PackagePins.all }
}

/// Parts of report.md and index.html that are not part of the cached report artifact (an
/// artifact depends only on its key): the store's wall times, the binary that wrote the files,
/// and the spec file's text. Rendering leaves a marker; writing the files out fills it in.
public enum ReportPlaceholder: String, CaseIterable {
    case costs, versions, spec

    /// An HTML comment: escaped dataset or spec text can never contain one (`<` is escaped).
    public var marker: String { "<!-- stepwise:\(rawValue) -->" }

    /// What fills the markers.
    public struct Values {
        public var costs: [(kind: String, count: Int, seconds: Double)] = []
        public var specPath: String?
        public var specText: String?
        public init(costs: [(kind: String, count: Int, seconds: Double)] = [], specPath: String? = nil, specText: String? = nil) {
            self.costs = costs; self.specPath = specPath; self.specText = specText
        }
    }

    /// report.md with its markers filled in (a marker line and its newline are replaced).
    public static func fillMarkdown(_ text: String, _ values: Values) -> String {
        var costs = ""
        if !values.costs.isEmpty {
            costs = "## Cost\n\n| stage | count | wall time (s) |\n|---|---:|---:|\n"
            for c in values.costs { costs += "| \(c.kind) | \(c.count) | \(String(format: "%.1f", c.seconds)) |\n" }
            costs += "\n"
        }
        let deps = BuildInfo.dependencies.map { "\($0.identity) \($0.version)" }.joined(separator: ", ")
        let versions = "## Versions\n\nWritten by Stepwise \(BuildInfo.stepwiseVersion) (trainer version \(BuildInfo.trainerVersion))"
            + (deps.isEmpty ? ".\n" : "; dependencies: \(deps).\n")
        // The markers close the file, after any dataset text (which report.md quotes verbatim in
        // code fences): only the last occurrence is one.
        return replacingLast(Self.versions.marker + "\n", with: versions, in: replacingLast(Self.costs.marker + "\n", with: costs, in: text))
    }

    static func replacingLast(_ marker: String, with replacement: String, in text: String) -> String {
        guard let r = text.range(of: marker, options: .backwards) else { return text }
        return text.replacingCharacters(in: r, with: replacement)
    }
}
