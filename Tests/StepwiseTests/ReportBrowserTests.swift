import XCTest
@testable import Stepwise

/// index.html as a person sees it: rendered by headless Chromium (Debian's `chromium`, which
/// `scripts/install-deps.sh` installs), screenshotted wide and narrow, checked not blank, with
/// every figure in the DOM, the page's own script run, and no console message (a blocked load,
/// a script error or a Content-Security-Policy violation all log one). Skipped, saying so,
/// where Chromium cannot run.
final class ReportBrowserTests: XCTestCase {
    /// Where screenshots go (kept after the test, to look at): `$STEPWISE_SCREENSHOTS` or a temporary folder.
    var shots: URL {
        let dir = ProcessInfo.processInfo.environment["STEPWISE_SCREENSHOTS"].map { URL(fileURLWithPath: $0) }
            ?? FileManager.default.temporaryDirectory.appendingPathComponent("stepwise-screenshots")
        try? FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        return dir
    }

    func testTheFixturePageRendersWithEveryFigureAndNoConsoleMessage() throws {
        let browser = try Browser.find()
        let (project, e) = try ReportFixture.project()
        defer { project.remove() }
        let report = try ReportRenderer.render(context: ReportContext(e), inputs: ReportFixture.inputs())
        let folder = try TemporaryFolder()
        let dir = try ReportRenderer.materialize(report, experiment: e, stageCosts: [("train", 8, 12.5)], into: folder.url)
        try check(browser, page: dir.appendingPathComponent("index.html"), figures: 3, name: "fixture")
    }

    /// The committed quickstart page (Results/quickstart/index.html), as the README links it.
    func testTheQuickstartPageRenders() throws {
        let browser = try Browser.find()
        let page = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("Results/quickstart/index.html")
        guard FileManager.default.fileExists(atPath: page.path) else { throw XCTSkip("no Results/quickstart/index.html yet") }
        let html = try String(contentsOf: page, encoding: .utf8)
        try check(browser, page: page, figures: html.components(separatedBy: "<svg").count - 1, name: "quickstart")
    }

    /// The check can fail: a page with a script error and an image that cannot load is caught.
    func testABrokenPageIsCaught() throws {
        let browser = try Browser.find()
        let folder = try TemporaryFolder()
        let page = folder.url.appendingPathComponent("broken.html")
        try Data("<!DOCTYPE html><html><body><p>x</p><img src=\"missing.png\"><script>undefinedFunction()</script></body></html>".utf8).write(to: page)
        let result = try browser.dumpDOM(page)
        XCTAssertFalse(result.console.isEmpty, "the script error is logged")
        XCTAssertTrue(Browser.brokenImages(result.dom).contains("missing.png"))
    }

    func check(_ browser: Browser, page: URL, figures: Int, name: String) throws {
        let result = try browser.dumpDOM(page)
        XCTAssertEqual(result.console, [], "console messages while loading \(page.path)")
        XCTAssertEqual(result.dom.components(separatedBy: "<svg").count - 1, figures, "every figure is in the rendered page")
        XCTAssertEqual(Browser.brokenImages(result.dom), [], "no image that could fail to load")
        XCTAssertTrue(result.dom.contains("</footer>"), "the whole page was parsed")
        XCTAssertTrue(result.dom.contains("data-section=\"curves\">collapse all</button>"),
                      "the page's script ran (its hash matches the Content-Security-Policy) and labelled the curves' button")
        for (width, height) in [(1280, 2000), (420, 1600)] {
            let png = shots.appendingPathComponent("\(name)-\(width).png")
            try browser.screenshot(page, to: png, width: width, height: height)
            let stats = try PNGStats.of(png)
            XCTAssertEqual(stats.width, width)
            print("\(name) at \(width) px: \(png.path), luminance std \(String(format: "%.1f", stats.luminanceStd)), \(String(format: "%.1f", stats.inkShare * 100)) % ink")
            XCTAssertGreaterThan(stats.luminanceStd, 10, "not blank: \(png.path)")
            XCTAssertGreaterThan(stats.inkShare, 0.02, "text and figures drawn: \(png.path)")
        }
    }
}

/// Headless Chromium driven by its command line.
struct Browser {
    let binary: URL

    static func find() throws -> Browser {
        guard let binary = ["chromium", "chromium-browser", "google-chrome"].lazy.compactMap(ReportRenderer.executableInPath).first else {
            print("ReportBrowserTests: SKIPPED — no chromium on the PATH (scripts/install-deps.sh installs Debian's `chromium`)")
            throw XCTSkip("no chromium on the PATH")
        }
        let browser = Browser(binary: binary)
        // It must start here (a container without the kernel features it needs, a broken install).
        let probe = FileManager.default.temporaryDirectory.appendingPathComponent("stepwise-probe-\(UUID().uuidString).html")
        try Data("<p>ok</p>".utf8).write(to: probe)
        defer { try? FileManager.default.removeItem(at: probe) }
        guard let result = try? browser.dumpDOM(probe), result.dom.contains("<p>ok</p>") else {
            print("ReportBrowserTests: SKIPPED — \(binary.path) does not run headless here")
            throw XCTSkip("chromium cannot run here")
        }
        return browser
    }

    func run(_ args: [String]) throws -> (status: Int32, stdout: String, stderr: String) {
        // Root in a container needs --no-sandbox; a fresh profile keeps runs independent.
        let profile = FileManager.default.temporaryDirectory.appendingPathComponent("stepwise-chromium-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: profile) }
        let p = Process()
        p.executableURL = binary
        p.arguments = ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-extensions",
                       "--user-data-dir=\(profile.path)", "--enable-logging=stderr", "--v=0"] + args
        let out = Pipe(), err = Pipe()
        p.standardOutput = out
        p.standardError = err
        try p.run()
        var errData = Data()
        let group = DispatchGroup()
        group.enter()
        DispatchQueue.global().async { errData = err.fileHandleForReading.readDataToEndOfFile(); group.leave() }
        let outData = out.fileHandleForReading.readDataToEndOfFile()
        group.wait()
        p.waitUntilExit()
        return (p.terminationStatus, String(decoding: outData, as: UTF8.self), String(decoding: errData, as: UTF8.self))
    }

    /// The DOM after load (and after the page's scripts), and the page's console messages.
    func dumpDOM(_ page: URL) throws -> (dom: String, console: [String]) {
        let r = try run(["--dump-dom", page.absoluteString])
        let console = r.stderr.split(separator: "\n").filter { $0.contains(":CONSOLE") }.map(String.init)
        return (r.stdout, console)
    }

    func screenshot(_ page: URL, to png: URL, width: Int, height: Int) throws {
        try? FileManager.default.removeItem(at: png)
        let r = try run(["--hide-scrollbars", "--screenshot=\(png.path)", "--window-size=\(width),\(height)", page.absoluteString])
        guard FileManager.default.fileExists(atPath: png.path) else {
            throw StepwiseError("chromium wrote no screenshot (exit \(r.status)): \(r.stderr.suffix(800))")
        }
    }

    /// `src` of every `<img>` that is not inline data (inline SVG cannot fail to load; a file could).
    static func brokenImages(_ dom: String) -> [String] {
        dom.components(separatedBy: "<img").dropFirst().compactMap { tag in
            guard let r = tag.range(of: "src=\"") else { return "(no src)" }
            let src = String(tag[r.upperBound...].prefix { $0 != "\"" })
            return src.hasPrefix("data:") ? nil : src
        }
    }
}

/// Pixel statistics of a screenshot: decoded here (zlib by python3's standard library, the
/// PNG filters in Swift), so the check needs no imaging package.
struct PNGStats {
    var width = 0, height = 0
    var luminanceStd = 0.0
    /// Share of pixels far from the page's most common colour (its background).
    var inkShare = 0.0

    static func of(_ url: URL) throws -> PNGStats {
        let bytes = [UInt8](try Data(contentsOf: url))
        guard bytes.count > 8, bytes[0] == 0x89, bytes[1] == 0x50 else { throw StepwiseError("\(url.path) is not a PNG") }
        var pos = 8, idat = Data(), stats = PNGStats(), colorType = 0, depth = 0
        func u32(_ i: Int) -> Int { Int(bytes[i]) << 24 | Int(bytes[i + 1]) << 16 | Int(bytes[i + 2]) << 8 | Int(bytes[i + 3]) }
        while pos + 8 <= bytes.count {
            let length = u32(pos), type = String(decoding: bytes[(pos + 4)..<(pos + 8)], as: UTF8.self)
            let body = (pos + 8)..<(pos + 8 + length)
            if type == "IHDR" { stats.width = u32(body.lowerBound); stats.height = u32(body.lowerBound + 4); depth = Int(bytes[body.lowerBound + 8]); colorType = Int(bytes[body.lowerBound + 9]) }
            if type == "IDAT" { idat.append(contentsOf: bytes[body]) }
            pos = body.upperBound + 4
        }
        guard depth == 8, let channels = [2: 3, 6: 4, 0: 1, 4: 2][colorType] else { throw StepwiseError("\(url.path): unsupported PNG layout") }
        let raw = try inflate(idat)
        let stride = stats.width * channels
        guard raw.count >= stats.height * (stride + 1) else { throw StepwiseError("\(url.path): truncated image data") }
        var previous = [UInt8](repeating: 0, count: stride), line = previous
        var histogram: [Int: Int] = [:], luminance: [Double] = []
        luminance.reserveCapacity(stats.width * stats.height / 4)
        var colors: [Int] = []
        for y in 0..<stats.height {
            let filter = raw[y * (stride + 1)], start = y * (stride + 1) + 1
            for x in 0..<stride {
                let a = x >= channels ? Int(line[x - channels]) : 0, b = Int(previous[x]), c = x >= channels ? Int(previous[x - channels]) : 0
                let v = Int(raw[start + x])
                let predicted: Int
                switch filter {
                case 1: predicted = a
                case 2: predicted = b
                case 3: predicted = (a + b) / 2
                case 4:
                    let p = a + b - c, pa = abs(p - a), pb = abs(p - b), pc = abs(p - c)
                    predicted = pa <= pb && pa <= pc ? a : pb <= pc ? b : c
                default: predicted = 0
                }
                line[x] = UInt8((v + predicted) & 255)
            }
            // Every other pixel of every other row is plenty for the statistics.
            if y % 2 == 0 {
                for x in Swift.stride(from: 0, to: stats.width, by: 2) {
                    let i = x * channels
                    let (r, g, bl) = channels >= 3 ? (line[i], line[i + 1], line[i + 2]) : (line[i], line[i], line[i])
                    let color = Int(r) << 16 | Int(g) << 8 | Int(bl)
                    histogram[color, default: 0] += 1
                    colors.append(color)
                    luminance.append(0.2126 * Double(r) + 0.7152 * Double(g) + 0.0722 * Double(bl))
                }
            }
            swap(&previous, &line)
        }
        let mean = luminance.reduce(0, +) / Double(max(1, luminance.count))
        stats.luminanceStd = (luminance.reduce(0) { $0 + ($1 - mean) * ($1 - mean) } / Double(max(1, luminance.count))).squareRoot()
        let background = histogram.max { $0.value < $1.value }?.key ?? 0
        func distance(_ a: Int, _ b: Int) -> Int { abs((a >> 16) - (b >> 16)) + abs((a >> 8 & 255) - (b >> 8 & 255)) + abs((a & 255) - (b & 255)) }
        stats.inkShare = Double(colors.filter { distance($0, background) > 60 }.count) / Double(max(1, colors.count))
        return stats
    }

    static func inflate(_ data: Data) throws -> [UInt8] {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        p.arguments = ["python3", "-c", "import sys, zlib; sys.stdout.buffer.write(zlib.decompress(sys.stdin.buffer.read()))"]
        let input = Pipe(), output = Pipe()
        p.standardInput = input
        p.standardOutput = output
        try p.run()
        DispatchQueue.global().async { input.fileHandleForWriting.write(data); try? input.fileHandleForWriting.close() }
        let out = output.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        guard p.terminationStatus == 0 else { throw XCTSkip("python3 could not inflate the screenshot") }
        return [UInt8](out)
    }
}
