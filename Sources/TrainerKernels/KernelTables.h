// The per-ISA kernel tables, each defined by one Kernels*.c file (which includes KernelBodies.h).
#include "TrainerKernels.h"

extern const tk_kernels tk_kernels_generic;
#if defined(__x86_64__)
extern const tk_kernels tk_kernels_avx2;
extern const tk_kernels tk_kernels_avx512;
#endif
