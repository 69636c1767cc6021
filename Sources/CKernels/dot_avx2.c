// AVX2 integer dot-product kernels: the one thing Swift cannot express at speed is
// `_mm256_maddubs_epi16` (u8×s8 pairs summed to s16) and `_mm256_madd_epi16`, which let a
// 4-bit × 8-bit block product take a handful of instructions. Everything around them (row
// loops, threads, activation quantization) stays in Swift. Compiled with target attributes
// so the binary still runs, via the generic kernels, on a CPU without AVX2.
#include "CKernels.h"

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#include <string.h>

#define AVX2 __attribute__((target("avx2,fma,f16c")))

AVX2 static inline float hsum(__m256 v) {
    __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
    s = _mm_add_ps(s, _mm_movehl_ps(s, s));
    s = _mm_add_ss(s, _mm_movehdup_ps(s));
    return _mm_cvtss_f32(s);
}

AVX2 static inline float h2f(const uint8_t *p) { uint16_t h; memcpy(&h, p, 2); return _cvtsh_ss(h); }

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

/// The 5th bits of Q5_0: bit j of qh becomes 0x10 in byte j.
AVX2 static inline __m256i spread_bits(uint32_t qh) {
    const __m256i shuffle = _mm256_set_epi64x(0x0303030303030303, 0x0202020202020202,
                                              0x0101010101010101, 0x0000000000000000);
    __m256i bytes = _mm256_shuffle_epi8(_mm256_set1_epi32((int)qh), shuffle);
    const __m256i bit = _mm256_set1_epi64x((long long)0x7fbfdfeff7fbfdfe);
    bytes = _mm256_or_si256(bytes, bit);  // byte j keeps only bit (j%8) clear if set in qh
    return _mm256_and_si256(_mm256_cmpeq_epi8(bytes, _mm256_set1_epi64x(-1)), _mm256_set1_epi8(0x10));
}

AVX2 void strata_rows_q4_0_avx2(int n, const void *w, size_t row_bytes, int rows, const strata_q8_act *a, float *y) {
    const int nb = n / 32;
    for (int r = 0; r < rows; r++) {
        const uint8_t *x = (const uint8_t *)w + (size_t)r * row_bytes;
        __m256 acc = _mm256_setzero_ps();
        float corr = 0;
        for (int b = 0; b < nb; b++, x += 18) {
            __m256i p = dot_u8s8(unpack_nibbles(x + 2), _mm256_loadu_si256((const __m256i *)(a->q + 32 * b)));
            float dw = h2f(x);
            acc = _mm256_fmadd_ps(_mm256_set1_ps(dw * a->d[b]), _mm256_cvtepi32_ps(p), acc);
            corr += dw * a->s[b];
        }
        y[r] = hsum(acc) - 8.0f * corr;
    }
}

AVX2 void strata_rows_q4_1_avx2(int n, const void *w, size_t row_bytes, int rows, const strata_q8_act *a, float *y) {
    const int nb = n / 32;
    for (int r = 0; r < rows; r++) {
        const uint8_t *x = (const uint8_t *)w + (size_t)r * row_bytes;
        __m256 acc0 = _mm256_setzero_ps(), acc1 = _mm256_setzero_ps();
        float mins = 0;
        int b = 0;
        for (; b + 1 < nb; b += 2, x += 40) {  // two blocks per step: independent chains
            __m256i p0 = dot_u8s8(unpack_nibbles(x + 4), _mm256_loadu_si256((const __m256i *)(a->q + 32 * b)));
            __m256i p1 = dot_u8s8(unpack_nibbles(x + 24), _mm256_loadu_si256((const __m256i *)(a->q + 32 * b + 32)));
            acc0 = _mm256_fmadd_ps(_mm256_set1_ps(h2f(x) * a->d[b]), _mm256_cvtepi32_ps(p0), acc0);
            acc1 = _mm256_fmadd_ps(_mm256_set1_ps(h2f(x + 20) * a->d[b + 1]), _mm256_cvtepi32_ps(p1), acc1);
            mins += h2f(x + 2) * a->s[b] + h2f(x + 22) * a->s[b + 1];
        }
        for (; b < nb; b++, x += 20) {
            __m256i p = dot_u8s8(unpack_nibbles(x + 4), _mm256_loadu_si256((const __m256i *)(a->q + 32 * b)));
            acc0 = _mm256_fmadd_ps(_mm256_set1_ps(h2f(x) * a->d[b]), _mm256_cvtepi32_ps(p), acc0);
            mins += h2f(x + 2) * a->s[b];
        }
        y[r] = hsum(_mm256_add_ps(acc0, acc1)) + mins;
    }
}

AVX2 void strata_rows_q5_0_avx2(int n, const void *w, size_t row_bytes, int rows, const strata_q8_act *a, float *y) {
    const int nb = n / 32;
    for (int r = 0; r < rows; r++) {
        const uint8_t *x = (const uint8_t *)w + (size_t)r * row_bytes;
        __m256 acc = _mm256_setzero_ps();
        float corr = 0;
        for (int b = 0; b < nb; b++, x += 22) {
            uint32_t qh; memcpy(&qh, x + 2, 4);
            __m256i q = _mm256_or_si256(unpack_nibbles(x + 6), spread_bits(qh));
            __m256i p = dot_u8s8(q, _mm256_loadu_si256((const __m256i *)(a->q + 32 * b)));
            float dw = h2f(x);
            acc = _mm256_fmadd_ps(_mm256_set1_ps(dw * a->d[b]), _mm256_cvtepi32_ps(p), acc);
            corr += dw * a->s[b];
        }
        y[r] = hsum(acc) - 16.0f * corr;
    }
}

AVX2 void strata_rows_q8_0_avx2(int n, const void *w, size_t row_bytes, int rows, const strata_q8_act *a, float *y) {
    const int nb = n / 32;
    for (int r = 0; r < rows; r++) {
        const uint8_t *x = (const uint8_t *)w + (size_t)r * row_bytes;
        __m256 acc = _mm256_setzero_ps();
        for (int b = 0; b < nb; b++, x += 34) {
            __m256i qw = _mm256_loadu_si256((const __m256i *)(x + 2));
            __m256i qa = _mm256_loadu_si256((const __m256i *)(a->q + 32 * b));
            // s8×s8 via u8×s8: |w| times a with w's sign moved onto a.
            __m256i p = dot_u8s8(_mm256_sign_epi8(qw, qw), _mm256_sign_epi8(qa, qw));
            acc = _mm256_fmadd_ps(_mm256_set1_ps(h2f(x) * a->d[b]), _mm256_cvtepi32_ps(p), acc);
        }
        y[r] = hsum(acc);
    }
}

/// Unpacks the 8 six-bit scales and mins of a Q4_K/Q5_K block (ggml's get_scale_min_k4).
static inline void scales_mins_k4(const uint8_t *q, int16_t sc[8], int16_t m[8]) {
    for (int j = 0; j < 4; j++) { sc[j] = q[j] & 63; m[j] = q[j + 4] & 63; }
    for (int j = 4; j < 8; j++) {
        sc[j] = (q[j + 4] & 0xF) | ((q[j - 4] >> 6) << 4);
        m[j] = (q[j + 4] >> 4) | ((q[j] >> 6) << 4);
    }
}

AVX2 static inline void rows_q45_K(int n, const void *w, size_t row_bytes, int rows,
                                   const strata_q8_act *a, float *y, int five) {
    const int nb = n / 256;
    const __m256i m4 = _mm256_set1_epi8(0x0F), one = _mm256_set1_epi8(1);
    for (int r = 0; r < rows; r++) {
        const uint8_t *x = (const uint8_t *)w + (size_t)r * row_bytes;
        __m256 acc = _mm256_setzero_ps();
        float mins = 0;
        for (int b = 0; b < nb; b++, x += five ? 176 : 144) {
            int16_t sc[8], m[8];
            scales_mins_k4(x + 4, sc, m);
            const uint8_t *qs = x + (five ? 48 : 16);
            const int8_t *q8 = a->q + 256 * b;
            const int16_t *bs = a->bsums + 16 * b;
            __m256i hb = five ? _mm256_loadu_si256((const __m256i *)(x + 16)) : _mm256_setzero_si256();
            __m256i sumi = _mm256_setzero_si256();
            int msum = 0;
            for (int k = 0; k < 4; k++) {
                __m256i q = _mm256_loadu_si256((const __m256i *)(qs + 32 * k));
                __m256i lo = _mm256_and_si256(q, m4), hi = _mm256_and_si256(_mm256_srli_epi16(q, 4), m4);
                if (five) {
                    lo = _mm256_or_si256(lo, _mm256_slli_epi16(_mm256_and_si256(hb, one), 4));
                    hi = _mm256_or_si256(hi, _mm256_slli_epi16(_mm256_and_si256(_mm256_srli_epi16(hb, 1), one), 4));
                    hb = _mm256_srli_epi16(hb, 2);
                }
                __m256i p0 = _mm256_madd_epi16(_mm256_maddubs_epi16(lo, _mm256_loadu_si256((const __m256i *)(q8 + 64 * k))),
                                               _mm256_set1_epi16(sc[2 * k]));
                __m256i p1 = _mm256_madd_epi16(_mm256_maddubs_epi16(hi, _mm256_loadu_si256((const __m256i *)(q8 + 64 * k + 32))),
                                               _mm256_set1_epi16(sc[2 * k + 1]));
                sumi = _mm256_add_epi32(sumi, _mm256_add_epi32(p0, p1));
            }
            for (int j = 0; j < 8; j++) msum += m[j] * (bs[2 * j] + bs[2 * j + 1]);
            float da = a->d[b];
            acc = _mm256_fmadd_ps(_mm256_set1_ps(da * h2f(x)), _mm256_cvtepi32_ps(sumi), acc);
            mins += da * h2f(x + 2) * (float)msum;
        }
        y[r] = hsum(acc) - mins;
    }
}

AVX2 void strata_rows_q4_K_avx2(int n, const void *w, size_t row_bytes, int rows, const strata_q8_act *a, float *y) {
    rows_q45_K(n, w, row_bytes, rows, a, y, 0);
}

AVX2 void strata_rows_q5_K_avx2(int n, const void *w, size_t row_bytes, int rows, const strata_q8_act *a, float *y) {
    rows_q45_K(n, w, row_bytes, rows, a, y, 1);
}

AVX2 void strata_rows_q6_K_avx2(int n, const void *w, size_t row_bytes, int rows, const strata_q8_act *a, float *y) {
    const int nb = n / 256;
    const __m256i m4 = _mm256_set1_epi8(0x0F), m2 = _mm256_set1_epi8(3);
    for (int r = 0; r < rows; r++) {
        const uint8_t *x = (const uint8_t *)w + (size_t)r * row_bytes;
        __m256 acc = _mm256_setzero_ps();
        for (int b = 0; b < nb; b++, x += 210) {
            const int8_t *sc = (const int8_t *)(x + 192), *q8 = a->q + 256 * b;
            const int16_t *bs = a->bsums + 16 * b;
            __m256i sumi = _mm256_setzero_si256();
            for (int half = 0; half < 2; half++) {
                const uint8_t *ql = x + 64 * half, *qh = x + 128 + 32 * half;
                const int8_t *s = sc + 8 * half, *a8 = q8 + 128 * half;
                __m256i l0 = _mm256_loadu_si256((const __m256i *)ql);
                __m256i l1 = _mm256_loadu_si256((const __m256i *)(ql + 32));
                __m256i h = _mm256_loadu_si256((const __m256i *)qh);
                __m256i q[4];
                q[0] = _mm256_or_si256(_mm256_and_si256(l0, m4), _mm256_slli_epi16(_mm256_and_si256(h, m2), 4));
                q[1] = _mm256_or_si256(_mm256_and_si256(l1, m4), _mm256_slli_epi16(_mm256_and_si256(_mm256_srli_epi16(h, 2), m2), 4));
                q[2] = _mm256_or_si256(_mm256_and_si256(_mm256_srli_epi16(l0, 4), m4), _mm256_slli_epi16(_mm256_and_si256(_mm256_srli_epi16(h, 4), m2), 4));
                q[3] = _mm256_or_si256(_mm256_and_si256(_mm256_srli_epi16(l1, 4), m4), _mm256_slli_epi16(_mm256_and_si256(_mm256_srli_epi16(h, 6), m2), 4));
                for (int k = 0; k < 4; k++) {
                    // 16-bit lanes 0..7 are elements 0..15 (scale s[2k]), lanes 8..15 are 16..31.
                    __m256i scale = _mm256_set_m128i(_mm_set1_epi16(s[2 * k + 1]), _mm_set1_epi16(s[2 * k]));
                    __m256i p = _mm256_maddubs_epi16(q[k], _mm256_loadu_si256((const __m256i *)(a8 + 32 * k)));
                    sumi = _mm256_add_epi32(sumi, _mm256_madd_epi16(p, scale));
                }
            }
            int corr = 0;  // the -32 offset of every weight, through the group sums
            for (int g = 0; g < 16; g++) corr += sc[g] * bs[g];
            __m256 fi = _mm256_cvtepi32_ps(_mm256_sub_epi32(sumi, _mm256_setr_epi32(32 * corr, 0, 0, 0, 0, 0, 0, 0)));
            acc = _mm256_fmadd_ps(_mm256_set1_ps(h2f(x + 208) * a->d[b]), fi, acc);
        }
        y[r] = hsum(acc);
    }
}

#else
// Non-x86 builds never call these (the dispatcher uses the generic kernels); keep the
// symbols so the header stays one list.
#define STRATA_NO_AVX2(T) \
    void strata_rows_##T##_avx2(int n, const void *w, size_t row_bytes, int rows, const strata_q8_act *a, float *y) { \
        strata_rows_##T##_generic(n, w, row_bytes, rows, a, y); \
    }
STRATA_NO_AVX2(q4_0) STRATA_NO_AVX2(q4_1) STRATA_NO_AVX2(q5_0) STRATA_NO_AVX2(q8_0)
STRATA_NO_AVX2(q4_K) STRATA_NO_AVX2(q5_K) STRATA_NO_AVX2(q6_K)
#endif
