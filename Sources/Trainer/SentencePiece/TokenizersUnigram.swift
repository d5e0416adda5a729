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
        let path = UnigramViterbi.bestPath(s, trie: trie, unkId: unkId, unkScore: minScore - 10) { id, _ -> Double? in
            scores[Int(id)]
        }
        // Runs of unknowns fuse into one token.
        var tokens: [(start: Int, end: Int, id: Int32)] = []
        for piece in path {
            if piece.id == unkId, let last = tokens.last, last.id == unkId {
                tokens[tokens.count - 1].end = piece.end
            } else {
                tokens.append(piece)
            }
        }
        for t in tokens {
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
