import Foundation
import XCTest
@testable import Trainer

/// Hidden-state matching (cosine as DistilBERT, or MSE), with and without the learned projection
/// between widths, checked by finite differences in the student's states and the projection.
final class HiddenStateMatchTests: XCTestCase {
    override func setUp() { setThreads(1) }

    let rows = 6
    let counted = [true, true, false, true, true, false]

    func check(_ distance: HiddenDistance, studentWidth ds: Int, teacherWidth dt: Int, seed: UInt64) {
        var rng = SplitMix64(seed: seed)
        let hidden = randomBuffer(rows * ds, &rng), teacher = randomBuffer(rows * dt, &rng)
        let projection: FloatBuffer? = ds == dt ? nil : randomBuffer(dt * ds, &rng, scale: 0.5)
        let term = HiddenStateMatch(distance: distance, studentWidth: ds, teacherWidth: dt,
                                    projection: projection.map { UnsafePointer($0.p) }, normalizer: 4, weight: 0.8)
        let scratch = FloatBuffer(rows * dt)
        func run(_ dHidden: FloatBuffer?, _ dProjection: FloatBuffer?) -> Double {
            0.8 * term.evaluate(hidden: hidden.p, teacher: teacher.p, rows: rows, counted: { self.counted[$0] },
                                scratch: scratch.p, dHidden: dHidden?.p, dProjection: dProjection?.p)
        }
        let dHidden = FloatBuffer(rows * ds), dProjection = FloatBuffer(dt * ds)
        _ = run(dHidden, dProjection)
        let label = "\(distance) \(ds)→\(dt)"
        XCTAssertLessThan(directionalGradientError(param: hidden.p, count: hidden.count, analytic: dHidden.array,
                                                   loss: { run(nil, nil) }), 1e-3, "dHidden \(label)")
        if let projection {
            XCTAssertLessThan(directionalGradientError(param: projection.p, count: projection.count, analytic: dProjection.array,
                                                       loss: { run(nil, nil) }), 1e-3, "dProjection \(label)")
        }
        // Rows that do not count get no gradient.
        XCTAssertEqual(Array(dHidden.array[2 * ds..<3 * ds]), [Float](repeating: 0, count: ds), label)
    }

    func testCosineAndMSEGradientsWithAndWithoutProjection() {
        for distance in HiddenDistance.allCases {
            check(distance, studentWidth: 5, teacherWidth: 5, seed: 41)
            check(distance, studentWidth: 4, teacherWidth: 7, seed: 42)
        }
    }

    /// Identical states cost nothing; opposite ones cost 2 (cosine).
    func testValues() {
        let h = FloatBuffer(2 * 3)
        for i in 0..<6 { h[i] = Float(i + 1) }
        let opposite = FloatBuffer(2 * 3)
        for i in 0..<6 { opposite[i] = -h[i] }
        let scratch = FloatBuffer(6)
        let cosine = HiddenStateMatch(distance: .cosine, studentWidth: 3, teacherWidth: 3, projection: nil, normalizer: 2, weight: 1)
        XCTAssertEqual(cosine.evaluate(hidden: h.p, teacher: h.p, rows: 2, counted: { _ in true }, scratch: scratch.p,
                                       dHidden: nil, dProjection: nil), 0, accuracy: 1e-7)
        XCTAssertEqual(cosine.evaluate(hidden: h.p, teacher: opposite.p, rows: 2, counted: { _ in true }, scratch: scratch.p,
                                       dHidden: nil, dProjection: nil), 2, accuracy: 1e-6)
        let mse = HiddenStateMatch(distance: .mse, studentWidth: 3, teacherWidth: 3, projection: nil, normalizer: 2, weight: 1)
        // rows (1,2,3) and (4,5,6) against their negatives: (4·14/3 + 4·77/3) / 2
        XCTAssertEqual(mse.evaluate(hidden: h.p, teacher: opposite.p, rows: 2, counted: { _ in true }, scratch: scratch.p,
                                    dHidden: nil, dProjection: nil), (4.0 * 14 / 3 + 4.0 * 77 / 3) / 2, accuracy: 1e-4)
    }
}
