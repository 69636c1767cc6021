// Portable integer dot-product kernels. They follow exactly the operation order of the Swift
// reference twins (Sources/Tensor/Quant/ReferenceDot.swift) so tests can compare them bit for
// bit; float contraction is off for that reason. Block layouts: see ReferenceDequant.swift.
#include "CKernels.h"
#include <string.h>

#pragma clang fp contract(off)

static float half_to_float(uint16_t h) {
    uint32_t sign = (uint32_t)(h & 0x8000) << 16;
    uint32_t exp = (h >> 10) & 0x1F, man = h & 0x3FF, bits;
    if (exp == 0) {
        if (man == 0) bits = sign;
        else {  // subnormal half: renormalise
            int e = -1;
            do { man <<= 1; e++; } while (!(man & 0x400));
            bits = sign | ((uint32_t)(127 - 15 - e) << 23) | ((man & 0x3FF) << 13);
        }
    } else if (exp == 31) bits = sign | 0x7F800000 | (man << 13);
    else bits = sign | ((exp + 127 - 15) << 23) | (man << 13);
    float f;
    memcpy(&f, &bits, 4);
    return f;
}

static inline float load_half(const uint8_t *p) { uint16_t h; memcpy(&h, p, 2); return half_to_float(h); }

static void scale_min_k4(int j, const uint8_t *q, int *d, int *m) {
    if (j < 4) { *d = q[j] & 63; *m = q[j + 4] & 63; }
    else { *d = (q[j + 4] & 0xF) | ((q[j - 4] >> 6) << 4); *m = (q[j + 4] >> 4) | ((q[j] >> 6) << 4); }
}

static float dot_q4_0(int n, const uint8_t *w, const strata_q8_act *a) {
    float sumf = 0;
    for (int b = 0; b < n / 32; b++, w += 18) {
        const int8_t *q8 = a->q + 32 * b;
        int isum = 0;
        for (int j = 0; j < 16; j++) isum += (w[2 + j] & 0xF) * q8[j] + (w[2 + j] >> 4) * q8[j + 16];
        sumf += load_half(w) * (a->d[b] * (float)isum - 8.0f * a->s[b]);
    }
    return sumf;
}

static float dot_q4_1(int n, const uint8_t *w, const strata_q8_act *a) {
    float sumf = 0;
    for (int b = 0; b < n / 32; b++, w += 20) {
        const int8_t *q8 = a->q + 32 * b;
        int isum = 0;
        for (int j = 0; j < 16; j++) isum += (w[4 + j] & 0xF) * q8[j] + (w[4 + j] >> 4) * q8[j + 16];
        sumf += load_half(w) * a->d[b] * (float)isum + load_half(w + 2) * a->s[b];
    }
    return sumf;
}

static float dot_q5_0(int n, const uint8_t *w, const strata_q8_act *a) {
    float sumf = 0;
    for (int b = 0; b < n / 32; b++, w += 22) {
        const int8_t *q8 = a->q + 32 * b;
        uint32_t qh; memcpy(&qh, w + 2, 4);
        int isum = 0;
        for (int j = 0; j < 16; j++) {
            int lo = (w[6 + j] & 0xF) | (((qh >> j) << 4) & 0x10);
            int hi = (w[6 + j] >> 4) | ((qh >> (j + 12)) & 0x10);
            isum += lo * q8[j] + hi * q8[j + 16];
        }
        sumf += load_half(w) * (a->d[b] * (float)isum - 16.0f * a->s[b]);
    }
    return sumf;
}

static float dot_q8_0(int n, const uint8_t *w, const strata_q8_act *a) {
    float sumf = 0;
    for (int b = 0; b < n / 32; b++, w += 34) {
        const int8_t *q8 = a->q + 32 * b, *qw = (const int8_t *)(w + 2);
        int isum = 0;
        for (int j = 0; j < 32; j++) isum += qw[j] * q8[j];
        sumf += load_half(w) * a->d[b] * (float)isum;
    }
    return sumf;
}

// Q4_K and Q5_K share everything but the 5th bit.
static float dot_q45_K(int n, const uint8_t *w, const strata_q8_act *a, int five) {
    const size_t bytes = five ? 176 : 144;
    float sumf = 0;
    for (int b = 0; b < n / 256; b++, w += bytes) {
        const uint8_t *scales = w + 4, *qh = w + 16, *qs = w + (five ? 48 : 16);
        const int8_t *q8 = a->q + 256 * b;
        const int16_t *bs = a->bsums + 16 * b;
        int isum = 0, msum = 0;
        for (int j = 0; j < 8; j++) {
            int sc, m;
            scale_min_k4(j, scales, &sc, &m);
            const uint8_t *q = qs + 32 * (j / 2);
            int shift = (j & 1) * 4, s = 0;
            for (int l = 0; l < 32; l++) {
                int v = (q[l] >> shift) & 0xF;
                if (five) v |= ((qh[l] >> j) & 1) << 4;
                s += v * q8[32 * j + l];
            }
            isum += sc * s;
            msum += m * (bs[2 * j] + bs[2 * j + 1]);
        }
        float da = a->d[b];
        sumf += da * load_half(w) * (float)isum - da * load_half(w + 2) * (float)msum;
    }
    return sumf;
}

static float dot_q6_K(int n, const uint8_t *w, const strata_q8_act *a) {
    float sumf = 0;
    for (int b = 0; b < n / 256; b++, w += 210) {
        const uint8_t *ql = w, *qh = w + 128;
        const int8_t *sc = (const int8_t *)(w + 192), *q8 = a->q + 256 * b;
        const int16_t *bs = a->bsums + 16 * b;
        int isum = 0;
        for (int g = 0; g < 16; g++) {  // group g = elements 16g..16g+15, scale sc[g]
            int s = 0;
            for (int i = 0; i < 16; i++) {
                int e = 16 * g + i, half = e / 128, r = e % 128, k = r / 32, l = r % 32;
                const uint8_t *L = ql + 64 * half, *H = qh + 32 * half;
                int low = (k & 1) ? L[l + 32] : L[l];
                low = (k & 2) ? (low >> 4) : (low & 0xF);
                int v = low | (((H[l] >> (2 * k)) & 3) << 4);
                s += v * q8[e];
            }
            isum += sc[g] * (s - 32 * bs[g]);
        }
        sumf += load_half(w + 208) * a->d[b] * (float)isum;
    }
    return sumf;
}

static float dot_q4_K(int n, const uint8_t *w, const strata_q8_act *a) { return dot_q45_K(n, w, a, 0); }
static float dot_q5_K(int n, const uint8_t *w, const strata_q8_act *a) { return dot_q45_K(n, w, a, 1); }

#define STRATA_GENERIC_ROWS(T) \
    void strata_rows_##T##_generic(int n, const void *w, size_t row_bytes, int rows, const strata_q8_act *a, float *y) { \
        for (int r = 0; r < rows; r++) y[r] = dot_##T(n, (const uint8_t *)w + (size_t)r * row_bytes, a); \
    }

STRATA_GENERIC_ROWS(q4_0)
STRATA_GENERIC_ROWS(q4_1)
STRATA_GENERIC_ROWS(q5_0)
STRATA_GENERIC_ROWS(q8_0)
STRATA_GENERIC_ROWS(q4_K)
STRATA_GENERIC_ROWS(q5_K)
STRATA_GENERIC_ROWS(q6_K)

// The portable tile kernels are the row kernels token by token: the same results, nothing
// unpacked ahead (there is no SIMD unpacking to save).
#define STRATA_GENERIC_TILE(T) \
    void strata_tile_##T##_generic(int n, const void *w, size_t row_bytes, int rows, int tokens, const strata_q8_act *a, \
                                   float *y, size_t ldy, void *scratch) { \
        (void)scratch; \
        for (int t = 0; t < tokens; t++) strata_rows_##T##_generic(n, w, row_bytes, rows, a + t, y + (size_t)t * ldy); \
    }

STRATA_GENERIC_TILE(q4_1)
STRATA_GENERIC_TILE(q4_K)
STRATA_GENERIC_TILE(q6_K)

// The largest users are the interleaved Q6_K kernels, 16 rows: per 256-element block 64 weight
// vectors, 16 of scales, 8 of scale pairs and 1 of d, 64 bytes each on AVX-512 or two groups of
// 32 on AVX2 (22.25n); the Q4_K ones need 19.5n, the AVX2 one 0.25n more for its min pairs.
size_t strata_tile_scratch_bytes(int n) { return 23 * (size_t)n + 256; }

void strata_i8_dots_generic(int d, const int8_t *x, int rows, const int8_t *q, int32_t *out) {
    for (int r = 0; r < rows; r++, x += d) {
        int32_t s = 0;
        for (int i = 0; i < d; i++) s += (int32_t)x[i] * q[i];
        out[r] = s;
    }
}
