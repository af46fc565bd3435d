// Inference micro-kernels written once for any vector width: each instruction-set file defines the
// vector type and operations below and includes this file. Kernel names carry their tile sizes and
// ISA (gemm_14x32_avx512, conv_6x16_avx2), as XNNPACK names its generated kernels.
//
// The including file defines:
//   IK_ATTR                 function attributes (target features)
//   IK_ISA                  suffix of the kernel names (avx512, avx2)
//   IK_VEC, IK_VLEN         vector type and floats per vector; IK_MASK the lane-mask type
//   IK_ZERO() IK_LOAD(p) IK_SET1(x) IK_FMA(a, b, c) IK_ADD(a, b) IK_RELU(v)
//   IK_FIRST(n)             mask of the first n lanes (n may exceed IK_VLEN: all lanes)
//   IK_MASKZ_LOAD(m, p)     masked load (other lanes zero); IK_MASK_STORE(p, m, v) masked store
//   IK_MR                   GEMM rows per tile (NR is 2 vectors)
//   IK_GEMM, IK_PANEL, IK_PACK  the names of the GEMM tile, its panel and the packing kernel
// and then instantiates IK_CONV_TILE(pixels) for the convolution tile widths it wants.
#include "../epilogue.h"

#define IK_CAT3(a, b, c) a##_##b##_##c
#define IK_CAT(a, b, c) IK_CAT3(a, b, c)
#define IK_NR (2 * IK_VLEN)
#define IK_CV (RN_CONV_LANES / IK_VLEN)   // vectors per 16-channel convolution block

/// Adds bias (and a residual row), applies ReLU, and stores the first `n` of `nv` vectors' lanes.
#define IK_STORE(dst, res, v, bias_v, nv, n, act)                                                          \
    do {                                                                                                   \
        for (int q = 0; q < (nv); ++q) {                                                                   \
            const size_t lanes = (n) > (size_t)q * IK_VLEN ? (n) - (size_t)q * IK_VLEN : 0;                \
            const IK_MASK mask = IK_FIRST(lanes);                                                          \
            IK_VEC x = IK_ADD((v)[q], (bias_v)[q]);                                                        \
            if (res) x = IK_ADD(x, IK_MASKZ_LOAD(mask, (res) + q * IK_VLEN));                              \
            IK_MASK_STORE((dst) + q * IK_VLEN, mask, (act) == RN_ACT_RELU ? IK_RELU(x) : x);               \
        }                                                                                                  \
    } while (0)

/// One panel of NR columns: MR rows × 2 vectors of accumulators, B read in place.
IK_ATTR static inline void IK_PANEL(size_t m, size_t n, size_t k, const float *a, size_t lda,
                                                           const float *b, size_t col, float *const *c_rows,
                                                           const float *const *r_rows, const float *bias, int act) {
    IK_VEC acc[IK_MR][2];
#pragma clang loop unroll(full)
    for (int i = 0; i < IK_MR; ++i) { acc[i][0] = IK_ZERO(); acc[i][1] = IK_ZERO(); }
    for (size_t p = 0; p < k; ++p) {
        const IK_VEC b0 = IK_LOAD(b), b1 = IK_LOAD(b + IK_VLEN);
#pragma clang loop unroll(full)
        for (int i = 0; i < IK_MR; ++i) {
            const IK_VEC av = IK_SET1(a[i * lda]);
            acc[i][0] = IK_FMA(av, b0, acc[i][0]);
            acc[i][1] = IK_FMA(av, b1, acc[i][1]);
        }
        a += 1;
        b += IK_NR;
    }
    const IK_VEC bias_v[2] = {bias ? IK_LOAD(bias) : IK_ZERO(), bias ? IK_LOAD(bias + IK_VLEN) : IK_ZERO()};
    const int vector_act = act == RN_ACT_SIGMOID ? RN_ACT_NONE : act;
    const size_t width = n < IK_NR ? n : IK_NR;
#pragma clang loop unroll(full)
    for (int i = 0; i < IK_MR; ++i) {
        if ((size_t)i >= m) break;
        IK_STORE(c_rows[i] + col, r_rows ? r_rows[i] + col : NULL, acc[i], bias_v, 2, width, vector_act);
    }
    if (act == RN_ACT_SIGMOID)
        for (size_t i = 0; i < m; ++i)
            for (size_t j = 0; j < width; ++j) c_rows[i][col + j] = rn_activate(c_rows[i][col + j], act);
}

/// GEMM row tile (see rn_gemm_fn): panel after panel.
IK_ATTR static void IK_GEMM(size_t m, size_t n, size_t k, const float *a, size_t lda, const float *b,
                                              size_t col, float *const *c_rows, const float *const *r_rows,
                                              const float *bias, int act) {
    for (size_t first = 0; first < n; first += IK_NR) {
        IK_PANEL(m, n - first, k, a, lda, b + first * k, col + first, c_rows, r_rows,
                                          bias ? bias + first : NULL, act);
    }
}

RN_DEFINE_PACK(IK_PACK, IK_ATTR)

/// Direct convolution tile of TILE pixels × 16 channels (see rn_conv_fn), one instantiation per tile
/// width so the accumulators stay in registers.
#define IK_CONV_TILE(TILE)                                                                                  \
    IK_ATTR static void IK_CAT(conv, TILE##x16, IK_ISA)(size_t xb, size_t co, size_t kh, size_t kw, size_t ci, \
                                                       const float *in, size_t in_row, size_t in_col,      \
                                                       size_t in_pixel, const float *w, const float *bias,  \
                                                       float *out, size_t out_pixel, int act) {             \
        IK_VEC acc[TILE][IK_CV];                                                                            \
        _Pragma("clang loop unroll(full)") for (int p = 0; p < TILE; ++p)                                   \
            _Pragma("clang loop unroll(full)") for (int q = 0; q < IK_CV; ++q) acc[p][q] = IK_ZERO();       \
        for (size_t ky = 0; ky < kh; ++ky)                                                                  \
            for (size_t kx = 0; kx < kw; ++kx) {                                                            \
                const float *pin = in + ky * in_row + kx * in_col;                                          \
                const float *pw = w + (ky * kw + kx) * ci * RN_CONV_LANES;                                  \
                for (size_t c = 0; c < ci; ++c) {                                                           \
                    IK_VEC wv[IK_CV];                                                                       \
                    _Pragma("clang loop unroll(full)") for (int q = 0; q < IK_CV; ++q)                      \
                        wv[q] = IK_LOAD(pw + c * RN_CONV_LANES + q * IK_VLEN);                              \
                    _Pragma("clang loop unroll(full)") for (int p = 0; p < TILE; ++p) {                     \
                        const IK_VEC x = IK_SET1(pin[p * in_pixel + c]);                                    \
                        _Pragma("clang loop unroll(full)") for (int q = 0; q < IK_CV; ++q)                  \
                            acc[p][q] = IK_FMA(x, wv[q], acc[p][q]);                                        \
                    }                                                                                       \
                }                                                                                           \
            }                                                                                               \
        IK_VEC bias_v[IK_CV];                                                                               \
        _Pragma("clang loop unroll(full)") for (int q = 0; q < IK_CV; ++q)                                  \
            bias_v[q] = bias ? IK_LOAD(bias + q * IK_VLEN) : IK_ZERO();                                     \
        const int vector_act = act == RN_ACT_SIGMOID ? RN_ACT_NONE : act;                                   \
        _Pragma("clang loop unroll(full)") for (int p = 0; p < TILE; ++p) {                                 \
            if ((size_t)p >= xb) break;                                                                     \
            IK_STORE(out + p * out_pixel, (const float *)NULL, acc[p], bias_v, IK_CV, co, vector_act);     \
        }                                                                                                   \
        if (act == RN_ACT_SIGMOID)                                                                          \
            for (size_t p = 0; p < xb; ++p)                                                                 \
                for (size_t j = 0; j < co; ++j) out[p * out_pixel + j] = rn_activate(out[p * out_pixel + j], act); \
    }
