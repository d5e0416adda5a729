// AVX2 + FMA (Haswell and later, Zen and later).
#if defined(__x86_64__)
#pragma clang attribute push(__attribute__((target("avx2,fma"))), apply_to = function)
#define TK_TABLE tk_kernels_avx2
#define TK_ISA TK_ISA_AVX2
#define TK_ISA_NAME "avx2"
#define TK_FUSED_MADD 1
#define TK_TILE_LANES 8  // 4 rows × 2 vectors of 8 = 16 columns: 8 accumulators + 2 weights of 16 ymm
#define TK_TILE_ROWS 4
#include "KernelBodies.h"
#pragma clang attribute pop
#endif
