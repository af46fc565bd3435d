// Training kernels for AVX2 + FMA (the template's 16-lane vectors become pairs of ymm registers).
#if defined(__x86_64__) || defined(_M_X64)
#define TK_ATTR __attribute__((target("avx2,fma")))
#define TK_NAME(x) rn_train_avx2_##x
#define TK_MR 4
#include "template.h"
const rn_training_kernels rn_avx2_training_kernels = {"avx2", TK_MR, TK_NAME(gemm_nn), TK_NAME(gemm_tn), TK_NAME(wgrad), TK_NAME(wgrad_3x3_g8), TK_NAME(wgrad_stem3), TK_NAME(conv_pair8), TK_NAME(interleave_pairs8)};
#endif
