import XCTest
@testable import Stepwise

/// The shipped generation prompts (`Experiments/prompts/<task>_generate.txt`): each loads, shows
/// the request's examples in its task's answer format, and a completion written the way it
/// asks — by hand here, as a teacher would — parses into kept examples with the right labels
/// and rationales under that task's answer rule.
final class GenerationPromptFilesTests: XCTestCase {
    static let prompts = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("Experiments/prompts")

    struct Case {
        var task: PaperTask
        var real: Example
        var completion: String
        var labels: [String]
        var rationales: [String]
    }

    static let nli = Example(id: "train-0", input: "Premise: A man is reading a newspaper on a train.\nHypothesis: A man is on a train.",
                             label: "entailment")

    static let cases = [
        Case(task: .cqa,
             real: Example(id: "train-0", input: "What do you use to cut paper?\nAnswer Choices:\n(a) spoon\n(b) scissors\n(c) pillow\n(d) cup\n(e) sock",
                           label: "scissors"),
             completion: """
                Here are two new questions:

                Q: Where do people usually wash dishes at home?
                Answer Choices:
                (a) bathtub
                (b) garden
                (c) kitchen sink
                (d) bedroom
                (e) garage
                A: Dishes are washed where there is running water and a drain near the kitchen, which is the kitchen sink. So the answer is (c) kitchen sink.

                Q: What do you wear on your feet in the snow?
                Answer Choices:
                (a) boots
                (b) gloves
                (c) hat
                (d) scarf
                (e) sunglasses
                A: Feet need warm, waterproof covering in snow, and boots are worn on the feet. So the answer is (a) boots.
                """,
             labels: ["kitchen sink", "boots"],
             rationales: ["Dishes are washed where there is running water and a drain near the kitchen, which is the kitchen sink.",
                          "Feet need warm, waterproof covering in snow, and boots are worn on the feet."]),
        Case(task: .esnli, real: nli,
             completion: """
                Q: Premise: Two dogs are running across a grassy field.
                Hypothesis: Two animals are outside.
                A: Dogs are animals, and a grassy field is outdoors.
                Answer: entailment

                Q: Premise: A chef is chopping onions in a kitchen.
                Hypothesis: The chef is swimming in a lake.
                A: Someone chopping onions in a kitchen is not swimming in a lake at the same time.
                Answer: contradiction
                """,
             labels: ["entailment", "contradiction"],
             rationales: ["Dogs are animals, and a grassy field is outdoors.",
                          "Someone chopping onions in a kitchen is not swimming in a lake at the same time."]),
        Case(task: .anli, real: nli,
             completion: """
                Q: Premise: The Lakeview Museum opened in 1975 and holds a collection of local paintings.
                Hypothesis: The Lakeview Museum is the largest museum in the country.
                A: The premise gives its opening year and its collection but says nothing about its size. So the answer is neutral.

                Q: Premise: Tomas Berg is a Norwegian skier who retired from racing in 2010.
                Hypothesis: Tomas Berg was still racing in 2015.
                A: He retired from racing in 2010, so he was not racing in 2015. So the answer is contradiction.
                """,
             labels: ["neutral", "contradiction"],
             rationales: ["The premise gives its opening year and its collection but says nothing about its size.",
                          "He retired from racing in 2010, so he was not racing in 2015."]),
    ]

    func testEachShippedPromptParsesWhatItAsksFor() throws {
        for c in Self.cases {
            let file = Self.prompts.appendingPathComponent("\(c.task.rawValue)_generate.txt")
            XCTAssertEqual(file.path, Self.prompts.appendingPathComponent(URL(fileURLWithPath: GenerateSection.defaultPrompt(c.task)).lastPathComponent).path)
            let prompt = try GenerationPrompt(contentsOfFile: file.path)
            let rendered = prompt.render([c.real], count: 2, task: c.task)
            XCTAssertTrue(rendered.contains("Q: \(c.real.input)\nA: "), "\(c.task): the real example is shown")
            XCTAssertFalse(rendered.contains("{count}") || rendered.contains("{examples}"), "\(c.task): placeholders filled")
            // The prompt's own format example parses too (it is what the teacher imitates).
            let example = prompt.text.components(separatedBy: "{examples}")[0].components(separatedBy: "\n\n").filter { $0.hasPrefix("Q:") }
            let own = GeneratedExampleParser.blocks(example.joined(separator: "\n\n"))
            XCTAssertEqual(own.count, 1, "\(c.task): one format example")

            var filter = GenerationFilter(splits: DatasetSplits(train: [c.real], valid: [], test: []), task: c.task, mode: .paper,
                                          metric: c.task.metric)
            let ownVerdict = filter.judge(try XCTUnwrap(own.first), id: "gen-own", request: 0)
            XCTAssertEqual(ownVerdict.verdict, .kept, "\(c.task): \(ownVerdict)")
            let judged = GeneratedExampleParser.blocks(c.completion).enumerated().map { filter.judge($1, id: "gen-0-\($0)", request: 0) }
            XCTAssertEqual(judged.map(\.verdict), [.kept, .kept], "\(c.task): \(judged)")
            XCTAssertEqual(judged.map(\.label), c.labels, "\(c.task)")
            XCTAssertEqual(judged.map(\.rationale), c.rationales, "\(c.task)")
            XCTAssertTrue(judged.allSatisfy { LabelSet.of(input: $0.input) != nil }, "\(c.task): inputs keep their label set")
        }
    }
}
