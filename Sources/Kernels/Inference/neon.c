// NEON (AArch64 Advanced SIMD) inference kernels: the template with 4-float q-register vectors, FMA
// (`fmla`), and lane counts standing in for masks (NEON has no masked loads or stores); a 12x8 GEMM
// tile (24 of the 32 vector registers hold accumulators) and a 6-pixel x 16-channel convolution tile
// (24 accumulators). Every AArch64 CPU has these instructions, so the set needs no run-time check; its
// bf16 and int8 companions (neonbf16.c, neonint8.c) are offered where the CPU reports their extensions.
#if defined(__aarch64__)
#include <arm_neon.h>
#include <stddef.h>

#define IK_ATTR

/// The first n lanes of p (n <= 4), other lanes zero.
static inline float32x4_t neon_load_first(const float *p, size_t n) {
    if (n >= 4) return vld1q_f32(p);
    float lanes[4] = {0, 0, 0, 0};
    for (size_t i = 0; i < n; ++i) lanes[i] = p[i];
    return vld1q_f32(lanes);
}

/// Stores the first n lanes of v (n <= 4) at p.
static inline void neon_store_first(float *p, size_t n, float32x4_t v) {
    if (n >= 4) { vst1q_f32(p, v); return; }
    float lanes[4];
    vst1q_f32(lanes, v);
    for (size_t i = 0; i < n; ++i) p[i] = lanes[i];
}

#define IK_ISA neon
#define IK_VEC float32x4_t
#define IK_VLEN 4
#define IK_MASK size_t
#define IK_ZERO() vdupq_n_f32(0.0f)
#define IK_LOAD(p) vld1q_f32(p)
#define IK_SET1(x) vdupq_n_f32(x)
#define IK_FMA(a, b, c) vfmaq_f32(c, a, b)
#define IK_ADD(a, b) vaddq_f32(a, b)
#define IK_RELU(v) vmaxq_f32(v, vdupq_n_f32(0.0f))
#define IK_FIRST(n) ((size_t)(n) > 4 ? (size_t)4 : (size_t)(n))
#define IK_MASKZ_LOAD(m, p) neon_load_first(p, m)
#define IK_MASK_STORE(p, m, v) neon_store_first(p, m, v)
#define IK_MR 12
#define IK_GEMM gemm_12x8_neon
#define IK_PANEL gemm_panel_12x8_neon
#define IK_PACK pack_rows_neon
#include "template.h"

IK_CONV_TILE(6)

static const rn_conv_tile tiles_neon[] = {{"conv_6x16_neon", 6, 16, 0, conv_6x16_neon}};

const rn_kernels rn_neon_kernels = {"neon", IK_MR, IK_NR, 6, IK_GEMM, conv_6x16_neon, IK_PACK, tiles_neon, 1, rn_bf16_kernels_for,
                                   rn_int8_kernels_for};
#endif
