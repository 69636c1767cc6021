// What the interleaved prompt kernels share between dot_avx2.c (maddubs) and dot_vnni.c
// (vpdpbusd): the unpacking of eight weight rows into 4-element × 8-row vectors, and the bsum
// pairs the scale corrections multiply. Private to the C target (not under include/).
#ifndef STRATA_INTERLEAVE_H
#define STRATA_INTERLEAVE_H
#include <immintrin.h>
#include <stdint.h>
#include <stddef.h>

/// Rows r0..r0+7 of every Q4_K block as 256-bit vectors `step` vectors apart (step 1 for the
/// eight-row kernels, 2 for the sixteen-row ones: rows 0-7 low half, 8-15 high half): weights
/// [nb][8 sub-blocks][8 chunks], scales [nb][8] as int16 pairs (sc·0x10001), mins [nb][4]
/// (sub-blocks 2p, 2p+1 as an int16 pair), d and dmin [nb][2].
typedef struct { __m256i *w, *sc, *mn; __m256 *d; } q4K_unpacked;
/// Q6_K likewise: weights (their 6-bit values 0..63), scales [nb][16] as int16 pairs
/// (sc·0x10001, sc signed), scale pairs [nb][8] for the bsums, d [nb].
typedef struct { __m256i *w, *sc, *cs; __m256 *d; } q6K_unpacked;

__attribute__((visibility("hidden"), target("avx2,fma,f16c")))
void strata_unpack8_q4_K(const void *w, size_t row_bytes, int nb, q4K_unpacked o, int step);
__attribute__((visibility("hidden"), target("avx2,fma,f16c")))
void strata_unpack8_q6_K(const void *w, size_t row_bytes, int nb, q6K_unpacked o, int step);
/// Q4_1: weights [nb][8 chunks], d [nb], m [nb].
__attribute__((visibility("hidden"), target("avx2,fma,f16c")))
void strata_unpack8_q4_1(const void *w, size_t row_bytes, int nb, __m256i *w8, __m256 *dv, __m256 *mv, int step);

/// The sub-blocks' mins against a token's bsums: lane pairs (min 2p, min 2p+1) × (Σ of the two
/// groups of 16 of sub-block 2p, of 2p+1), the same pair broadcast to every row.
static inline int32_t q4K_bsum_pair(const int16_t *bs, int p) {
    return (int32_t)((uint16_t)(bs[4 * p] + bs[4 * p + 1]) | ((uint32_t)(uint16_t)(bs[4 * p + 2] + bs[4 * p + 3]) << 16));
}

/// Q6_K's bsums of 16-groups 2p and 2p+1 as an int16 pair.
static inline int32_t bsum_pair(const int16_t *bs, int p) {
    return (int32_t)((uint32_t)(uint16_t)bs[2 * p] | ((uint32_t)(uint16_t)bs[2 * p + 1] << 16));
}

/// Q6_K's scale correction of one token and block against eight rows: -32 · Σ_s sc[s]·bsum[s],
/// the bsum pairs as broadcast loads (bsum_pair(bs, p) is int32 p of the bsums). One helper for
/// the maddubs and VNNI kernels alike: int32 sums wrap, so any order gives the same bits.
__attribute__((target("avx2"))) static inline __m256i q6K_offset(const __m256i *cs, const int16_t *bsums) {
    const int32_t *bp = (const int32_t *)bsums;
    __m256i c0 = _mm256_add_epi32(_mm256_madd_epi16(cs[0], _mm256_set1_epi32(bp[0])), _mm256_madd_epi16(cs[1], _mm256_set1_epi32(bp[1])));
    __m256i c1 = _mm256_add_epi32(_mm256_madd_epi16(cs[2], _mm256_set1_epi32(bp[2])), _mm256_madd_epi16(cs[3], _mm256_set1_epi32(bp[3])));
    __m256i c2 = _mm256_add_epi32(_mm256_madd_epi16(cs[4], _mm256_set1_epi32(bp[4])), _mm256_madd_epi16(cs[5], _mm256_set1_epi32(bp[5])));
    __m256i c3 = _mm256_add_epi32(_mm256_madd_epi16(cs[6], _mm256_set1_epi32(bp[6])), _mm256_madd_epi16(cs[7], _mm256_set1_epi32(bp[7])));
    return _mm256_sub_epi32(_mm256_setzero_si256(), _mm256_slli_epi32(_mm256_add_epi32(_mm256_add_epi32(c0, c1), _mm256_add_epi32(c2, c3)), 5));
}
#endif
