// The baseline build target's instructions (SSE2 on x86-64): what every CPU of the architecture runs.
#pragma clang diagnostic ignored "-Wpsabi"  // v8f passes between always-inlined helpers only
#define TK_TABLE tk_kernels_generic
#define TK_ISA TK_ISA_GENERIC
#define TK_ISA_NAME "generic"
#define TK_FUSED_MADD 0
#define TK_TILE_LANES 4  // one tile: 4 rows × 2 vectors of 4 = 8 columns (8 accumulators of 16 xmm)
#define TK_TILE_ROWS 4
#include "KernelBodies.h"
