#ifndef STRATA_CKERNELS_H
#define STRATA_CKERNELS_H
#include <stdint.h>
#include <stddef.h>

/// 1 when this CPU has AVX2, FMA and F16C (what the release binary is compiled for).
int strata_cpu_supports_avx2_fma(void);

#endif
