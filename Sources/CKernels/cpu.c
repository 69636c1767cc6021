#include "CKernels.h"

int strata_cpu_supports_avx2_fma(void) {
#if defined(__x86_64__) || defined(__i386__)
    __builtin_cpu_init();
    return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma") && __builtin_cpu_supports("f16c");
#else
    return 0;
#endif
}

int strata_cpu_supports_avx512bw(void) {
#if defined(__x86_64__) || defined(__i386__)
    // compiler-rt's model sets these only when XCR0 shows the OS saves the zmm state.
    return strata_cpu_supports_avx2_fma() && __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw");
#else
    return 0;
#endif
}

int strata_cpu_supports_avx512vnni(void) {
#if defined(__x86_64__) || defined(__i386__)
    return strata_cpu_supports_avx512bw() && __builtin_cpu_supports("avx512vnni");
#else
    return 0;
#endif
}

int strata_cpu_supports_avxvnni(void) {
#if defined(__x86_64__) || defined(__i386__)
    return strata_cpu_supports_avx2_fma() && __builtin_cpu_supports("avxvnni");
#else
    return 0;
#endif
}

// Decided once: the AVX2 kernels are compiled with target attributes, so the same binary
// runs (slower) on a CPU without them.
static int has_avx2(void) {
    static int cached = -1;
    if (cached < 0) cached = strata_cpu_supports_avx2_fma();
    return cached;
}

#if defined(__x86_64__) || defined(__i386__)
#define STRATA_DISPATCH(T) \
    void strata_rows_##T(int n, const void *w, size_t row_bytes, int rows, const strata_q8_act *a, float *y) { \
        if (has_avx2()) strata_rows_##T##_avx2(n, w, row_bytes, rows, a, y); \
        else strata_rows_##T##_generic(n, w, row_bytes, rows, a, y); \
    }
#else
#define STRATA_DISPATCH(T) \
    void strata_rows_##T(int n, const void *w, size_t row_bytes, int rows, const strata_q8_act *a, float *y) { \
        strata_rows_##T##_generic(n, w, row_bytes, rows, a, y); \
    }
#endif

STRATA_DISPATCH(q4_0)
STRATA_DISPATCH(q4_1)
STRATA_DISPATCH(q5_0)
STRATA_DISPATCH(q8_0)
STRATA_DISPATCH(q4_K)
STRATA_DISPATCH(q5_K)
STRATA_DISPATCH(q6_K)

#if defined(__x86_64__) || defined(__i386__)
#define STRATA_DISPATCH_TILE(T) \
    void strata_tile_##T(int n, const void *w, size_t row_bytes, int rows, int tokens, const strata_q8_act *a, \
                         float *y, size_t ldy, void *scratch) { \
        if (has_avx2()) strata_tile_##T##_avx2(n, w, row_bytes, rows, tokens, a, y, ldy, scratch); \
        else strata_tile_##T##_generic(n, w, row_bytes, rows, tokens, a, y, ldy, scratch); \
    }
#else
#define STRATA_DISPATCH_TILE(T) \
    void strata_tile_##T(int n, const void *w, size_t row_bytes, int rows, int tokens, const strata_q8_act *a, \
                         float *y, size_t ldy, void *scratch) { \
        strata_tile_##T##_generic(n, w, row_bytes, rows, tokens, a, y, ldy, scratch); \
    }
#endif

STRATA_DISPATCH_TILE(q4_1)
STRATA_DISPATCH_TILE(q4_K)
STRATA_DISPATCH_TILE(q6_K)

void strata_i8_dots(int d, const int8_t *x, int rows, const int8_t *q, int32_t *out) {
#if defined(__x86_64__) || defined(__i386__)
    if (has_avx2()) { strata_i8_dots_avx2(d, x, rows, q, out); return; }
#endif
    strata_i8_dots_generic(d, x, rows, q, out);
}
