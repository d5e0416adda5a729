import Foundation

/// A token `tokenizers` matches literally in the text before anything else (`added_tokens` of a
/// tokenizer.json: T5's `<pad>`, `</s>`, `<unk>`, `<extra_id_N>`, and a model's user-defined symbols).
public struct AddedToken: Sendable, Equatable {
    public var content: String
    public var id: Int32
    public var singleWord = false, lstrip = false, rstrip = false
    /// Matched in the normalized text (true) or the raw text (false).
    public var normalized = false
    /// Dropped by decoding (transformers' `skip_special_tokens`).
    public var special = true
}

/// One step of a tokenizer.json `pre_tokenizer`.
enum PreTokenizerStep: Sendable, Equatable {
    /// Splits on Unicode White_Space characters and drops them.
    case whitespaceSplit
    /// Spaces become `replacement`; it is put in front of a word (`always`, or `first`: only of the
    /// word at the start of the text); with `split`, a word is cut before every replacement.
    case metaspace(replacement: [UInt8], prepend: PrependScheme, split: Bool)

    enum PrependScheme: String, Sendable { case always, first, never }
}

/// transformers' fast (Rust `tokenizers`) pipeline for a Unigram model, step by step as the
/// library runs it: added tokens are split out of the raw text (leftmost, then longest); each
/// remaining piece is normalized (`NormalizerStep`); normalized added tokens are split out of
/// that; the pre-tokenizer cuts words; each word is segmented on its own (`TokenizersUnigram`).
struct FastTokenizerPipeline: Sendable {
    let addedTokens: [AddedToken]
    private let rawMatcher: PieceTrie?
    private let normalizedMatcher: PieceTrie?
    let normalizers: [NormalizerStep]
    let preTokenizers: [PreTokenizerStep]
    let model: TokenizersUnigram

    init(addedTokens: [AddedToken], normalizers: [NormalizerStep], preTokenizers: [PreTokenizerStep], model: TokenizersUnigram) {
        self.addedTokens = addedTokens
        self.normalizers = normalizers
        self.preTokenizers = preTokenizers
        self.model = model
        let raw = addedTokens.enumerated().filter { !$0.element.normalized }
        rawMatcher = raw.isEmpty ? nil : PieceTrie(raw.map { (Array($0.element.content.utf8), Int32($0.offset)) })
        let normalizedTokens = addedTokens.enumerated().filter { $0.element.normalized }
        normalizedMatcher = normalizedTokens.isEmpty ? nil : PieceTrie(normalizedTokens.map {
            (NormalizerStep.apply(normalizers, to: Array($0.element.content.utf8)), Int32($0.offset))
        })
    }

    func encode(_ text: String, into out: inout [Int32]) {
        for piece in split(Array(text.utf8), by: rawMatcher, atStart: true) {
            switch piece {
            case .token(let id): out.append(id)
            case .text(let bytes, let atStart):
                let normalized = NormalizerStep.apply(normalizers, to: bytes)
                for inner in split(normalized, by: normalizedMatcher, atStart: atStart) {
                    switch inner {
                    case .token(let id): out.append(id)
                    case .text(let bytes, let atStart):
                        for word in preTokenize(bytes, atStart: atStart) {
                            word.withUnsafeBufferPointer { model.encode($0, into: &out) }
                        }
                    }
                }
            }
        }
    }

    // MARK: - Added tokens

    enum Piece { case token(Int32), text([UInt8], atStart: Bool) }

    private func split(_ bytes: [UInt8], by matcher: PieceTrie?, atStart: Bool) -> [Piece] {
        guard let matcher else { return bytes.isEmpty ? [] : [.text(bytes, atStart: atStart)] }
        var pieces: [Piece] = []
        var textStart = 0, i = 0
        let n = bytes.count
        bytes.withUnsafeBufferPointer { buffer in
            while i < n {
                guard let m = matcher.longestPrefix(buffer, from: i, to: n) else {
                    i += UTF8Bytes.charLength(lead: buffer[i]); continue
                }
                let token = addedTokens[Int(m.id)]
                if token.singleWord && !(isWordBoundary(bytes, before: i) && isWordBoundary(bytes, after: i + m.length)) {
                    i += UTF8Bytes.charLength(lead: buffer[i]); continue
                }
                var textEnd = i, next = i + m.length
                if token.lstrip {
                    while textEnd > textStart {
                        var k = textEnd - 1
                        while k > textStart && bytes[k] & 0xC0 == 0x80 { k -= 1 }
                        guard Self.isWhitespace(bytes, at: k, length: textEnd - k) else { break }
                        textEnd = k
                    }
                }
                if token.rstrip {
                    while next < n {
                        let length = min(UTF8Bytes.charLength(lead: bytes[next]), n - next)
                        guard Self.isWhitespace(bytes, at: next, length: length) else { break }
                        next += length
                    }
                }
                if textEnd > textStart { pieces.append(.text(Array(bytes[textStart..<textEnd]), atStart: atStart && textStart == 0)) }
                pieces.append(.token(token.id))
                textStart = next; i = next
            }
        }
        if textStart < n { pieces.append(.text(Array(bytes[textStart...]), atStart: atStart && textStart == 0)) }
        return pieces
    }

    private func isWordBoundary(_ bytes: [UInt8], before i: Int) -> Bool {
        guard i > 0 else { return true }
        var k = i - 1
        while k > 0 && bytes[k] & 0xC0 == 0x80 { k -= 1 }
        return !Self.isWordCharacter(bytes, at: k)
    }

    private func isWordBoundary(_ bytes: [UInt8], after i: Int) -> Bool {
        i >= bytes.count || !Self.isWordCharacter(bytes, at: i)
    }

    private static func isWordCharacter(_ bytes: [UInt8], at i: Int) -> Bool {
        let length = min(UTF8Bytes.charLength(lead: bytes[i]), bytes.count - i)
        guard let scalar = String(decoding: bytes[i..<(i + length)], as: UTF8.self).unicodeScalars.first else { return false }
        return scalar.properties.isAlphabetic || scalar.properties.numericType != nil || scalar == "_"
    }

    /// Unicode's White_Space property (Rust's `char::is_whitespace`) of the character at `i`.
    private static func isWhitespace(_ b: [UInt8], at i: Int, length: Int) -> Bool {
        if length == 1 { return b[i] == 0x20 || (b[i] >= 0x09 && b[i] <= 0x0D) }
        guard let scalar = String(decoding: b[i..<(i + length)], as: UTF8.self).unicodeScalars.first else { return false }
        return scalar.properties.isWhitespace
    }

    private func preTokenize(_ bytes: [UInt8], atStart: Bool) -> [[UInt8]] {
        var words: [(bytes: [UInt8], atStart: Bool)] = [(bytes, atStart)]
        for step in preTokenizers {
            var next: [(bytes: [UInt8], atStart: Bool)] = []
            for word in words {
                switch step {
                case .whitespaceSplit:
                    let b = word.bytes
                    var start = 0, i = 0
                    while i < b.count {
                        let length = min(UTF8Bytes.charLength(lead: b[i]), b.count - i)
                        if Self.isWhitespace(b, at: i, length: length) {
                            if i > start { next.append((Array(b[start..<i]), word.atStart && start == 0)) }
                            start = i + length
                        }
                        i += length
                    }
                    if start < b.count { next.append((Array(b[start...]), word.atStart && start == 0)) }
                case .metaspace(let replacement, let prepend, let split):
                    var w: [UInt8] = []
                    w.reserveCapacity(word.bytes.count + replacement.count)
                    for b in word.bytes { if b == 0x20 { w += replacement } else { w.append(b) } }
                    let startsWithReplacement = w.starts(with: replacement)
                    if !startsWithReplacement && (prepend == .always || (prepend == .first && word.atStart)) {
                        w = replacement + w
                    }
                    if !split { next.append((w, word.atStart)); continue }
                    var pieceStart = 0, i = 0
                    while i + replacement.count <= w.count {
                        if i > pieceStart && w[i..<(i + replacement.count)].elementsEqual(replacement) {
                            next.append((Array(w[pieceStart..<i]), word.atStart && pieceStart == 0))
                            pieceStart = i
                            i += replacement.count
                        } else {
                            i += 1
                        }
                    }
                    if pieceStart < w.count { next.append((Array(w[pieceStart...]), word.atStart && pieceStart == 0)) }
                }
            }
            words = next
        }
        return words.map(\.bytes).filter { !$0.isEmpty }
    }
}
