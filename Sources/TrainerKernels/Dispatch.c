#include "TrainerKernels.h"
#include "KernelTables.h"
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

tk_isa tk_best_supported(void) {
#if defined(__x86_64__)
    // __builtin_cpu_supports also checks that the OS saves the wider registers (XGETBV).
    __builtin_cpu_init();
    if (__builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512vl") &&
        __builtin_cpu_supports("avx512bw") && __builtin_cpu_supports("avx512dq") &&
        __builtin_cpu_supports("fma"))
        return TK_ISA_AVX512;
    if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")) return TK_ISA_AVX2;
#endif
    return TK_ISA_GENERIC;
}

const tk_kernels *tk_kernels_for(tk_isa isa) {
    if (isa > tk_best_supported()) return NULL;
    switch (isa) {
    case TK_ISA_GENERIC: return &tk_kernels_generic;
#if defined(__x86_64__)
    case TK_ISA_AVX2: return &tk_kernels_avx2;
    case TK_ISA_AVX512: return &tk_kernels_avx512;
#endif
    default: return NULL;
    }
}

static const tk_kernels *active;
static pthread_once_t active_once = PTHREAD_ONCE_INIT;

static void choose(void) {
    const char *name = getenv("STEPWISE_TRAINER_ISA");
    if (name == NULL || *name == 0) {
        active = tk_kernels_for(tk_best_supported());
        return;
    }
    tk_isa isa;
    if (strcmp(name, "generic") == 0) isa = TK_ISA_GENERIC;
    else if (strcmp(name, "avx2") == 0) isa = TK_ISA_AVX2;
    else if (strcmp(name, "avx512") == 0) isa = TK_ISA_AVX512;
    else {
        fprintf(stderr, "error: STEPWISE_TRAINER_ISA=%s: unknown; use avx512, avx2 or generic\n", name);
        exit(2);
    }
    active = tk_kernels_for(isa);
    if (active == NULL) {
        fprintf(stderr, "error: STEPWISE_TRAINER_ISA=%s: this CPU does not support it (best: %s)\n", name,
                tk_kernels_for(tk_best_supported())->name);
        exit(2);
    }
}

const tk_kernels *tk_active(void) {
    pthread_once(&active_once, choose);
    return active;
}
