import Foundation
import XCTest
@testable import Trainer

/// The SentencePiece tokenizer on small hand-built models (no Python needed): segmentation,
/// unknown pieces, byte fallback, whitespace, decoding, T5's conventions, and bad files.
final class SentencePieceTests: XCTestCase {
    /// Writes protobuf wire format, to build `spiece.model` files by hand.
    struct ProtoWriter {
        var bytes: [UInt8] = []
        mutating func varint(_ v: UInt64) {
            var v = v
            while v >= 0x80 { bytes.append(UInt8(v & 0x7F) | 0x80); v >>= 7 }
            bytes.append(UInt8(v))
        }
        mutating func field(_ n: Int, varint v: Int64) { varint(UInt64(n << 3)); varint(UInt64(bitPattern: v)) }
        mutating func field(_ n: Int, float f: Float) {
            varint(UInt64(n << 3 | 5))
            let b = f.bitPattern
            for i in 0..<4 { bytes.append(UInt8((b >> (8 * UInt32(i))) & 0xFF)) }
        }
        mutating func field(_ n: Int, bytes b: [UInt8]) { varint(UInt64(n << 3 | 2)); varint(UInt64(b.count)); bytes += b }
    }

    enum T: Int64 { case normal = 1, unknown = 2, control = 3, userDefined = 4, unused = 5, byte = 6 }

    static func model(_ pieces: [(String, Float, T)], modelType: Int64 = 1, byteFallback: Bool = false,
                      addDummyPrefix: Bool = true) -> [UInt8] {
        var w = ProtoWriter()
        for (text, score, type) in pieces {
            var p = ProtoWriter()
            p.field(1, bytes: Array(text.utf8)); p.field(2, float: score); p.field(3, varint: type.rawValue)
            w.field(1, bytes: p.bytes)
        }
        var trainer = ProtoWriter()
        trainer.field(3, varint: modelType)
        trainer.field(35, varint: byteFallback ? 1 : 0)
        trainer.field(40, varint: 2); trainer.field(41, varint: -1); trainer.field(42, varint: 1); trainer.field(43, varint: 0)
        w.field(2, bytes: trainer.bytes)
        var normalizer = ProtoWriter()
        normalizer.field(1, bytes: Array("identity".utf8))
        normalizer.field(3, varint: addDummyPrefix ? 1 : 0)
        w.field(3, bytes: normalizer.bytes)
        return w.bytes
    }

    /// ids: <pad> 0, </s> 1, <unk> 2, ▁ 3, a 4, b 5, ab 6, [label] 7, c 8, cc 9, (unused) zz 10
    static let basicPieces: [(String, Float, T)] = [
        ("<pad>", 0, .control), ("</s>", 0, .control), ("<unk>", 0, .unknown), ("\u{2581}", -1, .normal),
        ("a", -2, .normal), ("b", -2, .normal), ("ab", -3, .normal), ("[label]", 0, .userDefined),
        ("c", -1, .normal), ("cc", -2, .normal), ("zz", -0.5, .unused),
    ]

    var dir: URL!

    override func setUpWithError() throws {
        dir = FileManager.default.temporaryDirectory.appendingPathComponent("stepwise-spm-unit-\(getpid())-\(name.hashValue)")
        try? FileManager.default.removeItem(at: dir)
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
    }

    override func tearDownWithError() throws { try? FileManager.default.removeItem(at: dir) }

    func write(_ bytes: [UInt8], _ name: String = "spiece.model") throws -> URL {
        let url = dir.appendingPathComponent(name)
        try Data(bytes).write(to: url)
        return url
    }

    func tokenizer(_ bytes: [UInt8], reference: SentencePieceTokenizer.Reference = .sentencePiece) throws -> SentencePieceTokenizer {
        try SentencePieceTokenizer(modelFile: try write(bytes), reference: reference)
    }

    func testViterbiPicksTheBestSegmentation() throws {
        let t = try tokenizer(Self.model(Self.basicPieces))
        XCTAssertEqual(t.encode("ab"), [3, 6])                  // ▁ + ab (-4) beats ▁ + a + b (-5)
        XCTAssertEqual(t.encode("ba"), [3, 5, 4])
        // c+c+c, c+cc and cc+c all score -3: the first path found to each position is kept.
        XCTAssertEqual(t.encodeAsPieces("ccc"), ["\u{2581}", "c", "cc"])
        XCTAssertEqual(t.encode("zz"), [3, 2])                  // unused pieces are never chosen; z z → one unknown
    }

    func testConsecutiveUnknownsMergeIntoOne() throws {
        let t = try tokenizer(Self.model(Self.basicPieces))
        XCTAssertEqual(t.encode("abxyab"), [3, 6, 2, 6])
        XCTAssertEqual(t.encode("a x"), [3, 4, 3, 2])
        XCTAssertEqual(t.decode([3, 6, 2, 6]), "ab \u{2047} ab")
    }

    func testByteFallbackSpellsUnknownCharactersAsBytes() throws {
        var pieces = Self.basicPieces
        let firstByte = pieces.count
        for b in 0...255 { pieces.append((UTF8Bytes.bytePieceName(UInt8(b)), 0, .byte)) }
        let t = try tokenizer(Self.model(pieces, byteFallback: true))
        XCTAssertTrue(t.byteFallback)
        let ids = t.encode("ax😀")
        XCTAssertEqual(ids, [3, 4, Int32(firstByte + 0x78)] + Array("😀".utf8).map { Int32(firstByte + Int($0)) })
        XCTAssertEqual(t.decode(ids), "ax😀")
        // A lone continuation byte cannot be a character: it decodes to U+FFFD.
        XCTAssertEqual(t.decode([4, Int32(firstByte + 0x9F), 5]), "a\u{FFFD}b")
    }

    func testWhitespaceIsCollapsedAndEscaped() throws {
        let t = try tokenizer(Self.model(Self.basicPieces))
        XCTAssertEqual(t.encodeAsPieces("  a    b  "), ["\u{2581}", "a", "\u{2581}", "b"])
        // Without a charsmap a tab is an ordinary (here unknown) character, as in sentencepiece.
        XCTAssertEqual(t.encodeAsPieces("a\tb"), ["\u{2581}", "a", "<unk>", "b"])
        XCTAssertEqual(t.encode("   "), [])
        XCTAssertEqual(t.decode(t.encode("  a   b ")), "a b")
        let noPrefix = try tokenizer(Self.model(Self.basicPieces, addDummyPrefix: false))
        XCTAssertEqual(noPrefix.encode("ab a"), [6, 3, 4])
    }

    func testUserDefinedSymbolsAreMatchedFirst() throws {
        let t = try tokenizer(Self.model(Self.basicPieces))
        XCTAssertEqual(t.encode("[label]ab"), [3, 7, 6])
        XCTAssertEqual(t.encode("a[label]"), [3, 4, 7])
        // transformers' rules split it out before the dummy prefix: no "▁" in front.
        let fast = try tokenizer(Self.model(Self.basicPieces), reference: .transformers)
        XCTAssertEqual(fast.encode("[label]ab"), [7, 3, 6])
    }

    func testDecodeDropsControlIdsAndTheLeadingSpace() throws {
        let t = try tokenizer(Self.model(Self.basicPieces))
        XCTAssertEqual(t.decode([0, 3, 6, 3, 4, 1, 0]), "ab a")
        XCTAssertEqual(t.decode([3, 3, 4]), "a")                 // leading spaces go (remove_extra_whitespaces)
        XCTAssertEqual(t.decode([4, 999, -1, 5]), "ab")          // out-of-range ids are skipped
    }

    func testT5Conventions() throws {
        let t = try tokenizer(Self.model(Self.basicPieces))
        XCTAssertEqual(t.vocabularySize, Self.basicPieces.count + 100)
        XCTAssertEqual(t.id(of: "<extra_id_0>"), Int32(Self.basicPieces.count + 99))
        XCTAssertEqual(t.id(of: "<extra_id_99>"), Int32(Self.basicPieces.count))
        XCTAssertEqual([t.padId, t.eosId, t.unkId], [0, 1, 2])
        let sentinel = t.id(of: "<extra_id_0>")!
        XCTAssertEqual(t.encode("a <extra_id_0> b", appendEOS: true), [3, 4, sentinel, 3, 5, 1])
        XCTAssertEqual(t.decode([3, 4, sentinel, 3, 5, 1]), "a b")   // sentinels decode like control ids
    }

    func testBothTokenizersServeAsTextTokenizers() throws {
        let bpe = Tokenizer.train(texts: ["a b ab"], vocabSize: 40)
        let tokenizers: [TextTokenizer] = [bpe, try tokenizer(Self.model(Self.basicPieces))]
        for t in tokenizers {
            let ids = t.encode("ab a", appendEOS: true)
            XCTAssertEqual(ids.last, t.eosId)
            XCTAssertEqual(t.decode(ids), "ab a")
            XCTAssertEqual(t.padId, 0)
            XCTAssertLessThan(Int(ids.max()!), t.vocabularySize)
        }
        XCTAssertEqual((tokenizers[0] as TextTokenizer).encode("ab a", appendEOS: false), bpe.encode("ab a"))
    }

    func testGreedyGenerationTakesASentencePieceTokenizer() throws {
        let t = try tokenizer(Self.model(Self.basicPieces))
        let config = T5Config(dModel: 16, dKv: 4, dFF: 32, numLayers: 1, numDecoderLayers: 1, numHeads: 2,
                              vocabSize: t.vocabularySize, dropoutRate: 0)
        let model = T5Model(config: config, seed: 1)
        let out = model.generate(["ab a", "b"], tokenizer: t, maxNewTokens: 4)
        XCTAssertEqual(out.map(\.ids), model.greedyDecode(inputs: [t.encode("ab a"), t.encode("b")], maxNewTokens: 4))
        XCTAssertEqual(out.map(\.text), out.map { t.decode($0.ids) })
    }

    func testCheckpointFolderHoldsModelAndSentencePieceTokenizer() throws {
        let t = try tokenizer(Self.model(Self.basicPieces))
        let config = T5Config(dModel: 16, dKv: 4, dFF: 32, numLayers: 1, numDecoderLayers: 1, numHeads: 2,
                              vocabSize: t.vocabularySize, dropoutRate: 0)
        let model = T5Model(config: config, seed: 2)
        let folder = dir.appendingPathComponent("checkpoint")
        try model.save(to: folder)
        try t.save(to: folder)
        let (loaded, ownTokenizer) = try T5Model.load(from: folder)
        XCTAssertNil(ownTokenizer)                                   // the tokenizer.json is transformers'
        XCTAssertEqual(loaded.snapshot(), model.snapshot())
        XCTAssertEqual(try SentencePieceTokenizer.load(from: folder).encode("ab a"), t.encode("ab a"))
    }

    func testSavedFolderLoadsBack() throws {
        let t = try tokenizer(Self.model(Self.basicPieces))
        let saved = dir.appendingPathComponent("saved")
        try t.save(to: saved)
        for file in ["spiece.model", "tokenizer.json", "tokenizer_config.json", "special_tokens_map.json"] {
            XCTAssertTrue(FileManager.default.fileExists(atPath: saved.appendingPathComponent(file).path), file)
        }
        let again = try SentencePieceTokenizer.load(from: saved)
        XCTAssertEqual(again.encode("ab [label] xy", appendEOS: true), t.encode("ab [label] xy", appendEOS: true))
        let viaJSON = try SentencePieceTokenizer(tokenizerJSON: saved.appendingPathComponent("tokenizer.json"))
        let converted = try tokenizer(Self.model(Self.basicPieces), reference: .transformers)
        XCTAssertEqual(viaJSON.encode("ab [label] xy <extra_id_3>"), converted.encode("ab [label] xy <extra_id_3>"))
        XCTAssertEqual(viaJSON.vocabularySize, converted.vocabularySize)
    }

    // MARK: - Bad input

    func assertError(_ body: () throws -> Void, mentions parts: [String], file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertThrowsError(try body(), file: file, line: line) { error in
            let message = "\(error)"
            for part in parts { XCTAssertTrue(message.contains(part), "\"\(message)\" does not mention \(part)", file: file, line: line) }
        }
    }

    func testTruncatedModelIsAClearError() throws {
        let bytes = Self.model(Self.basicPieces)
        let url = try write(Array(bytes[0..<(bytes.count - 3)]))
        assertError({ _ = try SentencePieceTokenizer(modelFile: url) }, mentions: [url.path, "past the end"])
        // Every other cut fails cleanly too (or, cut exactly after trainer_spec, is a complete
        // model with the default normalizer — as sentencepiece would read it).
        for cut in 0..<bytes.count {
            let prefix = try write(Array(bytes[0..<cut]), "cut\(cut).model")
            do { _ = try SentencePieceTokenizer(modelFile: prefix) } catch {
                XCTAssertTrue("\(error)".contains(prefix.path), "\(error)")
            }
        }
    }

    func testGarbledModelIsAClearError() throws {
        var rng = SplitMix(seed: 7)
        for trial in 0..<20 {
            let url = try write((0..<300).map { _ in UInt8(truncatingIfNeeded: rng.next()) }, "garbled\(trial).model")
            assertError({ _ = try SentencePieceTokenizer(modelFile: url) }, mentions: [url.path])
        }
        let empty = try write([], "empty.model")
        assertError({ _ = try SentencePieceTokenizer(modelFile: empty) }, mentions: [empty.path, "empty"])
    }

    func testBPEModelIsRefused() throws {
        let url = try write(Self.model(Self.basicPieces, modelType: 2))
        assertError({ _ = try SentencePieceTokenizer(modelFile: url) }, mentions: [url.path, "model_type is bpe", "UNIGRAM"])
    }

    func testTokenizerJSONWithAnotherModelIsRefused() throws {
        let bpe = #"{"version": "1.0", "added_tokens": [], "model": {"type": "BPE", "vocab": {"a": 0}, "merges": []}}"#
        let url = dir.appendingPathComponent("tokenizer.json")
        try Data(bpe.utf8).write(to: url)
        assertError({ _ = try SentencePieceTokenizer(tokenizerJSON: url) }, mentions: [url.path, "model.type is BPE", "Unigram"])
        try Data(bpe.utf8.prefix(40)).write(to: url)
        assertError({ _ = try SentencePieceTokenizer(tokenizerJSON: url) }, mentions: [url.path, "not a JSON object"])
    }

    func testFolderWithoutTokenizerFilesIsAClearError() throws {
        assertError({ _ = try SentencePieceTokenizer.load(from: dir) }, mentions: [dir.path, "spiece.model", "tokenizer.json"])
    }
}

/// A tiny deterministic generator for the garbled-file test.
struct SplitMix {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
