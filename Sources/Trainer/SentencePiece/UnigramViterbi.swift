import Foundation

/// The best segmentation of one string under a Unigram model, the walk both libraries share
/// (`EncodeOptimized` in sentencepiece, `encode_optimized` in `tokenizers`): one start position per
/// character; from each, one trie walk finds every piece starting there, and a piece's path score
/// replaces the best one ending at the same place only when strictly higher (so among equal scores
/// the path found first is kept); a character that no piece of exactly its length covers gets an
/// unknown node. The libraries differ in the arithmetic (`Score`) and in how a piece is scored or
/// skipped (`pieceScore`, nil = skip), so those are parameters.
enum UnigramViterbi {
    /// The pieces of the best path, left to right, as (start, end, id) byte ranges.
    /// (Specialized explicitly: builds without whole-module optimization would otherwise call the
    /// generic version from the other files, at about half the speed.)
    @_specialize(where Score == Float)
    @_specialize(where Score == Double)
    static func bestPath<Score: BinaryFloatingPoint>(
        _ s: UnsafeBufferPointer<UInt8>, trie: PieceTrie, unkId: Int32, unkScore: Score,
        pieceScore: (_ id: Int32, _ length: Int) -> Score?
    ) -> [(start: Int, end: Int, id: Int32)] {
        let n = s.count
        guard n > 0 else { return [] }
        var bestScore = [Score](repeating: 0, count: n + 1)
        var startsAt = [Int](repeating: -1, count: n + 1)
        var bestId = [Int32](repeating: 0, count: n + 1)
        var start = 0
        while start < n {
            let scoreHere = bestScore[start]
            let charLength = min(UTF8Bytes.charLength(lead: s[start]), n - start)
            var hasSingleCharPiece = false
            var node = PieceTrie.root
            var end = start
            while end < n {
                node = trie.child(node, s[end])
                if node < 0 { break }
                end += 1
                let id = trie.values[Int(node)]
                guard id >= 0, let score = pieceScore(id, end - start) else { continue }
                let candidate = score + scoreHere
                if startsAt[end] == -1 || candidate > bestScore[end] {
                    bestScore[end] = candidate; startsAt[end] = start; bestId[end] = id
                }
                if end - start == charLength { hasSingleCharPiece = true }
            }
            if !hasSingleCharPiece {
                let end = start + charLength, candidate = unkScore + scoreHere
                if startsAt[end] == -1 || candidate > bestScore[end] {
                    bestScore[end] = candidate; startsAt[end] = start; bestId[end] = unkId
                }
            }
            start += charLength
        }
        var path: [(start: Int, end: Int, id: Int32)] = []
        var end = n
        while end > 0 { path.append((startsAt[end], end, bestId[end])); end = startsAt[end] }
        return path.reversed()
    }
}
