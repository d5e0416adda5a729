import CBLAS

// Linear layers without bias, in PyTorch's layout: weight W is [out, in] row-major and y = x Wᵀ.
// Every matrix product of the model goes through these calls to cblas_sgemm, except greedy
// decoding's one-row-per-sequence products (PackedLinear.swift).

/// y[m, n] (+)= x[m, k] · W[n, k]ᵀ. `ldx`/`ldy` let callers read or write column slices.
@inline(__always)
func linearForward(_ y: UnsafeMutablePointer<Float>, _ x: UnsafePointer<Float>, _ w: UnsafePointer<Float>,
                   m: Int, k: Int, n: Int, ldx: Int? = nil, ldy: Int? = nil, accumulate: Bool = false) {
    let t0 = MatmulProfiler.enabled ? MatmulProfiler.now() : 0
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, Int32(m), Int32(n), Int32(k),
                1, x, Int32(ldx ?? k), w, Int32(k), accumulate ? 1 : 0, y, Int32(ldy ?? n))
    if MatmulProfiler.enabled { MatmulProfiler.record(m: m, n: n, k: k, since: t0) }
}

/// dx[m, k] (+)= dy[m, n] · W[n, k].
@inline(__always)
func linearBackwardInput(_ dx: UnsafeMutablePointer<Float>, _ dy: UnsafePointer<Float>, _ w: UnsafePointer<Float>,
                         m: Int, k: Int, n: Int, lddy: Int? = nil, lddx: Int? = nil, accumulate: Bool) {
    let t0 = MatmulProfiler.enabled ? MatmulProfiler.now() : 0
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, Int32(m), Int32(k), Int32(n),
                1, dy, Int32(lddy ?? n), w, Int32(k), accumulate ? 1 : 0, dx, Int32(lddx ?? k))
    if MatmulProfiler.enabled { MatmulProfiler.record(m: m, n: k, k: n, since: t0) }
}

/// dW[n, k] += dy[m, n]ᵀ · x[m, k] (weight gradients always accumulate).
@inline(__always)
func linearBackwardWeight(_ dw: UnsafeMutablePointer<Float>, _ dy: UnsafePointer<Float>, _ x: UnsafePointer<Float>,
                          m: Int, k: Int, n: Int, lddy: Int? = nil, ldx: Int? = nil) {
    let t0 = MatmulProfiler.enabled ? MatmulProfiler.now() : 0
    cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, Int32(n), Int32(k), Int32(m),
                1, dy, Int32(lddy ?? n), x, Int32(ldx ?? k), 1, dw, Int32(k))
    if MatmulProfiler.enabled { MatmulProfiler.record(m: n, n: k, k: m, since: t0) }
}

/// Generic row-major sgemm with explicit transposes and leading dimensions (attention uses it
/// for per-head products on strided views).
@inline(__always)
func sgemm(transA: Bool, transB: Bool, m: Int, n: Int, k: Int, alpha: Float = 1,
           _ a: UnsafePointer<Float>, lda: Int, _ b: UnsafePointer<Float>, ldb: Int,
           beta: Float, _ c: UnsafeMutablePointer<Float>, ldc: Int) {
    let t0 = MatmulProfiler.enabled ? MatmulProfiler.now() : 0
    cblas_sgemm(CblasRowMajor, transA ? CblasTrans : CblasNoTrans, transB ? CblasTrans : CblasNoTrans,
                Int32(m), Int32(n), Int32(k), alpha, a, Int32(lda), b, Int32(ldb), beta, c, Int32(ldc))
    if MatmulProfiler.enabled { MatmulProfiler.record(m: m, n: n, k: k, since: t0) }
}
