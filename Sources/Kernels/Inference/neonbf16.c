// NEON BF16 inference kernels (Armv8.6 FEAT_BF16: `bfdot` does two multiply-adds per 32-bit lane):
// bf16 operands, fp32 accumulation, fp32 bias, residual, activation and output, in the layouts of the
// AVX-512 BF16 set (adjacent reduction indices side by side), so the operators pack for either alike.
// The tiles are the fp32 NEON set's: a 12x8 GEMM tile and a 6-pixel x 16-channel convolution tile,
// 24 accumulators each. Compiled for every AArch64 CPU with a target attribute; select.c offers it
// only where the CPU reports BF16 (getauxval on Linux, sysctl on macOS).
#if defined(__aarch64__)
#include <arm_neon.h>
#include <string.h>
#include "../epilogue.h"

#define NB_ATTR __attribute__((target("bf16")))
enum { NB_MR = 12, NB_NR = 8, NB_XB = 6 };

/// A pair of bf16 values broadcast to every 32-bit lane (`ld1r`).
NB_ATTR static inline bfloat16x8_t nb_pair(const rn_bf16 *p) {
    uint32_t v;
    memcpy(&v, p, sizeof v);
    return vreinterpretq_bf16_u32(vdupq_n_u32(v));
}

NB_ATTR static inline bfloat16x8_t nb_load(const rn_bf16 *p) { return vreinterpretq_bf16_u16(vld1q_u16(p)); }

/// The first n (<= 4) floats at p, other lanes zero.
NB_ATTR static inline float32x4_t nb_floats(const float *p, size_t n) {
    if (n >= 4) return vld1q_f32(p);
    float lanes[4] = {0, 0, 0, 0};
    for (size_t i = 0; i < n; ++i) lanes[i] = p[i];
    return vld1q_f32(lanes);
}

/// The first n (<= 4) bf16 values at p, widened to floats, other lanes zero.
NB_ATTR static inline float32x4_t nb_widen(const rn_bf16 *p, size_t n) {
    uint16_t lanes[4] = {0, 0, 0, 0};
    if (n >= 4) memcpy(lanes, p, sizeof lanes);
    else for (size_t i = 0; i < n; ++i) lanes[i] = p[i];
    return vreinterpretq_f32_u32(vshll_n_u16(vld1_u16(lanes), 16));
}

/// x + bias (+ residual), ReLU, stored as the first n (<= 4) float32 or bf16 (nearest even) values of dst.
NB_ATTR static inline void nb_store(void *dst, float32x4_t x, int act, int out_bf16, size_t n) {
    if (act == RN_ACT_RELU) x = vmaxq_f32(x, vdupq_n_f32(0.0f));
    if (out_bf16) {
        uint16_t lanes[4];
        vst1_u16(lanes, vreinterpret_u16_bf16(vcvt_bf16_f32(x)));
        memcpy(dst, lanes, (n < 4 ? n : 4) * sizeof *lanes);
    } else {
        float lanes[4];
        vst1q_f32(lanes, x);
        memcpy(dst, lanes, (n < 4 ? n : 4) * sizeof *lanes);
    }
}

/// Lanes of vector v (4 each) that fall within the first n.
static inline size_t nb_lanes(size_t n, size_t v) { return n > 4 * v ? n - 4 * v : 0; }

/// One panel of 8 columns: 12 rows x 2 vectors of accumulators, k (even) reduction steps two at a time.
NB_ATTR static inline void gemm_panel_12x8_neonbf16(size_t m, size_t n, size_t k, const rn_bf16 *a, size_t lda,
                                                    const rn_bf16 *b, size_t col, void *const *c_rows,
                                                    const void *const *r_rows, const float *bias, int act, int formats) {
    float32x4_t acc[NB_MR][2];
#pragma clang loop unroll(full)
    for (int i = 0; i < NB_MR; ++i) { acc[i][0] = vdupq_n_f32(0.0f); acc[i][1] = vdupq_n_f32(0.0f); }
    for (size_t p = 0; p < k; p += 2) {
        const bfloat16x8_t b0 = nb_load(b), b1 = nb_load(b + 8);
#pragma clang loop unroll(full)
        for (int i = 0; i < NB_MR; ++i) {
            const bfloat16x8_t av = nb_pair(a + i * lda);
            acc[i][0] = vbfdotq_f32(acc[i][0], av, b0);
            acc[i][1] = vbfdotq_f32(acc[i][1], av, b1);
        }
        a += 2;
        b += 2 * NB_NR;
    }
    const size_t width = n < NB_NR ? n : NB_NR;
    const int out_bf16 = formats & RN_BF16_OUTPUT, res_bf16 = formats & RN_BF16_RESIDUAL;
    const int vector_act = act == RN_ACT_SIGMOID ? RN_ACT_NONE : act;
#pragma clang loop unroll(full)
    for (int i = 0; i < NB_MR; ++i) {   // constant indices keep the accumulators in registers
        if ((size_t)i >= m) break;
#pragma clang loop unroll(full)
        for (int v = 0; v < 2; ++v) {
            const size_t lanes = nb_lanes(width, (size_t)v), at = col + 4 * (size_t)v;
            if (lanes == 0) break;
            float32x4_t x = vaddq_f32(acc[i][v], bias ? vld1q_f32(bias + 4 * v) : vdupq_n_f32(0.0f));
            if (r_rows)
                x = vaddq_f32(x, res_bf16 ? nb_widen((const rn_bf16 *)r_rows[i] + at, lanes)
                                          : nb_floats((const float *)r_rows[i] + at, lanes));
            nb_store((char *)c_rows[i] + at * (out_bf16 ? 2 : 4), x, vector_act, out_bf16, lanes);
        }
    }
    if (act == RN_ACT_SIGMOID && !out_bf16)
        for (size_t i = 0; i < m; ++i) {
            float *c = (float *)c_rows[i] + col;
            for (size_t j = 0; j < width; ++j) c[j] = rn_activate(c[j], act);
        }
}

/// GEMM row tile (see rn_gemm_bf16_fn): panel after panel.
NB_ATTR static void gemm_12x8_neonbf16(size_t m, size_t n, size_t k, const rn_bf16 *a, size_t lda, const rn_bf16 *b,
                                       size_t col, void *const *c_rows, const void *const *r_rows, const float *bias,
                                       int act, int formats) {
    for (size_t first = 0; first < n; first += NB_NR)
        gemm_panel_12x8_neonbf16(m, n - first, k, a, lda, b + first * k, col + first, c_rows, r_rows,
                                 bias ? bias + first : NULL, act, formats);
}

/// n values (float32, or bf16 with in_bf16; times n float gates when g is not NULL) rounded to bf16.
NB_ATTR static void nb_round(size_t n, const void *src, int in_bf16, const float *g, rn_bf16 *dst) {
    for (size_t j = 0; j < n; j += 4) {
        const size_t lanes = n - j < 4 ? n - j : 4;
        float32x4_t x = in_bf16 ? nb_widen((const rn_bf16 *)src + j, lanes) : nb_floats((const float *)src + j, lanes);
        if (g) x = vmulq_f32(x, nb_floats(g + j, lanes));
        if (in_bf16 && !g) memcpy(dst + j, (const rn_bf16 *)src + j, lanes * sizeof *dst);
        else nb_store(dst + j, x, RN_ACT_NONE, 1, lanes);
    }
}

/// Packs mr rows (float32 or bf16, gated) into bf16 rows of k rounded up to even, the pad zero (see rn_pack_bf16_fn).
NB_ATTR static void pack_rows_neonbf16(size_t mr, size_t k, const void *const *rows, const float *const *scales,
                                       rn_bf16 *dst, int in_bf16) {
    const size_t stride = (k + 1) & ~(size_t)1;
    for (size_t i = 0; i < mr; ++i, dst += stride) {
        nb_round(k, rows[i], in_bf16, scales ? scales[i] : NULL, dst);
        if (k & 1) dst[k] = 0;
    }
}

/// n floats to bf16 (see rn_convert_bf16_fn).
NB_ATTR static void convert_neonbf16(size_t n, const float *src, rn_bf16 *dst) { nb_round(n, src, 0, NULL, dst); }

/// Direct convolution tile of TILE pixels x 16 channels (4 vectors) over pairs of input channels (see rn_conv_bf16_fn).
#define NB_CONV_TILE(TILE)                                                                                     \
    NB_ATTR static void conv_##TILE##x16_neonbf16(size_t xb, size_t co, size_t kh, size_t kw, size_t ci,        \
                                                  const rn_bf16 *in, size_t in_row, size_t in_col,              \
                                                  size_t in_pixel, const rn_bf16 *w, const float *bias,         \
                                                  void *out, size_t out_pixel, int act, int out_bf16) {         \
        const size_t pairs = (ci + 1) / 2;                                                                     \
        float32x4_t acc[TILE][4];                                                                              \
        _Pragma("clang loop unroll(full)") for (int p = 0; p < TILE; ++p)                                      \
            _Pragma("clang loop unroll(full)") for (int v = 0; v < 4; ++v) acc[p][v] = vdupq_n_f32(0.0f);      \
        for (size_t ky = 0; ky < kh; ++ky)                                                                     \
            for (size_t kx = 0; kx < kw; ++kx) {                                                               \
                const rn_bf16 *pin = in + ky * in_row + kx * in_col;                                           \
                const rn_bf16 *pw = w + (ky * kw + kx) * pairs * 2 * RN_CONV_LANES;                            \
                for (size_t c = 0; c < pairs; ++c, pw += 2 * RN_CONV_LANES) {                                  \
                    const bfloat16x8_t w0 = nb_load(pw), w1 = nb_load(pw + 8), w2 = nb_load(pw + 16),          \
                                       w3 = nb_load(pw + 24);                                                  \
                    _Pragma("clang loop unroll(full)") for (int p = 0; p < TILE; ++p) {                        \
                        const bfloat16x8_t x = nb_pair(pin + p * in_pixel + 2 * c);                            \
                        acc[p][0] = vbfdotq_f32(acc[p][0], x, w0);                                             \
                        acc[p][1] = vbfdotq_f32(acc[p][1], x, w1);                                             \
                        acc[p][2] = vbfdotq_f32(acc[p][2], x, w2);                                             \
                        acc[p][3] = vbfdotq_f32(acc[p][3], x, w3);                                             \
                    }                                                                                          \
                }                                                                                              \
            }                                                                                                  \
        const int vector_act = act == RN_ACT_SIGMOID ? RN_ACT_NONE : act;                                      \
        const size_t bytes = out_bf16 ? 2 : 4;                                                                 \
        _Pragma("clang loop unroll(full)") for (int p = 0; p < TILE; ++p) {                                    \
            if ((size_t)p >= xb) break;                                                                        \
            _Pragma("clang loop unroll(full)") for (int v = 0; v < 4; ++v) {                                   \
                const size_t lanes = nb_lanes(co, (size_t)v);                                                  \
                if (lanes == 0) break;                                                                         \
                const float32x4_t x = vaddq_f32(acc[p][v], bias ? vld1q_f32(bias + 4 * v) : vdupq_n_f32(0.0f)); \
                nb_store((char *)out + (p * out_pixel + 4 * v) * bytes, x, vector_act, out_bf16, lanes);       \
            }                                                                                                  \
        }                                                                                                      \
        if (act == RN_ACT_SIGMOID && !out_bf16)                                                                \
            for (size_t p = 0; p < xb; ++p) {                                                                  \
                float *o = (float *)out + p * out_pixel;                                                       \
                for (size_t j = 0; j < co; ++j) o[j] = rn_activate(o[j], act);                                 \
            }                                                                                                  \
    }

NB_CONV_TILE(6)
NB_CONV_TILE(3)

NB_ATTR static void conv_neonbf16(size_t xb, size_t co, size_t kh, size_t kw, size_t ci, const rn_bf16 *in,
                                  size_t in_row, size_t in_col, size_t in_pixel, const rn_bf16 *w, const float *bias,
                                  void *out, size_t out_pixel, int act, int out_bf16) {
    if (xb > 3) conv_6x16_neonbf16(xb, co, kh, kw, ci, in, in_row, in_col, in_pixel, w, bias, out, out_pixel, act, out_bf16);
    else conv_3x16_neonbf16(xb, co, kh, kw, ci, in, in_row, in_col, in_pixel, w, bias, out, out_pixel, act, out_bf16);
}

/// No paired tile (xb2 0): one 16-channel tile already keeps 4 vectors x 6 pixels of accumulators in flight.
const rn_bf16_kernels rn_neonbf16_kernels = {"neonbf16", NB_MR, NB_NR, NB_XB, gemm_12x8_neonbf16, conv_neonbf16,
                                             0, NULL, pack_rows_neonbf16, convert_neonbf16};
#endif
