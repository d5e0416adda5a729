import Foundation

/// The learned projection P [teacherWidth, studentWidth] of hidden-state matching between a
/// student and a teacher of different widths. Trained with the student (its own AdamW, the same
/// schedule; its gradient counts in the global norm that is clipped) but never part of the
/// student: the saved checkpoint is the student alone. Like the model's gradient, P's is summed
/// per micro-batch slot and added in slot order, so it does not depend on the thread count.
final class HiddenProjection {
    let studentWidth: Int
    let teacherWidth: Int
    let store = ParameterStore()
    private let optimizer: AdamW
    /// Gradient buffers of slots other than 0 (slot 0 sums into `store.grads`).
    private var slotGrads: [Int: FloatBuffer] = [:]

    /// Initialised like the model's matrices: normal with std studentWidth^-½, from `seed`.
    init(studentWidth: Int, teacherWidth: Int, seed: UInt64, weightDecay: Float) {
        self.studentWidth = studentWidth
        self.teacherWidth = teacherWidth
        _ = store.declare("projection.weight", [teacherWidth, studentWidth])
        store.allocate()
        var rng = SplitMix64(seed: seed)
        let std = 1 / Float(studentWidth).squareRoot()
        for i in 0..<store.count { store.values[i] = rng.nextGaussian() * std }
        optimizer = AdamW(store: store, weightDecay: weightDecay)
    }

    var weights: UnsafePointer<Float> { UnsafePointer(store.values.p) }

    /// Slot k's gradient buffer, zeroed at the step's start (allocated before threads run).
    func gradient(slot k: Int) -> FloatBuffer {
        if k == 0 { return store.grads }
        if let g = slotGrads[k] { return g }
        let g = FloatBuffer(store.count)
        slotGrads[k] = g
        return g
    }

    func zeroGradients(slots: Int) { for k in 0..<slots { gradient(slot: k).zero() } }

    /// Adds the slots' gradients in slot order; returns the sum of squares of the result.
    func reduce(slots: Int) -> Double {
        let g = store.grads
        for k in 1..<max(1, slots) { addInPlace(g.p, gradient(slot: k).p, g.count) }
        var sum = 0.0
        for i in 0..<g.count { sum += Double(g[i]) * Double(g[i]) }
        return sum
    }

    func update(learningRate: Float, gradScale: Float) {
        optimizer.update(params: store.values, grads: store.grads, learningRate: learningRate, gradScale: gradScale)
    }
}
