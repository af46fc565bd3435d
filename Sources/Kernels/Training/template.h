// Training micro-kernels written once with vector extensions and compiled per instruction set:
// a file defines TK_ATTR (the target attribute) and TK_NAME(x) (the symbol prefix), then includes
// this template, and TK_MR, the GEMM tile's rows: a tile is TK_MR x RN_TRAIN_NR (14 x 32 keeps 28
// accumulators of 16 lanes in AVX-512's 32 registers; 4 x 32 fits AVX2's 16 and baseline SSE).
#include <string.h>
#include "RegNetTrainingKernels.h"

// 16-lane vectors pass between the always-inlined helpers below only, never across a call boundary.
#pragma clang diagnostic ignored "-Wpsabi"

typedef float rn_v16 __attribute__((vector_size(64)));
typedef float rn_v8 __attribute__((vector_size(32)));
typedef float rn_v4 __attribute__((vector_size(16)));
typedef float rn_v2 __attribute__((vector_size(8)));

TK_ATTR __attribute__((always_inline)) static inline rn_v16 TK_NAME(load)(const float *p) { rn_v16 v; memcpy(&v, p, sizeof v); return v; }
TK_ATTR __attribute__((always_inline)) static inline void TK_NAME(store)(float *p, rn_v16 v) { memcpy(p, &v, sizeof v); }

/// Writes the m x n valid part of the accumulators: whole vectors where a row has them, the rest
/// through a small buffer.
TK_ATTR __attribute__((always_inline)) static inline void TK_NAME(write_tile)(size_t m, size_t n, const rn_v16 *c0, const rn_v16 *c1,
                                                                              float *c, size_t ldc, int accumulate) {
    for (size_t i = 0; i < m; ++i) {
        float *dst = c + i * ldc;
        size_t done = 0;
        if (n >= 16) {
            TK_NAME(store)(dst, accumulate ? TK_NAME(load)(dst) + c0[i] : c0[i]);
            done = 16;
            if (n == RN_TRAIN_NR) {
                TK_NAME(store)(dst + 16, accumulate ? TK_NAME(load)(dst + 16) + c1[i] : c1[i]);
                continue;
            }
        }
        float row[RN_TRAIN_NR];
        TK_NAME(store)(row, c0[i]);
        TK_NAME(store)(row + 16, c1[i]);
        if (accumulate) for (size_t j = done; j < n; ++j) dst[j] += row[j];
        else for (size_t j = done; j < n; ++j) dst[j] = row[j];
    }
}

// A(i, p) for the nn form: m row pointers (rows past m repeat the last), each stepped by 1.
TK_ATTR static void TK_NAME(gemm_nn)(size_t m, size_t n, size_t k, const float *a, size_t lda, const float *b,
                                     size_t ldb, float *c, size_t ldc, int accumulate) {
    rn_v16 c0[TK_MR], c1[TK_MR];
    size_t row[TK_MR];
#pragma clang loop unroll(full)
    for (int i = 0; i < TK_MR; ++i) {
        c0[i] = (rn_v16){0};
        c1[i] = (rn_v16){0};
        row[i] = ((size_t)i < m ? (size_t)i : m - 1) * lda;
    }
    for (size_t p = 0; p < k; ++p, ++a, b += ldb) {
        const rn_v16 b0 = TK_NAME(load)(b), b1 = TK_NAME(load)(b + 16);
#pragma clang loop unroll(full)
        for (int i = 0; i < TK_MR; ++i) {
            const float av = a[row[i]];
            c0[i] += av * b0;
            c1[i] += av * b1;
        }
    }
    TK_NAME(write_tile)(m, n, c0, c1, c, ldc, accumulate);
}

// A(i, p) = a[p * lda + i]: one pointer per step of p; columns past m repeat the last. Whole tiles
// take the broadcasts at constant offsets (no column indices kept in, or spilled from, registers).
TK_ATTR __attribute__((always_inline)) static inline void TK_NAME(gemm_tn_full)(size_t n, size_t k, const float *a, size_t lda,
                                                                               const float *b, size_t ldb, float *c, size_t ldc,
                                                                               int accumulate) {
    rn_v16 c0[TK_MR], c1[TK_MR];
#pragma clang loop unroll(full)
    for (int i = 0; i < TK_MR; ++i) {
        c0[i] = (rn_v16){0};
        c1[i] = (rn_v16){0};
    }
    for (size_t p = 0; p < k; ++p, a += lda, b += ldb) {
        const rn_v16 b0 = TK_NAME(load)(b), b1 = TK_NAME(load)(b + 16);
#pragma clang loop unroll(full)
        for (int i = 0; i < TK_MR; ++i) {
            const float av = a[i];
            c0[i] += av * b0;
            c1[i] += av * b1;
        }
    }
    TK_NAME(write_tile)(TK_MR, n, c0, c1, c, ldc, accumulate);
}

TK_ATTR static void TK_NAME(gemm_tn)(size_t m, size_t n, size_t k, const float *a, size_t lda, const float *b,
                                     size_t ldb, float *c, size_t ldc, int accumulate) {
    if (m == TK_MR) return TK_NAME(gemm_tn_full)(n, k, a, lda, b, ldb, c, ldc, accumulate);
    rn_v16 c0[TK_MR], c1[TK_MR];
    size_t col[TK_MR];
#pragma clang loop unroll(full)
    for (int i = 0; i < TK_MR; ++i) {
        c0[i] = (rn_v16){0};
        c1[i] = (rn_v16){0};
        col[i] = (size_t)i < m ? (size_t)i : m - 1;
    }
    for (size_t p = 0; p < k; ++p, a += lda, b += ldb) {
        const rn_v16 b0 = TK_NAME(load)(b), b1 = TK_NAME(load)(b + 16);
#pragma clang loop unroll(full)
        for (int i = 0; i < TK_MR; ++i) {
            const float av = a[col[i]];
            c0[i] += av * b0;
            c1[i] += av * b1;
        }
    }
    TK_NAME(write_tile)(m, n, c0, c1, c, ldc, accumulate);
}

// One tap's weight gradient: 16 lanes of output channels, up to 16 input channels.
#define TK_WGRAD_TILE(CI)                                                                                  \
    TK_ATTR static void TK_NAME(wgrad_##CI)(size_t rows, size_t np, size_t ci, const float *x, size_t x_row,  \
                                            size_t x_pixel, const float *dy, size_t dy_row, size_t dy_pixel,  \
                                            float *dw) {                                                     \
        rn_v16 acc[CI];                                                                                      \
        _Pragma("clang loop unroll(full)") for (int c = 0; c < CI; ++c) acc[c] = (rn_v16){0};                \
        for (size_t r = 0; r < rows; ++r) {                                                                  \
            const float *xr = x + r * x_row, *dr = dy + r * dy_row;                                          \
            for (size_t p = 0; p < np; ++p, xr += x_pixel, dr += dy_pixel) {                                \
                const rn_v16 d = TK_NAME(load)(dr);                                                         \
                _Pragma("clang loop unroll(full)") for (int c = 0; c < CI; ++c) acc[c] += xr[(size_t)c < ci ? c : 0] * d; \
            }                                                                                                \
        }                                                                                                    \
        for (size_t c = 0; c < ci; ++c) TK_NAME(store)(dw + c * 16, TK_NAME(load)(dw + c * 16) + acc[c]);   \
    }
TK_WGRAD_TILE(4)
TK_WGRAD_TILE(8)
TK_WGRAD_TILE(16)

TK_ATTR static void TK_NAME(wgrad)(size_t rows, size_t np, size_t ci, const float *x, size_t x_row, size_t x_pixel,
                                   const float *dy, size_t dy_row, size_t dy_pixel, float *dw) {
    if (ci <= 4) TK_NAME(wgrad_4)(rows, np, ci, x, x_row, x_pixel, dy, dy_row, dy_pixel, dw);
    else if (ci <= 8) TK_NAME(wgrad_8)(rows, np, ci, x, x_row, x_pixel, dy, dy_row, dy_pixel, dw);
    else TK_NAME(wgrad_16)(rows, np, ci, x, x_row, x_pixel, dy, dy_row, dy_pixel, dw);
}

// Direct convolution tile for two groups of 8 channels at once (group width 8) with every lane used:
// each input "channel" c is the pair (group a's c, group b's c), adjacent in memory and broadcast to
// alternating lanes; lane 2j + h accumulates output channel j of group h, and the result is stored
// de-interleaved (group a's 8 channels, then group b's).
#define TK_PAIR8_TILE(TILE)                                                                                 \
    TK_ATTR static void TK_NAME(conv_pair8_##TILE)(size_t xb, size_t co, size_t kh, size_t kw, size_t ci,     \
                                                    const float *in, size_t in_row, size_t in_col,            \
                                                    size_t in_pixel, const float *w, const float *bias,       \
                                                    float *out, size_t out_pixel, int act) {                  \
        rn_v16 acc[TILE];                                                                                   \
        _Pragma("clang loop unroll(full)") for (int p = 0; p < TILE; ++p) acc[p] = (rn_v16){0};            \
        for (size_t ky = 0; ky < kh; ++ky)                                                                  \
            for (size_t kx = 0; kx < kw; ++kx) {                                                            \
                const float *pin = in + ky * in_row + kx * in_col, *pw = w + (ky * kw + kx) * ci * 16;      \
                for (size_t c = 0; c < ci; ++c) {                                                           \
                    const rn_v16 wv = TK_NAME(load)(pw + c * 16);                                           \
                    _Pragma("clang loop unroll(full)") for (int p = 0; p < TILE; ++p) {                     \
                        rn_v2 x2;                                                                           \
                        memcpy(&x2, pin + p * in_pixel + 2 * c, sizeof x2);                                 \
                        acc[p] += __builtin_shufflevector(x2, x2, 0, 1, 0, 1, 0, 1, 0, 1, 0, 1, 0, 1, 0, 1, 0, 1) * wv; \
                    }                                                                                       \
                }                                                                                           \
            }                                                                                               \
        const rn_v16 bias_v = bias ? TK_NAME(load)(bias) : (rn_v16){0};                                     \
        _Pragma("clang loop unroll(full)") for (int p = 0; p < TILE; ++p) {                                 \
            if ((size_t)p >= xb) break;                                                                     \
            rn_v16 v = acc[p] + bias_v;                                                                     \
            if (act == RN_TRAIN_ACT_RELU) v = __builtin_elementwise_max(v, (rn_v16){0});                    \
            const rn_v16 d = __builtin_shufflevector(v, v, 0, 2, 4, 6, 8, 10, 12, 14, 1, 3, 5, 7, 9, 11, 13, 15); \
            if (co >= 16) TK_NAME(store)(out + p * out_pixel, d);                                           \
            else {                                                                                          \
                float row[16];                                                                              \
                TK_NAME(store)(row, d);                                                                     \
                memcpy(out + p * out_pixel, row, co * sizeof(float));                                       \
            }                                                                                               \
        }                                                                                                   \
    }
TK_PAIR8_TILE(14)
TK_PAIR8_TILE(8)
TK_PAIR8_TILE(7)
TK_PAIR8_TILE(4)

// Copies `pixels` pixels of `groups` groups of 8 channels into conv_pair8's layout: per pixel, pair q
// holds groups 2q and 2q + 1 interleaved channel by channel (a missing last partner reads as zeros).
TK_ATTR static void TK_NAME(interleave_pairs8)(size_t pixels, size_t groups, const float *src, size_t src_pixel, float *dst,
                                               size_t dst_pixel) {
    for (size_t p = 0; p < pixels; ++p, src += src_pixel, dst += dst_pixel) {
        for (size_t g = 0; g < groups; g += 2) {
            rn_v8 a, b = (rn_v8){0};
            memcpy(&a, src + g * 8, sizeof a);
            if (g + 1 < groups) memcpy(&b, src + g * 8 + 8, sizeof b);
            const rn_v16 v = __builtin_shufflevector(a, b, 0, 8, 1, 9, 2, 10, 3, 11, 4, 12, 5, 13, 6, 14, 7, 15);
            TK_NAME(store)(dst + g * 8, v);
        }
    }
}

TK_ATTR static void TK_NAME(conv_pair8)(size_t xb, size_t co, size_t kh, size_t kw, size_t ci, const float *in, size_t in_row,
                                        size_t in_col, size_t in_pixel, const float *w, const float *bias, float *out,
                                        size_t out_pixel, int act) {
    if (xb > 8) TK_NAME(conv_pair8_14)(xb, co, kh, kw, ci, in, in_row, in_col, in_pixel, w, bias, out, out_pixel, act);
    else if (xb > 7) TK_NAME(conv_pair8_8)(xb, co, kh, kw, ci, in, in_row, in_col, in_pixel, w, bias, out, out_pixel, act);
    else if (xb > 4) TK_NAME(conv_pair8_7)(xb, co, kh, kw, ci, in, in_row, in_col, in_pixel, w, bias, out, out_pixel, act);
    else TK_NAME(conv_pair8_4)(xb, co, kh, kw, ci, in, in_row, in_col, in_pixel, w, bias, out, out_pixel, act);
}

// One group of 8 input and 8 output channels, all nine taps of a 3x3 kernel per pass: 16 lanes hold
// two output channels by the 8 input channels (the input's 8 channels broadcast to both halves, each
// output channel's gradient splat over its half), so every lane is used and one splat of the output
// gradient serves nine taps. Two passes of 9 x 2 accumulators cover the 8 output channels.
TK_ATTR static void TK_NAME(wgrad_3x3_g8)(size_t rows, size_t np, const float *x, size_t x_row, size_t x_pixel, size_t x_tap_row,
                                          size_t x_col, const float *dy, size_t dy_row, size_t dy_pixel, float *dw) {
#pragma clang loop unroll(full)
    for (int half = 0; half < 2; ++half) {
        rn_v16 acc[9][2];
#pragma clang loop unroll(full)
        for (int t = 0; t < 9; ++t) acc[t][0] = acc[t][1] = (rn_v16){0};
        for (size_t r = 0; r < rows; ++r) {
            const float *xr = x + r * x_row, *dr = dy + r * dy_row + 4 * half;
            for (size_t p = 0; p < np; ++p, xr += x_pixel, dr += dy_pixel) {
                rn_v4 d;
                memcpy(&d, dr, sizeof d);
                const rn_v16 d01 = __builtin_shufflevector(d, d, 0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 1, 1, 1, 1);
                const rn_v16 d23 = __builtin_shufflevector(d, d, 2, 2, 2, 2, 2, 2, 2, 2, 3, 3, 3, 3, 3, 3, 3, 3);
#pragma clang loop unroll(full)
                for (int t = 0; t < 9; ++t) {
                    rn_v8 x8;
                    memcpy(&x8, xr + (t / 3) * x_tap_row + (t % 3) * x_col, sizeof x8);
                    const rn_v16 xv = __builtin_shufflevector(x8, x8, 0, 1, 2, 3, 4, 5, 6, 7, 0, 1, 2, 3, 4, 5, 6, 7);
                    acc[t][0] += xv * d01;
                    acc[t][1] += xv * d23;
                }
            }
        }
#pragma clang loop unroll(full)
        for (int t = 0; t < 9; ++t) {
            float *out = dw + t * 64 + half * 32;
            TK_NAME(store)(out, TK_NAME(load)(out) + acc[t][0]);
            TK_NAME(store)(out + 16, TK_NAME(load)(out + 16) + acc[t][1]);
        }
    }
}

// 27 accumulators: nine taps by three input channels. CI is a constant of each instantiation, so
// every input value is broadcast straight from memory into its multiply-add (channels past CI keep
// their zero accumulators).
TK_ATTR __attribute__((always_inline)) static inline void TK_NAME(wgrad_stem_taps)(const int CI, size_t np, const float *x,
                                                                                  size_t x_row, size_t x_col, size_t x_pixel,
                                                                                  const float *dy, size_t dy_pixel, float *dw) {
    rn_v16 acc[27];
#pragma clang loop unroll(full)
    for (int t = 0; t < 27; ++t) acc[t] = (rn_v16){0};
    for (size_t p = 0; p < np; ++p, x += x_pixel, dy += dy_pixel) {
        const rn_v16 d = TK_NAME(load)(dy);
#pragma clang loop unroll(full)
        for (int ky = 0; ky < 3; ++ky) {
#pragma clang loop unroll(full)
            for (int kx = 0; kx < 3; ++kx) {
                const float *tap = x + ky * x_row + kx * x_col;
#pragma clang loop unroll(full)
                for (int c = 0; c < CI; ++c) acc[(ky * 3 + kx) * 3 + c] += tap[c] * d;
            }
        }
    }
    for (int tap = 0; tap < 9; ++tap)
        for (int c = 0; c < CI; ++c)
            TK_NAME(store)(dw + (tap * 3 + c) * 16, TK_NAME(load)(dw + (tap * 3 + c) * 16) + acc[tap * 3 + c]);
}

TK_ATTR static void TK_NAME(wgrad_stem3)(size_t np, size_t ci, const float *x, size_t x_row, size_t x_col, size_t x_pixel,
                                         const float *dy, size_t dy_pixel, float *dw) {
    if (ci >= 3) TK_NAME(wgrad_stem_taps)(3, np, x, x_row, x_col, x_pixel, dy, dy_pixel, dw);
    else if (ci == 2) TK_NAME(wgrad_stem_taps)(2, np, x, x_row, x_col, x_pixel, dy, dy_pixel, dw);
    else TK_NAME(wgrad_stem_taps)(1, np, x, x_row, x_col, x_pixel, dy, dy_pixel, dw);
}
