// The int8 compute ceiling the prompt kernels are measured against (bench-llm prints pp as a
// share of it): u8·s8 multiply-adds per second with the instruction each kernel path uses, on
// operands in registers, eight independent accumulators so neither latency nor memory limits it.
#include "CKernels.h"

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>

// The maddubs kernels' inner step: maddubs (32 u8·s8 products into 16 int16) added in int16,
// as the interleaved kernels sum a block before their one madd.
// Eight different operand pairs: with one pair (the first version) the compiler computed the
// product once and added it eight times, so the "ceiling" was vpaddw's rate, about twice what
// maddubs can do (Zen 3: 319 G/s counted against ~165 G/s of real products on one core).
__attribute__((target("avx2,fma,f16c"))) static long long peak_avx2(long long iterations) {
    __m256i a0 = _mm256_set1_epi8(3), a1 = _mm256_set1_epi8(4), a2 = _mm256_set1_epi8(5), a3 = _mm256_set1_epi8(6);
    __m256i b0 = _mm256_set1_epi8(-2), b1 = _mm256_set1_epi8(1);
    __m256i s0 = _mm256_setzero_si256(), s1 = s0, s2 = s0, s3 = s0, s4 = s0, s5 = s0, s6 = s0, s7 = s0;
    for (long long i = 0; i < iterations; i++) {
        __asm__ volatile("" : "+x"(a0), "+x"(a1), "+x"(a2), "+x"(a3), "+x"(b0), "+x"(b1));   // keep the products inside the loop
        s0 = _mm256_add_epi16(s0, _mm256_maddubs_epi16(a0, b0)); s1 = _mm256_add_epi16(s1, _mm256_maddubs_epi16(a1, b0));
        s2 = _mm256_add_epi16(s2, _mm256_maddubs_epi16(a2, b0)); s3 = _mm256_add_epi16(s3, _mm256_maddubs_epi16(a3, b0));
        s4 = _mm256_add_epi16(s4, _mm256_maddubs_epi16(a0, b1)); s5 = _mm256_add_epi16(s5, _mm256_maddubs_epi16(a1, b1));
        s6 = _mm256_add_epi16(s6, _mm256_maddubs_epi16(a2, b1)); s7 = _mm256_add_epi16(s7, _mm256_maddubs_epi16(a3, b1));
    }
    __m256i s = _mm256_add_epi16(_mm256_add_epi16(_mm256_add_epi16(s0, s1), _mm256_add_epi16(s2, s3)),
                                 _mm256_add_epi16(_mm256_add_epi16(s4, s5), _mm256_add_epi16(s6, s7)));
    __asm__ volatile("" :: "x"(s));
    return iterations * 8 * 32;
}

__attribute__((target("avx2,fma,f16c,avx512f,avx512bw"))) static long long peak_avx512(long long iterations) {
    __m512i a0 = _mm512_set1_epi8(3), a1 = _mm512_set1_epi8(4), a2 = _mm512_set1_epi8(5), a3 = _mm512_set1_epi8(6);
    __m512i b0 = _mm512_set1_epi8(-2), b1 = _mm512_set1_epi8(1);   // eight pairs, as peak_avx2
    __m512i s0 = _mm512_setzero_si512(), s1 = s0, s2 = s0, s3 = s0, s4 = s0, s5 = s0, s6 = s0, s7 = s0;
    for (long long i = 0; i < iterations; i++) {
        __asm__ volatile("" : "+v"(a0), "+v"(a1), "+v"(a2), "+v"(a3), "+v"(b0), "+v"(b1));
        s0 = _mm512_add_epi16(s0, _mm512_maddubs_epi16(a0, b0)); s1 = _mm512_add_epi16(s1, _mm512_maddubs_epi16(a1, b0));
        s2 = _mm512_add_epi16(s2, _mm512_maddubs_epi16(a2, b0)); s3 = _mm512_add_epi16(s3, _mm512_maddubs_epi16(a3, b0));
        s4 = _mm512_add_epi16(s4, _mm512_maddubs_epi16(a0, b1)); s5 = _mm512_add_epi16(s5, _mm512_maddubs_epi16(a1, b1));
        s6 = _mm512_add_epi16(s6, _mm512_maddubs_epi16(a2, b1)); s7 = _mm512_add_epi16(s7, _mm512_maddubs_epi16(a3, b1));
    }
    __m512i s = _mm512_add_epi16(_mm512_add_epi16(_mm512_add_epi16(s0, s1), _mm512_add_epi16(s2, s3)),
                                 _mm512_add_epi16(_mm512_add_epi16(s4, s5), _mm512_add_epi16(s6, s7)));
    __asm__ volatile("" :: "v"(s));
    return iterations * 8 * 64;
}

__attribute__((target("avx2,fma,f16c,avx512f,avx512bw,avx512vnni"))) static long long peak_avx512vnni(long long iterations) {
    __m512i a = _mm512_set1_epi8(3), b = _mm512_set1_epi8(-2);
    __m512i s0 = _mm512_setzero_si512(), s1 = s0, s2 = s0, s3 = s0, s4 = s0, s5 = s0, s6 = s0, s7 = s0;
    for (long long i = 0; i < iterations; i++) {
        __asm__ volatile("" : "+v"(a), "+v"(b));
        s0 = _mm512_dpbusd_epi32(s0, a, b); s1 = _mm512_dpbusd_epi32(s1, a, b); s2 = _mm512_dpbusd_epi32(s2, a, b);
        s3 = _mm512_dpbusd_epi32(s3, a, b); s4 = _mm512_dpbusd_epi32(s4, a, b); s5 = _mm512_dpbusd_epi32(s5, a, b);
        s6 = _mm512_dpbusd_epi32(s6, a, b); s7 = _mm512_dpbusd_epi32(s7, a, b);
    }
    __m512i s = _mm512_add_epi32(_mm512_add_epi32(_mm512_add_epi32(s0, s1), _mm512_add_epi32(s2, s3)),
                                 _mm512_add_epi32(_mm512_add_epi32(s4, s5), _mm512_add_epi32(s6, s7)));
    __asm__ volatile("" :: "v"(s));
    return iterations * 8 * 64;
}

__attribute__((target("avx2,fma,f16c,avxvnni"))) static long long peak_avxvnni(long long iterations) {
    __m256i a = _mm256_set1_epi8(3), b = _mm256_set1_epi8(-2);
    __m256i s0 = _mm256_setzero_si256(), s1 = s0, s2 = s0, s3 = s0, s4 = s0, s5 = s0, s6 = s0, s7 = s0;
    for (long long i = 0; i < iterations; i++) {
        __asm__ volatile("" : "+x"(a), "+x"(b));
        s0 = _mm256_dpbusd_avx_epi32(s0, a, b); s1 = _mm256_dpbusd_avx_epi32(s1, a, b); s2 = _mm256_dpbusd_avx_epi32(s2, a, b);
        s3 = _mm256_dpbusd_avx_epi32(s3, a, b); s4 = _mm256_dpbusd_avx_epi32(s4, a, b); s5 = _mm256_dpbusd_avx_epi32(s5, a, b);
        s6 = _mm256_dpbusd_avx_epi32(s6, a, b); s7 = _mm256_dpbusd_avx_epi32(s7, a, b);
    }
    __m256i s = _mm256_add_epi32(_mm256_add_epi32(_mm256_add_epi32(s0, s1), _mm256_add_epi32(s2, s3)),
                                 _mm256_add_epi32(_mm256_add_epi32(s4, s5), _mm256_add_epi32(s6, s7)));
    __asm__ volatile("" :: "x"(s));
    return iterations * 8 * 32;
}

long long strata_int8_peak(int path, long long iterations) {
    switch (path) {
    case 1: return strata_cpu_supports_avx512bw() ? peak_avx512(iterations) : 0;
    case 2: return strata_cpu_supports_avx512vnni() ? peak_avx512vnni(iterations) : 0;
    case 3: return strata_cpu_supports_avxvnni() ? peak_avxvnni(iterations) : 0;
    default: return strata_cpu_supports_avx2_fma() ? peak_avx2(iterations) : 0;
    }
}
#else
long long strata_int8_peak(int path, long long iterations) { (void)path; (void)iterations; return 0; }
#endif
