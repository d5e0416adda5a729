import XCTest
import TrainerKernels
@testable import Trainer

/// The C kernels of every instruction set this CPU runs (Sources/TrainerKernels) against the
/// generic ones and against scalar references. The elementwise kernels must agree bit for bit
/// across ISAs (same 8-lane arithmetic, no fused multiply-add); the packed product agrees bit for
/// bit between AVX2 and AVX-512 (the same fused chain along k) and to rounding with generic.
final class KernelISATests: XCTestCase {
    let all = availableKernels()
    var generic: tk_kernels { all[0] }

    func random(_ n: Int, seed: UInt64, scale: Float = 4) -> [Float] {
        var rng = SplitMix64(seed: seed)
        return (0..<n).map { _ in (rng.nextFloat() * 2 - 1) * scale }
    }
    func bits(_ a: [Float]) -> [UInt32] { a.map(\.bitPattern) }
    func name(_ k: tk_kernels) -> String { String(cString: k.name) }

    func testThisMachineRunsTheISAItReports() {
        XCTAssertEqual(name(generic), "generic")
        XCTAssertTrue(all.contains { name($0) == trainerKernelISA }, "active \(trainerKernelISA)")
        print("kernels on this CPU: \(all.map(name)), active: \(trainerKernelISA)")
    }

    func testGatedGELUSameBitsOnEveryISAAndCloseToScalar() {
        for (rows, dff) in [(1, 1), (3, 7), (5, 40), (2, 1024)] {
            let h01 = random(rows * 2 * dff, seed: 1), dg = random(rows * dff, seed: 2)
            func run(_ k: tk_kernels) -> (gated: [Float], dh01: [Float]) {
                var gated = [Float](repeating: .nan, count: rows * dff), dh01 = [Float](repeating: .nan, count: rows * 2 * dff)
                k.gelu_gate_forward(&gated, h01, rows, dff)
                k.gelu_gate_backward(&dh01, dg, h01, rows, dff)
                return (gated, dh01)
            }
            let reference = run(generic)
            for k in all.dropFirst() {
                let r = run(k)
                XCTAssertEqual(bits(r.gated), bits(reference.gated), "\(name(k)) rows \(rows) dff \(dff)")
                XCTAssertEqual(bits(r.dh01), bits(reference.dh01), "\(name(k)) rows \(rows) dff \(dff)")
            }
            for r in 0..<rows {
                for i in 0..<dff {
                    let a = h01[r * 2 * dff + i], b = h01[r * 2 * dff + dff + i], g = dg[r * dff + i]
                    XCTAssertEqual(reference.gated[r * dff + i], GatedGELU.gelu(a) * b, accuracy: 1e-5 * max(1, abs(a * b)))
                    XCTAssertEqual(reference.dh01[r * 2 * dff + i], g * b * GatedGELU.geluGrad(a), accuracy: 2e-5 * max(1, abs(g * b)))
                    XCTAssertEqual(reference.dh01[r * 2 * dff + dff + i], g * GatedGELU.gelu(a), accuracy: 1e-5 * max(1, abs(g * a)))
                }
            }
        }
    }

    func testSoftmaxSameBitsOnEveryISAAndCorrect() {
        for (limit, count) in [(1, 1), (5, 9), (8, 8), (13, 20), (77, 77)] {
            let row = random(count, seed: UInt64(limit), scale: 6), bias = random(count, seed: 9, scale: 2)
            var mask = (0..<count).map { Float($0 % 3 == 1 ? 0 : 1) }
            if limit == 5 { mask = [Float](repeating: 0, count: count) }   // every key masked
            for useMask in [false, true] {
                func run(_ k: tk_kernels) -> [Float] {
                    var r = row
                    useMask ? k.softmax_row(&r, bias, mask, limit, count) : k.softmax_row(&r, bias, nil, limit, count)
                    return r
                }
                let reference = run(generic)
                for k in all.dropFirst() { XCTAssertEqual(bits(run(k)), bits(reference), "\(name(k)) limit \(limit)") }
                // Against a Double softmax over the unmasked keys below limit.
                let keep = (0..<count).map { $0 < limit && (!useMask || mask[$0] != 0) }
                let z = (0..<count).filter { keep[$0] }.map { Double(row[$0] + bias[$0]) }
                let m = z.max() ?? 0, sum = z.reduce(0) { $0 + exp($1 - m) }
                for j in 0..<count {
                    let want = keep[j] ? exp(Double(row[j] + bias[j]) - m) / sum : 0
                    XCTAssertEqual(Double(reference[j]), want, accuracy: 1e-6, "limit \(limit) j \(j) mask \(useMask)")
                }
            }
        }
    }

    func testCachedAttentionSameBitsOnEveryISAAndCorrect() {
        // Three heads side by side in rows of ld floats (with a gap), a bias row per head.
        let (n, heads, dk, ld, biasStride) = (23, 3, 13, 44, 25)
        let q = random(heads * dk, seed: 1, scale: 1), keys = random(n * ld, seed: 2, scale: 1), values = random(n * ld, seed: 3)
        let bias = random(heads * biasStride, seed: 4, scale: 1), mask = (0..<n).map { Float($0 % 4 == 2 ? 0 : 1) }
        func run(_ k: tk_kernels) -> [Float] {
            var out = [Float](repeating: .nan, count: heads * dk), scores = [Float](repeating: 0, count: heads * n)
            k.attend(&out, q, keys, values, ld, n, heads, dk, bias, biasStride, mask, &scores)
            return out
        }
        let reference = run(generic)
        for k in all { XCTAssertEqual(bits(run(k)), bits(reference), name(k)) }
        for k in all {
            // All heads in one call give each head the bits of a call for that head alone.
            for h in 0..<heads {
                var out = [Float](repeating: .nan, count: dk), scores = [Float](repeating: 0, count: n)
                k.attend(&out, Array(q[(h * dk)...]), Array(keys[(h * dk)...]), Array(values[(h * dk)...]), ld, n, 1, dk,
                         Array(bias[(h * biasStride)...]), 0, mask, &scores)
                XCTAssertEqual(bits(out), bits(Array(reference[(h * dk)..<((h + 1) * dk)])), "\(name(k)) head \(h)")
            }
        }
        for h in 0..<heads {
            let logits = (0..<n).map { j in
                (0..<dk).reduce(Double(bias[h * biasStride + j])) { $0 + Double(q[h * dk + $1]) * Double(keys[j * ld + h * dk + $1]) }
            }
            let kept = (0..<n).filter { mask[$0] != 0 }, m = kept.map { logits[$0] }.max()!
            let z = kept.reduce(0) { $0 + exp(logits[$1] - m) }
            for i in 0..<dk {
                let want = kept.reduce(0) { $0 + exp(logits[$1] - m) / z * Double(values[$1 * ld + h * dk + i]) }
                XCTAssertEqual(Double(reference[h * dk + i]), want, accuracy: 1e-5, "head \(h)")
            }
        }
    }

    func testExponentialsSameBitsOnEveryISAAndAccurate() {
        // exp over [-80, 80] through exp_shift_scale (shift 0, scale 1), then log-sum-exp; and
        // the accumulating form (a second loss term adding to a gradient) on a 901-value tail.
        let xs = stride(from: Float(-80), to: 80, by: 0.0137).map { $0 }
        func run(_ k: tk_kernels) -> (exp: [Float], lse: Float, added: [Float]) {
            var out = [Float](repeating: .nan, count: xs.count)
            k.exp_shift_scale(&out, xs, 0, 1, xs.count, 0)
            var added = (0..<901).map { Float($0) * 0.25 }
            k.exp_shift_scale(&added, Array(xs.prefix(901)), 0, 0.5, 901, 1)
            return (out, k.log_sum_exp(Array(xs.prefix(901)), 901), added)
        }
        let reference = run(generic)
        for k in all.dropFirst() {
            let r = run(k)
            XCTAssertEqual(bits(r.exp), bits(reference.exp), name(k))
            XCTAssertEqual(r.lse.bitPattern, reference.lse.bitPattern, name(k))
            XCTAssertEqual(bits(r.added), bits(reference.added), name(k))
        }
        for i in 0..<901 { XCTAssertEqual(reference.added[i], Float(i) * 0.25 + reference.exp[i] * 0.5) }
        var worst: Float = 0
        for (x, e) in zip(xs, reference.exp) { worst = max(worst, abs(e - expf(x)) / expf(x)) }
        XCTAssertLessThan(worst, 3e-7)
        let head = xs.prefix(901).map(Double.init), m = head.max()!
        XCTAssertEqual(Double(reference.lse), m + log(head.reduce(0) { $0 + exp($1 - m) }), accuracy: 1e-5)
    }

    func testPackedProductAVX2AndAVX512AgreeBitForBit() throws {
        let fused = all.filter { $0.isa != TK_ISA_GENERIC }
        guard fused.count == 2 else { throw XCTSkip("this CPU lacks AVX2 or AVX-512: \(all.map(name))") }
        let (m, k, n) = (13, 300, 75)
        let x = random(m * k, seed: 5), w = random(n * k, seed: 6)
        let outputs: [[Float]] = fused.map { kernel in
            var y = [Float](repeating: .nan, count: m * n)
            w.withUnsafeBufferPointer { PackedLinear($0.baseAddress!, n: n, k: k, kernel: kernel).forward(&y, x, m: m) }
            return y
        }
        XCTAssertEqual(bits(outputs[0]), bits(outputs[1]))
    }
}
