// Checks every kernel variant of the kernel sets this CPU runs against the portable set, reading
// the sets' own tables (rn_kernels_for, rn_training_kernels_for), as the Swift kernel tests do.
// Built and run by scripts/check-arm64-kernels.sh for AArch64 under qemu-aarch64 (the NEON sets);
// it runs natively on x86-64 too (the AVX-512 and AVX2 sets), which checks the checker.
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
    if (sets == 0) {
        fprintf(stderr, "FAIL: this CPU runs none of the kernel sets checked here (neon, avx512, avx2)\n");
        return 1;
    }
    return 0;
}
