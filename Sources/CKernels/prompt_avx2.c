// AVX2 prompt (prefill) kernels: the tile kernels, which unpack each weight row once and run
// it against every token of a batch, and the interleaved kernels, which take eight (AVX-512:
// sixteen) rows at a time so their integer products add up before one scale multiply. Every
// result equals the row kernels' (dot_avx2.c) for that token, bit for bit where KernelTests say so.
#include "avx2.h"

#if defined(__x86_64__) || defined(__i386__)
#include "interleave.h"

// Tile kernels (prefill): each row is unpacked once into the scratch — weights as bytes in
// element order, scales as the broadcast vectors the row kernels build per block — and then
// multiplied with every token. The per-token loops are the row kernels' loops with the
// unpacking taken out, the same integer lanes and the same float operations in the same
// order, so each y equals strata_rows_T_avx2's for that token bit for bit.

AVX2 void strata_tile_q4_1_avx2(int n, const void *w, size_t row_bytes, int rows, int tokens, const strata_q8_act *a,
                                float *y, size_t ldy, void *scratch) {
    const int nb = n / 32;
    uint8_t *u = (uint8_t *)scratch;
    float *dw = (float *)(u + n), *mw = dw + nb;
    for (int r = 0; r < rows; r++) {
        const uint8_t *x = (const uint8_t *)w + (size_t)r * row_bytes;
        for (int b = 0; b < nb; b++, x += 20) {
            _mm256_store_si256((__m256i *)(u + 32 * b), unpack_nibbles(x + 4));
            dw[b] = h2f(x);
            mw[b] = h2f(x + 2);
        }
        for (int t = 0; t < tokens; t++) {
            const strata_q8_act *at = a + t;
            __m256 acc0 = _mm256_setzero_ps(), acc1 = _mm256_setzero_ps();
            float mins = 0;
            int b = 0;
            for (; b + 1 < nb; b += 2) {
                __m256i p0 = dot_u8s8(_mm256_load_si256((const __m256i *)(u + 32 * b)), _mm256_loadu_si256((const __m256i *)(at->q + 32 * b)));
                __m256i p1 = dot_u8s8(_mm256_load_si256((const __m256i *)(u + 32 * b + 32)), _mm256_loadu_si256((const __m256i *)(at->q + 32 * b + 32)));
                acc0 = _mm256_fmadd_ps(_mm256_set1_ps(dw[b] * at->d[b]), _mm256_cvtepi32_ps(p0), acc0);
                acc1 = _mm256_fmadd_ps(_mm256_set1_ps(dw[b + 1] * at->d[b + 1]), _mm256_cvtepi32_ps(p1), acc1);
                mins += mw[b] * at->s[b] + mw[b + 1] * at->s[b + 1];
            }
            for (; b < nb; b++) {
                __m256i p = dot_u8s8(_mm256_load_si256((const __m256i *)(u + 32 * b)), _mm256_loadu_si256((const __m256i *)(at->q + 32 * b)));
                acc0 = _mm256_fmadd_ps(_mm256_set1_ps(dw[b] * at->d[b]), _mm256_cvtepi32_ps(p), acc0);
                mins += mw[b] * at->s[b];
            }
            y[(size_t)t * ldy + r] = hsum(_mm256_add_ps(acc0, acc1)) + mins;
        }
    }
}

AVX2 void strata_tile_q4_K_avx2(int n, const void *w, size_t row_bytes, int rows, int tokens, const strata_q8_act *a,
                                float *y, size_t ldy, void *scratch) {
    const int nb = n / 256;
    const __m256i m4 = _mm256_set1_epi8(0x0F);
    uint8_t *u = (uint8_t *)scratch;                 // n weights, 0..15, in element order
    __m256i *sv = (__m256i *)(u + n);                // per 32 elements: its scale as 16 int16
    __m128i *mn = (__m128i *)(sv + n / 32);          // per block: the 8 mins as int16
    float *dd = (float *)(mn + nb), *dm = dd + nb;   // per block: d and dmin
    for (int r = 0; r < rows; r++) {
        const uint8_t *x = (const uint8_t *)w + (size_t)r * row_bytes;
        for (int b = 0; b < nb; b++, x += 144) {
            uint32_t sm[4];
            scales_mins_k4(x + 4, sm);
            const uint8_t *sc = (const uint8_t *)sm;
            for (int k = 0; k < 4; k++) {
                __m256i q = _mm256_loadu_si256((const __m256i *)(x + 16 + 32 * k));
                _mm256_store_si256((__m256i *)(u + 256 * b + 64 * k), _mm256_and_si256(q, m4));
                _mm256_store_si256((__m256i *)(u + 256 * b + 64 * k + 32), _mm256_and_si256(_mm256_srli_epi16(q, 4), m4));
                sv[8 * b + 2 * k] = _mm256_set1_epi16(sc[2 * k]);
                sv[8 * b + 2 * k + 1] = _mm256_set1_epi16(sc[2 * k + 1]);
            }
            mn[b] = _mm_cvtepu8_epi16(_mm_loadl_epi64((const __m128i *)(sc + 8)));
            dd[b] = h2f(x);
            dm[b] = h2f(x + 2);
        }
        for (int t = 0; t < tokens; t++) {
            const strata_q8_act *at = a + t;
            __m256 acc = _mm256_setzero_ps();
            __m128 accm = _mm_setzero_ps();
            for (int b = 0; b < nb; b++) {
                const int8_t *q8 = at->q + 256 * b;
                const uint8_t *ub = u + 256 * b;
                __m256i bs = _mm256_loadu_si256((const __m256i *)(at->bsums + 16 * b));
                __m128i pair_sums = _mm_hadd_epi16(_mm256_castsi256_si128(bs), _mm256_extracti128_si256(bs, 1));
                __m128i mprod = _mm_madd_epi16(mn[b], pair_sums);
                __m256i sumi = _mm256_setzero_si256();
                for (int k = 0; k < 4; k++) {
                    __m256i p0 = _mm256_madd_epi16(_mm256_maddubs_epi16(_mm256_load_si256((const __m256i *)(ub + 64 * k)),
                                                                        _mm256_loadu_si256((const __m256i *)(q8 + 64 * k))), sv[8 * b + 2 * k]);
                    __m256i p1 = _mm256_madd_epi16(_mm256_maddubs_epi16(_mm256_load_si256((const __m256i *)(ub + 64 * k + 32)),
                                                                        _mm256_loadu_si256((const __m256i *)(q8 + 64 * k + 32))), sv[8 * b + 2 * k + 1]);
                    sumi = _mm256_add_epi32(sumi, _mm256_add_epi32(p0, p1));
                }
                float da = at->d[b];
                acc = _mm256_fmadd_ps(_mm256_set1_ps(da * dd[b]), _mm256_cvtepi32_ps(sumi), acc);
                accm = _mm_fmadd_ps(_mm_set1_ps(da * dm[b]), _mm_cvtepi32_ps(mprod), accm);
            }
            __m128 m = _mm_add_ps(accm, _mm_movehl_ps(accm, accm));
            m = _mm_add_ss(m, _mm_movehdup_ps(m));
            y[(size_t)t * ldy + r] = hsum(acc) - _mm_cvtss_f32(m);
        }
    }
}

AVX2 void strata_tile_q6_K_avx2(int n, const void *w, size_t row_bytes, int rows, int tokens, const strata_q8_act *a,
                                float *y, size_t ldy, void *scratch) {
    const int nb = n / 256;
    const __m256i m4 = _mm256_set1_epi8(0x0F), m2 = _mm256_set1_epi8(3);
    __m256i spread[4];  // as in strata_rows_q6_K_avx2
    for (int k = 0; k < 4; k++) {
        const char lo = (char)(4 * k), hi = (char)(4 * k + 2);
        spread[k] = _mm256_setr_epi8(lo, lo + 1, lo, lo + 1, lo, lo + 1, lo, lo + 1, lo, lo + 1, lo, lo + 1, lo, lo + 1, lo, lo + 1,
                                     hi, hi + 1, hi, hi + 1, hi, hi + 1, hi, hi + 1, hi, hi + 1, hi, hi + 1, hi, hi + 1, hi, hi + 1);
    }
    uint8_t *u = (uint8_t *)scratch;                 // n weights, 0..63, in element order
    __m256i *sv = (__m256i *)(u + n);                // per 32 elements: the spread int16 scales
    __m256i *sc16 = sv + n / 32;                     // per block: the 16 scales as int16
    float *dd = (float *)(sc16 + nb);                // per block: d
    for (int r = 0; r < rows; r++) {
        const uint8_t *x = (const uint8_t *)w + (size_t)r * row_bytes;
        for (int b = 0; b < nb; b++, x += 210) {
            __m128i sc8 = _mm_loadu_si128((const __m128i *)(x + 192));
            sc16[b] = _mm256_cvtepi8_epi16(sc8);
            for (int half = 0; half < 2; half++) {
                const uint8_t *ql = x + 64 * half, *qh = x + 128 + 32 * half;
                __m256i s16 = _mm256_broadcastsi128_si256(_mm_cvtepi8_epi16(half ? _mm_srli_si128(sc8, 8) : sc8));
                __m256i l0 = _mm256_loadu_si256((const __m256i *)ql);
                __m256i l1 = _mm256_loadu_si256((const __m256i *)(ql + 32));
                __m256i h = _mm256_loadu_si256((const __m256i *)qh);
                __m256i q[4];
                q[0] = _mm256_or_si256(_mm256_and_si256(l0, m4), _mm256_slli_epi16(_mm256_and_si256(h, m2), 4));
                q[1] = _mm256_or_si256(_mm256_and_si256(l1, m4), _mm256_slli_epi16(_mm256_and_si256(_mm256_srli_epi16(h, 2), m2), 4));
                q[2] = _mm256_or_si256(_mm256_and_si256(_mm256_srli_epi16(l0, 4), m4), _mm256_slli_epi16(_mm256_and_si256(_mm256_srli_epi16(h, 4), m2), 4));
                q[3] = _mm256_or_si256(_mm256_and_si256(_mm256_srli_epi16(l1, 4), m4), _mm256_slli_epi16(_mm256_and_si256(_mm256_srli_epi16(h, 6), m2), 4));
                for (int k = 0; k < 4; k++) {
                    _mm256_store_si256((__m256i *)(u + 256 * b + 128 * half + 32 * k), q[k]);
                    sv[8 * b + 4 * half + k] = _mm256_shuffle_epi8(s16, spread[k]);
                }
            }
            dd[b] = h2f(x + 208);
        }
        for (int t = 0; t < tokens; t++) {
            const strata_q8_act *at = a + t;
            __m256 acc = _mm256_setzero_ps();
            for (int b = 0; b < nb; b++) {
                const int8_t *q8 = at->q + 256 * b;
                const uint8_t *ub = u + 256 * b;
                __m256i corr = _mm256_madd_epi16(sc16[b], _mm256_loadu_si256((const __m256i *)(at->bsums + 16 * b)));
                __m256i sumi = _mm256_sub_epi32(_mm256_setzero_si256(), _mm256_slli_epi32(corr, 5));
                for (int j = 0; j < 8; j++) {
                    __m256i p = _mm256_maddubs_epi16(_mm256_load_si256((const __m256i *)(ub + 32 * j)),
                                                     _mm256_loadu_si256((const __m256i *)(q8 + 32 * j)));
                    sumi = _mm256_add_epi32(sumi, _mm256_madd_epi16(p, sv[8 * b + j]));
                }
                acc = _mm256_fmadd_ps(_mm256_set1_ps(dd[b] * at->d[b]), _mm256_cvtepi32_ps(sumi), acc);
            }
            y[(size_t)t * ldy + r] = hsum(acc);
        }
    }
}

/// Eight unpacked rows against one token's int8 activations, four bytes broadcast at a time:
/// wb[k] holds four bytes of each row, q[k] the matching four activation bytes. The int16 sum
/// of chunks 0 and 1 (maddubs_pair) and of chunks 0–7 as (0+1 + 2+3) + (4+5 + 6+7)
/// (maddubs_chunk8), the order every interleaved kernel here sums them in.
AVX2 static inline __m256i maddubs_pair(const __m256i *wb, const int32_t *q) {
    return _mm256_add_epi16(_mm256_maddubs_epi16(wb[0], _mm256_set1_epi32(q[0])),
                            _mm256_maddubs_epi16(wb[1], _mm256_set1_epi32(q[1])));
}

AVX2 static inline __m256i maddubs_chunk8(const __m256i *wb, const int32_t *q) {
    return _mm256_add_epi16(_mm256_add_epi16(maddubs_pair(wb, q), maddubs_pair(wb + 2, q + 2)),
                            _mm256_add_epi16(maddubs_pair(wb + 4, q + 4), maddubs_pair(wb + 6, q + 6)));
}

/// 8×8 transpose of 32-bit elements: r[i] = row i in, r[c] = column c out.
AVX2 static inline void transpose8_epi32(__m256i r[8]) {
    __m256i t0 = _mm256_unpacklo_epi32(r[0], r[1]), t1 = _mm256_unpackhi_epi32(r[0], r[1]);
    __m256i t2 = _mm256_unpacklo_epi32(r[2], r[3]), t3 = _mm256_unpackhi_epi32(r[2], r[3]);
    __m256i t4 = _mm256_unpacklo_epi32(r[4], r[5]), t5 = _mm256_unpackhi_epi32(r[4], r[5]);
    __m256i t6 = _mm256_unpacklo_epi32(r[6], r[7]), t7 = _mm256_unpackhi_epi32(r[6], r[7]);
    __m256i u0 = _mm256_unpacklo_epi64(t0, t2), u1 = _mm256_unpackhi_epi64(t0, t2);
    __m256i u2 = _mm256_unpacklo_epi64(t1, t3), u3 = _mm256_unpackhi_epi64(t1, t3);
    __m256i u4 = _mm256_unpacklo_epi64(t4, t6), u5 = _mm256_unpackhi_epi64(t4, t6);
    __m256i u6 = _mm256_unpacklo_epi64(t5, t7), u7 = _mm256_unpackhi_epi64(t5, t7);
    r[0] = _mm256_permute2x128_si256(u0, u4, 0x20); r[1] = _mm256_permute2x128_si256(u1, u5, 0x20);
    r[2] = _mm256_permute2x128_si256(u2, u6, 0x20); r[3] = _mm256_permute2x128_si256(u3, u7, 0x20);
    r[4] = _mm256_permute2x128_si256(u0, u4, 0x31); r[5] = _mm256_permute2x128_si256(u1, u5, 0x31);
    r[6] = _mm256_permute2x128_si256(u2, u6, 0x31); r[7] = _mm256_permute2x128_si256(u3, u7, 0x31);
}

// Q4_K, eight rows at a time, interleaved: for each 32-element sub-block, eight vectors of
// 4 elements × 8 rows. A token's 4 activation bytes are broadcast against them, so a vector
// lane pair belongs to one row, and the eight maddubs of a sub-block (|sum| ≤ 8·2·15·127 =
// 30480) add up in int16 before the one madd by the rows' scales: 9 multiplies per 256
// products instead of 16. The sums are the same integers as the row kernels'; the float
// steps are per block instead of per lane, so results differ from them by rounding only.
//
// unpack8_q4_K lays out rows r0..r0+7 of every block as 256-bit vectors `step` vectors apart:
// step 1 for the AVX2 kernel, step 2 for the AVX-512 one, whose 512-bit vectors hold two
// such groups side by side (rows 0-7 in the low half, 8-15 in the high half).
AVX2 void strata_unpack8_q4_K(const void *w, size_t row_bytes, int nb, q4K_unpacked o, int step) {
    const __m256i m4 = _mm256_set1_epi8(0x0F);
    for (int b = 0; b < nb; b++) {
        uint8_t sc[8][8], mn[8][8];
        float d[8], dm[8];
        __m256i sub[8][8];  // [row][sub-block]: 32 weights
        for (int r = 0; r < 8; r++) {
            const uint8_t *x = (const uint8_t *)w + (size_t)r * row_bytes + 144 * (size_t)b;
            uint32_t sm[4];
            scales_mins_k4(x + 4, sm);
            memcpy(sc[r], sm, 8);
            memcpy(mn[r], (const uint8_t *)sm + 8, 8);
            d[r] = h2f(x);
            dm[r] = h2f(x + 2);
            for (int k = 0; k < 4; k++) {
                __m256i q = _mm256_loadu_si256((const __m256i *)(x + 16 + 32 * k));
                sub[r][2 * k] = _mm256_and_si256(q, m4);
                sub[r][2 * k + 1] = _mm256_and_si256(_mm256_srli_epi16(q, 4), m4);
            }
        }
        for (int j = 0; j < 8; j++) {
            __m256i col[8];
            for (int r = 0; r < 8; r++) col[r] = sub[r][j];
            transpose8_epi32(col);
            for (int c = 0; c < 8; c++) _mm256_storeu_si256(o.w + step * ((b * 8 + j) * 8 + c), col[c]);
            _mm256_storeu_si256(o.sc + step * (b * 8 + j),
                                _mm256_setr_epi32(sc[0][j] * 0x10001, sc[1][j] * 0x10001, sc[2][j] * 0x10001, sc[3][j] * 0x10001,
                                                  sc[4][j] * 0x10001, sc[5][j] * 0x10001, sc[6][j] * 0x10001, sc[7][j] * 0x10001));
        }
        for (int p = 0; p < 4; p++) {
            int32_t v[8];
            for (int r = 0; r < 8; r++) v[r] = mn[r][2 * p] | (mn[r][2 * p + 1] << 16);
            _mm256_storeu_si256(o.mn + step * (b * 4 + p), _mm256_loadu_si256((const __m256i *)v));
        }
        _mm256_storeu_ps((float *)(o.d + step * (2 * b)), _mm256_loadu_ps(d));
        _mm256_storeu_ps((float *)(o.d + step * (2 * b + 1)), _mm256_loadu_ps(dm));
    }
}

/// One token's product with eight unpacked Q4_K rows: the kernel's plain inner loop, kept for
/// the tokens left over after the blocks of four (and as the shape the blocked loop must match).
AVX2 static inline __m256 q4K_token8(int nb, const __m256i *w8, const __m256i *scv, const __m256i *mnv, const __m256 *dv,
                                     const strata_q8_act *at) {
    __m256 acc = _mm256_setzero_ps(), accm = _mm256_setzero_ps();
    for (int b = 0; b < nb; b++) {
        const int32_t *q4 = (const int32_t *)(at->q + 256 * b);
        const __m256i *wb = w8 + b * 64;
        __m256i sumi = _mm256_setzero_si256();
        for (int j = 0; j < 8; j++, wb += 8, q4 += 8) {
            sumi = _mm256_add_epi32(sumi, _mm256_madd_epi16(maddubs_chunk8(wb, q4), scv[b * 8 + j]));
        }
        const int16_t *bs = at->bsums + 16 * b;
        __m256i mi = _mm256_setzero_si256();
        for (int p = 0; p < 4; p++)
            mi = _mm256_add_epi32(mi, _mm256_madd_epi16(mnv[b * 4 + p], _mm256_set1_epi32(q4K_bsum_pair(bs, p))));
        __m256 da = _mm256_set1_ps(at->d[b]);
        acc = _mm256_fmadd_ps(_mm256_mul_ps(dv[2 * b], da), _mm256_cvtepi32_ps(sumi), acc);
        accm = _mm256_fmadd_ps(_mm256_mul_ps(dv[2 * b + 1], da), _mm256_cvtepi32_ps(mi), accm);
    }
    return _mm256_sub_ps(acc, accm);
}

/// Four tokens against eight unpacked Q4_K rows (the layout strata_unpack8_q4_K writes with
/// step 1): y[(t+u)·ldy + 0..7] for u = 0..3. `pairs` holds, per token u and block b, the four
/// q4K_bsum_pair values at [(u·nb + b)·4 ...], so a min term is a broadcast load.
AVX2 static inline void q4K_tokens4x8(int nb, const q4K_unpacked g, const strata_q8_act *at, const int32_t *pairs,
                                      float *y, size_t ldy) {
    __m256 acc[4], accm[4];
    for (int u = 0; u < 4; u++) acc[u] = accm[u] = _mm256_setzero_ps();
    for (int b = 0; b < nb; b++) {
        const int32_t *q0 = (const int32_t *)(at[0].q + 256 * b), *q1 = (const int32_t *)(at[1].q + 256 * b);
        const int32_t *q2 = (const int32_t *)(at[2].q + 256 * b), *q3 = (const int32_t *)(at[3].q + 256 * b);
        const __m256i *wb = g.w + b * 64;
        __m256i sumi[4];
        for (int u = 0; u < 4; u++) sumi[u] = _mm256_setzero_si256();
        for (int j = 0; j < 8; j++, wb += 8) {
            __m256i x = wb[0];
            __m256i s0 = _mm256_maddubs_epi16(x, _mm256_set1_epi32(q0[8 * j])), s1 = _mm256_maddubs_epi16(x, _mm256_set1_epi32(q1[8 * j]));
            __m256i s2 = _mm256_maddubs_epi16(x, _mm256_set1_epi32(q2[8 * j])), s3 = _mm256_maddubs_epi16(x, _mm256_set1_epi32(q3[8 * j]));
            for (int c = 1; c < 8; c++) {
                x = wb[c];
                s0 = _mm256_add_epi16(s0, _mm256_maddubs_epi16(x, _mm256_set1_epi32(q0[8 * j + c])));
                s1 = _mm256_add_epi16(s1, _mm256_maddubs_epi16(x, _mm256_set1_epi32(q1[8 * j + c])));
                s2 = _mm256_add_epi16(s2, _mm256_maddubs_epi16(x, _mm256_set1_epi32(q2[8 * j + c])));
                s3 = _mm256_add_epi16(s3, _mm256_maddubs_epi16(x, _mm256_set1_epi32(q3[8 * j + c])));
            }
            __m256i sc = g.sc[b * 8 + j];
            sumi[0] = _mm256_add_epi32(sumi[0], _mm256_madd_epi16(s0, sc));
            sumi[1] = _mm256_add_epi32(sumi[1], _mm256_madd_epi16(s1, sc));
            sumi[2] = _mm256_add_epi32(sumi[2], _mm256_madd_epi16(s2, sc));
            sumi[3] = _mm256_add_epi32(sumi[3], _mm256_madd_epi16(s3, sc));
        }
        const __m256i *mn = g.mn + b * 4;
        for (int u = 0; u < 4; u++) {
            const int32_t *pp = pairs + (u * nb + b) * 4;
            __m256i mi = _mm256_add_epi32(_mm256_add_epi32(_mm256_madd_epi16(mn[0], _mm256_set1_epi32(pp[0])), _mm256_madd_epi16(mn[1], _mm256_set1_epi32(pp[1]))),
                                          _mm256_add_epi32(_mm256_madd_epi16(mn[2], _mm256_set1_epi32(pp[2])), _mm256_madd_epi16(mn[3], _mm256_set1_epi32(pp[3]))));
            __m256 da = _mm256_set1_ps(at[u].d[b]);
            acc[u] = _mm256_fmadd_ps(_mm256_mul_ps(g.d[2 * b], da), _mm256_cvtepi32_ps(sumi[u]), acc[u]);
            accm[u] = _mm256_fmadd_ps(_mm256_mul_ps(g.d[2 * b + 1], da), _mm256_cvtepi32_ps(mi), accm[u]);
        }
    }
    for (int u = 0; u < 4; u++) _mm256_storeu_ps(y + (size_t)u * ldy, _mm256_sub_ps(acc[u], accm[u]));
}

/// Two tokens against sixteen unpacked Q4_K rows (groups g0, g1): y[u·ldy + 0..15] for u = 0, 1.
/// Per 4-element chunk two weight loads and two broadcasts feed four maddubs, one load per
/// maddubs as four tokens × eight rows, in fewer instructions (measured on one Zen 3 core,
/// 512 tokens: 4-6% faster than q4K_tokens4x8 at 1536 and 8960 columns). `pairs` as there.
AVX2 static inline void q4K_tokens2x16(int nb, const q4K_unpacked g0, const q4K_unpacked g1, const strata_q8_act *at,
                                       const int32_t *pairs, float *y, size_t ldy) {
    __m256 acc[4], accm[4];   // [group·2 + token]
    for (int k = 0; k < 4; k++) acc[k] = accm[k] = _mm256_setzero_ps();
    for (int b = 0; b < nb; b++) {
        const int32_t *q0 = (const int32_t *)(at[0].q + 256 * b), *q1 = (const int32_t *)(at[1].q + 256 * b);
        const __m256i *wa = g0.w + b * 64, *wc = g1.w + b * 64;
        __m256i sumi[4];
        for (int k = 0; k < 4; k++) sumi[k] = _mm256_setzero_si256();
        for (int j = 0; j < 8; j++, wa += 8, wc += 8) {
            __m256i xa = wa[0], xc = wc[0], b0 = _mm256_set1_epi32(q0[8 * j]), b1 = _mm256_set1_epi32(q1[8 * j]);
            __m256i s0 = _mm256_maddubs_epi16(xa, b0), s1 = _mm256_maddubs_epi16(xa, b1);
            __m256i s2 = _mm256_maddubs_epi16(xc, b0), s3 = _mm256_maddubs_epi16(xc, b1);
            for (int c = 1; c < 8; c++) {
                xa = wa[c]; xc = wc[c]; b0 = _mm256_set1_epi32(q0[8 * j + c]); b1 = _mm256_set1_epi32(q1[8 * j + c]);
                s0 = _mm256_add_epi16(s0, _mm256_maddubs_epi16(xa, b0));
                s1 = _mm256_add_epi16(s1, _mm256_maddubs_epi16(xa, b1));
                s2 = _mm256_add_epi16(s2, _mm256_maddubs_epi16(xc, b0));
                s3 = _mm256_add_epi16(s3, _mm256_maddubs_epi16(xc, b1));
            }
            __m256i sca = g0.sc[b * 8 + j], scc = g1.sc[b * 8 + j];
            sumi[0] = _mm256_add_epi32(sumi[0], _mm256_madd_epi16(s0, sca));
            sumi[1] = _mm256_add_epi32(sumi[1], _mm256_madd_epi16(s1, sca));
            sumi[2] = _mm256_add_epi32(sumi[2], _mm256_madd_epi16(s2, scc));
            sumi[3] = _mm256_add_epi32(sumi[3], _mm256_madd_epi16(s3, scc));
        }
        for (int k = 0; k < 4; k++) {
            const int u = k & 1;
            const q4K_unpacked g = k < 2 ? g0 : g1;
            const __m256i *mn = g.mn + b * 4;
            const int32_t *pp = pairs + (u * nb + b) * 4;
            __m256i mi = _mm256_add_epi32(_mm256_add_epi32(_mm256_madd_epi16(mn[0], _mm256_set1_epi32(pp[0])), _mm256_madd_epi16(mn[1], _mm256_set1_epi32(pp[1]))),
                                          _mm256_add_epi32(_mm256_madd_epi16(mn[2], _mm256_set1_epi32(pp[2])), _mm256_madd_epi16(mn[3], _mm256_set1_epi32(pp[3]))));
            __m256 da = _mm256_set1_ps(at[u].d[b]);
            acc[k] = _mm256_fmadd_ps(_mm256_mul_ps(g.d[2 * b], da), _mm256_cvtepi32_ps(sumi[k]), acc[k]);
            accm[k] = _mm256_fmadd_ps(_mm256_mul_ps(g.d[2 * b + 1], da), _mm256_cvtepi32_ps(mi), accm[k]);
        }
    }
    for (int k = 0; k < 4; k++) _mm256_storeu_ps(y + (size_t)(k & 1) * ldy + 8 * (k >> 1), _mm256_sub_ps(acc[k], accm[k]));
}

// Four tokens a step: each 256-bit load of unpacked weights feeds several maddubs. One token a
// step did two loads per maddubs (the weights cannot be maddubs' memory operand, which is the
// signed one) and ran at ~60 G multiply-adds/s on one Zen 3 core, bound by loads; sixteen rows
// by two tokens (q4K_tokens2x16, twice a step) take one, eight rows by four (a last group of
// eight rows) 1.25. Both groups share each step's min pairs, worked out once per token and block. The integers are the
// same sums in another order (exact: no int16 partial sum can pass 30480) and each token's
// float steps are q4K_token8's in its order, so results are bit for bit one token a step's.
AVX2 void strata_gemm8_q4_K_avx2(int n, const void *w, size_t row_bytes, int rows, int tokens, const strata_q8_act *a,
                                 float *y, size_t ldy, void *scratch) {
    const int nb = n / 256;
    // Per group of eight rows (9.75n bytes): [nb][8 sub-blocks][8 chunks] weights (8 rows × 4
    // bytes), [nb][8] scales as int16 pairs, [nb][4] mins of sub-blocks 2p, 2p+1, [nb][2] d, dmin.
    q4K_unpacked g[2];
    __m256i *next = (__m256i *)scratch;
    for (int k = 0; k < 2; k++) {
        g[k] = (q4K_unpacked){ next, next + nb * 64, next + nb * 72, (__m256 *)(next + nb * 76) };
        next += nb * 78;
    }
    int32_t *pairs = (int32_t *)next;          // [4 tokens][nb][4]
    int r0 = 0;
    for (; r0 + 8 <= rows; r0 += 16) {
        const int groups = r0 + 16 <= rows ? 2 : 1;
        for (int k = 0; k < groups; k++)
            strata_unpack8_q4_K((const uint8_t *)w + (size_t)(r0 + 8 * k) * row_bytes, row_bytes, nb, g[k], 1);
        int t = 0;
        for (; t + 4 <= tokens; t += 4) {
            // q4K_bsum_pair(bs, p) for p = 0..3 are int32 lanes 0, 1, 4, 5 of the pairwise sums.
            for (int u = 0; u < 4; u++)
                for (int b = 0; b < nb; b++) {
                    __m256i bs = _mm256_loadu_si256((const __m256i *)(a[t + u].bsums + 16 * b));
                    __m256i h = _mm256_permute4x64_epi64(_mm256_hadd_epi16(bs, bs), 0x08);   // lanes 0, 1, 4, 5 low
                    _mm_storeu_si128((__m128i *)(pairs + (u * nb + b) * 4), _mm256_castsi256_si128(h));
                }
            if (groups == 2) {
                q4K_tokens2x16(nb, g[0], g[1], a + t, pairs, y + (size_t)t * ldy + r0, ldy);
                q4K_tokens2x16(nb, g[0], g[1], a + t + 2, pairs + 2 * nb * 4, y + (size_t)(t + 2) * ldy + r0, ldy);
            } else {
                q4K_tokens4x8(nb, g[0], a + t, pairs, y + (size_t)t * ldy + r0, ldy);
            }
        }
        for (; t < tokens; t++)
            for (int k = 0; k < groups; k++)
                _mm256_storeu_ps(y + (size_t)t * ldy + r0 + 8 * k, q4K_token8(nb, g[k].w, g[k].sc, g[k].mn, g[k].d, a + t));
        if (groups == 1) { r0 += 8; break; }
    }
    if (r0 < rows)
        strata_tile_q4_K_avx2(n, (const uint8_t *)w + (size_t)r0 * row_bytes, row_bytes, rows - r0, tokens, a, y + r0, ldy, scratch);
}

// Q4_K, sixteen rows at a time: the AVX2 kernel above on 512-bit vectors (AVX-512BW). Every lane
// does what the AVX2 kernel's lane for that row does, instruction for instruction (maddubs,
// int16 adds, madd by the scale, the same float multiply, FMA and subtraction in the same
// order), so its results equal strata_gemm8_q4_K_avx2's bit for bit: a prompt rounds the same
// on a CPU with AVX-512 as on one without. Rows below a multiple of 16 go to the AVX2 kernel.
AVX512 void strata_gemm16_q4_K_avx512(int n, const void *w, size_t row_bytes, int rows, int tokens, const strata_q8_act *a,
                                      float *y, size_t ldy, void *scratch) {
    const int nb = n / 256;
    __m512i *w16 = (__m512i *)scratch;         // [nb][8 sub-blocks][8 chunks]: 16 rows × 4 bytes
    __m512i *scv = w16 + nb * 64;              // [nb][8]: the rows' scales, int16 pairs
    __m512i *mnv = scv + nb * 8;               // [nb][4]: mins of sub-blocks 2p, 2p+1, int16 pairs
    __m512 *dv = (__m512 *)(mnv + nb * 4);     // [nb][2]: the rows' d and dmin
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
                    __m512i s0 = _mm512_add_epi16(_mm512_maddubs_epi16(_mm512_loadu_si512(wb + 0), _mm512_set1_epi32(q4[0])),
                                                  _mm512_maddubs_epi16(_mm512_loadu_si512(wb + 1), _mm512_set1_epi32(q4[1])));
                    __m512i s1 = _mm512_add_epi16(_mm512_maddubs_epi16(_mm512_loadu_si512(wb + 2), _mm512_set1_epi32(q4[2])),
                                                  _mm512_maddubs_epi16(_mm512_loadu_si512(wb + 3), _mm512_set1_epi32(q4[3])));
                    __m512i s2 = _mm512_add_epi16(_mm512_maddubs_epi16(_mm512_loadu_si512(wb + 4), _mm512_set1_epi32(q4[4])),
                                                  _mm512_maddubs_epi16(_mm512_loadu_si512(wb + 5), _mm512_set1_epi32(q4[5])));
                    __m512i s3 = _mm512_add_epi16(_mm512_maddubs_epi16(_mm512_loadu_si512(wb + 6), _mm512_set1_epi32(q4[6])),
                                                  _mm512_maddubs_epi16(_mm512_loadu_si512(wb + 7), _mm512_set1_epi32(q4[7])));
                    __m512i s = _mm512_add_epi16(_mm512_add_epi16(s0, s1), _mm512_add_epi16(s2, s3));
                    sumi = _mm512_add_epi32(sumi, _mm512_madd_epi16(s, _mm512_loadu_si512(scv + b * 8 + j)));
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

// Q6_K, eight rows interleaved as Q4_K: 4 elements × 8 rows per vector, weights as their 6-bit
// values 0..63. Two maddubs add up in int16 (|sum| ≤ 2·2·63·127 = 32004; a third would overflow),
// so a 16-element sub-block takes two madds by its scale, and the -32 offset of every weight comes
// off once per block as 32 · Σ_s scale[s]·bsum[s] (scale pairs × bsum pairs, as Q4_K's mins). The
// same integers as the row kernel; the float steps per block, so equal to it up to rounding.
AVX2 void strata_unpack8_q6_K(const void *w, size_t row_bytes, int nb, q6K_unpacked o, int step) {
    const __m256i m4 = _mm256_set1_epi8(0x0F), m2 = _mm256_set1_epi8(3);
    for (int b = 0; b < nb; b++) {
        __m256i sub[8][8];   // [row][32 elements]
        int8_t sc[8][16];
        float d[8];
        for (int r = 0; r < 8; r++) {
            const uint8_t *x = (const uint8_t *)w + (size_t)r * row_bytes + 210 * (size_t)b;
            for (int half = 0; half < 2; half++) {
                const uint8_t *ql = x + 64 * half, *qh = x + 128 + 32 * half;
                __m256i l0 = _mm256_loadu_si256((const __m256i *)ql);
                __m256i l1 = _mm256_loadu_si256((const __m256i *)(ql + 32));
                __m256i h = _mm256_loadu_si256((const __m256i *)qh);
                sub[r][4 * half + 0] = _mm256_or_si256(_mm256_and_si256(l0, m4), _mm256_slli_epi16(_mm256_and_si256(h, m2), 4));
                sub[r][4 * half + 1] = _mm256_or_si256(_mm256_and_si256(l1, m4), _mm256_slli_epi16(_mm256_and_si256(_mm256_srli_epi16(h, 2), m2), 4));
                sub[r][4 * half + 2] = _mm256_or_si256(_mm256_and_si256(_mm256_srli_epi16(l0, 4), m4), _mm256_slli_epi16(_mm256_and_si256(_mm256_srli_epi16(h, 4), m2), 4));
                sub[r][4 * half + 3] = _mm256_or_si256(_mm256_and_si256(_mm256_srli_epi16(l1, 4), m4), _mm256_slli_epi16(_mm256_and_si256(_mm256_srli_epi16(h, 6), m2), 4));
            }
            memcpy(sc[r], x + 192, 16);
            d[r] = h2f(x + 208);
        }
        for (int j = 0; j < 8; j++) {
            __m256i col[8];
            for (int r = 0; r < 8; r++) col[r] = sub[r][j];
            transpose8_epi32(col);
            for (int c = 0; c < 8; c++) _mm256_storeu_si256(o.w + step * ((b * 8 + j) * 8 + c), col[c]);
        }
        for (int s16 = 0; s16 < 16; s16++) {   // each row's scale twice, as the int16 pair a madd takes
            int32_t v[8];
            for (int r = 0; r < 8; r++) v[r] = (int32_t)(((uint32_t)(uint16_t)(int16_t)sc[r][s16]) * 0x10001u);
            _mm256_storeu_si256(o.sc + step * (b * 16 + s16), _mm256_loadu_si256((const __m256i *)v));
        }
        for (int p = 0; p < 8; p++) {          // scales 2p, 2p+1 as an int16 pair, for the bsums
            int32_t v[8];
            for (int r = 0; r < 8; r++) v[r] = (int32_t)((uint32_t)(uint16_t)(int16_t)sc[r][2 * p] | ((uint32_t)(uint16_t)(int16_t)sc[r][2 * p + 1] << 16));
            _mm256_storeu_si256(o.cs + step * (b * 8 + p), _mm256_loadu_si256((const __m256i *)v));
        }
        _mm256_storeu_ps((float *)(o.d + step * b), _mm256_loadu_ps(d));
    }
}

/// One token's product with eight unpacked Q6_K rows: the plain inner loop, for the tokens left
/// over after the blocks of four.
AVX2 static inline __m256 q6K_token8(int nb, const __m256i *w8, const __m256i *scv, const __m256i *csv, const __m256 *dv,
                                     const strata_q8_act *at) {
    __m256 acc = _mm256_setzero_ps();
    for (int b = 0; b < nb; b++) {
        const int32_t *q4 = (const int32_t *)(at->q + 256 * b);
        const __m256i *wb = w8 + b * 64;
        __m256i sumi = q6K_offset(csv + b * 8, at->bsums + 16 * b);
        for (int s16 = 0; s16 < 16; s16++, wb += 4, q4 += 4) {
            __m256i p0 = maddubs_pair(wb, q4), p1 = maddubs_pair(wb + 2, q4 + 2);
            __m256i sc = scv[b * 16 + s16];
            sumi = _mm256_add_epi32(sumi, _mm256_add_epi32(_mm256_madd_epi16(p0, sc), _mm256_madd_epi16(p1, sc)));
        }
        acc = _mm256_fmadd_ps(_mm256_mul_ps(dv[b], _mm256_set1_ps(at->d[b])), _mm256_cvtepi32_ps(sumi), acc);
    }
    return acc;
}

/// Two tokens against sixteen unpacked Q6_K rows (groups g0, g1), as q4K_tokens2x16.
AVX2 static inline void q6K_tokens2x16(int nb, const q6K_unpacked g0, const q6K_unpacked g1, const strata_q8_act *at, float *y, size_t ldy) {
    __m256 acc[4];   // [group·2 + token]
    for (int k = 0; k < 4; k++) acc[k] = _mm256_setzero_ps();
    for (int b = 0; b < nb; b++) {
        const int32_t *q0 = (const int32_t *)(at[0].q + 256 * b), *q1 = (const int32_t *)(at[1].q + 256 * b);
        __m256i sumi[4] = { q6K_offset(g0.cs + b * 8, at[0].bsums + 16 * b), q6K_offset(g0.cs + b * 8, at[1].bsums + 16 * b),
                            q6K_offset(g1.cs + b * 8, at[0].bsums + 16 * b), q6K_offset(g1.cs + b * 8, at[1].bsums + 16 * b) };
        const __m256i *wa = g0.w + b * 64, *wc = g1.w + b * 64;
        for (int s16 = 0; s16 < 16; s16++, wa += 4, wc += 4, q0 += 4, q1 += 4) {
            __m256i a0 = _mm256_set1_epi32(q0[0]), a1 = _mm256_set1_epi32(q0[1]), a2 = _mm256_set1_epi32(q0[2]), a3 = _mm256_set1_epi32(q0[3]);
            __m256i e0 = _mm256_set1_epi32(q1[0]), e1 = _mm256_set1_epi32(q1[1]), e2 = _mm256_set1_epi32(q1[2]), e3 = _mm256_set1_epi32(q1[3]);
            __m256i sca = g0.sc[b * 16 + s16], scc = g1.sc[b * 16 + s16];
            __m256i p, r;
            p = _mm256_add_epi16(_mm256_maddubs_epi16(wa[0], a0), _mm256_maddubs_epi16(wa[1], a1));
            r = _mm256_add_epi16(_mm256_maddubs_epi16(wa[2], a2), _mm256_maddubs_epi16(wa[3], a3));
            sumi[0] = _mm256_add_epi32(sumi[0], _mm256_add_epi32(_mm256_madd_epi16(p, sca), _mm256_madd_epi16(r, sca)));
            p = _mm256_add_epi16(_mm256_maddubs_epi16(wa[0], e0), _mm256_maddubs_epi16(wa[1], e1));
            r = _mm256_add_epi16(_mm256_maddubs_epi16(wa[2], e2), _mm256_maddubs_epi16(wa[3], e3));
            sumi[1] = _mm256_add_epi32(sumi[1], _mm256_add_epi32(_mm256_madd_epi16(p, sca), _mm256_madd_epi16(r, sca)));
            p = _mm256_add_epi16(_mm256_maddubs_epi16(wc[0], a0), _mm256_maddubs_epi16(wc[1], a1));
            r = _mm256_add_epi16(_mm256_maddubs_epi16(wc[2], a2), _mm256_maddubs_epi16(wc[3], a3));
            sumi[2] = _mm256_add_epi32(sumi[2], _mm256_add_epi32(_mm256_madd_epi16(p, scc), _mm256_madd_epi16(r, scc)));
            p = _mm256_add_epi16(_mm256_maddubs_epi16(wc[0], e0), _mm256_maddubs_epi16(wc[1], e1));
            r = _mm256_add_epi16(_mm256_maddubs_epi16(wc[2], e2), _mm256_maddubs_epi16(wc[3], e3));
            sumi[3] = _mm256_add_epi32(sumi[3], _mm256_add_epi32(_mm256_madd_epi16(p, scc), _mm256_madd_epi16(r, scc)));
        }
        for (int k = 0; k < 4; k++)
            acc[k] = _mm256_fmadd_ps(_mm256_mul_ps((k < 2 ? g0 : g1).d[b], _mm256_set1_ps(at[k & 1].d[b])), _mm256_cvtepi32_ps(sumi[k]), acc[k]);
    }
    for (int k = 0; k < 4; k++) _mm256_storeu_ps(y + (size_t)(k & 1) * ldy + 8 * (k >> 1), acc[k]);
}

/// Four tokens against eight unpacked Q6_K rows, for a last group of eight rows.
AVX2 static inline void q6K_tokens4x8(int nb, const q6K_unpacked g, const strata_q8_act *at, float *y, size_t ldy) {
    __m256 acc[4];
    for (int u = 0; u < 4; u++) acc[u] = _mm256_setzero_ps();
    for (int b = 0; b < nb; b++) {
        const int32_t *q[4];
        __m256i sumi[4];
        for (int u = 0; u < 4; u++) {
            q[u] = (const int32_t *)(at[u].q + 256 * b);
            sumi[u] = q6K_offset(g.cs + b * 8, at[u].bsums + 16 * b);
        }
        const __m256i *wb = g.w + b * 64;
        for (int s16 = 0; s16 < 16; s16++, wb += 4) {
            __m256i x0 = wb[0], x1 = wb[1], x2 = wb[2], x3 = wb[3], sc = g.sc[b * 16 + s16];
            for (int u = 0; u < 4; u++) {
                const int32_t *qu = q[u] + 4 * s16;
                __m256i p0 = _mm256_add_epi16(_mm256_maddubs_epi16(x0, _mm256_set1_epi32(qu[0])), _mm256_maddubs_epi16(x1, _mm256_set1_epi32(qu[1])));
                __m256i p1 = _mm256_add_epi16(_mm256_maddubs_epi16(x2, _mm256_set1_epi32(qu[2])), _mm256_maddubs_epi16(x3, _mm256_set1_epi32(qu[3])));
                sumi[u] = _mm256_add_epi32(sumi[u], _mm256_add_epi32(_mm256_madd_epi16(p0, sc), _mm256_madd_epi16(p1, sc)));
            }
        }
        for (int u = 0; u < 4; u++)
            acc[u] = _mm256_fmadd_ps(_mm256_mul_ps(g.d[b], _mm256_set1_ps(at[u].d[b])), _mm256_cvtepi32_ps(sumi[u]), acc[u]);
    }
    for (int u = 0; u < 4; u++) _mm256_storeu_ps(y + (size_t)u * ldy, acc[u]);
}

// Four tokens a step, as strata_gemm8_q4_K_avx2 and for the same reason (sixteen rows by two
// tokens where two groups of eight rows are unpacked, else eight by four); the integer sums are
// exact in any order (two maddubs per int16 sum, as in q6K_token8), the float steps are its.
AVX2 void strata_gemm8_q6_K_avx2(int n, const void *w, size_t row_bytes, int rows, int tokens, const strata_q8_act *a,
                                 float *y, size_t ldy, void *scratch) {
    const int nb = n / 256;
    // Per group of eight rows (11.1n bytes): [nb][8][8 chunks] weights (8 rows × 4 bytes), [nb][16]
    // sub-block scales as int16 pairs, [nb][8] scales 2p, 2p+1 as int16 pairs, [nb] d.
    q6K_unpacked g[2];
    __m256i *next = (__m256i *)scratch;
    for (int k = 0; k < 2; k++) {
        g[k] = (q6K_unpacked){ next, next + nb * 64, next + nb * 80, (__m256 *)(next + nb * 88) };
        next += nb * 89;
    }
    int r0 = 0;
    for (; r0 + 8 <= rows; r0 += 16) {
        const int groups = r0 + 16 <= rows ? 2 : 1;
        for (int k = 0; k < groups; k++)
            strata_unpack8_q6_K((const uint8_t *)w + (size_t)(r0 + 8 * k) * row_bytes, row_bytes, nb, g[k], 1);
        int t = 0;
        for (; t + 4 <= tokens; t += 4) {
            if (groups == 2) {
                q6K_tokens2x16(nb, g[0], g[1], a + t, y + (size_t)t * ldy + r0, ldy);
                q6K_tokens2x16(nb, g[0], g[1], a + t + 2, y + (size_t)(t + 2) * ldy + r0, ldy);
            } else {
                q6K_tokens4x8(nb, g[0], a + t, y + (size_t)t * ldy + r0, ldy);
            }
        }
        for (; t < tokens; t++)
            for (int k = 0; k < groups; k++)
                _mm256_storeu_ps(y + (size_t)t * ldy + r0 + 8 * k, q6K_token8(nb, g[k].w, g[k].sc, g[k].cs, g[k].d, a + t));
        if (groups == 1) { r0 += 8; break; }
    }
    if (r0 < rows)
        strata_tile_q6_K_avx2(n, (const uint8_t *)w + (size_t)r0 * row_bytes, row_bytes, rows - r0, tokens, a, y + r0, ldy, scratch);
}

// Q6_K sixteen rows at a time, bit for bit the eight-row kernel as for Q4_K.
AVX512 void strata_gemm16_q6_K_avx512(int n, const void *w, size_t row_bytes, int rows, int tokens, const strata_q8_act *a,
                                      float *y, size_t ldy, void *scratch) {
    const int nb = n / 256;
    __m512i *w16 = (__m512i *)scratch;
    __m512i *scv = w16 + nb * 64;
    __m512i *csv = scv + nb * 16;
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
                    __m512i p0 = _mm512_add_epi16(_mm512_maddubs_epi16(_mm512_loadu_si512(wb + 0), _mm512_set1_epi32(q4[0])),
                                                  _mm512_maddubs_epi16(_mm512_loadu_si512(wb + 1), _mm512_set1_epi32(q4[1])));
                    __m512i p1 = _mm512_add_epi16(_mm512_maddubs_epi16(_mm512_loadu_si512(wb + 2), _mm512_set1_epi32(q4[2])),
                                                  _mm512_maddubs_epi16(_mm512_loadu_si512(wb + 3), _mm512_set1_epi32(q4[3])));
                    __m512i sc = _mm512_loadu_si512(scv + b * 16 + s16);
                    sumi = _mm512_add_epi32(sumi, _mm512_add_epi32(_mm512_madd_epi16(p0, sc), _mm512_madd_epi16(p1, sc)));
                }
                acc = _mm512_fmadd_ps(_mm512_mul_ps(_mm512_loadu_ps(dv + b), _mm512_set1_ps(at->d[b])), _mm512_cvtepi32_ps(sumi), acc);
            }
            _mm512_storeu_ps(y + (size_t)t * ldy + r0, acc);
        }
    }
    if (r0 < rows)
        strata_gemm8_q6_K_avx2(n, (const uint8_t *)w + (size_t)r0 * row_bytes, row_bytes, rows - r0, tokens, a, y + r0, ldy, scratch);
}

// Q4_1, eight rows interleaved as above: each 32-element block's eight maddubs add up in int16
// (|sum| ≤ 30480), one madd by ones gives the 8 rows' block sums, then the rows' d·da and
// m·s in float. 8 × 256 products cost what the tile kernel spends on 2 × 256. The unpacked
// rows are laid out `step` 256-bit vectors apart, as for Q4_K.
AVX2 void strata_unpack8_q4_1(const void *w, size_t row_bytes, int nb, __m256i *w8, __m256 *dv, __m256 *mv, int step) {
    for (int b = 0; b < nb; b++) {
        __m256i col[8];
        float d[8], m[8];
        for (int r = 0; r < 8; r++) {
            const uint8_t *x = (const uint8_t *)w + (size_t)r * row_bytes + 20 * (size_t)b;
            col[r] = unpack_nibbles(x + 4);
            d[r] = h2f(x);
            m[r] = h2f(x + 2);
        }
        transpose8_epi32(col);
        for (int c = 0; c < 8; c++) _mm256_storeu_si256(w8 + step * (b * 8 + c), col[c]);
        _mm256_storeu_ps((float *)(dv + step * b), _mm256_loadu_ps(d));
        _mm256_storeu_ps((float *)(mv + step * b), _mm256_loadu_ps(m));
    }
}

AVX2 void strata_gemm8_q4_1_avx2(int n, const void *w, size_t row_bytes, int rows, int tokens, const strata_q8_act *a,
                                 float *y, size_t ldy, void *scratch) {
    const int nb = n / 32;
    const __m256i ones = _mm256_set1_epi16(1);
    __m256i *w8 = (__m256i *)scratch;          // [nb][8 chunks]: 8 rows × 4 bytes
    __m256 *dv = (__m256 *)(w8 + nb * 8);      // [nb]: the rows' d
    __m256 *mv = dv + nb;                      // [nb]: the rows' m
    int r0 = 0;
    for (; r0 + 8 <= rows; r0 += 8) {
        strata_unpack8_q4_1((const uint8_t *)w + (size_t)r0 * row_bytes, row_bytes, nb, w8, dv, mv, 1);
        for (int t = 0; t < tokens; t++) {
            const strata_q8_act *at = a + t;
            const int32_t *q4 = (const int32_t *)at->q;
            const __m256i *wb = w8;
            __m256 acc = _mm256_setzero_ps(), accm = _mm256_setzero_ps();
            for (int b = 0; b < nb; b++, wb += 8, q4 += 8) {
                __m256i sum = _mm256_madd_epi16(maddubs_chunk8(wb, q4), ones);
                acc = _mm256_fmadd_ps(_mm256_mul_ps(dv[b], _mm256_set1_ps(at->d[b])), _mm256_cvtepi32_ps(sum), acc);
                accm = _mm256_fmadd_ps(mv[b], _mm256_set1_ps(at->s[b]), accm);
            }
            _mm256_storeu_ps(y + (size_t)t * ldy + r0, _mm256_add_ps(acc, accm));
        }
    }
    if (r0 < rows)
        strata_tile_q4_1_avx2(n, (const uint8_t *)w + (size_t)r0 * row_bytes, row_bytes, rows - r0, tokens, a, y + r0, ldy, scratch);
}

// Q4_1 sixteen rows at a time, bit for bit the eight-row kernel as for Q4_K.
AVX512 void strata_gemm16_q4_1_avx512(int n, const void *w, size_t row_bytes, int rows, int tokens, const strata_q8_act *a,
                                      float *y, size_t ldy, void *scratch) {
    const int nb = n / 32;
    const __m512i ones = _mm512_set1_epi16(1);
    __m512i *w16 = (__m512i *)scratch;         // [nb][8 chunks]: 16 rows × 4 bytes
    __m512 *dv = (__m512 *)(w16 + nb * 8);     // [nb]: the rows' d
    __m512 *mv = dv + nb;                      // [nb]: the rows' m
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
                __m512i s0 = _mm512_add_epi16(_mm512_maddubs_epi16(_mm512_loadu_si512(wb + 0), _mm512_set1_epi32(q4[0])),
                                              _mm512_maddubs_epi16(_mm512_loadu_si512(wb + 1), _mm512_set1_epi32(q4[1])));
                __m512i s1 = _mm512_add_epi16(_mm512_maddubs_epi16(_mm512_loadu_si512(wb + 2), _mm512_set1_epi32(q4[2])),
                                              _mm512_maddubs_epi16(_mm512_loadu_si512(wb + 3), _mm512_set1_epi32(q4[3])));
                __m512i s2 = _mm512_add_epi16(_mm512_maddubs_epi16(_mm512_loadu_si512(wb + 4), _mm512_set1_epi32(q4[4])),
                                              _mm512_maddubs_epi16(_mm512_loadu_si512(wb + 5), _mm512_set1_epi32(q4[5])));
                __m512i s3 = _mm512_add_epi16(_mm512_maddubs_epi16(_mm512_loadu_si512(wb + 6), _mm512_set1_epi32(q4[6])),
                                              _mm512_maddubs_epi16(_mm512_loadu_si512(wb + 7), _mm512_set1_epi32(q4[7])));
                __m512i sum = _mm512_madd_epi16(_mm512_add_epi16(_mm512_add_epi16(s0, s1), _mm512_add_epi16(s2, s3)), ones);
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
// Non-x86 builds never call these (the dispatcher uses the generic kernels); keep the
// symbols so the header stays one list.
#define STRATA_NO_AVX2_TILE(T) \
    void strata_tile_##T##_avx2(int n, const void *w, size_t row_bytes, int rows, int tokens, const strata_q8_act *a, \
                                float *y, size_t ldy, void *scratch) { \
        strata_tile_##T##_generic(n, w, row_bytes, rows, tokens, a, y, ldy, scratch); \
    }
STRATA_NO_AVX2_TILE(q4_1) STRATA_NO_AVX2_TILE(q4_K) STRATA_NO_AVX2_TILE(q6_K)
// The interleaved kernels' names, each falling back to its type's portable tile kernel.
#define STRATA_NO_AVX2_GEMM(NAME, T) \
    void NAME(int n, const void *w, size_t row_bytes, int rows, int tokens, const strata_q8_act *a, \
              float *y, size_t ldy, void *scratch) { \
        strata_tile_##T##_generic(n, w, row_bytes, rows, tokens, a, y, ldy, scratch); \
    }
STRATA_NO_AVX2_GEMM(strata_gemm8_q4_K_avx2, q4_K) STRATA_NO_AVX2_GEMM(strata_gemm16_q4_K_avx512, q4_K)
STRATA_NO_AVX2_GEMM(strata_gemm8_q4_1_avx2, q4_1) STRATA_NO_AVX2_GEMM(strata_gemm16_q4_1_avx512, q4_1)
STRATA_NO_AVX2_GEMM(strata_gemm8_q6_K_avx2, q6_K) STRATA_NO_AVX2_GEMM(strata_gemm16_q6_K_avx512, q6_K)
#endif
