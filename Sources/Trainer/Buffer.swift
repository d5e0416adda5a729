import CBLAS
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A fixed-size, 64-byte-aligned float array that frees itself. All activations, parameters
/// and optimizer state live in these; the hot loops take `.p` (a raw pointer) directly.
final class FloatBuffer {
    let p: UnsafeMutablePointer<Float>
    let count: Int
    /// Large buffers are anonymous memory maps: the kernel hands out zero pages as they are first
    /// touched, so a model's parameter and gradient buffers (2 × 1 GB for T5-base) cost neither
    /// time nor resident memory until used — loading a checkpoint writes the parameters once
    /// instead of zeroing then writing them.
    private let mapped: Bool
    /// Buffers of at least this many bytes are maps (tests lower it to map every buffer).
    nonisolated(unsafe) static var mapThreshold = 1 << 20

    init(_ count: Int) {
        self.count = count
        let bytes = max(count, 1) * 4
        if bytes >= Self.mapThreshold,
           let m = mmap(nil, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0), m != MAP_FAILED {
            mapped = true
            p = m.bindMemory(to: Float.self, capacity: max(count, 1))
            return
        }
        mapped = false
        let raw = UnsafeMutableRawPointer.allocate(byteCount: bytes, alignment: 64)
        p = raw.bindMemory(to: Float.self, capacity: max(count, 1))
        p.initialize(repeating: 0, count: max(count, 1))
    }
    deinit {
        if mapped { munmap(UnsafeMutableRawPointer(p), max(count, 1) * 4) } else { UnsafeMutableRawPointer(p).deallocate() }
    }

    func zero() { p.update(repeating: 0, count: count) }

    /// Gives a large buffer's pages back to the operating system, keeping the buffer: its
    /// contents become unspecified (zero on Linux, where the pages come back zero-filled when
    /// next touched). For scratch that is written before it is read again — a training step's
    /// gradients and activations while the model is being evaluated. Elsewhere a no-op.
    func discard() {
        #if os(Linux)
        if mapped { _ = madvise(UnsafeMutableRawPointer(p), max(count, 1) * 4, MADV_DONTNEED) }
        #endif
    }
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
