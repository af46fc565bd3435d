// Checks every kernel variant of the kernel sets this CPU runs against the portable set, reading
// the sets' own tables (rn_kernels_for, rn_training_kernels_for), as the Swift kernel tests do.
// Built and run by scripts/check-arm64-kernels.sh for AArch64 under qemu-aarch64 (the NEON sets);
// it runs natively on x86-64 too (the AVX-512 and AVX2 sets), which checks the checker.
// The bf16 and int8 sets the CPU offers (neonbf16, neoni8mm or neondotprod under qemu's CPU models;
// avx512bf16 and avx512vnni here) have no portable twin: they are checked against scalar references
// in double over the same bf16-rounded or integer operands. So are the AMX bf16 kernels, on their
// plain-C tile reference everywhere and on the AMX instructions where the CPU and OS allow them.
//
// Each variant is called on the same operands as the portable kernel, over edge sizes (every tile
// row and pixel count, column and channel counts around the vector and panel widths, remainders of
// the depth), with bias, residual and every activation; results must agree within float32
// accumulation error (the sets sum in different orders, with fused multiply-adds), and nothing may
// be written outside the tile. Exits 1 on the first failing variant, naming it and the case.
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "RegNetKernels.h"
#include "RegNetTrainingKernels.h"
#include "RegNetAMXKernels.h"

static const float SENTINEL = -777.0f;
static int cases = 0;

static float value(unsigned *state) {   // deterministic values in [-1, 1)
    *state = *state * 1664525u + 1013904223u;
    return (float)(*state >> 8) / (float)(1u << 23) - 1.0f;
}

static float *values(size_t n, unsigned seed) {
    float *v = malloc((n + 64) * sizeof *v);
    for (size_t i = 0; i < n + 64; ++i) v[i] = value(&seed);
    return v;
}

static float *filled(size_t n, float x) {
    float *v = malloc(n * sizeof *v);
    for (size_t i = 0; i < n; ++i) v[i] = x;
    return v;
}

/// Fails unless got and want agree within float32 accumulation error (relative to the larger of 1
/// and the magnitude of the terms summed, `scale`); sentinels must match exactly.
static void expect_close(const char *variant, const char *what, const float *got, const float *want, size_t n, float scale) {
    ++cases;
    for (size_t i = 0; i < n; ++i) {
        const int sentinel = want[i] == SENTINEL || got[i] == SENTINEL;
        if (sentinel ? got[i] != want[i] : !(fabsf(got[i] - want[i]) <= 2e-5f * (scale > 1 ? scale : 1))) {
            fprintf(stderr, "FAIL %s %s: element %zu is %g, the portable set's %g\n", variant, what, i, got[i], want[i]);
            exit(1);
        }
    }
}

/// GEMM tiles: B packed in each set's panel width; every row count up to mr, columns around the
/// panel width, several depths; bias, residual rows and every activation.
static void check_gemm(const rn_kernels *set, const rn_kernels *ref) {
    char variant[64], what[128];
    snprintf(variant, sizeof variant, "gemm (%s, %dx%d)", set->name, set->mr, set->nr);
    const size_t ks[] = {1, 2, 7, 16, 33}, ns[] = {1, 3, 4, 7, 8, 9, 15, 16, 17, 31, 32, 33, 47};
    const size_t ldc = 64, mr_max = (size_t)(set->mr > ref->mr ? set->mr : ref->mr);
    for (size_t ki = 0; ki < sizeof ks / sizeof *ks; ++ki) {
        const size_t k = ks[ki];
        float *a = values(mr_max * k, 1 + (unsigned)k), *dense = values(k * 64, 2 + (unsigned)k), *bias = values(64, 3);
        float *residual = values(mr_max * ldc, 4);
        for (size_t ni = 0; ni < sizeof ns / sizeof *ns; ++ni) {
            const size_t n = ns[ni];
            // Packed panels of each set's width, zero-padded; the bias padded to whole panels.
            const rn_kernels *both[2] = {set, ref};
            float *packed[2];
            for (int s = 0; s < 2; ++s) {
                const size_t nr = (size_t)both[s]->nr, panels = (n + nr - 1) / nr;
                packed[s] = filled(panels * k * nr, 0);
                for (size_t pn = 0; pn < panels; ++pn)
                    for (size_t p = 0; p < k; ++p)
                        for (size_t j = 0; j < nr && pn * nr + j < n; ++j) packed[s][(pn * k + p) * nr + j] = dense[p * 64 + pn * nr + j];
            }
            for (size_t m = 1; m <= (size_t)set->mr; ++m) {
                for (int act = 0; act <= 2; ++act) {
                    for (int with_residual = 0; with_residual <= 1; ++with_residual) {
                        float *out[2];
                        for (int s = 0; s < 2; ++s) {
                            out[s] = filled(mr_max * ldc, SENTINEL);
                            float *c_rows[32];
                            const float *r_rows[32];
                            for (size_t i = 0; i < mr_max; ++i) { c_rows[i] = out[s] + i * ldc; r_rows[i] = residual + i * ldc; }
                            // The portable set takes at most its mr rows per call: call it row block by row block.
                            const size_t step = (size_t)both[s]->mr;
                            for (size_t first = 0; first < m; first += step) {
                                const size_t rows = m - first < step ? m - first : step;
                                both[s]->gemm(rows, n, k, a + first * k, k, packed[s], 3, c_rows + first,
                                              with_residual ? r_rows + first : NULL, bias, act);
                            }
                        }
                        snprintf(what, sizeof what, "m %zu n %zu k %zu act %d residual %d", m, n, k, act, with_residual);
                        expect_close(variant, what, out[0], out[1], mr_max * ldc, (float)k);
                        free(out[0]);
                        free(out[1]);
                    }
                }
            }
            free(packed[0]);
            free(packed[1]);
        }
        free(a); free(dense); free(bias); free(residual);
    }
}

/// One convolution tile against the portable tile: kernel sizes, input channel counts, strided
/// pixels, every activation; pixels up to `width`, channels up to `lanes`.
static void check_conv_fn(const char *variant, rn_conv_fn fn, size_t width, size_t lanes, rn_conv_fn reference) {
    char what[128];
    const size_t shapes[][2] = {{1, 1}, {3, 5}, {3, 16}, {5, 2}, {1, 17}};
    for (size_t si = 0; si < sizeof shapes / sizeof *shapes; ++si) {
        const size_t kernel = shapes[si][0], ci = shapes[si][1], stride = 2, in_pixel = stride * ci + 1, in_row = (width * stride + kernel + 2) * in_pixel;
        float *in = values(kernel * in_row + width * in_pixel + ci, 10 + (unsigned)si);
        float *w = values(kernel * kernel * ci * RN_CONV_LANES, 11 + (unsigned)si), *bias = values(16, 12);
        const size_t out_pixel = 20;
        for (size_t xb = 1; xb <= width; ++xb) {
            const size_t cos[] = {1, 7, 8, lanes};
            for (size_t c = 0; c < 4; ++c) {
                const size_t co = cos[c] < lanes ? cos[c] : lanes;
                for (int act = 0; act <= 2; ++act) {
                    float *got = filled(width * out_pixel, SENTINEL), *want = filled(width * out_pixel, SENTINEL);
                    fn(xb, co, kernel, kernel, ci, in, in_row, in_pixel, in_pixel, w, bias, got, out_pixel, act);
                    for (size_t p = 0; p < xb; ++p)   // the portable tile covers at most its own width per call
                        reference(1, co, kernel, kernel, ci, in + p * in_pixel, in_row, in_pixel, in_pixel, w, bias,
                                  want + p * out_pixel, out_pixel, act);
                    snprintf(what, sizeof what, "xb %zu co %zu kernel %zu ci %zu act %d", xb, co, kernel, ci, act);
                    expect_close(variant, what, got, want, width * out_pixel, (float)(kernel * kernel * ci));
                    free(got);
                    free(want);
                }
            }
        }
        free(in); free(w); free(bias);
    }
}

static void check_conv(const rn_kernels *set, const rn_kernels *ref) {
    for (int t = 0; t < set->tile_count; ++t)
        check_conv_fn(set->tiles[t].name, set->tiles[t].fn, (size_t)set->tiles[t].xb, (size_t)set->tiles[t].lanes, ref->conv);
    char variant[64];
    snprintf(variant, sizeof variant, "conv (%s, dispatching)", set->name);
    check_conv_fn(variant, set->conv, (size_t)set->xb, 16, ref->conv);
}

static void check_pack(const rn_kernels *set, const rn_kernels *ref) {
    char variant[64];
    snprintf(variant, sizeof variant, "pack (%s)", set->name);
    const size_t mr = (size_t)set->mr, k = 37;
    float *src = values(mr * 64, 20), *gates = values(mr * 64, 21);
    const float *rows[32], *scales[32];
    for (size_t i = 0; i < mr; ++i) { rows[i] = src + i * 64 + i; scales[i] = gates + i * 64; }
    for (int gated = 0; gated <= 1; ++gated) {
        float *got = filled(mr * k + 8, SENTINEL), *want = filled(mr * k + 8, SENTINEL);
        set->pack(mr, k, rows, gated ? scales : NULL, got);
        ref->pack(mr, k, rows, gated ? scales : NULL, want);
        expect_close(variant, gated ? "gated" : "copied", got, want, mr * k + 8, 1);
        free(got);
        free(want);
    }
    free(src); free(gates);
}

/// The training set's kernels against the portable training set, on the same strided operands.
static void check_training(const rn_training_kernels *set, const rn_training_kernels *ref) {
    char variant[64], what[128];
    // Strided GEMMs, nn and tn, overwriting and accumulating.
    const size_t ks[] = {1, 5, 16, 40}, ns[] = {1, 7, 16, 17, 31, 32};
    for (size_t ki = 0; ki < 4; ++ki) {
        const size_t k = ks[ki], lda = 48, ldb = 40, ldc = 40;
        float *a = values(48 * 48, 30), *b = values(k * ldb + RN_TRAIN_NR, 31), *start = values(16 * ldc, 32);
        for (size_t ni = 0; ni < 6; ++ni) {
            for (size_t m = 1; m <= (size_t)set->mr; ++m) {
                for (int transposed = 0; transposed <= 1; ++transposed) {
                    for (int accumulate = 0; accumulate <= 1; ++accumulate) {
                        const size_t n = ns[ni];
                        float *got = malloc(16 * ldc * sizeof *got), *want = malloc(16 * ldc * sizeof *want);
                        memcpy(got, start, 16 * ldc * sizeof *got);
                        memcpy(want, start, 16 * ldc * sizeof *want);
                        (transposed ? set->gemm_tn : set->gemm_nn)(m, n, k, a, lda, b, ldb, got, ldc, accumulate);
                        for (size_t first = 0; first < m; first += (size_t)ref->mr) {   // the reference takes its mr rows a call
                            const size_t rows = m - first < (size_t)ref->mr ? m - first : (size_t)ref->mr;
                            (transposed ? ref->gemm_tn : ref->gemm_nn)(rows, n, k, transposed ? a + first : a + first * lda, lda, b, ldb,
                                                                      want + first * ldc, ldc, accumulate);
                        }
                        snprintf(variant, sizeof variant, "gemm_%s (%s training, %dx%d)", transposed ? "tn" : "nn", set->name, set->mr, RN_TRAIN_NR);
                        snprintf(what, sizeof what, "m %zu n %zu k %zu accumulate %d", m, n, k, accumulate);
                        expect_close(variant, what, got, want, 16 * ldc, (float)k);
                        free(got);
                        free(want);
                    }
                }
            }
        }
        free(a); free(b); free(start);
    }
    // Weight-gradient tiles: rows and pixels with remainders, every input channel count up to 16.
    const size_t nps[] = {1, 5, 16, 23};
    for (size_t pi = 0; pi < 4; ++pi) {
        const size_t np = nps[pi], rows = 3, x_pixel = 19, x_row = 30 * x_pixel, dy_pixel = 21, dy_row = 30 * dy_pixel;
        float *x = values(rows * x_row + 3 * x_row + 64, 40), *dy = values(rows * dy_row + 64, 41), *start = values(16 * 16, 42);
        for (size_t ci = 1; ci <= 16; ++ci) {
            float *got = malloc(256 * sizeof *got), *want = malloc(256 * sizeof *want);
            memcpy(got, start, 256 * sizeof *got);
            memcpy(want, start, 256 * sizeof *want);
            set->wgrad(rows, np, ci, x, x_row, x_pixel, dy, dy_row, dy_pixel, got);
            ref->wgrad(rows, np, ci, x, x_row, x_pixel, dy, dy_row, dy_pixel, want);
            snprintf(variant, sizeof variant, "wgrad (%s training)", set->name);
            snprintf(what, sizeof what, "np %zu ci %zu", np, ci);
            expect_close(variant, what, got, want, 256, (float)(rows * np));
            free(got);
            free(want);
        }
        float *got = malloc(9 * 64 * sizeof *got), *want = malloc(9 * 64 * sizeof *want), *start9 = values(9 * 64, 43);
        memcpy(got, start9, 9 * 64 * sizeof *got);
        memcpy(want, start9, 9 * 64 * sizeof *want);
        set->wgrad_3x3_g8(rows, np, x, x_row, x_pixel, x_row / 2, x_pixel, dy, dy_row, dy_pixel, got);
        ref->wgrad_3x3_g8(rows, np, x, x_row, x_pixel, x_row / 2, x_pixel, dy, dy_row, dy_pixel, want);
        snprintf(variant, sizeof variant, "wgrad_3x3_g8 (%s training)", set->name);
        snprintf(what, sizeof what, "np %zu", np);
        expect_close(variant, what, got, want, 9 * 64, (float)(rows * np));
        for (size_t ci = 1; ci <= 3; ++ci) {
            memcpy(got, start9, 9 * 64 * sizeof *got);
            memcpy(want, start9, 9 * 64 * sizeof *want);
            set->wgrad_stem3(np, ci, x, x_row, 4, x_pixel, dy, dy_pixel, got);
            ref->wgrad_stem3(np, ci, x, x_row, 4, x_pixel, dy, dy_pixel, want);
            snprintf(variant, sizeof variant, "wgrad_stem3 (%s training)", set->name);
            snprintf(what, sizeof what, "np %zu ci %zu", np, ci);
            expect_close(variant, what, got, want, 9 * 3 * 16, (float)np);
        }
        free(got); free(want); free(start9); free(x); free(dy); free(start);
    }
    // Interleaving pairs of groups of 8 (an odd group count included), then the paired convolution tile.
    for (size_t groups = 1; groups <= 3; ++groups) {
        float *src = values(4 * 29, 50), *got = filled(4 * 40, SENTINEL), *want = filled(4 * 40, SENTINEL);
        set->interleave_pairs8(4, groups, src, 29, got, 40);
        ref->interleave_pairs8(4, groups, src, 29, want, 40);
        snprintf(variant, sizeof variant, "interleave_pairs8 (%s training)", set->name);
        snprintf(what, sizeof what, "groups %zu", groups);
        expect_close(variant, what, got, want, 4 * 40, 1);
        free(src); free(got); free(want);
    }
    const size_t kh = 3, kw = 2, in_pixel = 21, in_col = 16, in_row = 16 * 40, out_pixel = 19;
    float *in = values(kh * in_row + 64, 60), *w = values(kh * kw * 8 * 16, 61), *bias = values(16, 62);
    for (size_t xb = 1; xb <= 14; ++xb) {
        for (size_t co = 8; co <= 16; co += 8) {
            for (int act = 0; act <= 1; ++act) {
                float *got = filled(14 * out_pixel + 16, SENTINEL), *want = filled(14 * out_pixel + 16, SENTINEL);
                set->conv_pair8(xb, co, kh, kw, 8, in, in_row, in_col, in_pixel, w, bias, got, out_pixel, act);
                ref->conv_pair8(xb, co, kh, kw, 8, in, in_row, in_col, in_pixel, w, bias, want, out_pixel, act);
                snprintf(variant, sizeof variant, "conv_pair8 (%s training)", set->name);
                snprintf(what, sizeof what, "xb %zu co %zu act %d", xb, co, act);
                expect_close(variant, what, got, want, 14 * out_pixel + 16, (float)(kh * kw * 8));
                free(got);
                free(want);
            }
        }
    }
    free(in); free(w); free(bias);
}

// ---- bf16 and int8 sets: against scalar references in double (these sets have no portable twin) ----

/// f rounded to bf16, nearest even (NaN stays NaN).
static unsigned short to_bf16(float f) {
    unsigned bits;
    memcpy(&bits, &f, sizeof bits);
    if ((bits & 0x7FFFFFFFu) > 0x7F800000u) return (unsigned short)((bits >> 16) | 0x40);
    return (unsigned short)((bits + 0x7FFFu + ((bits >> 16) & 1u)) >> 16);
}

static float from_bf16(unsigned short h) {
    const unsigned bits = (unsigned)h << 16;
    float f;
    memcpy(&f, &bits, sizeof f);
    return f;
}

static double reference_activate(double x, int act) {
    if (act == RN_ACT_RELU) return x > 0 ? x : 0;
    if (act == RN_ACT_SIGMOID) return 1 / (1 + exp(-x));
    return x;
}

/// Fails unless got is within tolerance x max(1, |want|) of want.
static void expect_near(const char *variant, const char *what, size_t i, double got, double want, double tolerance) {
    if (!(fabs(got - want) <= tolerance * (fabs(want) > 1 ? fabs(want) : 1))) {
        fprintf(stderr, "FAIL %s %s: element %zu is %g, the reference's %g\n", variant, what, i, got, want);
        exit(1);
    }
}

/// An element of a float32 or bf16 array, as a double.
static double element(const void *p, size_t i, int bf16) {
    return bf16 ? from_bf16(((const unsigned short *)p)[i]) : ((const float *)p)[i];
}

/// Fails unless bytes[from ..< to] still hold the 0xA5 they were filled with (nothing written outside the tile).
static void expect_untouched(const char *variant, const char *what, const unsigned char *bytes, size_t from, size_t to) {
    for (size_t i = from; i < to; ++i)
        if (bytes[i] != 0xA5) {
            fprintf(stderr, "FAIL %s %s: byte %zu outside the tile was written\n", variant, what, i);
            exit(1);
        }
}

static void check_bf16(const rn_bf16_kernels *set) {
    char variant[64], what[160];
    const size_t mr = (size_t)set->mr, nr = (size_t)set->nr;
    // GEMM: A rows of k values (an odd depth padded with a zero), B in panels [k / 2][nr][2].
    snprintf(variant, sizeof variant, "gemm (%s, %zux%zu)", set->name, mr, nr);
    const size_t ks[] = {1, 2, 7, 18}, ns[] = {1, 3, 4, 5, 8, 9, 15, 17, 33};
    const int configs[][5] = {{0, 0, 0, 0, 0}, {1, 0, 1, 0, 0}, {1, 1, 2, 0, 0}, {1, 1, 1, 1, 0}, {0, 0, 0, 1, 0}, {1, 1, 1, 1, 1}, {0, 1, 0, 0, 1}};
    for (size_t ki = 0; ki < 4; ++ki)
        for (size_t ni = 0; ni < 9; ++ni)
            for (size_t m = 1; m <= mr; ++m)
                for (size_t ci = 0; ci < 7; ++ci) {
                    const size_t k = ks[ki], n = ns[ni], depth = (k + 1) & ~(size_t)1, lda = depth + 4, col = 3, ldc = col + n + 4;
                    const size_t panels = (n + nr - 1) / nr;
                    const int use_bias = configs[ci][0], use_residual = configs[ci][1], act = configs[ci][2];
                    const int out_bf16 = configs[ci][3], res_bf16 = configs[ci][4];
                    float *af = values(mr * lda, 70 + (unsigned)(m + n)), *wf = values(n * k, 71 + (unsigned)k), *biasf = values(panels * nr, 72);
                    float *resf = values(m * ldc, 73);
                    unsigned short *a = calloc(mr * lda, 2), *b = calloc(panels * depth * nr, 2), *res16 = calloc(m * ldc, 2);
                    for (size_t i = 0; i < mr; ++i)
                        for (size_t p = 0; p < lda; ++p) a[i * lda + p] = p < k ? to_bf16(af[i * lda + p]) : 0;
                    for (size_t j = 0; j < n; ++j)
                        for (size_t p = 0; p < k; ++p) b[((j / nr) * depth + p / 2 * 2) * nr + 2 * (j % nr) + p % 2] = to_bf16(wf[j * k + p]);
                    for (size_t i = 0; i < m * ldc; ++i) {
                        res16[i] = to_bf16(resf[i]);
                        if (res_bf16) resf[i] = from_bf16(res16[i]);
                    }
                    const size_t bytes = out_bf16 ? 2 : 4;
                    unsigned char *out = malloc(mr * ldc * bytes);
                    memset(out, 0xA5, mr * ldc * bytes);
                    void *c_rows[32];
                    const void *r_rows[32];
                    for (size_t i = 0; i < mr; ++i) {
                        c_rows[i] = out + i * ldc * bytes;
                        r_rows[i] = res_bf16 ? (const void *)(res16 + i * ldc) : (const void *)(resf + i * ldc);
                    }
                    set->gemm(m, n, depth, a, lda, b, col, c_rows, use_residual ? r_rows : NULL, use_bias ? biasf : NULL, act,
                              (out_bf16 ? RN_BF16_OUTPUT : 0) | (res_bf16 ? RN_BF16_RESIDUAL : 0));
                    snprintf(what, sizeof what, "m %zu n %zu k %zu bias %d residual %d act %d bf16 output %d bf16 residual %d", m, n, k,
                             use_bias, use_residual, act, out_bf16, res_bf16);
                    ++cases;
                    for (size_t i = 0; i < m; ++i) {
                        expect_untouched(variant, what, out, i * ldc * bytes, (i * ldc + col) * bytes);
                        expect_untouched(variant, what, out, (i * ldc + col + n) * bytes, (i + 1) * ldc * bytes);
                        for (size_t j = 0; j < n; ++j) {
                            double sum = use_bias ? biasf[j] : 0;
                            for (size_t p = 0; p < k; ++p) sum += (double)from_bf16(a[i * lda + p]) * from_bf16(to_bf16(wf[j * k + p]));
                            if (use_residual) sum += resf[i * ldc + col + j];
                            const double want = reference_activate(sum, act);
                            expect_near(variant, what, j, element(c_rows[i], col + j, out_bf16), want, out_bf16 ? 1.0 / 128 : 2e-5 * (double)k);
                        }
                    }
                    expect_untouched(variant, what, out, m * ldc * bytes, mr * ldc * bytes);
                    free(af); free(wf); free(biasf); free(resf); free(a); free(b); free(res16); free(out);
                }
    // Convolution: bf16 input at strided pixels, weights [kh][kw][ceil(ci / 2)][16][2].
    snprintf(variant, sizeof variant, "conv (%s, dispatching, %d pixels)", set->name, set->xb);
    const size_t shapes[][2] = {{1, 1}, {3, 5}, {3, 16}, {1, 17}};
    for (size_t si = 0; si < 4; ++si) {
        const size_t kernel = shapes[si][0], ci = shapes[si][1], pairs = (ci + 1) / 2, stride = 2;
        const size_t in_pixel = stride * (2 * pairs) + 2, in_row = ((size_t)set->xb * stride + kernel + 2) * in_pixel, out_pixel = 20;
        const size_t in_count = kernel * in_row + (size_t)set->xb * in_pixel + 2 * pairs;
        float *inf = values(in_count, 80 + (unsigned)si), *wf = values(kernel * kernel * ci * 16, 81 + (unsigned)si), *biasf = values(16, 82);
        unsigned short *in = malloc(in_count * 2), *w = calloc(kernel * kernel * pairs * 32, 2);
        for (size_t i = 0; i < in_count; ++i) in[i] = to_bf16(inf[i]);
        for (size_t t = 0; t < kernel * kernel; ++t)
            for (size_t c = 0; c < ci; ++c)
                for (size_t j = 0; j < 16; ++j) w[(t * pairs + c / 2) * 32 + 2 * j + c % 2] = to_bf16(wf[(t * ci + c) * 16 + j]);
        for (size_t xb = 1; xb <= (size_t)set->xb; ++xb)
            for (size_t co = 1; co <= 16; co += 5)
                for (int act = 0; act <= 2; ++act)
                    for (int out_bf16 = 0; out_bf16 <= (act == RN_ACT_SIGMOID ? 0 : 1); ++out_bf16) {
                        const size_t bytes = out_bf16 ? 2 : 4, total = (size_t)set->xb * out_pixel * bytes;
                        unsigned char *out = malloc(total);
                        memset(out, 0xA5, total);
                        set->conv(xb, co, kernel, kernel, ci, in, in_row, stride * (2 * pairs) + 2, in_pixel, w, biasf, out, out_pixel, act, out_bf16);
                        snprintf(what, sizeof what, "xb %zu co %zu kernel %zu ci %zu act %d bf16 output %d", xb, co, kernel, ci, act, out_bf16);
                        ++cases;
                        for (size_t p = 0; p < xb; ++p) {
                            for (size_t j = 0; j < co; ++j) {
                                double sum = biasf[j];
                                for (size_t ky = 0; ky < kernel; ++ky)
                                    for (size_t kx = 0; kx < kernel; ++kx)
                                        for (size_t c = 0; c < ci; ++c)
                                            sum += (double)from_bf16(in[ky * in_row + kx * (stride * (2 * pairs) + 2) + p * in_pixel + c]) *
                                                   from_bf16(to_bf16(wf[((ky * kernel + kx) * ci + c) * 16 + j]));
                                expect_near(variant, what, p * out_pixel + j, element(out, p * out_pixel + j, out_bf16),
                                            reference_activate(sum, act), out_bf16 ? 1.0 / 128 : 2e-5 * (double)(kernel * kernel * ci));
                            }
                            expect_untouched(variant, what, out, (p * out_pixel + co) * bytes, (p + 1) * out_pixel * bytes);
                        }
                        expect_untouched(variant, what, out, xb * out_pixel * bytes, total);
                        free(out);
                    }
        free(inf); free(wf); free(biasf); free(in); free(w);
    }
    // Packing (float32 or bf16 rows, gated or not; an odd k gets its pad zero) and the conversion: exact.
    snprintf(variant, sizeof variant, "pack and convert (%s)", set->name);
    const size_t k = 37, stride = 38;
    float *src = values(mr * 64, 90), *gates = values(mr * 64, 91);
    unsigned short *src16 = malloc(mr * 64 * 2);
    for (size_t i = 0; i < mr * 64; ++i) src16[i] = to_bf16(src[i]);
    for (int in_bf16 = 0; in_bf16 <= 1; ++in_bf16)
        for (int gated = 0; gated <= 1; ++gated) {
            const void *rows[32];
            const float *scales[32];
            for (size_t i = 0; i < mr; ++i) {
                rows[i] = in_bf16 ? (const void *)(src16 + i * 64) : (const void *)(src + i * 64);
                scales[i] = gates + i * 64;
            }
            unsigned short *got = malloc((mr * stride + 4) * 2);
            memset(got, 0xA5, (mr * stride + 4) * 2);
            set->pack(mr, k, rows, gated ? scales : NULL, got, in_bf16);
            snprintf(what, sizeof what, "bf16 rows %d gated %d", in_bf16, gated);
            ++cases;
            for (size_t i = 0; i < mr; ++i)
                for (size_t j = 0; j < stride; ++j) {
                    const float x = in_bf16 ? from_bf16(src16[i * 64 + j]) : src[i * 64 + j];
                    const unsigned short want = j == k ? 0 : (gated || !in_bf16) ? to_bf16(gated ? x * gates[i * 64 + j] : x) : src16[i * 64 + j];
                    expect_near(variant, what, i * stride + j, got[i * stride + j], want, 0);
                }
            expect_untouched(variant, what, (const unsigned char *)got, mr * stride * 2, (mr * stride + 4) * 2);
            free(got);
        }
    unsigned short converted[37];
    set->convert(37, src, converted);
    for (size_t j = 0; j < 37; ++j) expect_near(variant, "convert", j, converted[j], to_bf16(src[j]), 0);
    free(src); free(gates); free(src16);
}

/// Deterministic bytes: activations in [0, 255], weights in [-128, 127].
static unsigned char *bytes_of(size_t n, unsigned seed) {
    unsigned char *v = malloc(n + 64);
    for (size_t i = 0; i < n + 64; ++i) { seed = seed * 1664525u + 1013904223u; v[i] = (unsigned char)(seed >> 24); }
    return v;
}

/// The int8 epilogue in double: acc x scale + bias (+ residual), activation; then uint8 requantisation or not.
static double int8_epilogue(long acc, double scale, double bias, double residual, int act) {
    return reference_activate((double)acc * scale + bias + residual, act);
}

static void check_int8_output(const char *variant, const char *what, size_t i, const void *out, int out_u8, double want,
                              float out_scale, double terms) {
    if (out_u8) {
        double q = nearbyint(want / out_scale);
        q = q < 0 ? 0 : q > 255 ? 255 : q;
        const double got = ((const unsigned char *)out)[i];
        if (fabs(got - q) > 1) {   // one step either side: float32 rounding of a value near a half
            fprintf(stderr, "FAIL %s %s: element %zu is %g, the reference's %g\n", variant, what, i, got, q);
            exit(1);
        }
    } else {
        expect_near(variant, what, i, ((const float *)out)[i], want, 2e-6 * terms);
    }
}

static void check_int8(const rn_int8_kernels *set) {
    char variant[64], what[160];
    const size_t mr = (size_t)set->mr, nr = (size_t)set->nr;
    const float out_scale = 0.75f;
    snprintf(variant, sizeof variant, "gemm (%s, %zux%zu)", set->name, mr, nr);
    const size_t ks[] = {1, 4, 7, 16, 33}, ns[] = {1, 3, 4, 5, 8, 9, 17, 33};
    for (size_t ki = 0; ki < 5; ++ki)
        for (size_t ni = 0; ni < 8; ++ni)
            for (size_t m = 1; m <= mr; ++m)
                for (int config = 0; config < 4; ++config) {
                    const int use_residual = config == 1 || config == 3, act = config == 2 ? RN_ACT_SIGMOID : config == 0 ? RN_ACT_NONE : RN_ACT_RELU;
                    const int out_u8 = config == 3;
                    const size_t k = ks[ki], n = ns[ni], depth = (k + 3) & ~(size_t)3, lda = depth + 4, col = 3, ldc = col + n + 4;
                    const size_t panels = (n + nr - 1) / nr;
                    unsigned char *a = bytes_of(mr * lda, 100 + (unsigned)(m + n)), *wb = bytes_of(n * k, 101 + (unsigned)k);
                    for (size_t i = 0; i < mr; ++i)
                        for (size_t p = k; p < lda; ++p) a[i * lda + p] = 0;
                    signed char *b = calloc(panels * depth * nr, 1);
                    for (size_t j = 0; j < n; ++j)
                        for (size_t p = 0; p < k; ++p) b[((j / nr) * depth + p / 4 * 4) * nr + 4 * (j % nr) + p % 4] = (signed char)wb[j * k + p];
                    float *scale = values(panels * nr, 102), *bias = values(panels * nr, 103), *res = values(m * ldc, 104);
                    for (size_t j = 0; j < panels * nr; ++j) scale[j] = 1e-4f * (1.5f + scale[j]);
                    const size_t bytes = out_u8 ? 1 : 4;
                    unsigned char *out = malloc(mr * ldc * bytes);
                    memset(out, 0xA5, mr * ldc * bytes);
                    void *c_rows[32];
                    const float *r_rows[32];
                    for (size_t i = 0; i < mr; ++i) { c_rows[i] = out + i * ldc * bytes; r_rows[i] = res + i * ldc; }
                    set->gemm(m, n, depth, a, lda, b, col, c_rows, use_residual ? r_rows : NULL, scale, bias, act, out_u8, out_scale);
                    snprintf(what, sizeof what, "m %zu n %zu k %zu residual %d act %d uint8 output %d", m, n, k, use_residual, act, out_u8);
                    ++cases;
                    for (size_t i = 0; i < m; ++i) {
                        expect_untouched(variant, what, out, i * ldc * bytes, (i * ldc + col) * bytes);
                        expect_untouched(variant, what, out, (i * ldc + col + n) * bytes, (i + 1) * ldc * bytes);
                        for (size_t j = 0; j < n; ++j) {
                            long acc = 0;
                            for (size_t p = 0; p < k; ++p) acc += (long)a[i * lda + p] * (signed char)wb[j * k + p];
                            const double want = int8_epilogue(acc, scale[j], bias[j], use_residual ? res[i * ldc + col + j] : 0, act);
                            check_int8_output(variant, what, col + j, c_rows[i], out_u8, want, out_scale, 1 + fabs((double)acc * scale[j]));
                        }
                    }
                    expect_untouched(variant, what, out, m * ldc * bytes, mr * ldc * bytes);
                    free(a); free(wb); free(b); free(scale); free(bias); free(res); free(out);
                }
    snprintf(variant, sizeof variant, "conv (%s, dispatching, %d pixels)", set->name, set->xb);
    const size_t shapes[][2] = {{1, 1}, {3, 5}, {3, 16}, {1, 17}};
    for (size_t si = 0; si < 4; ++si) {
        const size_t kernel = shapes[si][0], ci = shapes[si][1], quads = (ci + 3) / 4, stride = 2;
        const size_t in_col = stride * 4 * quads + 4, in_pixel = in_col, in_row = ((size_t)set->xb * stride + kernel + 2) * in_pixel;
        const size_t out_pixel = 20, in_count = kernel * in_row + (size_t)set->xb * in_pixel + 4 * quads;
        unsigned char *in = bytes_of(in_count, 110 + (unsigned)si), *wb = bytes_of(kernel * kernel * ci * 16, 111 + (unsigned)si);
        signed char *w = calloc(kernel * kernel * quads * 64, 1);
        for (size_t t = 0; t < kernel * kernel; ++t)
            for (size_t c = 0; c < ci; ++c)
                for (size_t j = 0; j < 16; ++j) w[(t * quads + c / 4) * 64 + 4 * j + c % 4] = (signed char)wb[(t * ci + c) * 16 + j];
        float *scale = values(16, 112), *bias = values(16, 113);
        for (size_t j = 0; j < 16; ++j) scale[j] = 1e-4f * (1.5f + scale[j]);
        for (size_t xb = 1; xb <= (size_t)set->xb; ++xb)
            for (size_t co = 1; co <= 16; co += 5)
                for (int act = 0; act <= 2; ++act)
                    for (int out_u8 = 0; out_u8 <= (act == RN_ACT_SIGMOID ? 0 : 1); ++out_u8) {
                        const size_t bytes = out_u8 ? 1 : 4, total = (size_t)set->xb * out_pixel * bytes;
                        unsigned char *out = malloc(total);
                        memset(out, 0xA5, total);
                        set->conv(xb, co, kernel, kernel, ci, in, in_row, in_col, in_pixel, w, scale, bias, out, out_pixel, act, out_u8, out_scale);
                        snprintf(what, sizeof what, "xb %zu co %zu kernel %zu ci %zu act %d uint8 output %d", xb, co, kernel, ci, act, out_u8);
                        ++cases;
                        for (size_t p = 0; p < xb; ++p) {
                            for (size_t j = 0; j < co; ++j) {
                                long acc = 0;
                                for (size_t ky = 0; ky < kernel; ++ky)
                                    for (size_t kx = 0; kx < kernel; ++kx)
                                        for (size_t c = 0; c < ci; ++c)
                                            acc += (long)in[ky * in_row + kx * in_col + p * in_pixel + c] * (signed char)wb[((ky * kernel + kx) * ci + c) * 16 + j];
                                check_int8_output(variant, what, p * out_pixel + j, out, out_u8, int8_epilogue(acc, scale[j], bias[j], 0, act),
                                                  out_scale, 1 + fabs((double)acc * scale[j]));
                            }
                            expect_untouched(variant, what, out, (p * out_pixel + co) * bytes, (p + 1) * out_pixel * bytes);
                        }
                        expect_untouched(variant, what, out, xb * out_pixel * bytes, total);
                        free(out);
                    }
        free(in); free(wb); free(w); free(scale); free(bias);
    }
    // Packing (float32 rows quantised, uint8 rows copied or gated; the pad to 4 zero) and the conversion: exact.
    snprintf(variant, sizeof variant, "pack and convert (%s)", set->name);
    const size_t k = 37, stride = 40;
    const float scale = 1.0f / 90;
    float *src = values(mr * 64, 120), *gates = values(mr * 64, 121);
    unsigned char *src8 = bytes_of(mr * 64, 122);
    for (size_t i = 0; i < mr * 64; ++i) gates[i] = 0.5f + 0.5f * gates[i];
    for (int in_u8 = 0; in_u8 <= 1; ++in_u8)
        for (int gated = 0; gated <= 1; ++gated) {
            const void *rows[32];
            const float *scales[32];
            for (size_t i = 0; i < mr; ++i) {
                rows[i] = in_u8 ? (const void *)(src8 + i * 64) : (const void *)(src + i * 64);
                scales[i] = gates + i * 64;
            }
            unsigned char *got = malloc(mr * stride + 4);
            memset(got, 0xA5, mr * stride + 4);
            set->pack(mr, k, rows, gated ? scales : NULL, got, in_u8, scale);
            snprintf(what, sizeof what, "uint8 rows %d gated %d", in_u8, gated);
            ++cases;
            for (size_t i = 0; i < mr; ++i)
                for (size_t j = 0; j < stride; ++j) {
                    float x = in_u8 ? (float)src8[i * 64 + j] : src[i * 64 + j];
                    if (gated) x *= gates[i * 64 + j];
                    double q = in_u8 && !gated ? x : nearbyint((double)(x * (in_u8 ? 1.0f : 1.0f / scale)));
                    q = j >= k ? 0 : q < 0 ? 0 : q > 255 ? 255 : q;
                    expect_near(variant, what, i * stride + j, got[i * stride + j], q, 0);
                }
            expect_untouched(variant, what, got, mr * stride, mr * stride + 4);
            free(got);
        }
    unsigned char converted[37];
    set->convert(37, src, converted, scale);
    for (size_t j = 0; j < 37; ++j) {
        const double q = nearbyint((double)(src[j] * (1.0f / scale)));
        expect_near(variant, "convert", j, converted[j], q < 0 ? 0 : q > 255 ? 255 : q, 0);
    }
    free(src); free(gates); free(src8);
}

/// The AMX bf16 GEMM (packing included) against double over the bf16-rounded operands: rows, columns
/// and depths around the tile sizes, accumulating and not; nothing written past n columns.
static void check_amx(const rn_amx_bf16_kernels *set) {
    const size_t ms[] = {1, 17, 32}, ns[] = {1, 31, 32}, ks[] = {1, 32, 33, 70};
    for (size_t mi = 0; mi < 3; ++mi)
        for (size_t ni = 0; ni < 3; ++ni)
            for (size_t ki = 0; ki < 4; ++ki) {
                const size_t m = ms[mi], n = ns[ni], k = ks[ki], ldc = n + 2;
                const int accumulate = (int)((m + n + k) % 2);
                float *a = values(m * k, 11u + (unsigned)k), *b = values(k * n, 5u + (unsigned)n), *c = values(m * ldc, 3u);
                float *before = malloc(m * ldc * sizeof *before);
                memcpy(before, c, m * ldc * sizeof *c);
                const size_t packed = rn_amx_packed_elements(k);
                rn_amx_bf16 *pa = malloc(packed * sizeof *pa), *pb = malloc(packed * sizeof *pb);
                rn_amx_pack_a_bf16(m, k, a, k, 1, pa);
                rn_amx_pack_b_bf16(k, n, b, n, 1, pb);
                set->begin();
                set->gemm(m, n, (k + RN_AMX_KB - 1) / RN_AMX_KB, pa, pb, c, ldc, accumulate);
                set->end();
                for (size_t i = 0; i < m; ++i) {
                    for (size_t j = 0; j < ldc; ++j) {
                        if (j >= n) {
                            if (c[i * ldc + j] != before[i * ldc + j]) {
                                fprintf(stderr, "FAIL %s gemm m %zu n %zu k %zu: column %zu past n was written\n", set->name, m, n, k, j);
                                exit(1);
                            }
                            continue;
                        }
                        double want = accumulate ? before[i * ldc + j] : 0;
                        for (size_t p = 0; p < k; ++p) want += (double)from_bf16(to_bf16(a[i * k + p])) * from_bf16(to_bf16(b[p * n + j]));
                        expect_near(set->name, "gemm", i * ldc + j, c[i * ldc + j], want, 1e-5 * (double)(k > 1 ? k : 1));
                    }
                }
                ++cases;
                free(a); free(b); free(c); free(before); free(pa); free(pb);
            }
}

int main(void) {
    const rn_kernels *ref = rn_kernels_for("portable");
    const rn_training_kernels *training_ref = rn_training_kernels_for("portable");
    const char *names[] = {"neon", "avx512", "avx2"};
    int sets = 0;
    for (size_t i = 0; i < sizeof names / sizeof *names; ++i) {
        const rn_kernels *set = rn_kernels_for(names[i]);
        if (!set) continue;
        const int before = cases;
        check_gemm(set, ref);
        check_conv(set, ref);
        check_pack(set, ref);
        check_training(rn_training_kernels_for(names[i]), training_ref);
        printf("%s: every kernel of the inference and training tables agrees with the portable set (%d cases; tiles:", set->name,
               cases - before);
        for (int t = 0; t < set->tile_count; ++t) printf(" %s", set->tiles[t].name);
        printf(")\n");
        ++sets;
    }
    // The bf16 and int8 sets this CPU runs (run-time detection picks them), or a line saying there are none.
    const rn_bf16_kernels *bf16 = rn_bf16_kernels_for();
    const rn_int8_kernels *int8 = rn_int8_kernels_for();
    int before = cases;
    if (bf16) check_bf16(bf16);
    printf("bf16: %s (%d cases)\n", bf16 ? bf16->name : "none on this CPU", cases - before);
    before = cases;
    if (int8) check_int8(int8);
    printf("int8: %s (%d cases)\n", int8 ? int8->name : "none on this CPU", cases - before);
    // AMX bf16: the reference everywhere, the instructions where this CPU and OS allow them.
    before = cases;
    check_amx(rn_amx_bf16_kernels_for("amxbf16ref"));
    const rn_amx_bf16_kernels *amx = rn_amx_bf16_kernels_for("amxbf16");
    if (amx) check_amx(amx);
    printf("amx: amxbf16ref%s (%d cases)\n", amx ? ", amxbf16" : " (no AMX tiles on this CPU)", cases - before);
    if (sets == 0) {
        fprintf(stderr, "FAIL: this CPU runs none of the kernel sets checked here (neon, avx512, avx2)\n");
        return 1;
    }
    return 0;
}
