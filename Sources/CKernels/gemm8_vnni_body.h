// The eight-row interleaved prompt kernels with a `vpdpbusd`-style step, included by dot_vnni.c
// once per instantiation with these defined:
//   GEMM8_NAME(T)  the function name for weight type T;
//   GEMM8_TARGET   its target attribute;
//   DPBUSD(acc, u, s)  acc + Σ of the four u8·s8 products of each int32 lane, exact in int32.
// Every kernel here computes the integers of the maddubs kernel in dot_avx2.c that it replaces
// (the reasons each sum is exact are at the top of dot_vnni.c) and then does the same float
// operations in the same order, so its results are that kernel's bit for bit.

GEMM8_TARGET void GEMM8_NAME(q4_K)(int n, const void *w, size_t row_bytes, int rows, int tokens, const strata_q8_act *a,
                                   float *y, size_t ldy, void *scratch) {
    const int nb = n / 256;
    const __m256i low16 = _mm256_set1_epi32(0xFFFF);
    __m256i *w8 = (__m256i *)scratch, *scv = w8 + nb * 64, *mnv = scv + nb * 8;
    __m256 *dv = (__m256 *)(mnv + nb * 4);
    int r0 = 0;
    for (; r0 + 8 <= rows; r0 += 8) {
        strata_unpack8_q4_K((const uint8_t *)w + (size_t)r0 * row_bytes, row_bytes, nb, (q4K_unpacked){ w8, scv, mnv, dv }, 1);
        for (int t = 0; t < tokens; t++) {
            const strata_q8_act *at = a + t;
            __m256 acc = _mm256_setzero_ps(), accm = _mm256_setzero_ps();
            for (int b = 0; b < nb; b++) {
                const int32_t *q4 = (const int32_t *)(at->q + 256 * b);
                const __m256i *wb = w8 + b * 64;
                __m256i sumi = _mm256_setzero_si256();
                for (int j = 0; j < 8; j++, wb += 8, q4 += 8) {
                    __m256i s0 = _mm256_setzero_si256(), s1 = _mm256_setzero_si256();  // two chains: latency
                    for (int c = 0; c < 8; c += 2) {
                        s0 = DPBUSD(s0, wb[c], _mm256_set1_epi32(q4[c]));
                        s1 = DPBUSD(s1, wb[c + 1], _mm256_set1_epi32(q4[c + 1]));
                    }
                    __m256i s = _mm256_add_epi32(s0, s1);
                    // s is a row's whole 32-product sum, up to 2·30720 (the maddubs kernel's two int16
                    // halves added): more than 16 bits, so a 32-bit multiply by the scale (the low
                    // int16 of the pair; 0..63).
                    sumi = _mm256_add_epi32(sumi, _mm256_mullo_epi32(s, _mm256_and_si256(scv[b * 8 + j], low16)));
                }
                const int16_t *bs = at->bsums + 16 * b;
                __m256i mi = _mm256_setzero_si256();
                for (int p = 0; p < 4; p++)
                    mi = _mm256_add_epi32(mi, _mm256_madd_epi16(mnv[b * 4 + p], _mm256_set1_epi32(q4K_bsum_pair(bs, p))));
                __m256 da = _mm256_set1_ps(at->d[b]);
                acc = _mm256_fmadd_ps(_mm256_mul_ps(dv[2 * b], da), _mm256_cvtepi32_ps(sumi), acc);
                accm = _mm256_fmadd_ps(_mm256_mul_ps(dv[2 * b + 1], da), _mm256_cvtepi32_ps(mi), accm);
            }
            _mm256_storeu_ps(y + (size_t)t * ldy + r0, _mm256_sub_ps(acc, accm));
        }
    }
    if (r0 < rows)
        strata_tile_q4_K_avx2(n, (const uint8_t *)w + (size_t)r0 * row_bytes, row_bytes, rows - r0, tokens, a, y + r0, ldy, scratch);
}

GEMM8_TARGET void GEMM8_NAME(q6_K)(int n, const void *w, size_t row_bytes, int rows, int tokens, const strata_q8_act *a,
                                   float *y, size_t ldy, void *scratch) {
    const int nb = n / 256;
    __m256i *w8 = (__m256i *)scratch, *scv = w8 + nb * 64, *csv = scv + nb * 16;
    __m256 *dv = (__m256 *)(csv + nb * 8);
    int r0 = 0;
    for (; r0 + 8 <= rows; r0 += 8) {
        strata_unpack8_q6_K((const uint8_t *)w + (size_t)r0 * row_bytes, row_bytes, nb, (q6K_unpacked){ w8, scv, csv, dv }, 1);
        for (int t = 0; t < tokens; t++) {
            const strata_q8_act *at = a + t;
            __m256 acc = _mm256_setzero_ps();
            for (int b = 0; b < nb; b++) {
                const int32_t *q4 = (const int32_t *)(at->q + 256 * b);
                const __m256i *wb = w8 + b * 64;
                __m256i sumi = q6K_offset(csv + b * 8, at->bsums + 16 * b);
                for (int s16 = 0; s16 < 16; s16++, wb += 4, q4 += 4) {
                    __m256i s = _mm256_add_epi32(DPBUSD(DPBUSD(_mm256_setzero_si256(), wb[0], _mm256_set1_epi32(q4[0])), wb[2], _mm256_set1_epi32(q4[2])),
                                                 DPBUSD(DPBUSD(_mm256_setzero_si256(), wb[1], _mm256_set1_epi32(q4[1])), wb[3], _mm256_set1_epi32(q4[3])));
                    // |s| ≤ 16·63·127 needs more than 16 bits, so a 32-bit multiply by the scale
                    // (the high int16 of the pair, sign-extended).
                    sumi = _mm256_add_epi32(sumi, _mm256_mullo_epi32(s, _mm256_srai_epi32(scv[b * 16 + s16], 16)));
                }
                acc = _mm256_fmadd_ps(_mm256_mul_ps(dv[b], _mm256_set1_ps(at->d[b])), _mm256_cvtepi32_ps(sumi), acc);
            }
            _mm256_storeu_ps(y + (size_t)t * ldy + r0, acc);
        }
    }
    if (r0 < rows)
        strata_tile_q6_K_avx2(n, (const uint8_t *)w + (size_t)r0 * row_bytes, row_bytes, rows - r0, tokens, a, y + r0, ldy, scratch);
}

GEMM8_TARGET void GEMM8_NAME(q4_1)(int n, const void *w, size_t row_bytes, int rows, int tokens, const strata_q8_act *a,
                                   float *y, size_t ldy, void *scratch) {
    const int nb = n / 32;
    __m256i *w8 = (__m256i *)scratch;
    __m256 *dv = (__m256 *)(w8 + nb * 8), *mv = dv + nb;
    int r0 = 0;
    for (; r0 + 8 <= rows; r0 += 8) {
        strata_unpack8_q4_1((const uint8_t *)w + (size_t)r0 * row_bytes, row_bytes, nb, w8, dv, mv, 1);
        for (int t = 0; t < tokens; t++) {
            const strata_q8_act *at = a + t;
            const int32_t *q4 = (const int32_t *)at->q;
            const __m256i *wb = w8;
            __m256 acc = _mm256_setzero_ps(), accm = _mm256_setzero_ps();
            for (int b = 0; b < nb; b++, wb += 8, q4 += 8) {
                __m256i s0 = _mm256_setzero_si256(), s1 = _mm256_setzero_si256();
                for (int c = 0; c < 8; c += 2) {
                    s0 = DPBUSD(s0, wb[c], _mm256_set1_epi32(q4[c]));
                    s1 = DPBUSD(s1, wb[c + 1], _mm256_set1_epi32(q4[c + 1]));
                }
                __m256i sum = _mm256_add_epi32(s0, s1);
                acc = _mm256_fmadd_ps(_mm256_mul_ps(dv[b], _mm256_set1_ps(at->d[b])), _mm256_cvtepi32_ps(sum), acc);
                accm = _mm256_fmadd_ps(mv[b], _mm256_set1_ps(at->s[b]), accm);
            }
            _mm256_storeu_ps(y + (size_t)t * ldy + r0, _mm256_add_ps(acc, accm));
        }
    }
    if (r0 < rows)
        strata_tile_q4_1_avx2(n, (const uint8_t *)w + (size_t)r0 * row_bytes, row_bytes, rows - r0, tokens, a, y + r0, ldy, scratch);
}
