// The kernels' source, compiled once per ISA: each Kernels*.c file defines the ISA's macros
// (TK_TABLE, TK_ISA, TK_ISA_NAME; and for a packed-product tile TK_FUSED_MADD, TK_TILE_LANES,
// TK_TILE_ROWS), wraps this file in
// a `target` attribute and includes it. Everything here is static, so the copies do not clash.
//
// Same numbers on every ISA, except in `packed_forward`: the elementwise kernels use 8-lane
// vectors everywhere (one ymm on AVX2/AVX-512, two xmm on SSE2), reduce them in one fixed order,
// and never fuse a multiply and an add (FP_CONTRACT OFF), so their results are bit-identical
// across ISAs. `packed_forward` (AVX2 and AVX-512 only) fuses its multiply-adds; the two agree bit
// for bit (the same chain along k); generic uses sgemm instead, which rounds differently.

#include "KernelTables.h"
#include <math.h>
#include <string.h>

#pragma STDC FP_CONTRACT OFF

#define TK_INLINE static inline __attribute__((always_inline))

typedef float v8f __attribute__((vector_size(32)));
typedef int v8i __attribute__((vector_size(32)));

TK_INLINE v8f load8(const float *p) { v8f v; memcpy(&v, p, sizeof v); return v; }
TK_INLINE void store8(float *p, v8f v) { memcpy(p, &v, sizeof v); }
TK_INLINE v8f splat8(float s) { v8f v = {s, s, s, s, s, s, s, s}; return v; }
/// The first n (< 8) values of p, then `fill`.
TK_INLINE v8f load_partial8(const float *p, long n, float fill) {
    v8f v = splat8(fill);
    for (long i = 0; i < n; i++) v[i] = p[i];
    return v;
}
TK_INLINE void store_partial8(float *p, v8f v, long n) { for (long i = 0; i < n; i++) p[i] = v[i]; }
/// mask ? a : b per lane (mask lanes all ones or zeros, as comparisons give).
TK_INLINE v8f select8(v8i mask, v8f a, v8f b) { return (v8f)(((v8i)a & mask) | ((v8i)b & ~mask)); }
TK_INLINE float sum8(v8f v) { return ((v[0] + v[1]) + (v[2] + v[3])) + ((v[4] + v[5]) + (v[6] + v[7])); }
TK_INLINE float max8(v8f v) {
    float m = v[0];
    for (int i = 1; i < 8; i++) m = v[i] > m ? v[i] : m;
    return m;
}

/// e^x for 8 lanes (Cephes' expf: x = n·ln2 + r, degree-6 polynomial for e^r, 2^n through the
/// exponent bits). Relative error ~1e-7 on [-87, 88]; inputs outside are clamped. libm's scalar
/// expf/tanhf were a third of a training step before this.
TK_INLINE v8f exp8(v8f x) {
    const v8f lo = splat8(-87.3f), hi = splat8(88.3f);
    x = select8(x < lo, lo, x);
    x = select8(x > hi, hi, x);
    // Round to nearest with the 1.5·2^23 trick.
    const float magic = 12582912.0f;
    v8f n = (x * 1.44269504088896341f + magic) - magic;
    v8f r = x - n * 0.693359375f + n * 2.12194440e-4f;
    v8f p = splat8(1.9875691500e-4f);
    p = p * r + 1.3981999507e-3f;
    p = p * r + 8.3334519073e-3f;
    p = p * r + 4.1665795894e-2f;
    p = p * r + 1.6666665459e-1f;
    p = p * r + 5.0000001201e-1f;
    p = p * r * r + r + 1.0f;
    // 2^n: adding 2^23 + 127 puts n + 127 in the low mantissa bits of an exact float.
    v8i e = (v8i)(n + 8388735.0f) - 0x4B000000;
    return p * (v8f)(e << 23);
}

/// tanh(u) = 1 − 2 / (e^{2u} + 1); absolute error ~1e-7 (enough for GELU).
TK_INLINE v8f tanh8(v8f u) { return 1.0f - 2.0f / (exp8(2.0f * u) + 1.0f); }

// MARK: - gated GELU ("gelu_new": 0.5·a·(1 + tanh(√(2/π)·(a + 0.044715·a³))))

static const float gelu_c0 = 0.7978845608028654f, gelu_c1 = 0.044715f;

TK_INLINE v8f gelu_gate8(v8f a, v8f h1) {
    v8f u = gelu_c0 * (a + gelu_c1 * a * a * a);
    v8f t = tanh8(u);
    return 0.5f * a * (1.0f + t) * h1;
}

static void gelu_gate_forward(float *gated, const float *h01, long rows, long dff) {
    for (long r = 0; r < rows; r++) {
        const float *h0 = h01 + r * 2 * dff, *h1 = h0 + dff;
        float *g = gated + r * dff;
        long i = 0;
        for (; i + 8 <= dff; i += 8) store8(g + i, gelu_gate8(load8(h0 + i), load8(h1 + i)));
        if (i < dff) store_partial8(g + i, gelu_gate8(load_partial8(h0 + i, dff - i, 0), load_partial8(h1 + i, dff - i, 0)), dff - i);
    }
}

/// One tanh serves both gelu(a) and gelu'(a).
TK_INLINE void gelu_gate_backward8(v8f a, v8f h1, v8f g, v8f *dh0, v8f *dh1) {
    v8f u = gelu_c0 * (a + gelu_c1 * a * a * a);
    v8f t = tanh8(u);
    v8f one_plus_t = 1.0f + t;
    v8f gelu = 0.5f * a * one_plus_t;
    v8f sech2 = 1.0f - t * t;
    v8f inner = gelu_c0 * (1.0f + (3.0f * gelu_c1) * a * a);
    v8f grad = 0.5f * one_plus_t + 0.5f * a * sech2 * inner;
    *dh0 = g * h1 * grad;
    *dh1 = g * gelu;
}

static void gelu_gate_backward(float *dh01, const float *dgated, const float *h01, long rows, long dff) {
    for (long r = 0; r < rows; r++) {
        const float *h0 = h01 + r * 2 * dff, *h1 = h0 + dff, *dg = dgated + r * dff;
        float *dh0 = dh01 + r * 2 * dff, *dh1 = dh0 + dff;
        long i = 0;
        v8f d0, d1;
        for (; i + 8 <= dff; i += 8) {
            gelu_gate_backward8(load8(h0 + i), load8(h1 + i), load8(dg + i), &d0, &d1);
            store8(dh0 + i, d0);
            store8(dh1 + i, d1);
        }
        if (i < dff) {
            long n = dff - i;
            gelu_gate_backward8(load_partial8(h0 + i, n, 0), load_partial8(h1 + i, n, 0), load_partial8(dg + i, n, 0), &d0, &d1);
            store_partial8(dh0 + i, d0, n);
            store_partial8(dh1 + i, d1, n);
        }
    }
}

// MARK: - softmax

/// Lanes 0..<n all ones, the rest zero.
TK_INLINE v8i first_lanes8(long n) {
    v8i m = {0, 1, 2, 3, 4, 5, 6, 7};
    return m < (int)n;
}

static void softmax_row(float *row, const float *bias, const float *mask, long limit, long count) {
    const v8f neg_inf = splat8(-INFINITY), zero = splat8(0);
    long j = 0;
    if (bias) {
        for (; j + 8 <= limit; j += 8) store8(row + j, load8(row + j) + load8(bias + j));
        for (; j < limit; j++) row[j] += bias[j];
    }
    // Max over unmasked keys (masked lanes and the tail's padding count as -inf).
    v8f mx = neg_inf;
    for (j = 0; j < limit; j += 8) {
        long n = limit - j < 8 ? limit - j : 8;
        v8f v = n == 8 ? load8(row + j) : load_partial8(row + j, n, -INFINITY);
        if (mask) v = select8((n == 8 ? load8(mask + j) : load_partial8(mask + j, n, 0)) == zero, neg_inf, v);
        mx = select8(v > mx, v, mx);
    }
    float maxv = max8(mx);
    if (maxv == -INFINITY) {  // every key masked: all zeros
        memset(row, 0, (size_t)count * sizeof(float));
        return;
    }
    // exp, zero the masked keys (mask is 0/1) and the tail's padding, and sum in one pass.
    v8f acc = zero;
    for (j = 0; j < limit; j += 8) {
        long n = limit - j < 8 ? limit - j : 8;
        if (n == 8) {
            v8f e = exp8(load8(row + j) - maxv);
            if (mask) e *= load8(mask + j);
            store8(row + j, e);
            acc += e;
        } else {
            v8f e = exp8(load_partial8(row + j, n, 0) - maxv);
            if (mask) e *= load_partial8(mask + j, n, 0);
            e = select8(first_lanes8(n), e, zero);
            store_partial8(row + j, e, n);
            acc += e;
        }
    }
    float sum = sum8(acc);
    float inv = sum > 0 ? 1 / sum : 0;
    for (j = 0; j < limit; j++) row[j] *= inv;
    for (j = limit; j < count; j++) row[j] = 0;
}

// MARK: - decoding's attention over the cache

TK_INLINE float dot(const float *a, const float *b, long n) {
    v8f acc = splat8(0);
    long i = 0;
    for (; i + 8 <= n; i += 8) acc += load8(a + i) * load8(b + i);
    float s = sum8(acc);
    for (; i < n; i++) s += a[i] * b[i];
    return s;
}

/// Asks for the `span` floats at p (one key or value row, every head) a cache line at a time.
TK_INLINE void prefetch_row(const float *p, long span) {
    for (long c = 0; c < span; c += 16) __builtin_prefetch(p + c);
}

static void attend(float *out, const float *q, const float *keys, const float *values, long ld, long n, long heads,
                   long dk, const float *bias, long bias_stride, const float *mask, float *scores) {
    // Key and value rows are read once each, all heads together, front to back, asking for the
    // row `ahead` rows on (decoding's cross-attention reads ~50 MB of cache per token at T5-small
    // shapes, rows of keys and values interleaved; head by head, each pass picked dk floats out of
    // every ld-float row and the prefetchers did not keep up: 2.2× slower at those shapes with
    // AVX2). Each head's dot products, softmax and value sum keep the order of a one-head loop:
    // same bits.
    const long ahead = 4, span = heads * dk;
    for (long j = 0; j < n; j++) {
        const float *key = keys + j * ld;
        if (j + ahead < n) prefetch_row(key + ahead * ld, span);
        for (long h = 0; h < heads; h++) scores[h * n + j] = dot(q + h * dk, key + h * dk, dk);
    }
    for (long j = 0; j < ahead && j < n; j++) prefetch_row(values + j * ld, span);
    for (long h = 0; h < heads; h++) softmax_row(scores + h * n, bias ? bias + h * bias_stride : NULL, mask, n, n);
    memset(out, 0, (size_t)span * sizeof(float));
    for (long j = 0; j < n; j++) {
        const float *value = values + j * ld;
        if (j + ahead < n) prefetch_row(value + ahead * ld, span);
        for (long h = 0; h < heads; h++) {
            float p = scores[h * n + j];
            if (p == 0) continue;  // masked keys
            const float *v = value + h * dk;
            float *o = out + h * dk;
            long i = 0;
            for (; i + 8 <= dk; i += 8) store8(o + i, load8(o + i) + p * load8(v + i));
            for (; i < dk; i++) o[i] += p * v[i];
        }
    }
}

// MARK: - cross-entropy's exponentials

static float log_sum_exp(const float *row, long n) {
    v8f mx = splat8(-INFINITY);
    long j = 0;
    for (; j + 8 <= n; j += 8) { v8f v = load8(row + j); mx = select8(v > mx, v, mx); }
    if (j < n) { v8f v = load_partial8(row + j, n - j, -INFINITY); mx = select8(v > mx, v, mx); }
    float maxv = max8(mx);
    v8f acc = splat8(0);
    for (j = 0; j + 8 <= n; j += 8) acc += exp8(load8(row + j) - maxv);
    if (j < n) acc += select8(first_lanes8(n - j), exp8(load_partial8(row + j, n - j, 0) - maxv), splat8(0));
    return maxv + logf(sum8(acc));
}

static void exp_shift_scale(float *out, const float *row, float shift, float scale, long n, int accumulate) {
    long j = 0;
    if (accumulate) {
        for (; j + 8 <= n; j += 8) store8(out + j, load8(out + j) + exp8(load8(row + j) - shift) * scale);
        if (j < n)
            store_partial8(out + j, load_partial8(out + j, n - j, 0) + exp8(load_partial8(row + j, n - j, 0) - shift) * scale,
                           n - j);
        return;
    }
    for (; j + 8 <= n; j += 8) store8(out + j, exp8(load8(row + j) - shift) * scale);
    if (j < n) store_partial8(out + j, exp8(load_partial8(row + j, n - j, 0) - shift) * scale, n - j);
}

// MARK: - packed products (decoding's one row per sequence; layout in PackedLinear.swift)

#if defined(TK_TILE_LANES)

#define TK_WIDTH (2 * TK_TILE_LANES)
typedef float vt __attribute__((vector_size(TK_TILE_LANES * 4)));

TK_INLINE vt load_t(const float *p) { vt v; memcpy(&v, p, sizeof v); return v; }
TK_INLINE vt splat_t(float s) {
    vt v;
    for (int i = 0; i < TK_TILE_LANES; i++) v[i] = s;
    return v;
}
TK_INLINE vt madd_t(vt a, vt b, vt acc) {
#if TK_FUSED_MADD
    return __builtin_elementwise_fma(a, b, acc);
#else
    return acc + a * b;
#endif
}
TK_INLINE void store_t(float *y, vt lo, vt hi, long cols) {
    if (cols == TK_WIDTH) {
        memcpy(y, &lo, sizeof lo);
        memcpy(y + TK_TILE_LANES, &hi, sizeof hi);
    } else {
        for (long c = 0; c < cols; c++) y[c] = c < TK_TILE_LANES ? lo[c] : hi[c - TK_TILE_LANES];
    }
}

/// `rows` ≤ TK_TILE_ROWS rows of x against one panel, `cols` ≤ TK_WIDTH valid columns: the tile's
/// outputs stay in registers for the whole k loop and are stored once.
TK_INLINE void packed_tile(float *y, long ldy, const float *x, long ldx, long rows, long cols, const float *panel, long k,
                           const float *zeros, const float *prefetch, long every) {
    const float *xr[TK_TILE_ROWS];
    vt a[TK_TILE_ROWS], b[TK_TILE_ROWS];
#pragma clang loop unroll(full)
    for (int i = 0; i < TK_TILE_ROWS; i++) {
        xr[i] = i < rows ? x + i * ldx : zeros;  // rows past `rows` accumulate zeros and are not stored
        a[i] = splat_t(0);
        b[i] = splat_t(0);
    }
    const float *w = panel;
    long countdown = every;
    for (long kk = 0; kk < k; kk++) {
        if (prefetch && --countdown == 0) {  // one row of the next panel every `every` kk
            countdown = every;
            __builtin_prefetch(prefetch);
            if (TK_WIDTH > 16) __builtin_prefetch(prefetch + 16);  // AVX-512: a row is two lines
            prefetch += TK_WIDTH;
        }
        vt lo = load_t(w), hi = load_t(w + TK_TILE_LANES);
#pragma clang loop unroll(full)
        for (int i = 0; i < TK_TILE_ROWS; i++) {
            vt s = splat_t(xr[i][kk]);
            a[i] = madd_t(s, lo, a[i]);
            b[i] = madd_t(s, hi, b[i]);
        }
        w += TK_WIDTH;
    }
#pragma clang loop unroll(full)
    for (int i = 0; i < TK_TILE_ROWS; i++)
        if (i < rows) store_t(y + i * ldy, a[i], b[i], cols);
}

static void packed_forward(float *y, const float *x, const float *panels, const float *zeros, long m, long n, long k) {
    // With a batch of rows each panel is read from memory once, by the first row tile, and from
    // cache by the others. So that memory keeps working while the tiles compute, every tile asks
    // for its share of the next panel, spread over its k loop (one row of it every `tiles` kk):
    // at T5-small shapes, 16 rows, AVX2 (Zen 3), the decoder's products per token took ~25 % less
    // time than with the first tile asking for the whole next panel, ~40 % less than with none.
    long tiles = (m + TK_TILE_ROWS - 1) / TK_TILE_ROWS;
    long share = (k + tiles - 1) / tiles;
    for (long col = 0; col < n; col += TK_WIDTH) {
        const float *panel = panels + (col / TK_WIDTH) * k * TK_WIDTH;
        long cols = n - col < TK_WIDTH ? n - col : TK_WIDTH;
        const float *next = col + TK_WIDTH < n ? panel + k * TK_WIDTH : NULL;
        long t = 0;
        for (long r = 0; r < m; r += TK_TILE_ROWS, t++)
            packed_tile(y + r * n + col, n, x + r * k, k, m - r < TK_TILE_ROWS ? m - r : TK_TILE_ROWS, cols, panel, k, zeros,
                        next && t * share < k ? next + t * share * TK_WIDTH : NULL, tiles);
    }
}

#endif

const tk_kernels TK_TABLE = {
    .isa = TK_ISA,
    .name = TK_ISA_NAME,
#if defined(TK_TILE_LANES)
    .packed_width = TK_WIDTH,
    .packed_forward = packed_forward,
#endif
    .gelu_gate_forward = gelu_gate_forward,
    .gelu_gate_backward = gelu_gate_backward,
    .softmax_row = softmax_row,
    .attend = attend,
    .log_sum_exp = log_sum_exp,
    .exp_shift_scale = exp_shift_scale,
};
