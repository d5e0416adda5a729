import Foundation
import XCTest
@testable import Trainer

/// The Swift SentencePiece tokenizer against its references: `parity/sentencepiece_parity.py`
/// trains small unigram models with the `sentencepiece` package (nmt_nfkc; with and without byte
/// fallback; with user-defined symbols) and writes the ids of the `sentencepiece` library and of
/// transformers' `T5TokenizerFast` for ~10 000 generated strings. Skipped (with a printed reason)
/// when `import sentencepiece, transformers, google.protobuf` fails.
final class SentencePieceParityTests: XCTestCase {
    static let script = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .appendingPathComponent("parity/sentencepiece_parity.py")

    struct Strings: Decodable { var strings: [String]; var t5_only: [String] }
    struct Expected: Decodable {
        var variant_ids: [[Int32]]; var sp_ids: [[Int32]]; var sp_decoded: [String]; var fast_ids: [[Int32]]; var fast_t5_only_ids: [[Int32]]
        var fast_vocab_size: Int; var sp_piece_size: Int
    }
    struct SwiftIds: Encodable { var ids: [[Int32]]; var vocabulary_size: Int }


    /// Asserts `actual[i] == expected[i]` for every string, reporting the count and the first few differences.
    func assertSameIds(_ actual: [[Int32]], _ expected: [[Int32]], _ texts: [String], _ what: String,
                       file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertEqual(actual.count, expected.count, what, file: file, line: line)
        let bad = zip(texts, zip(actual, expected)).filter { $1.0 != $1.1 }
        print("SentencePieceParityTests: \(what): \(texts.count - bad.count)/\(texts.count) strings give the same ids")
        for (s, (a, e)) in bad.prefix(5) {
            print("  \(s.debugDescription)\n    swift    \(a)\n    expected \(e)")
        }
        XCTAssertTrue(bad.isEmpty, "\(what): \(bad.count) of \(texts.count) strings differ", file: file, line: line)
    }

    func testIdsMatchSentencePieceAndTransformers() throws {
        try skipUnlessPythonImports("sentencepiece, transformers, google.protobuf", test: "SentencePieceParityTests")
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("stepwise-spm-\(getpid())")
        try? FileManager.default.removeItem(at: dir)
        defer { try? FileManager.default.removeItem(at: dir) }
        let made = try runPython([Self.script.path, "make", dir.path])
        XCTAssertEqual(made.status, 0, made.output)
        guard made.status == 0 else { return }

        let strings = try JSONDecoder().decode(Strings.self, from: Data(contentsOf: dir.appendingPathComponent("strings.json")))
        let texts = strings.strings
        XCTAssertGreaterThanOrEqual(texts.count, 10_000)
        for name in ["t5like", "bytefallback", "userdefined"] {
            let folder = dir.appendingPathComponent(name)
            let expected = try JSONDecoder().decode(Expected.self, from: Data(contentsOf: folder.appendingPathComponent("expected.json")))

            // spiece.model, sentencepiece's rules: the sentencepiece library's ids and decoding.
            let sp = try SentencePieceTokenizer.load(from: folder)
            XCTAssertEqual(sp.reference, .sentencePiece)
            assertSameIds(texts.map { sp.encode($0, appendEOS: false) }, expected.sp_ids, texts, "\(name): spiece.model vs sentencepiece")
            let decoded = expected.sp_ids.map(sp.decode)
            let badDecodes = zip(texts, zip(decoded, expected.sp_decoded)).filter { $1.0 != $1.1 }
            for (s, (a, e)) in badDecodes.prefix(5) { print("  decode of \(s.debugDescription): swift \(a.debugDescription), sentencepiece \(e.debugDescription)") }
            XCTAssertTrue(badDecodes.isEmpty, "\(name): \(badDecodes.count) decodes differ from sentencepiece's")

            // T5 conventions: sentinels after the pieces, transformers' vocabulary size.
            XCTAssertEqual(sp.vocabularySize, expected.fast_vocab_size, name)
            XCTAssertEqual(sp.id(of: "<extra_id_0>"), Int32(expected.fast_vocab_size - 1))
            XCTAssertEqual(sp.id(of: "<extra_id_99>"), Int32(expected.sp_piece_size))
            XCTAssertEqual([sp.padId, sp.eosId, sp.unkId], [0, 1, 2])

            // tokenizer.json alone (transformers' rules): T5TokenizerFast's ids, eos appended.
            let fast = try SentencePieceTokenizer.load(from: folder.appendingPathComponent("fast"))
            XCTAssertEqual(fast.reference, .transformers)
            XCTAssertEqual(fast.vocabularySize, expected.fast_vocab_size)
            assertSameIds(texts.map { fast.encode($0, appendEOS: true) }, expected.fast_ids, texts, "\(name): tokenizer.json vs T5TokenizerFast")
            assertSameIds(strings.t5_only.map { fast.encode($0, appendEOS: true) }, expected.fast_t5_only_ids, strings.t5_only,
                          "\(name): tokenizer.json vs T5TokenizerFast, with sentinels and special tokens")

            // Another tokenizer.json layout (Strip + Replace normalizers, Metaspace prepending only
            // at the start, no split) against the tokenizers library itself.
            let variant = try SentencePieceTokenizer(tokenizerJSON: folder.appendingPathComponent("variant/tokenizer.json"))
            let all = texts + strings.t5_only
            assertSameIds(all.map { variant.encode($0, appendEOS: true) }, expected.variant_ids, all, "\(name): other tokenizer.json layout vs tokenizers")

            // spiece.model read with transformers' rules (its conversion of the model).
            let converted = try SentencePieceTokenizer.load(from: folder, reference: .transformers)
            assertSameIds(texts.map { converted.encode($0, appendEOS: true) }, expected.fast_ids, texts, "\(name): spiece.model (transformers' rules) vs T5TokenizerFast")
            assertSameIds(strings.t5_only.map { converted.encode($0, appendEOS: true) }, expected.fast_t5_only_ids, strings.t5_only,
                          "\(name): spiece.model (transformers' rules) vs T5TokenizerFast, with sentinels and special tokens")

            // How often the two libraries themselves disagree (not a Swift property; reported).
            let libraryDifferences = zip(expected.sp_ids, expected.fast_ids).filter { $0 + [1] != $1 }.count
            print("SentencePieceParityTests: \(name): sentencepiece and T5TokenizerFast differ on \(libraryDifferences)/\(texts.count) strings")

            // Saving: AutoTokenizer must open what we write and give our (transformers-rule) ids.
            for (tokenizer, savedName) in [(sp, "saved-\(name)"), (fast, "saved-\(name)-json")] {
                let saved = dir.appendingPathComponent(savedName)
                try tokenizer.save(to: saved)
                let reloaded = try SentencePieceTokenizer.load(from: saved, reference: .transformers)
                let ids = SwiftIds(ids: all.map { reloaded.encode($0, appendEOS: true) }, vocabulary_size: reloaded.vocabularySize)
                try JSONEncoder().encode(ids).write(to: saved.appendingPathComponent("swift_ids.json"))
            }
        }
        // A real BPE model from the sentencepiece trainer is refused, naming the file.
        let bpe = dir.appendingPathComponent("bpe/spiece.model")
        XCTAssertThrowsError(try SentencePieceTokenizer.load(from: bpe.deletingLastPathComponent())) { error in
            XCTAssertTrue("\(error)".contains(bpe.path) && "\(error)".contains("model_type is bpe"), "\(error)")
        }

        let checked = try runPython([Self.script.path, "check", dir.path])
        print(checked.output)
        XCTAssertEqual(checked.status, 0, "AutoTokenizer on the saved folders:\n\(checked.output)")
    }
}
