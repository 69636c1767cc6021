// VNNI prompt kernels: `vpdpbusd` multiplies four u8·s8 byte pairs and adds them to an int32
// lane in one instruction, where the AVX2/AVX-512 kernels take maddubs (u8·s8 pairs summed to
// int16, *saturating*), int16 adds and a madd. The two give the same integers exactly when
// nothing saturates or overflows in 16 bits on the maddubs side, which holds for every operand
// these kernels can get — activations are in [-127, 127] (ActivationQuant clamps them there;
// the bounds below hold for -128 too):
//   Q4_K / Q4_1: weights 0..15, eight maddubs summed in int16: |Σ| ≤ 8·2·15·128 = 30720 < 2¹⁵;
//   Q6_K: weights 0..63, two maddubs summed: |Σ| ≤ 2·2·63·128 = 32256 < 2¹⁵.
// So no maddubs saturates (one pair is at most 2·63·128 = 16128) and no int16 add wraps; then
// every int32 sum below is the same integer in a different association (a row's 32-product sum
// itself can exceed 16 bits — up to 61440 — so it is multiplied by the scale in 32 bits; the
// first version used a 16-bit madd there and the extreme-operand test caught it), and the float steps are
// copied from the maddubs kernels in order, so results are theirs bit for bit
// (KernelTests.testVNNIKernelsEqualAVX2BitForBit, at the operands' extremes too). On a CPU
// without VNNI the instantiation with an exact AVX2 emulation of vpdpbusd runs the same code.
//
// Compiled with per-function target attributes and called only when cpuid reports the
// instructions (CPUFeatures.kernelPath), so the binary still runs on AVX2-only CPUs.
#include "CKernels.h"

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#include <string.h>
#include "interleave.h"

#define AVX2 __attribute__((target("avx2,fma,f16c")))

/// vpdpbusd done exactly with AVX2: bytes split into even and odd int16 lanes (u8 zero-extended,
/// s8 sign-extended), two madds (each product fits in 32 bits) and adds.
AVX2 static inline __m256i dpbusd_emulated(__m256i acc, __m256i u, __m256i s) {
    __m256i ue = _mm256_and_si256(u, _mm256_set1_epi16(0xFF)), uo = _mm256_srli_epi16(u, 8);
    __m256i se = _mm256_srai_epi16(_mm256_slli_epi16(s, 8), 8), so = _mm256_srai_epi16(s, 8);
    return _mm256_add_epi32(acc, _mm256_add_epi32(_mm256_madd_epi16(ue, se), _mm256_madd_epi16(uo, so)));
}

#define GEMM8_NAME(T) strata_gemm8_##T##_avxvnni
#define GEMM8_TARGET __attribute__((target("avx2,fma,f16c,avxvnni")))
#define DPBUSD(acc, u, s) _mm256_dpbusd_avx_epi32(acc, u, s)
#include "gemm8_vnni_body.h"
#undef GEMM8_NAME
#undef GEMM8_TARGET
#undef DPBUSD

#define GEMM8_NAME(T) strata_gemm8_##T##_vnni_emulated
#define GEMM8_TARGET AVX2
#define DPBUSD(acc, u, s) dpbusd_emulated(acc, u, s)
#include "gemm8_vnni_body.h"
#undef GEMM8_NAME
#undef GEMM8_TARGET
#undef DPBUSD

// Sixteen rows on AVX-512 VNNI: the eight-row VNNI kernels on 512-bit vectors, scratch laid out
// as for the AVX-512BW kernels (two groups of eight rows side by side). Rows below a multiple of
// 16 go to the AVX2 eight-row kernels, which are these bit for bit.
#define AVX512VNNI __attribute__((target("avx2,fma,f16c,avx512f,avx512bw,avx512vnni")))

AVX512VNNI void strata_gemm16_q4_K_avx512vnni(int n, const void *w, size_t row_bytes, int rows, int tokens, const strata_q8_act *a,
                                              float *y, size_t ldy, void *scratch) {
    const int nb = n / 256;
    const __m512i low16 = _mm512_set1_epi32(0xFFFF);
    __m512i *w16 = (__m512i *)scratch, *scv = w16 + nb * 64, *mnv = scv + nb * 8;
    __m512 *dv = (__m512 *)(mnv + nb * 4);
    int r0 = 0;
    for (; r0 + 16 <= rows; r0 += 16) {
        for (int half = 0; half < 2; half++)
            strata_unpack8_q4_K((const uint8_t *)w + (size_t)(r0 + 8 * half) * row_bytes, row_bytes, nb,
                                (q4K_unpacked){ (__m256i *)w16 + half, (__m256i *)scv + half, (__m256i *)mnv + half, (__m256 *)dv + half }, 2);
        for (int t = 0; t < tokens; t++) {
            const strata_q8_act *at = a + t;
            __m512 acc = _mm512_setzero_ps(), accm = _mm512_setzero_ps();
            for (int b = 0; b < nb; b++) {
                const int32_t *q4 = (const int32_t *)(at->q + 256 * b);
                const __m512i *wb = w16 + b * 64;
                __m512i sumi = _mm512_setzero_si512();
                for (int j = 0; j < 8; j++, wb += 8, q4 += 8) {
                    __m512i s0 = _mm512_setzero_si512(), s1 = _mm512_setzero_si512();
                    for (int c = 0; c < 8; c += 2) {
                        s0 = _mm512_dpbusd_epi32(s0, _mm512_loadu_si512(wb + c), _mm512_set1_epi32(q4[c]));
                        s1 = _mm512_dpbusd_epi32(s1, _mm512_loadu_si512(wb + c + 1), _mm512_set1_epi32(q4[c + 1]));
                    }
                    __m512i s = _mm512_add_epi32(s0, s1);  // up to 2·30720: s·scale by a 32-bit multiply, as in the 8-row kernel
                    sumi = _mm512_add_epi32(sumi, _mm512_mullo_epi32(s, _mm512_and_si512(_mm512_loadu_si512(scv + b * 8 + j), low16)));
                }
                const int16_t *bs = at->bsums + 16 * b;
                __m512i mi = _mm512_setzero_si512();
                for (int p = 0; p < 4; p++)
                    mi = _mm512_add_epi32(mi, _mm512_madd_epi16(_mm512_loadu_si512(mnv + b * 4 + p), _mm512_set1_epi32(q4K_bsum_pair(bs, p))));
                __m512 da = _mm512_set1_ps(at->d[b]);
                acc = _mm512_fmadd_ps(_mm512_mul_ps(_mm512_loadu_ps(dv + 2 * b), da), _mm512_cvtepi32_ps(sumi), acc);
                accm = _mm512_fmadd_ps(_mm512_mul_ps(_mm512_loadu_ps(dv + 2 * b + 1), da), _mm512_cvtepi32_ps(mi), accm);
            }
            _mm512_storeu_ps(y + (size_t)t * ldy + r0, _mm512_sub_ps(acc, accm));
        }
    }
    if (r0 < rows)
        strata_gemm8_q4_K_avx2(n, (const uint8_t *)w + (size_t)r0 * row_bytes, row_bytes, rows - r0, tokens, a, y + r0, ldy, scratch);
}

AVX512VNNI void strata_gemm16_q6_K_avx512vnni(int n, const void *w, size_t row_bytes, int rows, int tokens, const strata_q8_act *a,
                                              float *y, size_t ldy, void *scratch) {
    const int nb = n / 256;
    __m512i *w16 = (__m512i *)scratch, *scv = w16 + nb * 64, *csv = scv + nb * 16;
    __m512 *dv = (__m512 *)(csv + nb * 8);
    int r0 = 0;
    for (; r0 + 16 <= rows; r0 += 16) {
        for (int half = 0; half < 2; half++)
            strata_unpack8_q6_K((const uint8_t *)w + (size_t)(r0 + 8 * half) * row_bytes, row_bytes, nb,
                                (q6K_unpacked){ (__m256i *)w16 + half, (__m256i *)scv + half, (__m256i *)csv + half, (__m256 *)dv + half }, 2);
        for (int t = 0; t < tokens; t++) {
            const strata_q8_act *at = a + t;
            __m512 acc = _mm512_setzero_ps();
            for (int b = 0; b < nb; b++) {
                const int32_t *q4 = (const int32_t *)(at->q + 256 * b);
                const __m512i *wb = w16 + b * 64;
                const int16_t *bs = at->bsums + 16 * b;
                __m512i corr = _mm512_setzero_si512();
                for (int p = 0; p < 8; p++)
                    corr = _mm512_add_epi32(corr, _mm512_madd_epi16(_mm512_loadu_si512(csv + b * 8 + p), _mm512_set1_epi32(bsum_pair(bs, p))));
                __m512i sumi = _mm512_sub_epi32(_mm512_setzero_si512(), _mm512_slli_epi32(corr, 5));
                for (int s16 = 0; s16 < 16; s16++, wb += 4, q4 += 4) {
                    __m512i s0 = _mm512_dpbusd_epi32(_mm512_setzero_si512(), _mm512_loadu_si512(wb + 0), _mm512_set1_epi32(q4[0]));
                    __m512i s1 = _mm512_dpbusd_epi32(_mm512_setzero_si512(), _mm512_loadu_si512(wb + 1), _mm512_set1_epi32(q4[1]));
                    s0 = _mm512_dpbusd_epi32(s0, _mm512_loadu_si512(wb + 2), _mm512_set1_epi32(q4[2]));
                    s1 = _mm512_dpbusd_epi32(s1, _mm512_loadu_si512(wb + 3), _mm512_set1_epi32(q4[3]));
                    __m512i sc = _mm512_srai_epi32(_mm512_loadu_si512(scv + b * 16 + s16), 16);  // > 16 bits: mullo
                    sumi = _mm512_add_epi32(sumi, _mm512_mullo_epi32(_mm512_add_epi32(s0, s1), sc));
                }
                acc = _mm512_fmadd_ps(_mm512_mul_ps(_mm512_loadu_ps(dv + b), _mm512_set1_ps(at->d[b])), _mm512_cvtepi32_ps(sumi), acc);
            }
            _mm512_storeu_ps(y + (size_t)t * ldy + r0, acc);
        }
    }
    if (r0 < rows)
        strata_gemm8_q6_K_avx2(n, (const uint8_t *)w + (size_t)r0 * row_bytes, row_bytes, rows - r0, tokens, a, y + r0, ldy, scratch);
}

AVX512VNNI void strata_gemm16_q4_1_avx512vnni(int n, const void *w, size_t row_bytes, int rows, int tokens, const strata_q8_act *a,
                                              float *y, size_t ldy, void *scratch) {
    const int nb = n / 32;
    __m512i *w16 = (__m512i *)scratch;
    __m512 *dv = (__m512 *)(w16 + nb * 8), *mv = dv + nb;
    int r0 = 0;
    for (; r0 + 16 <= rows; r0 += 16) {
        for (int half = 0; half < 2; half++)
            strata_unpack8_q4_1((const uint8_t *)w + (size_t)(r0 + 8 * half) * row_bytes, row_bytes, nb,
                                (__m256i *)w16 + half, (__m256 *)dv + half, (__m256 *)mv + half, 2);
        for (int t = 0; t < tokens; t++) {
            const strata_q8_act *at = a + t;
            const int32_t *q4 = (const int32_t *)at->q;
            const __m512i *wb = w16;
            __m512 acc = _mm512_setzero_ps(), accm = _mm512_setzero_ps();
            for (int b = 0; b < nb; b++, wb += 8, q4 += 8) {
                __m512i s0 = _mm512_setzero_si512(), s1 = _mm512_setzero_si512();
                for (int c = 0; c < 8; c += 2) {
                    s0 = _mm512_dpbusd_epi32(s0, _mm512_loadu_si512(wb + c), _mm512_set1_epi32(q4[c]));
                    s1 = _mm512_dpbusd_epi32(s1, _mm512_loadu_si512(wb + c + 1), _mm512_set1_epi32(q4[c + 1]));
                }
                __m512i sum = _mm512_add_epi32(s0, s1);
                acc = _mm512_fmadd_ps(_mm512_mul_ps(_mm512_loadu_ps(dv + b), _mm512_set1_ps(at->d[b])), _mm512_cvtepi32_ps(sum), acc);
                accm = _mm512_fmadd_ps(_mm512_loadu_ps(mv + b), _mm512_set1_ps(at->s[b]), accm);
            }
            _mm512_storeu_ps(y + (size_t)t * ldy + r0, _mm512_add_ps(acc, accm));
        }
    }
    if (r0 < rows)
        strata_gemm8_q4_1_avx2(n, (const uint8_t *)w + (size_t)r0 * row_bytes, row_bytes, rows - r0, tokens, a, y + r0, ldy, scratch);
}

#else
// Non-x86 builds never call these; keep the symbols so the header stays one list.
#define STRATA_NO_VNNI(NAME, T) \
    void NAME(int n, const void *w, size_t row_bytes, int rows, int tokens, const strata_q8_act *a, \
              float *y, size_t ldy, void *scratch) { \
        strata_tile_##T##_generic(n, w, row_bytes, rows, tokens, a, y, ldy, scratch); \
    }
STRATA_NO_VNNI(strata_gemm8_q4_K_avxvnni, q4_K) STRATA_NO_VNNI(strata_gemm8_q4_K_vnni_emulated, q4_K) STRATA_NO_VNNI(strata_gemm16_q4_K_avx512vnni, q4_K)
STRATA_NO_VNNI(strata_gemm8_q6_K_avxvnni, q6_K) STRATA_NO_VNNI(strata_gemm8_q6_K_vnni_emulated, q6_K) STRATA_NO_VNNI(strata_gemm16_q6_K_avx512vnni, q6_K)
STRATA_NO_VNNI(strata_gemm8_q4_1_avxvnni, q4_1) STRATA_NO_VNNI(strata_gemm8_q4_1_vnni_emulated, q4_1) STRATA_NO_VNNI(strata_gemm16_q4_1_avx512vnni, q4_1)
#endif
