import Foundation

/// An embedded teacher for one training stream (response-based knowledge distillation): the
/// stream's loss per target token becomes (1−α)·CE(target) + α·T²·KL(p_teacher^T ‖ p_student^T),
/// both teacher-forced on the stream's targets. The teacher reads its own encoder inputs (one
/// per pair, e.g. the task prefix it was trained with) but the same targets, so its decoder
/// rows line up with the student's. It must share the student's vocabulary; it is never
/// trained (no dropout, no gradient).
public struct StreamTeacher: @unchecked Sendable {
    public let model: T5Model
    /// The teacher's input for each pair of the stream.
    public var inputs: [[Int32]]
    /// The cross-entropy's weight (1−α).
    public var ceWeight: Float
    /// The soft-target term's weight (α). With it and the hidden term's at 0 the teacher is
    /// never run: a CE weight of 1 is then plain cross-entropy, bit for bit.
    public var klWeight: Float
    /// T, dividing both models' logits before the softmax.
    public var temperature: Float
    /// Hidden-state matching between decoder layers' outputs, through a learned projection per
    /// matched layer when the widths differ; nil = none.
    public var hidden: HiddenTerm?

    public struct HiddenTerm: Sendable {
        public var distance: HiddenDistance
        /// The weight of the mean over matched layers.
        public var weight: Float
        public var layers: HiddenLayers
        public init(distance: HiddenDistance, weight: Float, layers: HiddenLayers = .final) {
            self.distance = distance; self.weight = weight; self.layers = layers
        }
    }

    /// Which decoder layer outputs are matched. A layer's output is the residual stream after it;
    /// the last layer's is taken after the final norm, as the output head reads it.
    public enum HiddenLayers: String, Sendable, CaseIterable {
        /// The last layer of each (the states each head reads): DistilBERT's choice.
        case final
        /// Every student layer i (of L_s) against teacher layer ⌈(i+1)·L_t/L_s⌉ − 1: spread
        /// evenly, the last against the last.
        case uniform

        /// (student layer, teacher layer) pairs.
        public func pairs(studentLayers ls: Int, teacherLayers lt: Int) -> [(student: Int, teacher: Int)] {
            switch self {
            case .final: return [(ls - 1, lt - 1)]
            case .uniform: return (0..<ls).map { i in (i, ((i + 1) * lt + ls - 1) / ls - 1) }
            }
        }
    }

    /// Hinton's mix: (1−α)·CE + α·T²·KL.
    public init(model: T5Model, inputs: [[Int32]], alpha: Float, temperature: Float) {
        precondition((0...1).contains(alpha), "α must be in [0, 1]")
        self.init(model: model, inputs: inputs, ceWeight: 1 - alpha, klWeight: alpha, temperature: temperature)
    }

    /// Each term weighted by name (DistilBERT's recipe: CE, KL and cosine on hidden states).
    public init(model: T5Model, inputs: [[Int32]], ceWeight: Float, klWeight: Float, temperature: Float, hidden: HiddenTerm? = nil) {
        precondition(ceWeight >= 0 && klWeight >= 0 && (hidden?.weight ?? 0) >= 0, "term weights must be ≥ 0")
        precondition(temperature > 0 && temperature.isFinite, "the temperature must be > 0")
        self.model = model; self.inputs = inputs; self.ceWeight = ceWeight; self.klWeight = klWeight
        self.temperature = temperature; self.hidden = hidden
    }

    /// Whether the teacher has to run: some term reads it.
    var isActive: Bool { klWeight > 0 || (hidden?.weight ?? 0) > 0 }
}

/// The teacher's side of one micro-batch, after its forward pass: what the soft-target term reads.
struct TeacherRows {
    let hidden: UnsafePointer<Float>
    let head: UnsafePointer<Float>
    let width: Int
    let logits: UnsafeMutablePointer<Float>
    let ceWeight: Float
    let klWeight: Float
    let temperature: Float
    /// Hidden-state matching: one point per matched layer, the weight of their mean, and scratch
    /// (rows × teacher width).
    var hiddenPoints: [HiddenPoint] = []
    var hiddenWeight: Float = 0
    var hiddenScratch: UnsafeMutablePointer<Float>?

    /// A student decoder layer matched to the teacher's output of some layer.
    struct HiddenPoint {
        let studentLayer: Int
        let teacherStates: UnsafePointer<Float>
        let match: HiddenStateMatch
        /// The projection's gradient for this micro-batch's slot (when there is a projection).
        let projectionGradient: UnsafeMutablePointer<Float>?
    }
}

/// One thread's buffers for one stream's teacher: an inference workspace grown to fit the
/// micro-batches it sees, and one block of teacher logits.
final class TeacherSlot {
    private var workspace: Workspace?
    private var logits: FloatBuffer?
    private var hiddenScratch: FloatBuffer?

    /// Grows the buffers for `batch` and a student head of `blockRows` rows, and fills the
    /// teacher's lookup tables: called before any thread starts, as for the student.
    func prepare(_ teacher: StreamTeacher, batch: Batch, blockRows: Int) {
        let model = teacher.model
        _ = model.buckets(length: batch.encoderLength, bidirectional: true)
        _ = model.buckets(length: batch.decoderLength, bidirectional: false)
        if workspace.map({ !$0.fits(batch) }) ?? true {
            workspace = Workspace(config: model.config, batch: max(batch.size, workspace?.b ?? 0),
                                  encoderLength: max(batch.encoderLength, workspace?.te ?? 0),
                                  decoderLength: max(batch.decoderLength, workspace?.td ?? 0), dropout: false, inference: true)
        }
        let need = blockRows * model.config.vocabSize
        if (logits?.count ?? 0) < need { logits = FloatBuffer(need) }
        let hiddenNeed = teacher.hidden == nil ? 0 : batch.size * batch.decoderLength * model.config.dModel
        if (hiddenScratch?.count ?? 0) < hiddenNeed { hiddenScratch = FloatBuffer(hiddenNeed) }
    }

    /// Runs the teacher over `batch` (no dropout) and returns its rows for the distillation
    /// terms; `projections` (one per matched layer, and their gradient buffers for this slot)
    /// when the widths differ.
    func forward(_ teacher: StreamTeacher, batch: Batch, student: T5Config, projections: [HiddenProjection],
                 projectionGradients: [FloatBuffer]) -> TeacherRows {
        let ws = workspace!
        teacher.model.forward(batch, ws, training: false)
        let width = teacher.model.config.dModel
        var rows = TeacherRows(hidden: ws.decoderOut.p, head: teacher.model.headWeights, width: width,
                               logits: logits!.p, ceWeight: teacher.ceWeight, klWeight: teacher.klWeight,
                               temperature: teacher.temperature)
        if let h = teacher.hidden, h.weight > 0 {
            let pairs = h.layers.pairs(studentLayers: student.numDecoderLayers, teacherLayers: teacher.model.config.numDecoderLayers)
            rows.hiddenPoints = pairs.enumerated().map { p, pair in
                TeacherRows.HiddenPoint(studentLayer: pair.student, teacherStates: ws.decoderLayerOutput(pair.teacher),
                                        match: HiddenStateMatch(distance: h.distance, studentWidth: student.dModel, teacherWidth: width,
                                                                projection: projections.isEmpty ? nil : projections[p].weights,
                                                                normalizer: 1, weight: 1),
                                        projectionGradient: projectionGradients.isEmpty ? nil : projectionGradients[p].p)
            }
            rows.hiddenWeight = h.weight
            rows.hiddenScratch = hiddenScratch!.p
        }
        return rows
    }
}

extension Workspace {
    /// Decoder layer l's output after a forward pass: the next layer's input, or for the last
    /// layer the final norm's output (what the head reads).
    func decoderLayerOutput(_ l: Int) -> UnsafePointer<Float> {
        UnsafePointer(l + 1 < decoder.count ? decoder[l + 1].input.p : decoderOut.p)
    }
}

extension T5Model {
    /// The output head's weight: `lm_head.weight`, or `shared.weight` for a tied head.
    var headWeights: UnsafePointer<Float> { UnsafePointer(store.values.p + layout.lmHead) }
}
