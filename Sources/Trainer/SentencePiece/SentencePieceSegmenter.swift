import Foundation

/// Unigram segmentation exactly as the `sentencepiece` library does it (`unigram::Model::
/// EncodeOptimized`, then `PopulateSentencePieceText`):
/// - the Viterbi walk both libraries share (`UnigramViterbi`) over the normalized bytes;
/// - path scores are Float sums, as sentencepiece stores and adds them: two segmentations with equal
///   real-number scores (`5`+`55` vs `55`+`5`) differ by Float rounding, and the rounding decides
///   which one wins, so Double arithmetic would break such ties differently (it does on ~0.1 % of
///   the parity test's strings);
/// - a user-defined piece scores `length_in_bytes * max_score - 0.1` (max over normal pieces, at
///   least FLT_MIN), so it always wins; unused pieces are never chosen;
/// - a character no piece of exactly its length covers gets an unknown node scored `min_score - 10`;
/// - afterwards an unknown piece is spelled as `<0xNN>` byte pieces when the model has byte
///   fallback, else consecutive unknown pieces merge into one unknown id.
struct SentencePieceSegmenter: Sendable {
    private let trie: PieceTrie
    private let scores: [Float]
    private let types: [SentencePieceModelProto.PieceType]
    private let unkId: Int32
    private let minScore: Float
    private let maxScore: Float
    /// Byte → id of its `<0xNN>` piece (the unknown id where absent), when the model has byte fallback.
    private let byteIds: [Int32]?

    init(model: SentencePieceModelProto, file: String) throws {
        var keys: [([UInt8], Int32)] = []
        var seen = Set<String>()
        var minScore = Float.greatestFiniteMagnitude, maxScore = Float.leastNormalMagnitude
        var unkId: Int32? = nil
        var byteIds = [Int32](repeating: -1, count: 256)
        for (i, p) in model.pieces.enumerated() {
            guard seen.insert(p.piece).inserted else { throw TrainerError.badFile("\(file): piece \"\(p.piece)\" (id \(i)) is defined twice") }
            switch p.type {
            case .normal, .userDefined, .unused: keys.append((Array(p.piece.utf8), Int32(i)))
            case .unknown:
                guard unkId == nil else { throw TrainerError.badFile("\(file): more than one unknown piece (ids \(unkId!) and \(i))") }
                unkId = Int32(i)
            case .byte:
                guard model.byteFallback else { throw TrainerError.badFile("\(file): byte piece \(p.piece) but trainer_spec.byte_fallback is false") }
                guard let b = UTF8Bytes.byteValue(ofPiece: p.piece) else { throw TrainerError.badFile("\(file): byte piece \"\(p.piece)\" is not <0xNN>") }
                byteIds[Int(b)] = Int32(i)
            case .control: break
            }
            if p.type == .normal { minScore = min(minScore, p.score); maxScore = max(maxScore, p.score) }
        }
        guard let unkId else { throw TrainerError.badFile("\(file): the model has no unknown piece") }
        self.trie = PieceTrie(keys)
        self.scores = model.pieces.map(\.score)
        self.types = model.pieces.map(\.type)
        self.unkId = unkId
        self.minScore = minScore
        self.maxScore = maxScore
        self.byteIds = model.byteFallback ? byteIds.map { $0 < 0 ? unkId : $0 } : nil
    }

    /// Appends the ids of the normalized text `s` to `out`.
    func encode(_ s: UnsafeBufferPointer<UInt8>, into out: inout [Int32]) {
        let path = UnigramViterbi.bestPath(s, trie: trie, unkId: unkId, unkScore: minScore - 10) { id, length -> Float? in
            switch types[Int(id)] {
            case .unused: return nil
            case .userDefined: return Float(Double(Float(length) * maxScore) - 0.1)
            default: return scores[Int(id)]
            }
        }
        var previousWasUnknown = false
        for piece in path {
            let isUnknown = piece.id == unkId
            if isUnknown, let byteIds {
                for i in piece.start..<piece.end { out.append(byteIds[Int(s[i])]) }
            } else if !(isUnknown && previousWasUnknown) {
                out.append(piece.id)
            }
            previousWasUnknown = isUnknown
        }
    }
}
