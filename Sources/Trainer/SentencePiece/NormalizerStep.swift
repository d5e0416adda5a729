import Foundation

/// One step of a tokenizer.json `normalizer`, as the Rust `tokenizers` library applies it; a
/// `Sequence` is the steps in order.
enum NormalizerStep: @unchecked Sendable {   // NSRegularExpression is immutable once made
    /// The sentencepiece charsmap (`Precompiled`), applied per grapheme cluster when it is under
    /// 6 bytes — taking the replacement of the *shortest* rule that prefixes it, whether or not it
    /// covers the whole cluster — else per character (spm_precompiled's `normalize_string`).
    case precompiled(PrecompiledCharsMap)
    /// `Replace` of a literal string or a regular expression by `content`.
    case replaceString(String, content: String)
    case replaceRegex(NSRegularExpression, content: String)
    /// `Strip`: Unicode whitespace removed at the left and/or right end.
    case strip(left: Bool, right: Bool)

    static func apply(_ steps: [NormalizerStep], to bytes: [UInt8]) -> [UInt8] {
        steps.reduce(bytes) { $1.apply(to: $0) }
    }

    func apply(to bytes: [UInt8]) -> [UInt8] {
        switch self {
        case .precompiled(let charsMap):
            return Self.precompiled(bytes, charsMap)
        case .replaceString(let pattern, let content):
            guard !pattern.isEmpty else { return bytes }
            return Array(String(decoding: bytes, as: UTF8.self).replacingOccurrences(of: pattern, with: content).utf8)
        case .replaceRegex(let regex, let content):
            let s = String(decoding: bytes, as: UTF8.self)
            let replaced = regex.stringByReplacingMatches(in: s, range: NSRange(s.startIndex..., in: s),
                                                          withTemplate: NSRegularExpression.escapedTemplate(for: content))
            return Array(replaced.utf8)
        case .strip(let left, let right):
            var scalars = Substring(String(decoding: bytes, as: UTF8.self)).unicodeScalars
            if left { while let f = scalars.first, f.properties.isWhitespace { scalars.removeFirst() } }
            if right { while let l = scalars.last, l.properties.isWhitespace { scalars.removeLast() } }
            return Array(String(scalars).utf8)
        }
    }

    private static func precompiled(_ bytes: [UInt8], _ charsMap: PrecompiledCharsMap) -> [UInt8] {
        guard !bytes.isEmpty else { return [] }
        var out: [UInt8] = []
        out.reserveCapacity(bytes.count)
        bytes.withUnsafeBufferPointer { b in
            // Two ASCII characters (other than CR LF) always have a grapheme boundary between
            // them, so the text is cut there and only the pieces in between need Unicode's
            // grapheme rules; a lone ASCII character is its own grapheme.
            var start = 0
            for j in 1...b.count where j == b.count || (b[j - 1] < 0x80 && b[j] < 0x80 && !(b[j - 1] == 0x0D && b[j] == 0x0A)) {
                if j - start == 1 {
                    if let r = charsMap.shortestMatch(b, from: start, to: j) { out += r } else { out.append(b[start]) }
                } else if j > start {
                    normalizeGraphemes(UnsafeBufferPointer(rebasing: b[start..<j]), charsMap, into: &out)
                }
                start = j
            }
        }
        return out
    }

    private static func normalizeGraphemes(_ bytes: UnsafeBufferPointer<UInt8>, _ charsMap: PrecompiledCharsMap, into out: inout [UInt8]) {
        for grapheme in String(decoding: bytes, as: UTF8.self) {
            var g = grapheme.utf8.map { $0 }
            g.withUnsafeMutableBufferPointer { m in
                let b = UnsafeBufferPointer(m)
                if b.count < 6, let r = charsMap.shortestMatch(b, from: 0, to: b.count) { out += r; return }
                var k = 0
                while k < b.count {
                    let length = min(UTF8Bytes.charLength(lead: b[k]), b.count - k)
                    if let r = charsMap.shortestMatch(b, from: k, to: k + length) { out += r } else { out += b[k..<(k + length)] }
                    k += length
                }
            }
        }
    }

    // MARK: - Pre-tokenization
}
