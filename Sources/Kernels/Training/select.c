// Picks the training kernel set with the same rule as the inference set (select.c).
#include <string.h>
#include "RegNetKernels.h"
#include "RegNetTrainingKernels.h"

extern const rn_training_kernels rn_portable_training_kernels;
#if defined(__x86_64__) || defined(_M_X64)
extern const rn_training_kernels rn_avx512_training_kernels;
extern const rn_training_kernels rn_avx2_training_kernels;
#endif
#if defined(__aarch64__)
extern const rn_training_kernels rn_neon_training_kernels;
#endif
#if defined(__x86_64__) || defined(_M_X64)
extern const rn_bf16_training_kernels rn_avx512bf16_training_kernels;
#endif

const rn_training_kernels *rn_training_kernels_for(const char *isa) {
    const rn_kernels *inference = rn_kernels_for(isa);
    if (!inference) return NULL;
#if defined(__x86_64__) || defined(_M_X64)
    if (strcmp(inference->name, "avx512") == 0) return &rn_avx512_training_kernels;
    if (strcmp(inference->name, "avx2") == 0) return &rn_avx2_training_kernels;
#endif
#if defined(__aarch64__)
    if (strcmp(inference->name, "neon") == 0) return &rn_neon_training_kernels;
#endif
    return &rn_portable_training_kernels;
}

const rn_bf16_training_kernels *rn_bf16_training_kernels_for(void) {
    const rn_bf16_kernels *inference = rn_bf16_kernels_for();
    if (!inference) return NULL;
#if defined(__x86_64__) || defined(_M_X64)
    if (strcmp(inference->name, "avx512bf16") == 0) return &rn_avx512bf16_training_kernels;
#endif
    return NULL;
}

int rn_cpu_vendor(void) {
#if defined(__x86_64__) || defined(_M_X64)
    __builtin_cpu_init();
    if (__builtin_cpu_is("intel")) return 1;
    if (__builtin_cpu_is("amd")) return 2;
#endif
    return 0;
}
