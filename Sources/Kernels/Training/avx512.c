// Training kernels for AVX-512 (the template compiled with 512-bit vectors and FMA).
#if defined(__x86_64__) || defined(_M_X64)
#define TK_ATTR __attribute__((target("avx512f,avx512vl,avx512dq,avx512bw,fma,avx2")))
#define TK_NAME(x) rn_train_avx512_##x
#define TK_MR 14
#include "template.h"
const rn_training_kernels rn_avx512_training_kernels = {"avx512", TK_MR, TK_NAME(gemm_nn), TK_NAME(gemm_tn), TK_NAME(wgrad), TK_NAME(wgrad_3x3_g8), TK_NAME(wgrad_stem3), TK_NAME(conv_pair8), TK_NAME(interleave_pairs8)};
#endif
