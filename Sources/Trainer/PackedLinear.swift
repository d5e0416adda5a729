/// A linear layer's weight packed for products with few rows: y[m, n] = x[m, k] · W[n, k]ᵀ with m
/// about one batch (greedy decoding runs one row per sequence per new token).
///
/// Why not sgemm: OpenBLAS packs both operands into its panel layout on every call. With 32
/// rows the weight is the big operand, so every decoding step re-packed every weight; perf put
/// packing plus the zeroing of C at ~20 % of decoding. Here the weight is packed once per
/// `greedyDecode` call and each product is a plain register-tiled loop over it. Measured on the
/// 2-core AVX-512 VM, one thread, m = 32, the decoder's shapes (k = 256 or 1024, n = 256 … 2048):
/// 148–163 GFLOP/s against OpenBLAS's 78–83 (SkylakeX kernels); AVX2 build (4 × 16 tile):
/// 73–75 against OpenBLAS's Haswell kernels' 56–57.
///
/// Layout: W is cut into panels of `width` output columns; panel p holds, for kk in 0..<k, the
/// `width` weights W[p·width ..< (p+1)·width, kk] side by side (zero past n). The kernel keeps a
/// tile of `rows` × `width` outputs in registers, adds x[r, kk] · panel[kk] for each kk, and
/// stores the tile once: the same multiply-adds in the same order as a dot product along k, so
/// results do not depend on m or on the tile a row falls in.
final class PackedLinear {
    let n: Int, k: Int
    #if TRAINER_AVX512
    /// 8 rows × 32 columns: 16 accumulators of 16 floats plus 2 for the weights (of 32 registers).
    static let tileRows = 8, width = 32
    #elseif TRAINER_AVX2
    /// 4 rows × 16 columns: 8 accumulators of 8 floats plus 2 for the weights (of 16 registers).
    static let tileRows = 4, width = 16
    #endif

    #if TRAINER_AVX512 || TRAINER_AVX2
    private let panels: FloatBuffer
    /// k zeros: the x row of the rows past m in a partial tile.
    private let zeros: FloatBuffer

    /// Room for a W[n, k]; `repack` fills it.
    init(n: Int, k: Int) {
        self.n = n
        self.k = k
        let width = Self.width
        let count = (n + width - 1) / width
        panels = FloatBuffer(count * k * width)   // zero-filled: the columns past n stay 0
        zeros = FloatBuffer(k)
    }

    /// Packs new values of the same-shaped W into the same buffer.
    func repack(_ w: UnsafePointer<Float>) {
        let width = Self.width
        for j in 0..<n {
            let dst = panels.p + (j / width) * k * width + j % width
            let src = w + j * k
            for kk in 0..<k { dst[kk * width] = src[kk] }
        }
    }

    /// y[m, n] = x[m, k] · Wᵀ (overwrites y). Rows of x and y are `k` and `n` apart.
    func forward(_ y: UnsafeMutablePointer<Float>, _ x: UnsafePointer<Float>, m: Int) {
        let width = Self.width, rows = Self.tileRows
        var col = 0
        while col < n {
            let panel = UnsafePointer(panels.p + (col / width) * k * width)
            let cols = min(width, n - col)
            var r = 0
            while r < m {
                Self.tile(y + r * n + col, ldy: n, x + r * k, ldx: k, rows: min(rows, m - r), cols: cols, panel, k: k,
                          zeros: zeros.p)
                r += rows
            }
            col += width
        }
    }
    #else
    // Without AVX2 the tile would not fit in the registers; use sgemm on the unpacked weight.
    private var w: UnsafePointer<Float>?
    init(n: Int, k: Int) { self.n = n; self.k = k }
    func repack(_ w: UnsafePointer<Float>) { self.w = w }
    func forward(_ y: UnsafeMutablePointer<Float>, _ x: UnsafePointer<Float>, m: Int) {
        linearForward(y, x, w!, m: m, k: k, n: n)
    }
    #endif

    /// Packs W[n, k] (row-major, PyTorch's [out, in]).
    convenience init(_ w: UnsafePointer<Float>, n: Int, k: Int) {
        self.init(n: n, k: k)
        repack(w)
    }

    typealias V = SIMD16<Float>

    #if TRAINER_AVX512
    /// One tile: `rows` ≤ 8 rows of x against one panel, `cols` ≤ 32 valid columns.
    @inline(__always)
    private static func tile(_ y: UnsafeMutablePointer<Float>, ldy: Int, _ x: UnsafePointer<Float>, ldx: Int,
                             rows: Int, cols: Int, _ panel: UnsafePointer<Float>, k: Int, zeros: UnsafePointer<Float>) {
        func row(_ i: Int) -> UnsafePointer<Float> { i < rows ? x + i * ldx : zeros }
        let x0 = row(0), x1 = row(1), x2 = row(2), x3 = row(3), x4 = row(4), x5 = row(5), x6 = row(6), x7 = row(7)
        var a0 = V(), a1 = V(), a2 = V(), a3 = V(), a4 = V(), a5 = V(), a6 = V(), a7 = V()
        var b0 = V(), b1 = V(), b2 = V(), b3 = V(), b4 = V(), b5 = V(), b6 = V(), b7 = V()
        var w = UnsafeRawPointer(panel)
        for kk in 0..<k {
            let lo = w.loadUnaligned(as: V.self), hi = w.loadUnaligned(fromByteOffset: 64, as: V.self)
            var s = V(repeating: x0[kk]); a0 = a0.addingProduct(s, lo); b0 = b0.addingProduct(s, hi)
            s = V(repeating: x1[kk]); a1 = a1.addingProduct(s, lo); b1 = b1.addingProduct(s, hi)
            s = V(repeating: x2[kk]); a2 = a2.addingProduct(s, lo); b2 = b2.addingProduct(s, hi)
            s = V(repeating: x3[kk]); a3 = a3.addingProduct(s, lo); b3 = b3.addingProduct(s, hi)
            s = V(repeating: x4[kk]); a4 = a4.addingProduct(s, lo); b4 = b4.addingProduct(s, hi)
            s = V(repeating: x5[kk]); a5 = a5.addingProduct(s, lo); b5 = b5.addingProduct(s, hi)
            s = V(repeating: x6[kk]); a6 = a6.addingProduct(s, lo); b6 = b6.addingProduct(s, hi)
            s = V(repeating: x7[kk]); a7 = a7.addingProduct(s, lo); b7 = b7.addingProduct(s, hi)
            w += 2 * MemoryLayout<V>.size
        }
        // Rows past `rows` accumulated zeros and are not stored.
        store(y, a0, b0, cols: cols)
        if rows > 1 { store(y + ldy, a1, b1, cols: cols) }
        if rows > 2 { store(y + 2 * ldy, a2, b2, cols: cols) }
        if rows > 3 { store(y + 3 * ldy, a3, b3, cols: cols) }
        if rows > 4 { store(y + 4 * ldy, a4, b4, cols: cols) }
        if rows > 5 { store(y + 5 * ldy, a5, b5, cols: cols) }
        if rows > 6 { store(y + 6 * ldy, a6, b6, cols: cols) }
        if rows > 7 { store(y + 7 * ldy, a7, b7, cols: cols) }
    }

    @inline(__always)
    private static func store(_ y: UnsafeMutablePointer<Float>, _ lo: V, _ hi: V, cols: Int) {
        let raw = UnsafeMutableRawPointer(y)
        if cols == 32 {
            raw.storeBytes(of: lo, as: V.self)
            raw.storeBytes(of: hi, toByteOffset: MemoryLayout<V>.size, as: V.self)
        } else {
            for c in 0..<cols { y[c] = c < 16 ? lo[c] : hi[c - 16] }
        }
    }
    #elseif TRAINER_AVX2
    /// One tile: `rows` ≤ 4 rows of x against one panel, `cols` ≤ 16 valid columns.
    @inline(__always)
    private static func tile(_ y: UnsafeMutablePointer<Float>, ldy: Int, _ x: UnsafePointer<Float>, ldx: Int,
                             rows: Int, cols: Int, _ panel: UnsafePointer<Float>, k: Int, zeros: UnsafePointer<Float>) {
        func row(_ i: Int) -> UnsafePointer<Float> { i < rows ? x + i * ldx : zeros }
        let x0 = row(0), x1 = row(1), x2 = row(2), x3 = row(3)
        var a0 = V(), a1 = V(), a2 = V(), a3 = V()
        var w = UnsafeRawPointer(panel)
        for kk in 0..<k {
            let v = w.loadUnaligned(as: V.self)
            a0 = a0.addingProduct(V(repeating: x0[kk]), v)
            a1 = a1.addingProduct(V(repeating: x1[kk]), v)
            a2 = a2.addingProduct(V(repeating: x2[kk]), v)
            a3 = a3.addingProduct(V(repeating: x3[kk]), v)
            w += MemoryLayout<V>.size
        }
        // Rows past `rows` accumulated zeros and are not stored.
        store(y, a0, cols: cols)
        if rows > 1 { store(y + ldy, a1, cols: cols) }
        if rows > 2 { store(y + 2 * ldy, a2, cols: cols) }
        if rows > 3 { store(y + 3 * ldy, a3, cols: cols) }
    }

    @inline(__always)
    private static func store(_ y: UnsafeMutablePointer<Float>, _ v: V, cols: Int) {
        if cols == 16 {
            UnsafeMutableRawPointer(y).storeBytes(of: v, as: V.self)
        } else {
            for c in 0..<cols { y[c] = v[c] }
        }
    }
    #endif
}
