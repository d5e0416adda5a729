import Foundation

/// Text normalization exactly as the `sentencepiece` library does it (`normalizer::Normalizer::
/// Normalize`): the input is consumed prefix by prefix — a user-defined symbol is copied as is
/// (longest first), else the longest rule of the precompiled charsmap is replaced, else one
/// character is copied — and on the way leading, trailing and repeated spaces are dropped
/// (`remove_extra_whitespaces`), a space is put in front (`add_dummy_prefix`) and spaces become
/// "▁" (`escape_whitespaces`).
struct SentencePieceNormalizer: Sendable {
    let charsMap: PrecompiledCharsMap?
    let userDefined: PieceTrie?
    let addDummyPrefix: Bool
    let removeExtraWhitespaces: Bool
    let escapeWhitespaces: Bool
    let treatWhitespaceAsSuffix: Bool

    init(model: SentencePieceModelProto, file: String) throws {
        let spec = model.normalizer
        charsMap = spec.precompiledCharsmap.isEmpty ? nil : try PrecompiledCharsMap(blob: spec.precompiledCharsmap, file: file)
        let symbols = model.pieces.enumerated().filter { $0.element.type == .userDefined }
        userDefined = symbols.isEmpty ? nil : PieceTrie(symbols.map { (Array($0.element.piece.utf8), Int32($0.offset)) })
        addDummyPrefix = spec.addDummyPrefix
        removeExtraWhitespaces = spec.removeExtraWhitespaces
        escapeWhitespaces = spec.escapeWhitespaces
        treatWhitespaceAsSuffix = model.treatWhitespaceAsSuffix
    }

    /// The normalized form of the prefix of `input[i...]` and how many input bytes it consumed
    /// (pointers into the input or the charsmap's replacements: no copies, no reference counting).
    @inline(__always)
    private func normalizedPrefix(_ input: UnsafeBufferPointer<UInt8>, _ replacements: UnsafeBufferPointer<UInt8>,
                                  at i: Int) -> (UnsafeBufferPointer<UInt8>, Int) {
        let n = input.count
        if let userDefined, let m = userDefined.longestPrefix(input, from: i, to: n) {
            return (UnsafeBufferPointer(rebasing: input[i..<(i + m.length)]), m.length)
        }
        if let charsMap, let m = charsMap.longestMatch(input, from: i, to: n) {
            return (UnsafeBufferPointer(rebasing: replacements[m.replacement]), m.length)
        }
        let length = min(UTF8Bytes.charLength(lead: input[i]), n - i)
        return (UnsafeBufferPointer(rebasing: input[i..<(i + length)]), length)
    }

    func normalize(_ input: [UInt8]) -> [UInt8] {
        input.withUnsafeBufferPointer { buffer in
            guard let charsMap else { return normalize(buffer, replacements: UnsafeBufferPointer(start: nil, count: 0)) }
            return charsMap.withReplacements { normalize(buffer, replacements: $0) }
        }
    }

    private func normalize(_ buffer: UnsafeBufferPointer<UInt8>, replacements: UnsafeBufferPointer<UInt8>) -> [UInt8] {
        let n = buffer.count
        var i = 0
        if removeExtraWhitespaces {
            while i < n {
                let (piece, consumed) = normalizedPrefix(buffer, replacements, at: i)
                guard piece.count == 1, piece[0] == 0x20 else { break }
                i += consumed
            }
        }
        if i == n { return [] }
        let space: [UInt8] = escapeWhitespaces ? UTF8Bytes.spaceSymbol : [0x20]
        var out: [UInt8] = []
        out.reserveCapacity(3 * (n - i) + 3)
        if !treatWhitespaceAsSuffix && addDummyPrefix { out += space }
        var previousIsSpace = removeExtraWhitespaces
        while i < n {
            let (piece, consumed) = normalizedPrefix(buffer, replacements, at: i)
            var k = 0
            if previousIsSpace { while k < piece.count && piece[k] == 0x20 { k += 1 } }
            if k < piece.count {
                while k < piece.count {
                    let b = piece[k]
                    if escapeWhitespaces && b == 0x20 { out += UTF8Bytes.spaceSymbol } else { out.append(b) }
                    k += 1
                }
                previousIsSpace = piece[piece.count - 1] == 0x20
            }
            i += consumed
            if !removeExtraWhitespaces { previousIsSpace = false }
        }
        if removeExtraWhitespaces {
            while out.count >= space.count && out[(out.count - space.count)...].elementsEqual(space) {
                out.removeLast(space.count)
            }
        }
        if treatWhitespaceAsSuffix && addDummyPrefix { out += space }
        return out
    }
}
