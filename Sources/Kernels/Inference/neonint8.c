// NEON int8 inference kernels: uint8 activations (zero point 0) times int8 weights, int32
// accumulation, then the float32 epilogue of the AVX-512 VNNI set (per-channel scale, bias, residual,
// ReLU, float32 or requantised uint8 store), in its layouts (four adjacent reduction indices side by
// side). Two instantiations of one template, as the CPU allows:
//   neoni8mm    (Armv8.6 FEAT_I8MM: `usdot`, unsigned x signed, what vpdpbusd does);
//   neondotprod (Armv8.2 FEAT_DotProd: `sdot`, signed x signed): the activations are shifted to
//               a - 128 on the way in (an xor of the sign bit) and 128 x each column's weight sum is
//               added back after the reduction, so the integer result equals the unsigned one exactly.
// neoni8mm has the fp32 NEON set's tiles (12x8 GEMM, 6-pixel x 16-channel convolution: 24 int32
// accumulators each); neondotprod's are a size smaller (10x8, 5 pixels: 20 accumulators), leaving
// registers for the shift, so the inner loops keep every value in registers (no spills, no copies).
#if defined(__aarch64__)
#include <arm_neon.h>
#include <string.h>
#include "../epilogue.h"

enum { NQ_NR = 8 };

/// Four bytes at p as one 32-bit value (to be broadcast to every lane: `ld1r`).
static inline uint32_t nq_quad(const unsigned char *p) {
    uint32_t v;
    memcpy(&v, p, sizeof v);
    return v;
}

/// The first n (<= 4) floats at p, other lanes zero.
static inline float32x4_t nq_floats(const float *p, size_t n) {
    if (n >= 4) return vld1q_f32(p);
    float lanes[4] = {0, 0, 0, 0};
    for (size_t i = 0; i < n; ++i) lanes[i] = p[i];
    return vld1q_f32(lanes);
}

/// x x inverse rounded to nearest even and saturated to [0, 255] (NaN to 0), in the low 4 bytes.
static inline uint8x8_t nq_quantize(float32x4_t x, float32x4_t inverse) {
    const uint16x4_t h = vqmovun_s32(vcvtnq_s32_f32(vmulq_f32(x, inverse)));
    return vqmovn_u16(vcombine_u16(h, h));
}

/// acc x scale + bias (+ residual), ReLU, stored as the first n (<= 4) float32 or uint8 values of dst.
static inline void nq_store(void *dst, const float *res, int32x4_t acc, float32x4_t scale, float32x4_t bias, size_t n,
                            int act, int out_u8, float32x4_t out_inverse) {
    const size_t lanes = n < 4 ? n : 4;
    float32x4_t x = vfmaq_f32(bias, vcvtq_f32_s32(acc), scale);
    if (res) x = vaddq_f32(x, nq_floats(res, lanes));
    if (act == RN_ACT_RELU) x = vmaxq_f32(x, vdupq_n_f32(0.0f));
    if (out_u8) {
        unsigned char bytes[8];
        vst1_u8(bytes, nq_quantize(x, out_inverse));
        memcpy(dst, bytes, lanes);
    } else {
        float values[4];
        vst1q_f32(values, x);
        memcpy(dst, values, lanes * sizeof *values);
    }
}

/// Lanes of vector v (4 each) that fall within the first n.
static inline size_t nq_lanes(size_t n, size_t v) { return n > 4 * v ? n - 4 * v : 0; }

/// n values (float32, or uint8 with in_u8; times n gates when g is not NULL) times inverse, rounded to
/// nearest even and saturated to uint8.
static void nq_round(size_t n, const void *src, int in_u8, const float *g, float32x4_t inverse, unsigned char *dst) {
    for (size_t j = 0; j < n; j += 4) {
        const size_t lanes = n - j < 4 ? n - j : 4;
        float32x4_t x;
        if (in_u8) {
            uint8_t bytes[8] = {0};
            memcpy(bytes, (const unsigned char *)src + j, lanes);
            x = vcvtq_f32_u32(vmovl_u16(vget_low_u16(vmovl_u8(vld1_u8(bytes)))));
        } else {
            x = nq_floats((const float *)src + j, lanes);
        }
        if (g) x = vmulq_f32(x, nq_floats(g + j, lanes));
        unsigned char bytes[8];
        vst1_u8(bytes, nq_quantize(x, inverse));
        memcpy(dst + j, bytes, lanes);
    }
}

/// Packs mr rows (float32, or uint8 with in_u8; gated) into uint8 rows of k rounded up to a multiple of 4,
/// the pad zero (see rn_pack_int8_fn). No dot products: both instantiations share it.
static void pack_rows_neonint8(size_t mr, size_t k, const void *const *rows, const float *const *scales,
                               unsigned char *dst, int in_u8, float scale) {
    const size_t stride = (k + 3) & ~(size_t)3;
    const float32x4_t inverse = vdupq_n_f32(in_u8 ? 1.0f : 1.0f / scale);
    for (size_t i = 0; i < mr; ++i, dst += stride) {
        const float *g = scales ? scales[i] : NULL;
        if (in_u8 && !g) memcpy(dst, rows[i], k);
        else nq_round(k, rows[i], in_u8, g, inverse, dst);
        for (size_t j = k; j < stride; ++j) dst[j] = 0;
    }
}

/// n float32 values to uint8 with 1 / scale (see rn_convert_int8_fn).
static void convert_neonint8(size_t n, const float *src, unsigned char *dst, float scale) {
    nq_round(n, src, 0, NULL, vdupq_n_f32(1.0f / scale), dst);
}

/// Direct convolution tile of TILE pixels x 16 channels (4 vectors) over quads of input channels (see
/// rn_conv_int8_fn), for the set NQ_DEFINE_SET instantiates.
#define NQ_CONV_TILE(ISA, ATTR, BROADCAST, DOT, SHIFTED, TILE)                                                 \
    ATTR static void conv_##TILE##x16_##ISA(size_t xb, size_t co, size_t kh, size_t kw, size_t ci,             \
                                            const unsigned char *in, size_t in_row, size_t in_col,             \
                                            size_t in_pixel, const signed char *w, const float *scale,         \
                                            const float *bias, void *out, size_t out_pixel, int act,           \
                                            int out_u8, float out_scale) {                                     \
        const size_t quads = (ci + 3) / 4;                                                                     \
        int32x4_t acc[TILE][4];                                                                                \
        _Pragma("clang loop unroll(full)") for (int p = 0; p < TILE; ++p)                                      \
            _Pragma("clang loop unroll(full)") for (int v = 0; v < 4; ++v) acc[p][v] = vdupq_n_s32(0);         \
        for (size_t ky = 0; ky < kh; ++ky)                                                                     \
            for (size_t kx = 0; kx < kw; ++kx) {                                                               \
                const unsigned char *pin = in + ky * in_row + kx * in_col;                                     \
                const signed char *pw = w + (ky * kw + kx) * quads * 4 * RN_CONV_LANES;                        \
                for (size_t c = 0; c < quads; ++c, pw += 4 * RN_CONV_LANES) {                                  \
                    const int8x16_t w0 = vld1q_s8(pw), w1 = vld1q_s8(pw + 16), w2 = vld1q_s8(pw + 32),         \
                                    w3 = vld1q_s8(pw + 48);                                                    \
                    _Pragma("clang loop unroll(full)") for (int p = 0; p < TILE; ++p) {                        \
                        const __typeof__(BROADCAST(pin)) x = BROADCAST(pin + p * in_pixel + 4 * c);            \
                        acc[p][0] = DOT(acc[p][0], x, w0);                                                     \
                        acc[p][1] = DOT(acc[p][1], x, w1);                                                     \
                        acc[p][2] = DOT(acc[p][2], x, w2);                                                     \
                        acc[p][3] = DOT(acc[p][3], x, w3);                                                     \
                    }                                                                                          \
                }                                                                                              \
            }                                                                                                  \
        if (SHIFTED)                                                                                           \
            _Pragma("clang loop unroll(full)") for (int v = 0; v < 4; ++v) {                                   \
                const int32x4_t back = weight_sums_##ISA(w + 16 * v, kh * kw * quads, 4 * RN_CONV_LANES);      \
                _Pragma("clang loop unroll(full)") for (int p = 0; p < TILE; ++p)                              \
                    acc[p][v] = vaddq_s32(acc[p][v], back);                                                    \
            }                                                                                                  \
        const float32x4_t inverse = vdupq_n_f32(out_u8 ? 1.0f / out_scale : 0.0f);                             \
        const size_t bytes = out_u8 ? 1 : 4;                                                                   \
        _Pragma("clang loop unroll(full)") for (int p = 0; p < TILE; ++p) {                                    \
            if ((size_t)p >= xb) break;                                                                        \
            _Pragma("clang loop unroll(full)") for (int v = 0; v < 4; ++v) {                                   \
                const size_t lanes = nq_lanes(co, (size_t)v);                                                  \
                if (lanes == 0) break;                                                                         \
                nq_store((char *)out + (p * out_pixel + 4 * v) * bytes, NULL, acc[p][v], vld1q_f32(scale + 4 * v), \
                         vld1q_f32(bias + 4 * v), lanes, act, out_u8, inverse);                                \
            }                                                                                                  \
        }                                                                                                      \
        if (act == RN_ACT_SIGMOID && !out_u8)                                                                  \
            for (size_t p = 0; p < xb; ++p) {                                                                  \
                float *o = (float *)out + p * out_pixel;                                                       \
                for (size_t j = 0; j < co; ++j) o[j] = rn_activate(o[j], act);                                 \
            }                                                                                                  \
    }

/// The template: ISA names the set, ATTR its target attribute, BROADCAST(p) turns the four activation
/// bytes at p into the dot product's broadcast operand, DOT(acc, broadcast, weights) accumulates,
/// SHIFTED (0 or 1) says whether 128 x the weight sums must be added back, and MR and XB are the GEMM
/// rows and convolution pixels per tile.
#define NQ_DEFINE_SET(ISA, ATTR, BROADCAST, DOT, SHIFTED, MR, XB)                                                        \
    /* 128 x the sum of `count` consecutive 16-byte weight vectors (4 lanes x 4 reduction indices), per lane, \
       every `stride` bytes apart: what the shifted activations left out. */                                   \
    ATTR static inline int32x4_t weight_sums_##ISA(const signed char *w, size_t count, size_t stride) {        \
        int32x4_t sum = vdupq_n_s32(0);                                                                        \
        for (size_t i = 0; i < count; ++i) sum = vdotq_s32(sum, vld1q_s8(w + i * stride), vdupq_n_s8(1));     \
        return vshlq_n_s32(sum, 7);                                                                            \
    }                                                                                                          \
                                                                                                               \
    /* One panel of 8 columns: MR rows x 2 vectors of int32 accumulators, k (a multiple of 4) four at a time. */ \
    ATTR static inline void gemm_panel_##MR##x8_##ISA(size_t m, size_t n, size_t k, const unsigned char *a, size_t lda,  \
                                                 const signed char *b, size_t col, void *const *c_rows,        \
                                                 const float *const *r_rows, const float *scale,               \
                                                 const float *bias, int act, int out_u8, float out_scale) {    \
        int32x4_t acc[MR][2];                                                                               \
        _Pragma("clang loop unroll(full)") for (int i = 0; i < MR; ++i) {                                   \
            acc[i][0] = vdupq_n_s32(0);                                                                        \
            acc[i][1] = vdupq_n_s32(0);                                                                        \
        }                                                                                                      \
        const signed char *panel = b;                                                                          \
        for (size_t p = 0; p < k; p += 4) {                                                                    \
            const int8x16_t b0 = vld1q_s8(b), b1 = vld1q_s8(b + 16);                                           \
            _Pragma("clang loop unroll(full)") for (int i = 0; i < MR; ++i) {                               \
                const __typeof__(BROADCAST(a)) x = BROADCAST(a + i * lda);                                     \
                acc[i][0] = DOT(acc[i][0], x, b0);                                                             \
                acc[i][1] = DOT(acc[i][1], x, b1);                                                             \
            }                                                                                                  \
            a += 4;                                                                                            \
            b += 4 * NQ_NR;                                                                                    \
        }                                                                                                      \
        if (SHIFTED)                                                                                           \
            _Pragma("clang loop unroll(full)") for (int v = 0; v < 2; ++v) {                                   \
                const int32x4_t back = weight_sums_##ISA(panel + 16 * v, k / 4, 4 * NQ_NR);                    \
                _Pragma("clang loop unroll(full)") for (int i = 0; i < MR; ++i)                             \
                    acc[i][v] = vaddq_s32(acc[i][v], back);                                                    \
            }                                                                                                  \
        const float32x4_t inverse = vdupq_n_f32(out_u8 ? 1.0f / out_scale : 0.0f);                             \
        const size_t width = n < NQ_NR ? n : NQ_NR, bytes = out_u8 ? 1 : 4;                                    \
        _Pragma("clang loop unroll(full)") for (int i = 0; i < MR; ++i) {                                   \
            if ((size_t)i >= m) break;                                                                         \
            _Pragma("clang loop unroll(full)") for (int v = 0; v < 2; ++v) {                                   \
                const size_t lanes = nq_lanes(width, (size_t)v), at = col + 4 * (size_t)v;                     \
                if (lanes == 0) break;                                                                         \
                nq_store((char *)c_rows[i] + at * bytes, r_rows ? r_rows[i] + at : NULL, acc[i][v],            \
                         vld1q_f32(scale + 4 * v), vld1q_f32(bias + 4 * v), lanes, act, out_u8, inverse);      \
            }                                                                                                  \
        }                                                                                                      \
        if (act == RN_ACT_SIGMOID && !out_u8)                                                                  \
            for (size_t i = 0; i < m; ++i) {                                                                   \
                float *c = (float *)c_rows[i] + col;                                                           \
                for (size_t j = 0; j < width; ++j) c[j] = rn_activate(c[j], act);                              \
            }                                                                                                  \
    }                                                                                                          \
                                                                                                               \
    /* int8 GEMM row tile (see rn_gemm_int8_fn): panel after panel. */                                         \
    ATTR static void gemm_##MR##x8_##ISA(size_t m, size_t n, size_t k, const unsigned char *a, size_t lda,         \
                                     const signed char *b, size_t col, void *const *c_rows,                    \
                                     const float *const *r_rows, const float *scale, const float *bias, int act, \
                                     int out_u8, float out_scale) {                                            \
        for (size_t first = 0; first < n; first += NQ_NR)                                                      \
            gemm_panel_##MR##x8_##ISA(m, n - first, k, a, lda, b + first * k, col + first, c_rows, r_rows,         \
                                  scale + first, bias + first, act, out_u8, out_scale);                        \
    }                                                                                                          \
                                                                                                               \
    NQ_CONV_TILE(ISA, ATTR, BROADCAST, DOT, SHIFTED, XB)                                                      \
    NQ_CONV_TILE(ISA, ATTR, BROADCAST, DOT, SHIFTED, 3)                                                      \
                                                                                                               \
    /* The XB-pixel tile, and the 3-pixel one for row ends. */                                                  \
    ATTR static void conv_##ISA(size_t xb, size_t co, size_t kh, size_t kw, size_t ci, const unsigned char *in, \
                                size_t in_row, size_t in_col, size_t in_pixel, const signed char *w,           \
                                const float *scale, const float *bias, void *out, size_t out_pixel, int act,   \
                                int out_u8, float out_scale) {                                                 \
        (xb > 3 ? conv_##XB##x16_##ISA : conv_3x16_##ISA)(xb, co, kh, kw, ci, in, in_row, in_col, in_pixel, w, scale, \
                                                     bias, out, out_pixel, act, out_u8, out_scale);            \
    }                                                                                                          \
                                                                                                               \
    const rn_int8_kernels rn_##ISA##_kernels = {#ISA, MR, NQ_NR, XB, gemm_##MR##x8_##ISA, conv_##ISA,        \
                                                pack_rows_neonint8, convert_neonint8};

#define NQ_I8MM_ATTR __attribute__((target("i8mm,dotprod")))
#define NQ_I8MM_BROADCAST(p) vreinterpretq_u8_u32(vdupq_n_u32(nq_quad(p)))
#define NQ_I8MM_DOT(acc, x, w) vusdotq_s32(acc, x, w)
NQ_DEFINE_SET(neoni8mm, NQ_I8MM_ATTR, NQ_I8MM_BROADCAST, NQ_I8MM_DOT, 0, 12, 6)

#define NQ_DOTPROD_ATTR __attribute__((target("dotprod")))
#define NQ_DOTPROD_BROADCAST(p) vreinterpretq_s8_u8(veorq_u8(vreinterpretq_u8_u32(vdupq_n_u32(nq_quad(p))), vdupq_n_u8(0x80)))
#define NQ_DOTPROD_DOT(acc, x, w) vdotq_s32(acc, x, w)
NQ_DEFINE_SET(neondotprod, NQ_DOTPROD_ATTR, NQ_DOTPROD_BROADCAST, NQ_DOTPROD_DOT, 1, 10, 5)
#endif
