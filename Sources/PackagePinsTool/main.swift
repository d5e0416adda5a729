import Foundation

// PackagePinsTool RESOLVED OUTPUT: writes `PackagePins.swift` (the pins of Package.resolved as a
// Swift array) for the EmbedPackagePins build plugin. A missing file gives an empty list.

struct Resolved: Decodable {
    struct Pin: Decodable {
        struct State: Decodable { var version: String?; var branch: String?; var revision: String? }
        var identity: String
        var location: String
        var state: State
    }
    var pins: [Pin]
}

let arguments = CommandLine.arguments
guard arguments.count == 3 else {
    FileHandle.standardError.write(Data("usage: PackagePinsTool Package.resolved PackagePins.swift\n".utf8))
    exit(2)
}
var pins: [Resolved.Pin] = []
if let data = FileManager.default.contents(atPath: arguments[1]) {
    do { pins = try JSONDecoder().decode(Resolved.self, from: data).pins } catch {
        FileHandle.standardError.write(Data("\(arguments[1]): cannot read the pins (\(error))\n".utf8))
        exit(1)
    }
}

func literal(_ s: String) -> String {
    "\"" + s.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"") + "\""
}

var text = "// Generated at build time from Package.resolved by the EmbedPackagePins plugin: do not edit.\n"
text += "enum PackagePins {\n    static let all: [(identity: String, location: String, version: String)] = [\n"
for pin in pins.sorted(by: { $0.identity < $1.identity }) {
    let version = pin.state.version ?? pin.state.branch.map { "branch \($0)" } ?? String((pin.state.revision ?? "?").prefix(12))
    text += "        (\(literal(pin.identity)), \(literal(pin.location)), \(literal(version))),\n"
}
text += "    ]\n}\n"
let url = URL(fileURLWithPath: arguments[2])
if (try? String(contentsOf: url, encoding: .utf8)) != text {
    do { try text.write(to: url, atomically: true, encoding: .utf8) } catch {
        FileHandle.standardError.write(Data("cannot write \(url.path): \(error)\n".utf8))
        exit(1)
    }
}
