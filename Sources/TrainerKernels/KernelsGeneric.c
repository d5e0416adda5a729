// The baseline build target's instructions (SSE2 on x86-64): what every CPU of the architecture runs.
#pragma clang diagnostic ignored "-Wpsabi"  // v8f passes between always-inlined helpers only
#define TK_TABLE tk_kernels_generic
#define TK_ISA TK_ISA_GENERIC
#define TK_ISA_NAME "generic"
// No packed-product tile: without FMA and with 16-byte vectors a register tile was half as fast as
// OpenBLAS's sgemm (which picks its own kernels for the CPU at run time), so decoding uses sgemm.
#include "KernelBodies.h"
