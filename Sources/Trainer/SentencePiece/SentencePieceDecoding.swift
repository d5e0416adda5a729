import Foundation

/// Decoding ids to text as `sentencepiece` does (`SentencePieceProcessor::Decode`).
struct SentencePieceDecoding: Sendable {
    let pieces: [[UInt8]]
    let types: [SentencePieceModelProto.PieceType]
    let byteValues: [Int16]
    let unkSurface: [UInt8]
    let addDummyPrefix: Bool
    let removeExtraWhitespaces: Bool

    init(pieces: [String], types: [SentencePieceModelProto.PieceType], unkSurface: String, addDummyPrefix: Bool, removeExtraWhitespaces: Bool) {
        self.pieces = pieces.map { Array($0.utf8) }
        self.types = types
        self.byteValues = pieces.map { UTF8Bytes.byteValue(ofPiece: $0).map(Int16.init) ?? -1 }
        self.unkSurface = Array(unkSurface.utf8)
        self.addDummyPrefix = addDummyPrefix
        self.removeExtraWhitespaces = removeExtraWhitespaces
    }

    func decode(_ ids: [Int32]) -> String {
        var text: [UInt8] = []
        var pendingBytes: [UInt8] = []
        // Byte pieces are collected and turned into characters; a malformed byte reads U+FFFD.
        func flushBytes() {
            var i = 0
            while i < pendingBytes.count {
                if let n = UTF8Bytes.validCharLength(pendingBytes, at: i) {
                    text += pendingBytes[i..<(i + n)]; i += n
                } else {
                    text += UTF8Bytes.replacementCharacter; i += 1
                }
            }
            pendingBytes.removeAll(keepingCapacity: true)
        }
        // The leading "▁" of the first piece that produces text is the dummy prefix: dropped.
        var atStart = true, consumedLeadingSpace = false
        for id in ids {
            guard id >= 0 && Int(id) < pieces.count else { continue }
            let type = types[Int(id)]
            if type == .byte, byteValues[Int(id)] >= 0 { pendingBytes.append(UInt8(byteValues[Int(id)])); continue }
            flushBytes()
            if consumedLeadingSpace || !text.isEmpty { atStart = false }
            consumedLeadingSpace = false
            switch type {
            case .control: continue
            case .unknown: text += unkSurface; continue
            default: break
            }
            var piece = pieces[Int(id)][...]
            if atStart && (addDummyPrefix || removeExtraWhitespaces) && piece.starts(with: UTF8Bytes.spaceSymbol) {
                piece = piece.dropFirst(3)
                consumedLeadingSpace = !removeExtraWhitespaces
            }
            var i = piece.startIndex
            while i < piece.endIndex {
                if piece[i] == 0xE2, piece.endIndex - i >= 3, piece[i + 1] == 0x96, piece[i + 2] == 0x81 {
                    text.append(0x20); i += 3
                } else {
                    text.append(piece[i]); i += 1
                }
            }
        }
        flushBytes()
        return String(decoding: text, as: UTF8.self)
    }
}
