// Portable kernels: plain C the compiler may vectorise; the reference every other set must match.
#include "../epilogue.h"

enum { P_MR = 4, P_NR = 16, P_XB = 8 };

static void gemm_portable(size_t m, size_t n, size_t k, const float *a, size_t lda, const float *b, size_t col,
                          float *const *c_rows, const float *const *r_rows, const float *bias, int act) {
    for (size_t panel = 0; panel * P_NR < n; ++panel) {
        const size_t first = panel * P_NR, width = n - first < P_NR ? n - first : P_NR;
        const float *bp0 = b + panel * k * P_NR;
        for (size_t i = 0; i < m; ++i) {
            float acc[P_NR] = {0};
            const float *ai = a + i * lda;
            for (size_t p = 0; p < k; ++p) {
                const float av = ai[p];
                const float *bp = bp0 + p * P_NR;
                for (int j = 0; j < P_NR; ++j) acc[j] += av * bp[j];
            }
            for (size_t j = 0; j < width; ++j) {
                const size_t c = col + first + j;
                float v = acc[j] + (bias ? bias[first + j] : 0.0f) + (r_rows ? r_rows[i][c] : 0.0f);
                c_rows[i][c] = rn_activate(v, act);
            }
        }
    }
}

static void conv_portable(size_t xb, size_t co, size_t kh, size_t kw, size_t ci,
                          const float *in, size_t in_row, size_t in_col, size_t in_pixel,
                          const float *w, const float *bias, float *out, size_t out_pixel, int act) {
    for (size_t p = 0; p < xb; ++p) {
        float acc[RN_CONV_LANES] = {0};
        for (size_t ky = 0; ky < kh; ++ky)
            for (size_t kx = 0; kx < kw; ++kx) {
                const float *pin = in + ky * in_row + kx * in_col + p * in_pixel;
                const float *pw = w + (ky * kw + kx) * ci * RN_CONV_LANES;
                for (size_t c = 0; c < ci; ++c)
                    for (int j = 0; j < RN_CONV_LANES; ++j) acc[j] += pin[c] * pw[c * RN_CONV_LANES + j];
            }
        for (size_t j = 0; j < co; ++j) out[p * out_pixel + j] = rn_activate(acc[j] + (bias ? bias[j] : 0.0f), act);
    }
}

RN_DEFINE_PACK(pack_portable, )

static const rn_conv_tile tiles_portable[] = {{"conv_portable", P_XB, RN_CONV_LANES, 0, conv_portable}};

const rn_kernels rn_portable_kernels = {"portable", P_MR, P_NR, P_XB, gemm_portable, conv_portable, pack_portable, tiles_portable, 1,
                                        NULL, NULL};
