// Packing for the AMX bf16 kernels: operands rounded to bf16 (nearest even, NaN kept quiet) into the
// blocks a tile loads, zero-padded past the operands' edges (a NaN or stale value past an edge times
// a zero would otherwise reach the sums). Plain C: correct everywhere; not yet tuned.
#include <string.h>
#include "RegNetAMXKernels.h"

static inline rn_amx_bf16 pack_round(float x) {
    unsigned int bits;
    memcpy(&bits, &x, sizeof bits);
    if ((bits & 0x7FFFFFFFu) > 0x7F800000u) return (rn_amx_bf16)((bits >> 16) | 0x40);
    return (rn_amx_bf16)((bits + 0x7FFFu + ((bits >> 16) & 1u)) >> 16);
}

size_t rn_amx_packed_elements(size_t k) { return (k + RN_AMX_KB - 1) / RN_AMX_KB * RN_AMX_KB * RN_AMX_MR; }

void rn_amx_pack_a_bf16(size_t m, size_t k, const float *a, size_t row_stride, size_t k_stride, rn_amx_bf16 *dst) {
    const size_t blocks = (k + RN_AMX_KB - 1) / RN_AMX_KB;
    for (size_t q = 0; q < blocks; ++q) {
        for (size_t i = 0; i < RN_AMX_MR; ++i) {
            rn_amx_bf16 *row = dst + (q * RN_AMX_MR + i) * RN_AMX_KB;
            for (size_t t = 0; t < RN_AMX_KB; ++t) {
                const size_t p = q * RN_AMX_KB + t;
                row[t] = i < m && p < k ? pack_round(a[i * row_stride + p * k_stride]) : 0;
            }
        }
    }
}

void rn_amx_pack_b_bf16(size_t k, size_t n, const float *b, size_t k_stride, size_t column_stride, rn_amx_bf16 *dst) {
    const size_t blocks = (k + RN_AMX_KB - 1) / RN_AMX_KB;
    for (size_t q = 0; q < blocks; ++q) {
        for (size_t r = 0; r < RN_AMX_KB / 2; ++r) {
            rn_amx_bf16 *row = dst + (q * RN_AMX_KB / 2 + r) * 2 * RN_AMX_NR;
            for (size_t j = 0; j < RN_AMX_NR; ++j) {
                for (size_t h = 0; h < 2; ++h) {
                    const size_t p = q * RN_AMX_KB + 2 * r + h;
                    row[2 * j + h] = j < n && p < k ? pack_round(b[p * k_stride + j * column_stride]) : 0;
                }
            }
        }
    }
}
