// What the AVX2 kernel files share (dot_avx2.c: the decode row kernels; prompt_avx2.c: the
// prefill tile and interleaved kernels): the target attributes, the horizontal sum, the
// half -> float table and the block helpers both sides build on. Private to the C target (not
// under include/).
#ifndef STRATA_AVX2_H
#define STRATA_AVX2_H
#include "CKernels.h"

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#include <string.h>

#define AVX2 __attribute__((target("avx2,fma,f16c")))
#define AVX512 __attribute__((target("avx2,fma,f16c,avx512f,avx512bw")))

AVX2 static inline float hsum(__m256 v) {
    __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
    s = _mm_add_ps(s, _mm_movehl_ps(s, s));
    s = _mm_add_ss(s, _mm_movehdup_ps(s));
    return _mm_cvtss_f32(s);
}

// Half → float through a table, as ggml does on x86: measured here, a per-block
// `vcvtph2ps` (F16C) made the Q4_1 kernel 2.5x slower (7.4 vs 2.9 ns per block, one
// accumulator) — the conversion sits between the block's integer work and its FMA. The
// table (256 KB) is filled once at load; the scales of real weights touch few of its lines.
__attribute__((visibility("hidden"))) extern float strata_half_table[65536];

static inline float h2f(const uint8_t *p) { uint16_t h; memcpy(&h, p, 2); return strata_half_table[h]; }

/// 16 bytes of nibbles → 32 bytes: low nibbles (elements 0..15) then high nibbles (16..31).
AVX2 static inline __m256i unpack_nibbles(const uint8_t *p) {
    const __m128i m4 = _mm_set1_epi8(0x0F);
    __m128i q = _mm_loadu_si128((const __m128i *)p);
    return _mm256_set_m128i(_mm_and_si128(_mm_srli_epi16(q, 4), m4), _mm_and_si128(q, m4));
}

/// Σ u8[i]·s8[i] over 32 bytes as 8 int32 lanes (no saturation for u8 ≤ 63 and |s8| ≤ 127).
AVX2 static inline __m256i dot_u8s8(__m256i u, __m256i s) {
    return _mm256_madd_epi16(_mm256_maddubs_epi16(u, s), _mm256_set1_epi16(1));
}

/// The 8 six-bit scales (bytes 0-7) and mins (bytes 8-15) of a Q4_K/Q5_K block, unpacked
/// with ggml's word masks instead of eight calls of get_scale_min_k4.
static inline void scales_mins_k4(const uint8_t *q, uint32_t out[4]) {
    const uint32_t kmask1 = 0x3f3f3f3f, kmask2 = 0x0f0f0f0f, kmask3 = 0x03030303;
    uint32_t u[3];
    memcpy(u, q, 12);
    out[3] = ((u[2] >> 4) & kmask2) | (((u[1] >> 6) & kmask3) << 4);
    out[2] = u[1] & kmask1;
    out[1] = (u[2] & kmask2) | (((u[0] >> 6) & kmask3) << 4);
    out[0] = u[0] & kmask1;
}

#endif
#endif
