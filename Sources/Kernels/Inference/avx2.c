// AVX2 + FMA inference kernels: the template with 8-float ymm vectors and lane masks; a 6x16 GEMM
// tile (12 accumulators) and a 6-pixel x 16-channel convolution tile.
#if defined(__x86_64__) || defined(_M_X64)
#include <immintrin.h>

#define IK_ATTR __attribute__((target("avx2,fma")))

/// The first n (capped at 8) lanes of a ymm vector, as a mask for maskload/maskstore.
IK_ATTR static inline __m256i avx2_first_lanes(size_t n) {
    const __m256i index = _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7);
    return _mm256_cmpgt_epi32(_mm256_set1_epi32((int)(n > 8 ? 8 : n)), index);
}

#define IK_ISA avx2
#define IK_VEC __m256
#define IK_VLEN 8
#define IK_MASK __m256i
#define IK_ZERO() _mm256_setzero_ps()
#define IK_LOAD(p) _mm256_loadu_ps(p)
#define IK_SET1(x) _mm256_set1_ps(x)
#define IK_FMA(a, b, c) _mm256_fmadd_ps(a, b, c)
#define IK_ADD(a, b) _mm256_add_ps(a, b)
#define IK_RELU(v) _mm256_max_ps(v, _mm256_setzero_ps())
#define IK_FIRST(n) avx2_first_lanes(n)
#define IK_MASKZ_LOAD(m, p) _mm256_maskload_ps(p, m)
#define IK_MASK_STORE(p, m, v) _mm256_maskstore_ps(p, m, v)
#define IK_MR 6
#define IK_GEMM gemm_6x16_avx2
#define IK_PANEL gemm_panel_6x16_avx2
#define IK_PACK pack_rows_avx2
#include "template.h"

IK_CONV_TILE(6)

static const rn_conv_tile tiles_avx2[] = {{"conv_6x16_avx2", 6, 16, 0, conv_6x16_avx2}};

const rn_kernels rn_avx2_kernels = {"avx2", IK_MR, IK_NR, 6, IK_GEMM, conv_6x16_avx2, IK_PACK, tiles_avx2, 1, NULL, NULL};
#endif
