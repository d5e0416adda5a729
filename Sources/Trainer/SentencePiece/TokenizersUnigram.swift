import Foundation

/// Unigram segmentation exactly as Hugging Face `tokenizers` does it (`Unigram::encode_optimized`
/// and `tokenize`), which is what transformers' fast T5 tokenizer runs:
/// - the same Viterbi walk as sentencepiece, but every score is a Double, every vocabulary entry
///   (control and byte pieces included) is in the trie with its own score, there is no
///   user-defined bonus (those are split out earlier as added tokens), and the unknown score is
///   `min over all scores - 10`;
/// - consecutive unknown characters fuse into one token (`fuse_unk`); a token's id is looked up
///   by its string, and one that is not in the vocabulary becomes its `<0xNN>` byte pieces when
///   byte fallback is on and all of them exist, else the unknown id.
struct TokenizersUnigram: Sendable {
    private let trie: PieceTrie
    private let scores: [Double]
    private let unkId: Int32
    private let minScore: Double
    private let byteIds: [Int32]?
    private let ids: [String: Int32]

    init(vocabulary: [(piece: String, score: Double)], unkId: Int32, byteFallback: Bool) {
        var ids: [String: Int32] = [:]
        for (i, v) in vocabulary.enumerated() { ids[v.piece] = Int32(i) }
        self.ids = ids
        self.trie = PieceTrie(vocabulary.enumerated().map { (Array($1.piece.utf8), Int32($0)) })
        self.scores = vocabulary.map(\.score)
        self.minScore = vocabulary.map(\.score).min() ?? 0
        self.unkId = unkId
        if byteFallback {
            let byteIds = (0...255).map { ids[UTF8Bytes.bytePieceName(UInt8($0))] ?? -1 }
            self.byteIds = byteIds
        } else {
            self.byteIds = nil
        }
    }

    /// Appends the ids of one pre-tokenized word to `out`.
    func encode(_ s: UnsafeBufferPointer<UInt8>, into out: inout [Int32]) {
        let n = s.count
        guard n > 0 else { return }
        let unkScore = minScore - 10
        var bestScore = [Double](repeating: 0, count: n + 1)
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
                if id < 0 { continue }
                let candidate = scores[Int(id)] + scoreHere
                if startsAt[end] == -1 || candidate > bestScore[end] {
                    bestScore[end] = candidate; startsAt[end] = start; bestId[end] = id
                }
                if end - start == charLength { hasSingleCharPiece = true }
            }
            if !hasSingleCharPiece {
                let end = start + charLength
                let candidate = unkScore + scoreHere
                if startsAt[end] == -1 || candidate > bestScore[end] {
                    bestScore[end] = candidate; startsAt[end] = start; bestId[end] = unkId
                }
            }
            start += charLength
        }
        // Backtrack into (start, end, id) tokens with runs of unknowns fused.
        var tokens: [(start: Int, end: Int, id: Int32)] = []
        var end = n
        while end > 0 {
            let begin = startsAt[end], id = bestId[end]
            if id == unkId, let last = tokens.last, last.id == unkId, last.start == end {
                tokens[tokens.count - 1].start = begin
            } else {
                tokens.append((begin, end, id))
            }
            end = begin
        }
        for t in tokens.reversed() {
            if t.id != unkId { out.append(t.id); continue }
            let bytes = UnsafeBufferPointer(rebasing: s[t.start..<t.end])
            if let id = ids[String(decoding: bytes, as: UTF8.self)] { out.append(id); continue }
            if let byteIds, bytes.allSatisfy({ byteIds[Int($0)] >= 0 }) {
                for b in bytes { out.append(byteIds[Int(b)]) }
            } else {
                out.append(unkId)
            }
        }
    }
}
