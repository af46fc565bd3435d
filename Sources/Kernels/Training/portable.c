// Training kernels for any CPU: the template with the compiler's baseline vectors.
#define TK_ATTR
#define TK_NAME(x) rn_train_portable_##x
#define TK_MR 4
#include "template.h"
const rn_training_kernels rn_portable_training_kernels = {"portable", TK_MR, TK_NAME(gemm_nn), TK_NAME(gemm_tn), TK_NAME(wgrad), TK_NAME(wgrad_3x3_g8), TK_NAME(wgrad_stem3), TK_NAME(conv_pair8), TK_NAME(interleave_pairs8)};
