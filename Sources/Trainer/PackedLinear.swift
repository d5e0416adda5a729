import TrainerKernels

/// A linear layer's weight packed for products with few rows: y[m, n] = x[m, k] · W[n, k]ᵀ with m
/// about one batch (greedy decoding runs one row per sequence per new token).
///
/// Why not sgemm: OpenBLAS packs both operands into its panel layout on every call. With 32
/// rows the weight is the big operand, so every decoding step re-packed every weight; perf put
/// packing plus the zeroing of C at ~20 % of decoding. Here the weight is packed once per
/// `greedyDecode` call and each product is a plain register-tiled loop over it (the C kernel
/// `packed_forward`, Sources/TrainerKernels/KernelBodies.h). Measured on the 2-core AVX-512 VM,
/// one thread, m = 32, the decoder's shapes (k = 256 or 1024, n = 256 … 2048): 148–163 GFLOP/s
/// against OpenBLAS's 78–83 (SkylakeX kernels); AVX2 (4 × 16 tile): 73–75 against OpenBLAS's
/// Haswell kernels' 56–57.
///
/// Layout: W is cut into panels of `width` output columns (the ISA's tile width: 32 on AVX-512,
/// 16 on AVX2; the generic kernels have no tile and call sgemm on the unpacked weight); panel p holds, for kk in 0..<k, the `width` weights
/// W[p·width ..< (p+1)·width, kk] side by side (zero past n). The kernel keeps a tile of rows ×
/// `width` outputs in registers, adds x[r, kk] · panel[kk] for each kk, and stores the tile once:
/// the same multiply-adds in the same order as a dot product along k, so results do not depend
/// on m, on the tile a row falls in, or on the tile shape (AVX2 and AVX-512 agree bit for bit).
final class PackedLinear {
    let n: Int, k: Int
    private let kernel: tk_kernels
    private let width: Int
    private let panels: FloatBuffer
    /// k zeros: the x row of the rows past m in a partial tile.
    private let zeros: FloatBuffer
    /// The generic kernels have no tile (see KernelsGeneric.c): the unpacked weight, for sgemm.
    private var unpacked: UnsafePointer<Float>?

    /// Room for a W[n, k]; `repack` fills it. `kernel`: the ISA's kernels (tests pass each one).
    init(n: Int, k: Int, kernel: tk_kernels = kernels) {
        self.n = n
        self.k = k
        self.kernel = kernel
        width = kernel.packed_width
        panels = FloatBuffer(width > 0 ? (n + width - 1) / width * k * width : 0)   // zero-filled: the columns past n stay 0
        zeros = FloatBuffer(width > 0 ? k : 0)
    }

    /// Packs W[n, k] (row-major, PyTorch's [out, in]).
    convenience init(_ w: UnsafePointer<Float>, n: Int, k: Int, kernel: tk_kernels = kernels) {
        self.init(n: n, k: k, kernel: kernel)
        repack(w)
    }

    /// Packs new values of the same-shaped W into the same buffer (generic: keeps the pointer,
    /// which must stay valid until the last `forward`).
    func repack(_ w: UnsafePointer<Float>) {
        guard width > 0 else { unpacked = w; return }
        for j in 0..<n {
            let dst = panels.p + (j / width) * k * width + j % width
            let src = w + j * k
            for kk in 0..<k { dst[kk * width] = src[kk] }
        }
    }

    /// y[m, n] = x[m, k] · Wᵀ (overwrites y). Rows of x and y are `k` and `n` apart.
    func forward(_ y: UnsafeMutablePointer<Float>, _ x: UnsafePointer<Float>, m: Int) {
        if let packedForward = kernel.packed_forward {
            packedForward(y, x, panels.p, zeros.p, m, n, k)
        } else {
            linearForward(y, x, unpacked!, m: m, k: k, n: n)
        }
    }
}
