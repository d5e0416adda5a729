// Swift does not auto-vectorize float reductions (no fast-math), so the per-row loops that
// matter use SIMD8<Float> explicitly (the exponentials, GELU and softmax are C kernels:
// Kernels.swift). Each helper handles a scalar tail, so any length works.

@inline(__always) func load8(_ p: UnsafePointer<Float>) -> SIMD8<Float> {
    UnsafeRawPointer(p).loadUnaligned(as: SIMD8<Float>.self)
}
@inline(__always) func store8(_ p: UnsafeMutablePointer<Float>, _ v: SIMD8<Float>) {
    UnsafeMutableRawPointer(p).storeBytes(of: v, as: SIMD8<Float>.self)
}

/// Σ a[i]·b[i].
@inline(__always) func dot(_ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>, _ n: Int) -> Float {
    var acc = SIMD8<Float>(repeating: 0)
    var i = 0
    while i + 8 <= n { acc += load8(a + i) * load8(b + i); i += 8 }
    var s = acc.sum()
    while i < n { s += a[i] * b[i]; i += 1 }
    return s
}

/// y[i] += x[i].
@inline(__always) func addInPlace(_ y: UnsafeMutablePointer<Float>, _ x: UnsafePointer<Float>, _ n: Int) {
    var i = 0
    while i + 8 <= n { store8(y + i, load8(y + i) + load8(x + i)); i += 8 }
    while i < n { y[i] += x[i]; i += 1 }
}

/// out[i] = a[i] · b[i] (out may be a or b).
@inline(__always) func multiply(_ out: UnsafeMutablePointer<Float>, _ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>, _ n: Int) {
    var i = 0
    while i + 8 <= n { store8(out + i, load8(a + i) * load8(b + i)); i += 8 }
    while i < n { out[i] = a[i] * b[i]; i += 1 }
}

/// Σ x[i]².
@inline(__always) func sumOfSquares(_ x: UnsafePointer<Float>, _ n: Int) -> Float { dot(x, x, n) }
