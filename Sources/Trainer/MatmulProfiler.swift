import CBLAS
import Foundation

/// Optional accounting of every sgemm the model issues (FLOPs = 2·m·n·k and wall time), for the
/// benchmark's achieved-GFLOP/s figure. Off by default; costs two clock reads per call when on.
public enum MatmulProfiler {
    nonisolated(unsafe) public static var enabled = false
    nonisolated(unsafe) public private(set) static var flops: Double = 0
    nonisolated(unsafe) public private(set) static var seconds: Double = 0
    public static func reset() { flops = 0; seconds = 0 }

    @inline(__always) static func now() -> Double {
        var ts = timespec()
        clock_gettime(CLOCK_MONOTONIC, &ts)
        return Double(ts.tv_sec) + Double(ts.tv_nsec) * 1e-9
    }
    private static let lock = NSLock()
    /// `seconds` sums over threads: with micro-batches side by side two threads can be inside sgemm at once.
    @inline(__always) static func record(m: Int, n: Int, k: Int, since start: Double) {
        let dt = now() - start
        lock.lock()
        flops += 2 * Double(m) * Double(n) * Double(k)
        seconds += dt
        lock.unlock()
    }
}

/// Measures this process's sgemm throughput on an m×k by k×n product (row-major, the layout
/// of the model's linear layers) with `threads` OpenBLAS threads, in GFLOP/s: the best of
/// several short windows, so that a moment of contention from other processes does not count.
/// (The trainer itself runs sgemm single-threaded; this is the machine's peak for comparison.)
public func measureSgemmGFLOPS(m: Int = 2048, n: Int = 256, k: Int = 256, threads: Int = 1, windows: Int = 8,
                               windowSeconds: Double = 0.15) -> Double {
    blasSingleThreaded
    openblas_set_num_threads(Int32(threads))
    defer { openblas_set_num_threads(1) }
    var rng = SplitMix64(seed: 1)
    let a = FloatBuffer(m * k), b = FloatBuffer(n * k), c = FloatBuffer(m * n)
    for i in 0..<a.count { a[i] = rng.nextFloat() - 0.5 }
    for i in 0..<b.count { b[i] = rng.nextFloat() - 0.5 }
    for _ in 0..<3 { linearForward(c.p, a.p, b.p, m: m, k: k, n: n) }  // warm up threads and caches
    var best = 0.0
    for _ in 0..<windows {
        var reps = 0
        let start = MatmulProfiler.now()
        var elapsed = 0.0
        while elapsed < windowSeconds {
            for _ in 0..<5 { linearForward(c.p, a.p, b.p, m: m, k: k, n: n) }
            reps += 5
            elapsed = MatmulProfiler.now() - start
        }
        best = max(best, 2 * Double(m) * Double(n) * Double(k) * Double(reps) / elapsed / 1e9)
    }
    withExtendedLifetime((a, b, c)) {}
    return best
}
