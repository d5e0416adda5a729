import XCTest
@testable import Stepwise

/// Reading generated completions and judging each candidate: every rejection reason, exact and
/// normalized duplicates, and the normalization itself.
final class GenerationFilterTests: XCTestCase {
    static let splits = DatasetSplits(
        train: [Example(id: "train-0", input: "Ann has 3 cats and gets 2 more. How many cats does Ann have?", label: "( 3 + 2 )")],
        valid: [Example(id: "valid-0", input: "Bo has 9 pens and loses 4. How many pens does Bo have?", label: "( 9 - 4 )")],
        test: [Example(id: "test-0", input: "Cy buys 6 boxes of 5 eggs. How many eggs does Cy buy?", label: "( 6 * 5 )")])

    func judge(_ completion: String) -> [GeneratedCandidate] {
        var filter = GenerationFilter(splits: Self.splits, task: .svamp, mode: .paper, metric: .equation)
        return GeneratedExampleParser.blocks(completion).enumerated().map { filter.judge($1, id: "gen-0-\($0)", request: 0) }
    }

    func testNormalizedTextIgnoresCaseSpacingAndPunctuation() {
        XCTAssertEqual(NormalizedText.of("Mia has 12 apples."), "mia has 12 apples")
        XCTAssertEqual(NormalizedText.of("  mia  HAS\n12 apples!! "), "mia has 12 apples")
        XCTAssertEqual(NormalizedText.of("Ｍｉａ has １２ apples"), "mia has 12 apples")   // full-width forms (NFKC)
        XCTAssertNotEqual(NormalizedText.of("Mia has 12 apples"), NormalizedText.of("Mia has 13 apples"))
    }

    func testBlocksSkipThePreambleAndKeepMultiLineInputs() {
        let blocks = GeneratedExampleParser.blocks("""
            Here are two new problems:

            Q: Dee has 4 hats.
            Answer Choices:
            (a) ( 4 + 1 )
            A: She has 5. So the answer is (a) ( 4 + 1 ).
            Q: no answer here
            """)
        XCTAssertEqual(blocks.count, 2)
        XCTAssertEqual(blocks[0].input, "Dee has 4 hats.\nAnswer Choices:\n(a) ( 4 + 1 )")
        XCTAssertEqual(blocks[0].answer, "She has 5. So the answer is (a) ( 4 + 1 ).")
        XCTAssertNil(blocks[1].input)
        XCTAssertEqual(GeneratedExampleParser.blocks("I read 12 characters. The answer is ( 12 + 1 ).").map(\.input), [nil])
        XCTAssertTrue(GeneratedExampleParser.blocks("  \n").isEmpty)
    }

    func testEachRejectionReason() {
        let c = judge("""
            Q: Cy buys 6 boxes of 5 eggs. How many eggs does Cy buy?
            A: 6 * 5 = 30. The answer is ( 6 * 5 ).

            Q: bo has 9 pens, and loses 4 -- how many pens does bo have
            A: 9 - 4 = 5. The answer is ( 9 - 4 ).

            Q: Ann has 3 cats and gets 2 more. How many cats does Ann have?
            A: 3 + 2 = 5. The answer is ( 3 + 2 ).

            Q: Eve has 8 kites and buys 7 more. How many kites does Eve have?
            A: 8 + 7 = 15 kites. The answer is ( 8 + 7 ).

            Q: EVE has 8 kites and buys 7 more; how many kites does Eve have?
            A: 15. The answer is ( 8 + 7 ).

            Q: A block whose answer line is missing.

            Q: Fay reads 9 pages a day for 6 days. How many pages does Fay read?
            A: She reads 54 pages. So we get 54.

            Q: Gus shares 30 shells among 0 friends. How many shells does each get?
            A: The answer is ( 30 / 0 ).

            Q: Hal had 25 stamps and gave away 11. How many stamps are left?
            A: Hal has 25 - 11 = 14 stamps left. The answer is ( 25 - 11 ).
            """)
        XCTAssertEqual(c.map(\.verdict), [.duplicateOfTest, .duplicateOfValid, .duplicateOfTrain, .kept, .duplicateOfGenerated,
                                          .unparseable, .labelRejected, .labelRejected, .kept])
        XCTAssertEqual(c.map(\.match), ["exact", "normalized", "exact", nil, "normalized", nil, nil, nil, nil])
        XCTAssertEqual(c.map(\.duplicateOf), ["test-0", "valid-0", "train-0", nil, "gen-0-3", nil, nil, nil, nil])
        XCTAssertEqual(c[3].label, "( 8 + 7 )")
        XCTAssertEqual(c[3].rationale, "8 + 7 = 15 kites.")
        XCTAssertEqual(c[8].id, "gen-0-8")
    }

    /// A label outside the input's own choices is one the task cannot score.
    func testALabelOutsideTheChoicesIsRejected() {
        var filter = GenerationFilter(splits: Self.splits, task: .cqa, mode: .paper, metric: .equation)
        let blocks = GeneratedExampleParser.blocks("""
            Q: Ida has 2 dogs and gets 2 more. How many dogs does Ida have?
            Answer Choices:
            (a) ( 2 + 2 )
            (b) ( 2 * 3 )
            A: 2 + 2 = 4. So the answer is (c) ( 2 - 2 ).
            Q: Jo has 5 caps and gets 1 more. How many caps does Jo have?
            Answer Choices:
            (a) ( 5 + 1 )
            (b) ( 5 - 1 )
            A: 5 + 1 = 6. So the answer is (a) ( 5 + 1 ).
            """)
        XCTAssertEqual(blocks.enumerated().map { filter.judge($1, id: "g\($0)", request: 0).verdict }, [.labelRejected, .kept])
    }

    /// The shown examples come from the cell's subsample only, are distinct, and depend on the
    /// request, not on how many examples the cell wants.
    func testShotsComeFromTheSubsampleOnly() {
        let subsample = (0..<10).map { Example(id: "train-\($0)", input: "q\($0)", label: "( \($0) + 1 )") }
        for request in 0..<20 {
            let shown = GenerationShots.pick(subsample, shots: 4, fraction: 0.5, seed: 1, request: request)
            XCTAssertEqual(shown.count, 4)
            XCTAssertEqual(Set(shown.map(\.id)).count, 4)
            XCTAssertTrue(shown.allSatisfy { subsample.contains($0) })
            XCTAssertEqual(shown, GenerationShots.pick(subsample, shots: 4, fraction: 0.5, seed: 1, request: request))
        }
        XCTAssertNotEqual(GenerationShots.pick(subsample, shots: 4, fraction: 0.5, seed: 1, request: 0),
                          GenerationShots.pick(subsample, shots: 4, fraction: 0.5, seed: 2, request: 0))
        XCTAssertEqual(GenerationShots.pick(Array(subsample.prefix(2)), shots: 4, fraction: 0.5, seed: 1, request: 0).count, 2)
    }

    func testPromptRendersShownExamplesInTheTasksAnswerFormat() throws {
        let prompt = GenerationPrompt(text: "Write {count}.\n\n{examples}\n")
        let text = prompt.render([Self.splits.train[0]], count: 3, task: .svamp)
        XCTAssertEqual(text, "Write 3.\n\nQ: Ann has 3 cats and gets 2 more. How many cats does Ann have?\nA: The answer is ( 3 + 2 ).\n")
        // What it shows reads back with the same parser, into the same input and label.
        let back = GeneratedExampleParser.blocks(text)[0]
        XCTAssertEqual(back.input, Self.splits.train[0].input)
        XCTAssertEqual(PaperOutputParser.parse(back.answer!, task: .svamp).label, "( 3 + 2 )")
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("gen-\(UUID().uuidString).txt")
        defer { try? FileManager.default.removeItem(at: file) }
        try "no placeholder".write(to: file, atomically: true, encoding: .utf8)
        XCTAssertThrowsError(try GenerationPrompt(contentsOfFile: file.path)) { error in
            XCTAssertTrue("\(error)".contains(file.path) && "\(error)".contains("{examples}"), "\(error)")
        }
    }
}
