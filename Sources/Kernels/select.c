// Picks a kernel set once, from what the CPU reports at run time (no compiler flags needed).
#include <string.h>
#include "RegNetKernels.h"

extern const rn_kernels rn_portable_kernels;
#if defined(__x86_64__) || defined(_M_X64)
extern const rn_kernels rn_avx512_kernels;
extern const rn_kernels rn_avx2_kernels;
extern const rn_bf16_kernels rn_avx512bf16_kernels;
extern const rn_int8_kernels rn_avx512vnni_kernels;

static int cpu_has_avx512(void) {
    __builtin_cpu_init();
    return __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512vl") &&
           __builtin_cpu_supports("avx512bw") && __builtin_cpu_supports("avx512dq") && __builtin_cpu_supports("fma");
}
static int cpu_has_avx2(void) {
    __builtin_cpu_init();
    return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
}
#endif
#if defined(__aarch64__)
extern const rn_kernels rn_neon_kernels;
extern const rn_bf16_kernels rn_neonbf16_kernels;
extern const rn_int8_kernels rn_neoni8mm_kernels;
extern const rn_int8_kernels rn_neondotprod_kernels;

/// AArch64 features beyond NEON, as the system reports them (Linux: the auxiliary vector's hardware
/// capability bits; macOS: hw.optional.arm.FEAT_* sysctls).
enum { ARM_BF16 = 1, ARM_I8MM = 2, ARM_DOTPROD = 4 };
#if defined(__APPLE__)
#include <sys/sysctl.h>
static int arm_sysctl(const char *name) {
    int value = 0;
    size_t size = sizeof value;
    return sysctlbyname(name, &value, &size, NULL, 0) == 0 && value != 0;
}
static int arm_features(void) {
    return (arm_sysctl("hw.optional.arm.FEAT_BF16") ? ARM_BF16 : 0) | (arm_sysctl("hw.optional.arm.FEAT_I8MM") ? ARM_I8MM : 0) |
           (arm_sysctl("hw.optional.arm.FEAT_DotProd") ? ARM_DOTPROD : 0);
}
#elif defined(__linux__)
#include <sys/auxv.h>
static int arm_features(void) {
    // Bit numbers of the Linux arm64 ABI (asm/hwcap.h), spelled out for older headers.
    const unsigned long hwcap = getauxval(AT_HWCAP), hwcap2 = getauxval(AT_HWCAP2);
    return ((hwcap2 >> 14) & 1 ? ARM_BF16 : 0) | ((hwcap2 >> 13) & 1 ? ARM_I8MM : 0) | ((hwcap >> 20) & 1 ? ARM_DOTPROD : 0);
}
#else
static int arm_features(void) { return 0; }
#endif
#endif

const rn_kernels *rn_kernels_for(const char *isa) {
    const int any = isa == NULL || isa[0] == '\0';
#if defined(__x86_64__) || defined(_M_X64)
    if ((any || strcmp(isa, "avx512") == 0) && cpu_has_avx512()) return &rn_avx512_kernels;
    if (!any && strcmp(isa, "avx512") == 0) return NULL;
    if ((any || strcmp(isa, "avx2") == 0) && cpu_has_avx2()) return &rn_avx2_kernels;
    if (!any && strcmp(isa, "avx2") == 0) return NULL;
#endif
#if defined(__aarch64__)
    if (any || strcmp(isa, "neon") == 0) return &rn_neon_kernels;   // every AArch64 CPU has NEON
#endif
    if (any || strcmp(isa, "portable") == 0) return &rn_portable_kernels;
    return NULL;
}

const rn_bf16_kernels *rn_bf16_kernels_for(void) {
#if defined(__x86_64__) || defined(_M_X64)
    if (cpu_has_avx512() && __builtin_cpu_supports("avx512bf16")) return &rn_avx512bf16_kernels;
#endif
#if defined(__aarch64__)
    if (arm_features() & ARM_BF16) return &rn_neonbf16_kernels;
#endif
    return NULL;
}

const rn_int8_kernels *rn_int8_kernels_for(void) {
#if defined(__x86_64__) || defined(_M_X64)
    if (cpu_has_avx512() && __builtin_cpu_supports("avx512vnni")) return &rn_avx512vnni_kernels;
#endif
#if defined(__aarch64__)
    const int features = arm_features();
    if (features & ARM_I8MM) return &rn_neoni8mm_kernels;
    if (features & ARM_DOTPROD) return &rn_neondotprod_kernels;
#endif
    return NULL;
}
