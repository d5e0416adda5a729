import CBLAS

/// A fixed-size, 64-byte-aligned float array that frees itself. All activations, parameters
/// and optimizer state live in these; the hot loops take `.p` (a raw pointer) directly.
final class FloatBuffer {
    let p: UnsafeMutablePointer<Float>
    let count: Int

    init(_ count: Int) {
        self.count = count
        let raw = UnsafeMutableRawPointer.allocate(byteCount: max(count, 1) * 4, alignment: 64)
        p = raw.bindMemory(to: Float.self, capacity: max(count, 1))
        p.initialize(repeating: 0, count: max(count, 1))
    }
    deinit { UnsafeMutableRawPointer(p).deallocate() }

    func zero() { p.update(repeating: 0, count: count) }
    subscript(i: Int) -> Float {
        get { p[i] }
        set { p[i] = newValue }
    }
    var array: [Float] { Array(UnsafeBufferPointer(start: p, count: count)) }
}

/// Sets how many threads the trainer uses: training runs its micro-batches side by side and
/// decoding its batches, one per thread. OpenBLAS itself always runs single-threaded: its
/// multi-threaded sgemm rounds differently with 1, 2 or 8 threads (its Haswell and generic
/// kernels, measured), and results must not depend on the machine.
public func setThreads(_ n: Int) {
    blasSingleThreaded
    currentThreadCount = max(1, n)
}

/// The thread count last set with `setThreads`.
nonisolated(unsafe) public private(set) var currentThreadCount = ProcessInfo.processInfo.activeProcessorCount

/// Evaluated once, before the first model allocates its parameters (and by `setThreads`).
let blasSingleThreaded: Void = openblas_set_num_threads(1)

/// The default thread count: one per core.
public var defaultThreadCount: Int { ProcessInfo.processInfo.activeProcessorCount }

import Foundation
