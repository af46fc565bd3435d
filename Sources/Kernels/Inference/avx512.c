// AVX-512 inference kernels: the template with 16-float zmm vectors and mask registers; a 14x32 GEMM
// tile (28 accumulators) and 14-, 8-, 7- and 4-pixel x 16-channel convolution tiles, with 8-channel
// (256-bit) variants for group width 8.
#if defined(__x86_64__) || defined(_M_X64)
#include <immintrin.h>

#define IK_ATTR __attribute__((target("avx512f,avx512vl,avx512dq,avx512bw,fma,avx2")))
#define IK_ISA avx512
#define IK_VEC __m512
#define IK_VLEN 16
#define IK_MASK __mmask16
#define IK_ZERO() _mm512_setzero_ps()
#define IK_LOAD(p) _mm512_loadu_ps(p)
#define IK_SET1(x) _mm512_set1_ps(x)
#define IK_FMA(a, b, c) _mm512_fmadd_ps(a, b, c)
#define IK_ADD(a, b) _mm512_add_ps(a, b)
#define IK_RELU(v) _mm512_max_ps(v, _mm512_setzero_ps())
#define IK_FIRST(n) ((n) >= 16 ? (__mmask16)0xFFFF : (__mmask16)((1u << (n)) - 1))
#define IK_MASKZ_LOAD(m, p) _mm512_maskz_loadu_ps(m, p)
#define IK_MASK_STORE(p, m, v) _mm512_mask_storeu_ps(p, m, v)
#define IK_MR 14
#define IK_GEMM gemm_14x32_avx512
#define IK_PANEL gemm_panel_14x32_avx512
#define IK_PACK pack_rows_avx512
#include "template.h"

IK_CONV_TILE(14)
IK_CONV_TILE(8)
IK_CONV_TILE(7)
IK_CONV_TILE(4)

/// Direct convolution tile of TILE pixels × at most 8 channels (group width 8): 256-bit vectors, so a
/// core that splits 512-bit operations in two (AMD Zen 4) spends half as much on each multiply-add as
/// on a 16-lane tile whose upper half is zero; elsewhere it matches that tile. Weights keep the
/// 16-lane packing (the upper 8 lanes are not read).
#define CONV8_TILE(TILE)                                                                                    \
    IK_ATTR static void conv_##TILE##x8_avx512(size_t xb, size_t co, size_t kh, size_t kw, size_t ci, const float *in, \
                                               size_t in_row, size_t in_col, size_t in_pixel, const float *w,   \
                                               const float *bias, float *out, size_t out_pixel, int act) {      \
        __m256 acc[TILE];                                                                                   \
        _Pragma("clang loop unroll(full)") for (int p = 0; p < TILE; ++p) acc[p] = _mm256_setzero_ps();    \
        for (size_t ky = 0; ky < kh; ++ky)                                                                  \
            for (size_t kx = 0; kx < kw; ++kx) {                                                            \
                const float *pin = in + ky * in_row + kx * in_col;                                          \
                const float *pw = w + (ky * kw + kx) * ci * RN_CONV_LANES;                                  \
                for (size_t c = 0; c < ci; ++c) {                                                           \
                    const __m256 wv = _mm256_loadu_ps(pw + c * RN_CONV_LANES);                              \
                    _Pragma("clang loop unroll(full)") for (int p = 0; p < TILE; ++p)                       \
                        acc[p] = _mm256_fmadd_ps(_mm256_set1_ps(pin[p * in_pixel + c]), wv, acc[p]);        \
                }                                                                                           \
            }                                                                                               \
        const __m256 bias_v = bias ? _mm256_loadu_ps(bias) : _mm256_setzero_ps();                           \
        const __mmask8 mask = (__mmask8)((1u << co) - 1);                                                   \
        _Pragma("clang loop unroll(full)") for (int p = 0; p < TILE; ++p) {                                 \
            if ((size_t)p >= xb) break;                                                                     \
            __m256 v = _mm256_add_ps(acc[p], bias_v);                                                       \
            if (act == RN_ACT_RELU) v = _mm256_max_ps(v, _mm256_setzero_ps());                              \
            _mm256_mask_storeu_ps(out + p * out_pixel, mask, v);                                            \
        }                                                                                                   \
        if (act == RN_ACT_SIGMOID)                                                                          \
            for (size_t p = 0; p < xb; ++p)                                                                 \
                for (size_t j = 0; j < co; ++j) out[p * out_pixel + j] = rn_activate(out[p * out_pixel + j], act); \
    }
CONV8_TILE(14)
CONV8_TILE(8)
CONV8_TILE(7)
CONV8_TILE(4)

IK_ATTR static void conv_avx512(size_t xb, size_t co, size_t kh, size_t kw, size_t ci, const float *in, size_t in_row,
                                size_t in_col, size_t in_pixel, const float *w, const float *bias, float *out,
                                size_t out_pixel, int act) {
    if (co <= 8) {
        if (xb > 8) conv_14x8_avx512(xb, co, kh, kw, ci, in, in_row, in_col, in_pixel, w, bias, out, out_pixel, act);
        else if (xb > 7) conv_8x8_avx512(xb, co, kh, kw, ci, in, in_row, in_col, in_pixel, w, bias, out, out_pixel, act);
        else if (xb > 4) conv_7x8_avx512(xb, co, kh, kw, ci, in, in_row, in_col, in_pixel, w, bias, out, out_pixel, act);
        else conv_4x8_avx512(xb, co, kh, kw, ci, in, in_row, in_col, in_pixel, w, bias, out, out_pixel, act);
    } else if (xb > 8) conv_14x16_avx512(xb, co, kh, kw, ci, in, in_row, in_col, in_pixel, w, bias, out, out_pixel, act);
    else if (xb > 7) conv_8x16_avx512(xb, co, kh, kw, ci, in, in_row, in_col, in_pixel, w, bias, out, out_pixel, act);
    else if (xb > 4) conv_7x16_avx512(xb, co, kh, kw, ci, in, in_row, in_col, in_pixel, w, bias, out, out_pixel, act);
    else conv_4x16_avx512(xb, co, kh, kw, ci, in, in_row, in_col, in_pixel, w, bias, out, out_pixel, act);
}

static const rn_conv_tile tiles_avx512[] = {
    {"conv_14x16_avx512", 14, 16, 1, conv_14x16_avx512}, {"conv_8x16_avx512", 8, 16, 1, conv_8x16_avx512},
    {"conv_7x16_avx512", 7, 16, 1, conv_7x16_avx512},    {"conv_4x16_avx512", 4, 16, 0, conv_4x16_avx512},
    {"conv_14x8_avx512", 14, 8, 0, conv_14x8_avx512},    {"conv_8x8_avx512", 8, 8, 0, conv_8x8_avx512},
    {"conv_7x8_avx512", 7, 8, 0, conv_7x8_avx512},       {"conv_4x8_avx512", 4, 8, 0, conv_4x8_avx512},
};

const rn_kernels rn_avx512_kernels = {"avx512", IK_MR, IK_NR, 14, IK_GEMM, conv_avx512, IK_PACK, tiles_avx512,
                                      sizeof tiles_avx512 / sizeof tiles_avx512[0], rn_bf16_kernels_for, rn_int8_kernels_for};
#endif
