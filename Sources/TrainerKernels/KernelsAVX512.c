// AVX-512 (Skylake-SP and later, Zen 4 and later).
#if defined(__x86_64__)
#pragma clang attribute push(__attribute__((target("avx512f,avx512vl,avx512bw,avx512dq,avx2,fma"))), apply_to = function)
#define TK_TABLE tk_kernels_avx512
#define TK_ISA TK_ISA_AVX512
#define TK_ISA_NAME "avx512"
#define TK_FUSED_MADD 1
#define TK_TILE_LANES 16  // 8 rows × 2 vectors of 16 = 32 columns: 16 accumulators + 2 weights of 32 zmm
#define TK_TILE_ROWS 8
#include "KernelBodies.h"
#pragma clang attribute pop
#endif
