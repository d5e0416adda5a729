import ArgumentParser
import Foundation
import Stepwise

/// `stepwise bench report`: the report of a large synthetic sweep, rendered from made-up
/// evaluations, training curves (10 000 steps each, so every curve is downsampled) and teacher
/// outputs, without training anything. Prints the render time and the size of index.html;
/// `scripts/bench-report-page.sh` then times it in headless Chromium.
struct BenchReportCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "report",
        abstract: "Render the report of a synthetic sweep (default 500 cells) and print its size and render time.")

    @Option(help: "Seeds per (method variant, size, fraction); the sweep has 5 variants × 2 sizes × 5 fractions × seeds cells.")
    var seeds = 10
    @Option(help: "Training steps per cell (a loss point every 10 steps).") var steps = 10_000
    @Option(help: "Where to write Results/ (default: a temporary folder, kept).") var directory: String?
    @Flag(help: "Print one JSON line.") var json = false

    func run() throws {
        let r = try ReportBenchmark.run(in: URL(fileURLWithPath: directory ?? NSTemporaryDirectory()), seeds: seeds, steps: steps)
        let (renderSeconds, writeSeconds, pageBytes, page) = (r.renderSeconds, r.writeSeconds, r.pageBytes, r.page)
        if json {
            print("{\"cells\":\(r.cells),\"render_seconds\":\(renderSeconds),\"write_seconds\":\(writeSeconds),\"index_html_bytes\":\(pageBytes),\"page\":\"\(page.path)\"}")
        } else {
            print("\(r.cells) cells: rendered in \(String(format: "%.2f", renderSeconds)) s, written in \(String(format: "%.2f", writeSeconds)) s")
            print("index.html: \(pageBytes) bytes (\(String(format: "%.2f", Double(pageBytes) / 1_048_576)) MiB) → \(page.path)")
        }
    }
}

