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
#endif
