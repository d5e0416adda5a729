import Foundation

/// sentencepiece's precompiled normalization rules (`normalizer_spec.precompiled_charsmap`, the
/// `Precompiled` normalizer of a `tokenizer.json`): a Darts-clone double-array trie whose keys are
/// UTF-8 byte strings to replace, and whose values are offsets into a blob of NUL-terminated
/// replacements. Layout: `<uint32 LE: trie size in bytes><trie units, uint32 LE each><blob>`.
struct PrecompiledCharsMap: Sendable {
    private let units: [UInt32]
    private let replacements: [UInt8]

    init(blob: [UInt8], file: String) throws {
        guard blob.count > 4 else { throw TrainerError.badFile("\(file): precompiled_charsmap is \(blob.count) bytes, too short") }
        let trieSize = Int(blob[0]) | Int(blob[1]) << 8 | Int(blob[2]) << 16 | Int(blob[3]) << 24
        guard trieSize < blob.count - 4, trieSize % 4 == 0, trieSize > 0 else {
            throw TrainerError.badFile("\(file): precompiled_charsmap trie size \(trieSize) does not fit its \(blob.count) bytes")
        }
        var units = [UInt32](repeating: 0, count: trieSize / 4)
        for i in units.indices {
            let o = 4 + 4 * i
            units[i] = UInt32(blob[o]) | UInt32(blob[o + 1]) << 8 | UInt32(blob[o + 2]) << 16 | UInt32(blob[o + 3]) << 24
        }
        self.units = units
        self.replacements = Array(blob[(4 + trieSize)...])
    }

    // Darts-clone's unit encoding.
    @inline(__always) private static func hasLeaf(_ u: UInt32) -> Bool { (u >> 8) & 1 == 1 }
    @inline(__always) private static func value(_ u: UInt32) -> Int { Int(u & 0x7FFF_FFFF) }
    @inline(__always) private static func label(_ u: UInt32) -> UInt32 { u & (0x8000_0000 | 0xFF) }
    @inline(__always) private static func offset(_ u: UInt32) -> Int { Int((u >> 10) << ((u & (1 << 9)) >> 6)) }

    /// Every key that is a prefix of `bytes[start..<end]`, shortest first, as (length, value).
    /// Darts' `commonPrefixSearch`, stopping (instead of reading out of bounds) on a garbled trie.
    @inline(__always)
    func forEachPrefix(of bytes: UnsafeBufferPointer<UInt8>, from start: Int, to end: Int,
                       _ body: (_ length: Int, _ value: Int) -> Void) {
        guard !units.isEmpty else { return }
        var node = Self.offset(units[0])
        var i = start
        while i < end {
            let c = bytes[i]
            node ^= Int(c)
            guard node < units.count else { return }
            let unit = units[node]
            guard Self.label(unit) == UInt32(c) else { return }
            node ^= Self.offset(unit)
            guard node < units.count else { return }
            i += 1
            if Self.hasLeaf(unit) { body(i - start, Self.value(units[node])) }
        }
    }

    /// sentencepiece's rule: the longest key that prefixes the input, as (length, replacement),
    /// the replacement as a range of `withReplacements`' bytes.
    func longestMatch(_ bytes: UnsafeBufferPointer<UInt8>, from start: Int, to end: Int) -> (length: Int, replacement: Range<Int>)? {
        var bestLength = 0, bestValue = 0
        forEachPrefix(of: bytes, from: start, to: end) { length, value in
            if bestLength == 0 || length > bestLength { bestLength = length; bestValue = value }
        }
        return bestLength == 0 ? nil : (bestLength, replacementRange(at: bestValue))
    }

    /// The replacement strings' blob, for the ranges `longestMatch` returns.
    func withReplacements<R>(_ body: (UnsafeBufferPointer<UInt8>) throws -> R) rethrows -> R {
        try replacements.withUnsafeBufferPointer(body)
    }

    /// The `tokenizers` library's rule (spm_precompiled `transform`): the replacement of the
    /// *shortest* key that prefixes the chunk, whether or not it covers the whole chunk.
    func shortestMatch(_ bytes: UnsafeBufferPointer<UInt8>, from start: Int, to end: Int) -> ArraySlice<UInt8>? {
        var found: Int? = nil
        forEachPrefix(of: bytes, from: start, to: end) { _, value in if found == nil { found = value } }
        return found.map { replacements[replacementRange(at: $0)] }
    }

    /// The NUL-terminated replacement string starting at `offset` in the blob.
    private func replacementRange(at offset: Int) -> Range<Int> {
        guard offset < replacements.count else { return 0..<0 }
        var e = offset
        while e < replacements.count && replacements[e] != 0 { e += 1 }
        return offset..<e
    }
}
