#ifndef STEPWISE_TRAINER_KERNELS_H
#define STEPWISE_TRAINER_KERNELS_H

// The trainer's hot loops in C, compiled once per instruction set and picked at run time, so
// that one binary runs on any x86-64 (or arm64) CPU and still uses AVX-512 or AVX2 + FMA where
// the CPU has them. Swift has no per-function target attributes; C has.

#ifdef __cplusplus
extern "C" {
#endif

typedef enum {
    TK_ISA_GENERIC = 0,  // the baseline of the build target (SSE2 on x86-64, NEON on arm64)
    TK_ISA_AVX2 = 1,     // AVX2 + FMA
    TK_ISA_AVX512 = 2,   // AVX-512 F/VL/BW/DQ + FMA
} tk_isa;

/// One instruction set's kernels. All pointers are float32, row-major, unaligned is fine.
typedef struct {
    tk_isa isa;
    const char *name;  // "generic", "avx2", "avx512"

    /// Column-panel layout of PackedLinear for this ISA: panels of `packed_width` columns
    /// (0 and packed_forward NULL on generic: the products go to sgemm).
    long packed_width;
    /// y[m, n] = x[m, k] · Wᵀ from W packed into panels (see PackedLinear.swift); `zeros` holds k
    /// zeros (the x rows past m in a partial tile). Each output is a fused multiply-add chain
    /// along k in index order, so AVX2 and AVX-512 agree bit for bit.
    void (*packed_forward)(float *y, const float *x, const float *panels, const float *zeros,
                           long m, long n, long k);

    /// gated[r] = gelu_tanh(h0[r]) ⊙ h1[r] for each row of h01 = [h0 | h1] (rows × 2·dff).
    void (*gelu_gate_forward)(float *gated, const float *h01, long rows, long dff);
    /// dh01 = [dgated ⊙ h1 ⊙ gelu'(h0) | dgated ⊙ gelu(h0)] (overwrites dh01).
    void (*gelu_gate_backward)(float *dh01, const float *dgated, const float *h01, long rows, long dff);

    /// In place: row ← softmax(row + bias) over keys j < limit whose mask[j] ≠ 0 (bias and mask
    /// may be NULL); the other keys up to `count` get 0, and a row with every key masked is all 0.
    void (*softmax_row)(float *row, const float *bias, const float *mask, long limit, long count);

    /// One query's attention over n cached keys and values, for each of `heads` heads (greedy
    /// decoding): out[h·dk ..< (h+1)·dk] = Σ_j p_hj · values[j][h·dk ..< (h+1)·dk] with p_h =
    /// softmax_row(q_h · keys[j][h·dk ...] + bias[h·bias_stride + j], mask) (bias, mask may be NULL);
    /// keys[j] and values[j] are rows `ld` floats apart holding every head side by side; `scores`
    /// is scratch of heads·n floats. Each head's result has the bits of a one-head call.
    void (*attend)(float *out, const float *q, const float *keys, const float *values, long ld, long n, long heads,
                   long dk, const float *bias, long bias_stride, const float *mask, float *scores);

    /// log Σ_j exp(row[j]) over n values (max-shifted).
    float (*log_sum_exp)(const float *row, long n);
    /// out[j] = exp(row[j] − shift) · scale, or out[j] += that when `accumulate` ≠ 0 (a second
    /// loss term adding its gradient to the same logits).
    void (*exp_shift_scale)(float *out, const float *row, float shift, float scale, long n, int accumulate);
} tk_kernels;

/// The kernels of one ISA, or NULL when this CPU (or this build's architecture) lacks it.
const tk_kernels *tk_kernels_for(tk_isa isa);

/// The kernels in use, chosen once per process: STEPWISE_TRAINER_ISA=avx512|avx2|generic if set
/// (the process exits with a message if the value is unknown or the CPU lacks that ISA),
/// otherwise the best this CPU supports.
const tk_kernels *tk_active(void);

/// The best ISA this CPU supports.
tk_isa tk_best_supported(void);

#ifdef __cplusplus
}
#endif
#endif
