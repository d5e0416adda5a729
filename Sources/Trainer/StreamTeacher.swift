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
    /// Hidden-state matching at the decoder's final output (what the output head reads), through
    /// a learned projection when the widths differ; nil = none.
    public var hidden: HiddenTerm?

    public struct HiddenTerm: Sendable {
        public var distance: HiddenDistance
        public var weight: Float
        public init(distance: HiddenDistance, weight: Float) { self.distance = distance; self.weight = weight }
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
    /// Hidden-state matching: the term, its weight, scratch (rows × teacher width) and the
    /// projection's gradient for this micro-batch's slot (when there is a projection).
    var hiddenMatch: HiddenStateMatch?
    var hiddenWeight: Float = 0
    var hiddenScratch: UnsafeMutablePointer<Float>?
    var projectionGradient: UnsafeMutablePointer<Float>?
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
    /// terms; `projection` (and its gradient buffer for this slot) when the widths differ.
    func forward(_ teacher: StreamTeacher, batch: Batch, studentWidth: Int, projection: HiddenProjection?,
                 projectionGradient: FloatBuffer?) -> TeacherRows {
        let ws = workspace!
        teacher.model.forward(batch, ws, training: false)
        let width = teacher.model.config.dModel
        var rows = TeacherRows(hidden: ws.decoderOut.p, head: teacher.model.headWeights, width: width,
                               logits: logits!.p, ceWeight: teacher.ceWeight, klWeight: teacher.klWeight,
                               temperature: teacher.temperature)
        if let h = teacher.hidden, h.weight > 0 {
            rows.hiddenMatch = HiddenStateMatch(distance: h.distance, studentWidth: studentWidth, teacherWidth: width,
                                                projection: projection?.weights, normalizer: 1, weight: 1)
            rows.hiddenWeight = h.weight
            rows.hiddenScratch = hiddenScratch!.p
            rows.projectionGradient = projectionGradient?.p
        }
        return rows
    }
}

extension T5Model {
    /// The output head's weight: `lm_head.weight`, or `shared.weight` for a tied head.
    var headWeights: UnsafePointer<Float> { UnsafePointer(store.values.p + layout.lmHead) }
}
