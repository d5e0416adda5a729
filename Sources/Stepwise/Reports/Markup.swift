import Foundation

/// Escaping for text that goes into HTML or SVG — dataset inputs, teacher completions, spec
/// text and names all pass through here: a completion containing `<script>` must stay text.
public enum Markup {
    /// For element content and quoted attribute values alike.
    public static func escape(_ text: String) -> String {
        var out = ""
        out.reserveCapacity(text.utf8.count)
        for c in text.unicodeScalars {
            switch c {
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "\"": out += "&quot;"
            case "'": out += "&#39;"
            // Control characters other than tab and newlines are not allowed in HTML text.
            case "\u{0}"..."\u{8}", "\u{B}", "\u{C}", "\u{E}"..."\u{1F}", "\u{7F}": out += "\u{FFFD}"
            default: out.unicodeScalars.append(c)
            }
        }
        return out
    }

    /// A number with one decimal, as SVG coordinates are written.
    static func coordinate(_ v: Double) -> String { String(format: "%.1f", v) }
}
