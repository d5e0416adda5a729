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
    /// α: the soft-target term's share of the loss. 0 leaves the stream plain cross-entropy,
    /// bit for bit (the teacher is then never run).
    public var alpha: Float
    /// T, dividing both models' logits before the softmax.
    public var temperature: Float

    public init(model: T5Model, inputs: [[Int32]], alpha: Float, temperature: Float) {
        precondition((0...1).contains(alpha), "α must be in [0, 1]")
        precondition(temperature > 0 && temperature.isFinite, "the temperature must be > 0")
        self.model = model; self.inputs = inputs; self.alpha = alpha; self.temperature = temperature
    }
}

/// The teacher's side of one micro-batch, after its forward pass: what the soft-target term reads.
struct TeacherRows {
    let hidden: UnsafePointer<Float>
    let head: UnsafePointer<Float>
    let width: Int
    let logits: UnsafeMutablePointer<Float>
    let alpha: Float
    let temperature: Float
}

/// One thread's buffers for one stream's teacher: an inference workspace grown to fit the
/// micro-batches it sees, and one block of teacher logits.
final class TeacherSlot {
    private var workspace: Workspace?
    private var logits: FloatBuffer?

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
    }

    /// Runs the teacher over `batch` (no dropout) and returns its rows for the soft-target term.
    func forward(_ teacher: StreamTeacher, batch: Batch) -> TeacherRows {
        let ws = workspace!
        teacher.model.forward(batch, ws, training: false)
        return TeacherRows(hidden: ws.decoderOut.p, head: teacher.model.headWeights, width: teacher.model.config.dModel,
                           logits: logits!.p, alpha: teacher.alpha, temperature: teacher.temperature)
    }
}

extension T5Model {
    /// The output head's weight: `lm_head.weight`, or `shared.weight` for a tied head.
    var headWeights: UnsafePointer<Float> { UnsafePointer(store.values.p + layout.lmHead) }
}
