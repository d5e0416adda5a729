import Foundation

/// The parts of sentencepiece's `ModelProto` (sentencepiece_model.proto) that encoding and
/// decoding use; everything else in the file (training options, self-test data) is skipped.
/// Defaults are the proto's own, since a field at its default may be absent from the file.
public struct SentencePieceModelProto: Sendable {
    public enum PieceType: Int, Sendable {
        case normal = 1, unknown = 2, control = 3, userDefined = 4, unused = 5, byte = 6
    }

    public struct Piece: Sendable {
        public var piece: String
        public var score: Float = 0
        public var type: PieceType = .normal
    }

    public enum ModelType: Int, Sendable { case unigram = 1, bpe = 2, word = 3, char = 4 }

    public struct NormalizerSpec: Sendable {
        public var name = ""
        /// `<uint32 trie size><double-array trie><NUL-separated normalized strings>`; empty = identity.
        public var precompiledCharsmap: [UInt8] = []
        public var addDummyPrefix = true
        public var removeExtraWhitespaces = true
        public var escapeWhitespaces = true
    }

    public var pieces: [Piece] = []
    public var modelType: ModelType = .unigram
    public var byteFallback = false
    public var treatWhitespaceAsSuffix = false
    public var unkId: Int32 = 0, bosId: Int32 = 1, eosId: Int32 = 2, padId: Int32 = -1
    public var unkSurface = " \u{2047} "
    public var normalizer = NormalizerSpec()
    /// True when the file has a denormalizer with rules (decoding would have to apply them).
    public var hasDenormalizerRules = false

    /// Parses a serialized `ModelProto`; `file` names the file in errors.
    public init(bytes: [UInt8], file: String) throws {
        guard !bytes.isEmpty else { throw TrainerError.badFile("\(file): empty file, not a sentencepiece model") }
        var r = ProtobufReader(bytes: bytes, context: file)
        var sawTrainerSpec = false
        while let (number, wire) = try r.nextField() {
            switch number {
            case 1:
                try r.expect(.lengthDelimited, wire, field: "pieces")
                pieces.append(try Self.piece(bytes, try r.lengthDelimited(), file: file))
            case 2:
                try r.expect(.lengthDelimited, wire, field: "trainer_spec")
                try readTrainerSpec(bytes, try r.lengthDelimited(), file: file)
                sawTrainerSpec = true
            case 3:
                try r.expect(.lengthDelimited, wire, field: "normalizer_spec")
                normalizer = try Self.normalizerSpec(bytes, try r.lengthDelimited(), file: file)
            case 5:
                try r.expect(.lengthDelimited, wire, field: "denormalizer_spec")
                hasDenormalizerRules = !(try Self.normalizerSpec(bytes, try r.lengthDelimited(), file: file)).precompiledCharsmap.isEmpty
            default:
                try r.skip(wire)
            }
        }
        guard !pieces.isEmpty else { throw TrainerError.badFile("\(file): no pieces — not a sentencepiece model") }
        guard sawTrainerSpec else { throw TrainerError.badFile("\(file): no trainer_spec — not a sentencepiece model") }
    }

    private static func piece(_ bytes: [UInt8], _ range: Range<Int>, file: String) throws -> Piece {
        var r = ProtobufReader(bytes: bytes, range: range, context: "\(file) (pieces)")
        var p = Piece(piece: "")
        var sawPiece = false
        while let (number, wire) = try r.nextField() {
            switch number {
            case 1: try r.expect(.lengthDelimited, wire, field: "piece"); p.piece = try r.string(); sawPiece = true
            case 2: try r.expect(.fixed32, wire, field: "score"); p.score = try r.float()
            case 3:
                try r.expect(.varint, wire, field: "type")
                let raw = try r.varint()
                guard let t = PieceType(rawValue: Int(truncatingIfNeeded: raw)) else { throw r.error("unknown piece type \(raw)") }
                p.type = t
            default: try r.skip(wire)
            }
        }
        guard sawPiece, !p.piece.isEmpty else { throw r.error("a piece without its text") }
        return p
    }

    private mutating func readTrainerSpec(_ bytes: [UInt8], _ range: Range<Int>, file: String) throws {
        var r = ProtobufReader(bytes: bytes, range: range, context: "\(file) (trainer_spec)")
        while let (number, wire) = try r.nextField() {
            switch number {
            case 3:
                try r.expect(.varint, wire, field: "model_type")
                let raw = try r.varint()
                guard let t = ModelType(rawValue: Int(truncatingIfNeeded: raw)) else { throw r.error("unknown model_type \(raw)") }
                modelType = t
            case 24: try r.expect(.varint, wire, field: "treat_whitespace_as_suffix"); treatWhitespaceAsSuffix = try r.bool()
            case 35: try r.expect(.varint, wire, field: "byte_fallback"); byteFallback = try r.bool()
            case 40: try r.expect(.varint, wire, field: "unk_id"); unkId = try r.int32()
            case 41: try r.expect(.varint, wire, field: "bos_id"); bosId = try r.int32()
            case 42: try r.expect(.varint, wire, field: "eos_id"); eosId = try r.int32()
            case 43: try r.expect(.varint, wire, field: "pad_id"); padId = try r.int32()
            case 44: try r.expect(.lengthDelimited, wire, field: "unk_surface"); unkSurface = try r.string()
            default: try r.skip(wire)
            }
        }
    }

    private static func normalizerSpec(_ bytes: [UInt8], _ range: Range<Int>, file: String) throws -> NormalizerSpec {
        var r = ProtobufReader(bytes: bytes, range: range, context: "\(file) (normalizer_spec)")
        var spec = NormalizerSpec()
        while let (number, wire) = try r.nextField() {
            switch number {
            case 1: try r.expect(.lengthDelimited, wire, field: "name"); spec.name = try r.string()
            case 2: try r.expect(.lengthDelimited, wire, field: "precompiled_charsmap"); spec.precompiledCharsmap = Array(bytes[try r.lengthDelimited()])
            case 3: try r.expect(.varint, wire, field: "add_dummy_prefix"); spec.addDummyPrefix = try r.bool()
            case 4: try r.expect(.varint, wire, field: "remove_extra_whitespaces"); spec.removeExtraWhitespaces = try r.bool()
            case 5: try r.expect(.varint, wire, field: "escape_whitespaces"); spec.escapeWhitespaces = try r.bool()
            default: try r.skip(wire)
            }
        }
        return spec
    }
}
