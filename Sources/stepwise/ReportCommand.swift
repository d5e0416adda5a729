import ArgumentParser
import Foundation
import Stepwise

struct ReportCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "report",
        abstract: "Re-render Results/<experiment>/ from what is in the store, running nothing.")

    @OptionGroup var options: SpecOptions

    @Flag(help: "Open Results/<experiment>/index.html in a browser afterwards (with xdg-open, or open on macOS).")
    var open = false

    func run() throws {
        let e = try options.load()
        let plan = try Planner.plan(e)
        guard let store = try options.existingStore(for: e) else {
            printError("no store at \(options.storeURL(for: e).path): run the experiment first")
            throw ExitCode(1)
        }
        guard let reportIndex = plan.reportIndex else { return }
        let inputs = try ReportRenderer.collect(plan: plan, stage: plan.stages[reportIndex]) { try store.location($0) }
        let report = try ReportRenderer.render(context: ReportContext(e), inputs: inputs)
        let dir = try ReportRenderer.materialize(report, experiment: e,
                                                 stageCosts: try ReportRenderer.stageCosts(store: store, plan: plan))
        print("\(inputs.evaluations.count) evaluations, \(inputs.missing.count) missing → \(dir.path)/report.md, \(dir.path)/index.html")
        if open { try BrowserOpener.open(dir.appendingPathComponent("index.html")) }
    }
}

/// Opens a file in the desktop's browser through the system's opener, or says why it cannot.
enum BrowserOpener {
    static func open(_ page: URL) throws {
        let opener = ["xdg-open", "open"].lazy.compactMap(ReportRenderer.executableInPath).first
        guard let opener else {
            printError("cannot open a browser here (no xdg-open or open on the PATH): open \(page.path) yourself")
            throw ExitCode(1)
        }
        let process = Process()
        process.executableURL = opener
        process.arguments = [page.path]
        do { try process.run() } catch {
            printError("\(opener.path) \(page.path) failed: \(error)")
            throw ExitCode(1)
        }
        process.waitUntilExit()
        guard process.terminationStatus == 0 else {
            printError("\(opener.lastPathComponent) could not open \(page.path) (exit \(process.terminationStatus)): open it yourself")
            throw ExitCode(1)
        }
        print("opened \(page.path)")
    }
}
