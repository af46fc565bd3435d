// Scalar pieces shared by the kernel files.
#ifndef REGNET_EPILOGUE_H
#define REGNET_EPILOGUE_H
#include <math.h>
#include <stddef.h>
#include "RegNetKernels.h"

static inline float rn_activate(float x, int act) {
    if (act == RN_ACT_RELU) return x > 0.0f ? x : 0.0f;
    if (act == RN_ACT_SIGMOID) return 1.0f / (1.0f + expf(-x));
    return x;
}

/// Row packing, written once and compiled per instruction set (the compiler vectorises the loop).
#define RN_DEFINE_PACK(NAME, ATTRIBUTES)                                                                 \
    ATTRIBUTES static void NAME(size_t mr, size_t k, const float *const *rows, const float *const *scales, \
                                float *dst) {                                                            \
        for (size_t i = 0; i < mr; ++i, dst += k) {                                                      \
            const float *src = rows[i];                                                                  \
            if (scales) {                                                                                \
                const float *g = scales[i];                                                              \
                for (size_t j = 0; j < k; ++j) dst[j] = src[j] * g[j];                                   \
            } else {                                                                                     \
                for (size_t j = 0; j < k; ++j) dst[j] = src[j];                                          \
            }                                                                                            \
        }                                                                                                \
    }
#endif
