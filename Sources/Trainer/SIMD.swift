// Swift does not auto-vectorize float reductions (no fast-math), so the per-row loops that
// matter use SIMD8<Float> explicitly. Each helper handles a scalar tail, so any length works.

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

/// y[i] += a · x[i].
@inline(__always) func axpy(_ y: UnsafeMutablePointer<Float>, _ a: Float, _ x: UnsafePointer<Float>, _ n: Int) {
    let av = SIMD8<Float>(repeating: a)
    var i = 0
    while i + 8 <= n { store8(y + i, load8(y + i) + av * load8(x + i)); i += 8 }
    while i < n { y[i] += a * x[i]; i += 1 }
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

/// e^x for 8 lanes (Cephes' expf: x = n·ln2 + r, degree-6 polynomial for e^r, 2^n via the
/// exponent bits). Relative error ~1e-7 on [-87, 88]; inputs outside are clamped. libm's
/// scalar expf/tanhf were a third of the training step before this.
@inline(__always) func exp8(_ xIn: SIMD8<Float>) -> SIMD8<Float> {
    // Clamp with masks (the generic clamped(lowerBound:upperBound:) is not specialised).
    let lo = SIMD8<Float>(repeating: -87.3), hi = SIMD8<Float>(repeating: 88.3)
    let x = xIn.replacing(with: lo, where: xIn .< lo).replacing(with: hi, where: xIn .> hi)
    // Round to nearest with the 1.5·2^23 trick (.rounded() calls rintf per lane).
    let magic = SIMD8<Float>(repeating: 12582912)
    let n = (x * 1.44269504088896341 + magic) - magic
    let r = x - n * 0.693359375 + n * 2.12194440e-4
    var p = SIMD8<Float>(repeating: 1.9875691500e-4)
    p = p * r + 1.3981999507e-3
    p = p * r + 8.3334519073e-3
    p = p * r + 4.1665795894e-2
    p = p * r + 1.6666665459e-1
    p = p * r + 5.0000001201e-1
    p = p * r * r + r + 1
    // 2^n without a float→int conversion (SIMD8<Int32>(_:rounding:) is a slow per-lane generic):
    // adding 2^23 + 127 puts n + 127 in the low mantissa bits of an exact float.
    let shifted = unsafeBitCast(n + 8388735, to: SIMD8<Int32>.self) &- 0x4B00_0000
    return p * unsafeBitCast(shifted &<< 23, to: SIMD8<Float>.self)
}

/// tanh(u) = 1 − 2 / (e^{2u} + 1); absolute error ~1e-7 (enough for GELU, whose output is
/// 0.5·x·(1 + tanh)).
@inline(__always) func tanh8(_ u: SIMD8<Float>) -> SIMD8<Float> {
    1 - 2 / (exp8(2 * u) + 1)
}
