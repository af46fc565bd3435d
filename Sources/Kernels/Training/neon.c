// Training kernels for AArch64 NEON (the template compiled for 128-bit vectors with FMA): a GEMM tile
// of 3 x 32 keeps its 24 accumulator registers of the 32.
#if defined(__aarch64__)
#define TK_ATTR
#define TK_NAME(x) rn_train_neon_##x
#define TK_MR 3
#include "template.h"
const rn_training_kernels rn_neon_training_kernels = {"neon", TK_MR, TK_NAME(gemm_nn), TK_NAME(gemm_tn), TK_NAME(wgrad), TK_NAME(wgrad_3x3_g8), TK_NAME(wgrad_stem3), TK_NAME(conv_pair8), TK_NAME(interleave_pairs8)};
#endif
