import Foundation

/// A pretrained checkpoint's SentencePiece (Unigram) tokenizer, read from `spiece.model` or from a
/// transformers `tokenizer.json`, with T5's conventions: `<pad>` = 0, `</s>` = 1 (appended by
/// `encode(_:appendEOS: true)`), `<unk>` = 2, and the 100 sentinel tokens `<extra_id_0>` …
/// `<extra_id_99>` that transformers adds after the model's pieces (`<extra_id_0>` is the last id).
///
/// `reference` says whose ids `encode` reproduces exactly:
/// - `.sentencePiece`: the `sentencepiece` library (`SentencePieceProcessor.encode`) — the default
///   for `spiece.model`. Sentinel tokens in the text are matched first, like transformers does.
/// - `.transformers`: transformers' fast tokenizer (`T5TokenizerFast`, the Rust `tokenizers`
///   library) — the default for `tokenizer.json`, and what `AutoTokenizer` gives for a folder.
///   For `spiece.model` this follows transformers' own conversion of the model (special and
///   user-defined pieces become added tokens; byte fallback is dropped, as transformers' T5
///   converter does).
/// The two agree on ordinary text for models without byte fallback or user-defined symbols;
/// they differ where the libraries differ (see Sources/Trainer/README.md).
public final class SentencePieceTokenizer: TextTokenizer, @unchecked Sendable {
    public enum Reference: String, Sendable { case sentencePiece, transformers }

    private enum Engine {
        case sentencePiece(SentencePieceNormalizer, SentencePieceSegmenter, sentinels: PieceTrie?)
        case transformers(FastTokenizerPipeline)
    }

    public let reference: Reference
    /// id → piece, for the model's pieces and then the added tokens (sentinels).
    public let pieces: [String]
    public let vocabularySize: Int
    public let padId: Int32
    public let eosId: Int32
    public let unkId: Int32
    /// True when unknown characters are spelled as `<0xNN>` byte pieces.
    public let byteFallback: Bool

    private let engine: Engine
    private let decoding: SentencePieceDecoding
    private let ids: [String: Int32]
    /// The files this tokenizer was read from, written back by `save(to:)`.
    let files: SavedFiles

    struct SavedFiles {
        var spieceModel: Data?
        var tokenizerJSON: Data?
        var tokenizerConfig: Data?
        var specialTokensMap: Data?
        var extraIds: Int
        /// For a `spiece.model`: the tokenizer.json of transformers' conversion of it.
        var conversion: FastTokenizerFile?
    }

    /// The number of sentinel tokens transformers' T5 tokenizers add.
    public static let t5ExtraIds = 100

    // MARK: - Loading

    /// Reads a checkpoint folder: `spiece.model` when it has one (default reference
    /// `.sentencePiece`), else `tokenizer.json` (reference `.transformers`). The number of
    /// sentinels comes from `tokenizer_config.json`'s `extra_ids` when present (T5's 100 otherwise).
    public static func load(from folder: URL, reference: Reference? = nil) throws -> SentencePieceTokenizer {
        let fm = FileManager.default
        let spiece = folder.appendingPathComponent("spiece.model")
        let json = folder.appendingPathComponent("tokenizer.json")
        let configURL = folder.appendingPathComponent("tokenizer_config.json")
        let config = try? Data(contentsOf: configURL)
        let specialMap = try? Data(contentsOf: folder.appendingPathComponent("special_tokens_map.json"))
        var extraIds = t5ExtraIds
        if let config, let object = (try? JSONSerialization.jsonObject(with: config)) as? [String: Any],
           let n = object["extra_ids"] as? Int {
            guard n >= 0 else { throw TrainerError.badFile("\(configURL.path): extra_ids \(n) is negative") }
            extraIds = n
        }
        let useJSON = !fm.fileExists(atPath: spiece.path) || (reference == .transformers && fm.fileExists(atPath: json.path))
        if useJSON {
            guard fm.fileExists(atPath: json.path) else {
                throw TrainerError.badFile("\(folder.path): no spiece.model or tokenizer.json (a SentencePiece tokenizer folder needs one of them)")
            }
            guard reference != .sentencePiece else {
                throw TrainerError.unsupported("\(folder.path): reference .sentencePiece needs spiece.model; the folder has only tokenizer.json")
            }
            let t = try SentencePieceTokenizer(tokenizerJSON: json)
            return SentencePieceTokenizer(copying: t, config: config, specialTokensMap: specialMap)
        }
        let t = try SentencePieceTokenizer(modelFile: spiece, reference: reference ?? .sentencePiece, extraIds: extraIds)
        return SentencePieceTokenizer(copying: t, config: config, specialTokensMap: specialMap)
    }

    /// Reads a `spiece.model` (sentencepiece's `ModelProto`); only Unigram models are accepted.
    public convenience init(modelFile: URL, reference: Reference = .sentencePiece, extraIds: Int = SentencePieceTokenizer.t5ExtraIds) throws {
        let file = modelFile.path
        let data: Data
        do { data = try Data(contentsOf: modelFile) } catch { throw TrainerError.badFile("\(file): cannot read (\(error.localizedDescription))") }
        let model = try SentencePieceModelProto(bytes: [UInt8](data), file: file)
        guard model.modelType == .unigram else {
            throw TrainerError.unsupported("\(file): model_type is \(model.modelType) — only UNIGRAM sentencepiece models are supported")
        }
        guard !model.hasDenormalizerRules else { throw TrainerError.unsupported("\(file): a denormalizer_spec with rules") }
        guard !model.treatWhitespaceAsSuffix else { throw TrainerError.unsupported("\(file): treat_whitespace_as_suffix") }
        let segmenter = try SentencePieceSegmenter(model: model, file: file)
        let charsMap = model.normalizer.precompiledCharsmap.isEmpty ? nil : try PrecompiledCharsMap(blob: model.normalizer.precompiledCharsmap, file: file)
        var pieces = model.pieces.map(\.piece)
        let sentinels = (0..<extraIds).reversed().map { "<extra_id_\($0)>" }
        pieces += sentinels
        let firstSentinel = Int32(model.pieces.count)
        let unkId = model.pieces.firstIndex { $0.type == .unknown }.map(Int32.init) ?? 0
        // transformers' T5 conversion: the vocabulary with its scores, byte fallback off, the
        // special and user-defined pieces and the sentinels matched as added tokens, spaces
        // handled by WhitespaceSplit + Metaspace(always).
        var added: [AddedToken] = []
        for (i, p) in model.pieces.enumerated() where p.type == .control || p.type == .unknown || p.type == .userDefined {
            added.append(AddedToken(content: p.piece, id: Int32(i), special: p.type != .userDefined))
        }
        for (k, s) in sentinels.enumerated() { added.append(AddedToken(content: s, id: firstSentinel + Int32(k))) }
        let eosId = Self.specialId(model.eosId, "</s>", pieces, fallback: 1)
        let conversion = FastTokenizerFile(pieces: model.pieces.map { ($0.piece, $0.score) }, unkId: unkId,
                                           charsMap: model.normalizer.precompiledCharsmap, addedTokens: added,
                                           eos: (pieces[Int(eosId)], eosId))
        let engine: Engine
        switch reference {
        case .sentencePiece:
            let matcher = sentinels.isEmpty ? nil : PieceTrie(sentinels.enumerated().map { (Array($1.utf8), firstSentinel + Int32($0)) })
            engine = .sentencePiece(try SentencePieceNormalizer(model: model, file: file), segmenter, sentinels: matcher)
        case .transformers:
            let unigram = TokenizersUnigram(vocabulary: model.pieces.map { ($0.piece, Double($0.score)) }, unkId: unkId, byteFallback: false)
            engine = .transformers(FastTokenizerPipeline(addedTokens: added, normalizers: charsMap.map { [.precompiled($0)] } ?? [],
                                                         preTokenizers: [.whitespaceSplit, .metaspace(replacement: UTF8Bytes.spaceSymbol, prepend: .always, split: true)],
                                                         model: unigram))
        }
        let types = model.pieces.map(\.type) + Array(repeating: .control, count: extraIds)
        self.init(reference: reference, pieces: pieces, engine: engine, byteFallback: reference == .sentencePiece && model.byteFallback,
                  unkId: unkId,
                  padId: Self.specialId(model.padId, "<pad>", pieces, fallback: 0),
                  eosId: eosId,
                  decoding: SentencePieceDecoding(pieces: pieces, types: types, unkSurface: model.unkSurface,
                                                  addDummyPrefix: model.normalizer.addDummyPrefix,
                                                  removeExtraWhitespaces: model.normalizer.removeExtraWhitespaces),
                  files: SavedFiles(spieceModel: data, extraIds: extraIds, conversion: conversion))
    }

    /// Reads a transformers `tokenizer.json` with a Unigram model (reference `.transformers`).
    public convenience init(tokenizerJSON url: URL) throws {
        let file = url.path
        let data: Data
        do { data = try Data(contentsOf: url) } catch { throw TrainerError.badFile("\(file): cannot read (\(error.localizedDescription))") }
        let json = try TokenizerJSON(data: data, file: file)
        let size = max(json.vocabulary.count, Int(json.addedTokens.map(\.id).max() ?? -1) + 1)
        var pieces = json.vocabulary.map(\.piece) + Array(repeating: "", count: size - json.vocabulary.count)
        var types = [SentencePieceModelProto.PieceType](repeating: .normal, count: size)
        for t in json.addedTokens {
            guard t.id >= 0 else { throw TrainerError.badFile("\(file): added token \(t.content) has id \(t.id)") }
            pieces[Int(t.id)] = t.content
            types[Int(t.id)] = t.special ? .control : .userDefined
        }
        types[Int(json.unkId)] = .unknown
        if json.byteFallback {
            for (i, p) in pieces.enumerated() where UTF8Bytes.byteValue(ofPiece: p) != nil { types[i] = .byte }
        }
        let unigram = TokenizersUnigram(vocabulary: json.vocabulary, unkId: json.unkId, byteFallback: json.byteFallback)
        let pipeline = FastTokenizerPipeline(addedTokens: json.addedTokens, normalizers: json.normalizers,
                                             preTokenizers: json.preTokenizers, model: unigram)
        let prepends = json.preTokenizers.contains { if case .metaspace(_, let p, _) = $0 { return p != .never } else { return false } }
        let ids = Dictionary(pieces.enumerated().map { ($1, Int32($0)) }, uniquingKeysWith: { first, _ in first })
        self.init(reference: .transformers, pieces: pieces, engine: .transformers(pipeline), byteFallback: json.byteFallback,
                  unkId: json.unkId,
                  padId: ids["<pad>"] ?? 0, eosId: ids["</s>"] ?? 1,
                  decoding: SentencePieceDecoding(pieces: pieces, types: types, unkSurface: " \u{2047} ",
                                                  addDummyPrefix: prepends, removeExtraWhitespaces: true),
                  files: SavedFiles(tokenizerJSON: data, extraIds: pieces.filter { $0.hasPrefix("<extra_id_") }.count))
    }

    private init(reference: Reference, pieces: [String], engine: Engine, byteFallback: Bool, unkId: Int32,
                 padId: Int32, eosId: Int32, decoding: SentencePieceDecoding, files: SavedFiles) {
        self.reference = reference
        self.pieces = pieces
        self.vocabularySize = pieces.count
        self.engine = engine
        self.byteFallback = byteFallback
        self.unkId = unkId
        self.padId = padId
        self.eosId = eosId
        self.decoding = decoding
        self.files = files
        self.ids = Dictionary(pieces.enumerated().map { ($1, Int32($0)) }, uniquingKeysWith: { first, _ in first })
    }

    private convenience init(copying t: SentencePieceTokenizer, config: Data?, specialTokensMap: Data?) {
        var files = t.files
        files.tokenizerConfig = config
        files.specialTokensMap = specialTokensMap
        self.init(reference: t.reference, pieces: t.pieces, engine: t.engine, byteFallback: t.byteFallback, unkId: t.unkId,
                  padId: t.padId, eosId: t.eosId, decoding: t.decoding, files: files)
    }

    /// The id the trainer spec gives, else the id of the piece with T5's name, else T5's id.
    private static func specialId(_ specId: Int32, _ name: String, _ pieces: [String], fallback: Int32) -> Int32 {
        if specId >= 0 && Int(specId) < pieces.count { return specId }
        return pieces.firstIndex(of: name).map(Int32.init) ?? fallback
    }

    // MARK: - Encoding and decoding

    public func encode(_ text: String, appendEOS: Bool) -> [Int32] {
        var out: [Int32] = []
        switch engine {
        case .sentencePiece(let normalizer, let segmenter, let sentinels):
            let bytes = Array(text.utf8)
            func segment(_ range: Range<Int>) {
                guard !range.isEmpty else { return }
                let normalized = normalizer.normalize(Array(bytes[range]))
                normalized.withUnsafeBufferPointer { segmenter.encode($0, into: &out) }
            }
            guard let sentinels else { segment(0..<bytes.count); break }
            var start = 0, i = 0
            bytes.withUnsafeBufferPointer { buffer in
                while i < buffer.count {
                    if let m = sentinels.longestPrefix(buffer, from: i, to: buffer.count) {
                        segment(start..<i); out.append(m.id)
                        i += m.length; start = i
                    } else {
                        i += UTF8Bytes.charLength(lead: buffer[i])
                    }
                }
            }
            segment(start..<bytes.count)
        case .transformers(let pipeline):
            pipeline.encode(text, into: &out)
        }
        if appendEOS { out.append(eosId) }
        return out
    }

    /// Ids without the end-of-sequence id.
    public func encode(_ text: String) -> [Int32] { encode(text, appendEOS: false) }

    /// The pieces of `text` (for inspection; `<0xNN>` for byte-fallback bytes).
    public func encodeAsPieces(_ text: String) -> [String] {
        encode(text, appendEOS: false).map { pieces[Int($0)] }
    }

    /// Text of `ids` as `sentencepiece` decodes them: control ids (pad, eos, sentinels) are
    /// dropped, "▁" becomes a space and the leading space is removed, byte pieces are re-assembled
    /// into UTF-8 (a malformed byte becomes U+FFFD), an unknown id reads " ⁇ ". Out-of-range ids
    /// are skipped.
    public func decode(_ ids: [Int32]) -> String { decoding.decode(ids) }

    /// Id of a piece or added token, if present.
    public func id(of piece: String) -> Int32? { ids[piece] }
}
