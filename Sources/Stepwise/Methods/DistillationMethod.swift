import Foundation

/// One row family of the comparison (a baseline or a distillation method): how a student
/// trains, what it reads at test time, how its answer is read back, and what it needs from
/// the teacher. A new method is one file in this folder plus one line in `MethodRegistry`;
/// the spec, planner, stages, reports, figures and claims ask the registry and never switch
/// on a method.
public protocol DistillationMethod: Sendable {
    /// The spec key under `methods:` and the `method` column of results.csv.
    static var name: String { get }
    /// Bumped when what the method trains on or how it predicts changes (enters train keys).
    static var version: Int { get }
    /// Its options under `methods.<name>:`, each a list the sweep expands.
    static var options: [MethodOption] { get }
    /// False for rows that train nothing (the teacher's own few-shot answers).
    static var trainsStudent: Bool { get }
    /// The splits the teacher must annotate for this method (test for rows scored on the
    /// teacher's own answers, train for students that learn from it).
    static var teacherSplits: Set<Split> { get }
    /// Shown next to the row: the teacher is needed at deployment.
    static var needsTeacherAtTest: Bool { get }
    /// How many loss streams a training step of this variant runs (for the cost estimate).
    static func streamCount(_ variant: MethodVariant) -> Int
    /// Whether teacher-generated examples (`synthetic: {per_example: n}`, `GeneratedData`) can
    /// be mixed into its training examples: each comes with an input, a label and the
    /// generation's rationale, which the method reads like a real example and its annotation.
    static var learnsFromGeneratedExamples: Bool { get }
    /// The text pairs a cell trains on, with their loss weights; inputs written in the student's
    /// `format` (its kind's task prefixes and input layout).
    static func streams(_ variant: MethodVariant, examples: [Example], annotations: [String: Annotation],
                        format: StudentInputFormat) throws -> [TextStream]
    /// What the student reads at validation and test time.
    static func testInput(_ variant: MethodVariant, _ example: Example, format: StudentInputFormat) -> String
    /// The same, given the teacher's annotation of that example when the method's
    /// `teacherSplits` include the split (nil otherwise); by default the one above.
    static func testInput(_ variant: MethodVariant, _ example: Example, format: StudentInputFormat, annotation: Annotation?) -> String
    /// The label in the student's output.
    static func prediction(_ variant: MethodVariant, output: String) -> String
    /// A teacher that Stepwise trains itself in the same run for this variant (an embedded
    /// teacher), nil for methods that learn from the LLM annotator or from nothing. The planner
    /// makes its train stage an input of the cell's, shared with the same cell of that method.
    static func teacherStudent(_ variant: MethodVariant) -> TeacherStudent?
}

extension DistillationMethod {
    public static var options: [MethodOption] { [] }
    public static var trainsStudent: Bool { true }
    public static var teacherSplits: Set<Split> { [] }
    public static var needsTeacherAtTest: Bool { false }
    public static func streamCount(_ variant: MethodVariant) -> Int { 1 }
    /// Every method that trains a student without reading the teacher at test time: a generated
    /// example has no teacher output to show at test, but trains like a real one.
    public static var learnsFromGeneratedExamples: Bool { trainsStudent && !needsTeacherAtTest }
    public static func testInput(_ variant: MethodVariant, _ example: Example, format: StudentInputFormat) -> String {
        format.input(example)
    }
    public static func testInput(_ variant: MethodVariant, _ example: Example, format: StudentInputFormat, annotation: Annotation?) -> String {
        testInput(variant, example, format: format)
    }
    public static func prediction(_ variant: MethodVariant, output: String) -> String {
        output.trimmingCharacters(in: .whitespacesAndNewlines)
    }
    public static func teacherStudent(_ variant: MethodVariant) -> TeacherStudent? { nil }
}

/// An embedded teacher: the student of `method` (with its default options) at size `size`,
/// trained at the cell's data fraction and seed, so it sees no more gold labels than the cell.
public struct TeacherStudent: Hashable, Sendable {
    public var size: String
    public var method: String
    public init(size: String, method: String) { self.size = size; self.method = method }

    /// The teacher's own cell for a student cell.
    func cell(for student: Cell) throws -> Cell {
        let m = try MethodRegistry.method(method)
        return Cell(method: method, size: size, dataFraction: student.dataFraction, seed: student.seed,
                    variant: MethodVariant.defaults(of: m))
    }
}

/// One option of a method, e.g. distill_step_by_step's `lambda`: its values are validated with
/// positions in the spec and swept like any axis (`sweep: {lambda: [0.5, 1, 2]}` overrides them).
public struct MethodOption: Sendable {
    public enum Kind: Sendable {
        /// A number ≥ `minimum` (> when `exclusive`) and ≤ `maximum`; a whole number when `integer`.
        case number(minimum: Double, maximum: Double = .infinity, exclusive: Bool = false, integer: Bool = false)
        /// One of these words.
        case choice([String])
        /// The name of a size under `student.sizes`.
        case size
        /// A mapping from some of these names to weights ≥ 0 (`{ce: 1, kl: 0.5}`), at least one
        /// of them > 0; the names of each inner list exclude each other.
        case weights([String], exclusive: [[String]])
    }
    public var key: String
    public var kind: Kind
    public var defaults: [JSONValue]
    /// What it means, for error messages.
    public var meaning: String
    /// How a value shows in a row's name, e.g. `λ=1` or `gold labels`.
    public var display: @Sendable (JSONValue) -> String
    /// Set when the spec writes the option as a one-key mapping, `key: {field: value}`
    /// (`synthetic: {per_example: 2}`); nil for a plain `key: value`.
    public var field: String?
    /// A value that means "off": a cell with it leaves the option out of its variant, so its
    /// keys are those of a spec that never mentioned the option.
    public var absentValue: JSONValue?
    /// Another option (declared before this one) that replaces this one when given: the cell
    /// then has no value for it, and the spec may not write both.
    public var yieldsTo: String?
    /// A `.weights` option and the terms of it through which this one acts (`hidden_layers`
    /// picks the layers of a `cosine` or `mse` term of `losses`): given without any of them,
    /// the option would be silently ignored, so the spec is rejected (`OptionTermCheck`).
    public var actsThrough: (option: String, terms: [String])?

    public init(key: String, kind: Kind, defaults: [JSONValue], meaning: String, yieldsTo: String? = nil,
                actsThrough: (option: String, terms: [String])? = nil,
                display: @escaping @Sendable (JSONValue) -> String, field: String? = nil, absentValue: JSONValue? = nil) {
        self.key = key; self.kind = kind; self.defaults = defaults; self.meaning = meaning; self.yieldsTo = yieldsTo
        self.actsThrough = actsThrough
        self.display = display
        self.field = field; self.absentValue = absentValue
    }

    /// How the spec spells it: `synthetic.per_example` for a mapping option, else the key.
    public var spelled: String { field.map { "\(key).\($0)" } ?? key }
}

/// One cell's choice of a method's option values, e.g. `{lambda: 1, labels: gold}`.
public struct MethodVariant: Codable, Hashable, Sendable {
    public var values: [String: JSONValue]
    public init(_ values: [String: JSONValue] = [:]) { self.values = values }

    // Encoded as the plain mapping `{lambda: 1, labels: gold}`.
    public init(from decoder: Decoder) throws { values = try decoder.singleValueContainer().decode([String: JSONValue].self) }
    public func encode(to encoder: Encoder) throws {
        var c = encoder.singleValueContainer()
        try c.encode(values)
    }

    /// Every option at its (first) default.
    public static func defaults(of method: any DistillationMethod.Type) -> MethodVariant {
        MethodVariant(Dictionary(uniqueKeysWithValues: method.options.compactMap { o in o.defaults.first.map { (o.key, $0) } }))
    }

    public func double(_ key: String) -> Double? { if case .number(let d)? = values[key] { return d }; return nil }
    public func string(_ key: String) -> String? { if case .string(let s)? = values[key] { return s }; return nil }
}

/// One training task: input → target pairs with the weight of their mean CE in the loss.
public struct TextStream: Equatable, Sendable {
    public var name: String
    public var inputs: [String]
    public var targets: [String]
    public var weight: Double
    /// One weight per pair (nil = all 1): the stream's loss is then Σ wᵢ·CEᵢ / Σ wᵢ·nᵢ per
    /// target token — a soft target written as one weighted pair per label.
    public var exampleWeights: [Double]?
    /// Matching an embedded teacher's token distributions on this stream (nil: none).
    public var distillation: StreamDistillation?
    public init(name: String, inputs: [String], targets: [String], weight: Double, exampleWeights: [Double]? = nil,
                distillation: StreamDistillation? = nil) {
        self.name = name; self.inputs = inputs; self.targets = targets; self.weight = weight
        self.exampleWeights = exampleWeights
        self.distillation = distillation
    }
}

/// A stream's embedded teacher (the method's `teacherStudent`), as the train stage feeds it to
/// the trainer: loss w_ce·CE + w_kl·T²·KL(p_teacher^T ‖ p_student^T) + w_h·hidden-state distance
/// per target token (Hinton's mix is w_ce = 1−α, w_kl = α, no hidden term).
public struct StreamDistillation: Equatable, Sendable {
    /// What the teacher reads for each pair (its own method's test input).
    public var teacherInputs: [String]
    public var ceWeight: Double
    public var klWeight: Double
    public var temperature: Double
    /// `cosine` or `mse` between the decoders' final hidden states, and its weight (nil: none).
    public var hiddenDistance: String?
    public var hiddenWeight: Double
    /// `final` or `uniform` (`StreamTeacher.HiddenLayers`).
    public var hiddenLayers: String
    /// Teacher-force both on the teacher's own greedy outputs instead of the stream's targets
    /// (sequence-level KD: the CE term is then on the teacher's tokens too).
    public var teacherSequences: Bool
    public init(teacherInputs: [String], ceWeight: Double, klWeight: Double, temperature: Double,
                hiddenDistance: String? = nil, hiddenWeight: Double = 0, hiddenLayers: String = "final", teacherSequences: Bool) {
        self.teacherInputs = teacherInputs; self.ceWeight = ceWeight; self.klWeight = klWeight; self.temperature = temperature
        self.hiddenDistance = hiddenDistance; self.hiddenWeight = hiddenWeight; self.hiddenLayers = hiddenLayers
        self.teacherSequences = teacherSequences
    }
}

/// The teacher's usable output for an example: a parsed, non-empty label (examples whose
/// teacher output had no parsable answer are left out of the streams that need it: an empty
/// target teaches nothing but to stop).
func usableAnnotation(_ example: Example, in annotations: [String: Annotation]) -> Annotation? {
    guard let a = annotations[example.id], a.parsed, !a.label.isEmpty else { return nil }
    return a
}

/// The label-source option shared by methods that can train on gold or teacher labels.
func labelsOption(default value: String) -> MethodOption {
    MethodOption(key: "labels", kind: .choice(["gold", "teacher"]), defaults: [.string(value)],
                 meaning: "where the label targets come from", display: { v in
                     if case .string(let s) = v { return "\(s) labels" }
                     return "\(v)"
                 })
}
