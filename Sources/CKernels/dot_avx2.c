// AVX2 integer dot-product kernels: the one thing Swift cannot express at speed is
// `_mm256_maddubs_epi16` (u8×s8 pairs summed to s16) and `_mm256_madd_epi16`, which let a
// 4-bit × 8-bit block product take a handful of instructions. Everything around them (row
// loops, threads, activation quantization) stays in Swift. Compiled with target attributes
// so the binary still runs, via the generic kernels, on a CPU without AVX2.
// This file: the decode (one token) row kernels and the int8 dots of vector search; the prompt
// kernels are in prompt_avx2.c, what both use in avx2.h.
#include "avx2.h"

#if defined(__x86_64__) || defined(__i386__)

// The half -> float table avx2.h describes.
float strata_half_table[65536];

__attribute__((constructor)) AVX2 static void fill_half_table(void) {
    if (!strata_cpu_supports_avx2_fma()) return;  // the generic kernels do not use it
    for (int i = 0; i < 65536; i++) strata_half_table[i] = _cvtsh_ss((unsigned short)i);
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

/// 16 bytes of nibbles → 32 bytes as unpack_nibbles, in three instructions instead of five:
/// one load into both 128-bit lanes (no shuffle), the high lane shifted by 4 (vpsrlvq), a mask.
AVX2 static inline __m256i unpack_nibbles_bcast(const uint8_t *p, __m256i shift, __m256i m4) {
    __m256i q = _mm256_broadcastsi128_si256(_mm_loadu_si128((const __m128i *)p));
    return _mm256_and_si256(_mm256_srlv_epi64(q, shift), m4);
}

/// One Q4_1 block against its activations: Σ u·q as 8 int32 lanes.
AVX2 static inline __m256i block_q4_1(const uint8_t *x, const int8_t *q, __m256i shift, __m256i m4, __m256i ones) {
    return _mm256_madd_epi16(_mm256_maddubs_epi16(unpack_nibbles_bcast(x + 4, shift, m4), _mm256_loadu_si256((const __m256i *)q)), ones);
}

// Bound by instructions, not bytes, on one Zen 3 core (decode of SmolLM2 ran at ~60% of the
// read bandwidth): four blocks a step and the cheaper unpacking take ~20% of the
// instructions out. The float steps are the two-block loop's, in its order (even blocks into
// acc0, odd into acc1, mins a pair at a time), so results are bit for bit what they were and
// what strata_tile_q4_1_avx2 computes.
AVX2 static void rows_q4_1_one(int n, const void *w, size_t row_bytes, int rows, const strata_q8_act *a, float *y) {
    const int nb = n / 32;
    const __m256i m4 = _mm256_set1_epi8(0x0F), shift = _mm256_set_epi64x(4, 4, 0, 0), ones = _mm256_set1_epi16(1);
    const int8_t *aq = a->q;
    const float *ad = a->d, *as = a->s;
    for (int r = 0; r < rows; r++) {
        const uint8_t *x = (const uint8_t *)w + (size_t)r * row_bytes;
        __m256 acc0 = _mm256_setzero_ps(), acc1 = _mm256_setzero_ps();
        float mins = 0;
        int b = 0;
        for (; b + 3 < nb; b += 4, x += 80) {
            __m256i p0 = block_q4_1(x, aq + 32 * b, shift, m4, ones), p1 = block_q4_1(x + 20, aq + 32 * b + 32, shift, m4, ones);
            __m256i p2 = block_q4_1(x + 40, aq + 32 * b + 64, shift, m4, ones), p3 = block_q4_1(x + 60, aq + 32 * b + 96, shift, m4, ones);
            acc0 = _mm256_fmadd_ps(_mm256_set1_ps(h2f(x) * ad[b]), _mm256_cvtepi32_ps(p0), acc0);
            acc1 = _mm256_fmadd_ps(_mm256_set1_ps(h2f(x + 20) * ad[b + 1]), _mm256_cvtepi32_ps(p1), acc1);
            mins += h2f(x + 2) * as[b] + h2f(x + 22) * as[b + 1];
            acc0 = _mm256_fmadd_ps(_mm256_set1_ps(h2f(x + 40) * ad[b + 2]), _mm256_cvtepi32_ps(p2), acc0);
            acc1 = _mm256_fmadd_ps(_mm256_set1_ps(h2f(x + 60) * ad[b + 3]), _mm256_cvtepi32_ps(p3), acc1);
            mins += h2f(x + 42) * as[b + 2] + h2f(x + 62) * as[b + 3];
        }
        for (; b + 1 < nb; b += 2, x += 40) {
            __m256i p0 = block_q4_1(x, aq + 32 * b, shift, m4, ones), p1 = block_q4_1(x + 20, aq + 32 * b + 32, shift, m4, ones);
            acc0 = _mm256_fmadd_ps(_mm256_set1_ps(h2f(x) * ad[b]), _mm256_cvtepi32_ps(p0), acc0);
            acc1 = _mm256_fmadd_ps(_mm256_set1_ps(h2f(x + 20) * ad[b + 1]), _mm256_cvtepi32_ps(p1), acc1);
            mins += h2f(x + 2) * as[b] + h2f(x + 22) * as[b + 1];
        }
        for (; b < nb; b++, x += 20) {
            __m256i p = block_q4_1(x, aq + 32 * b, shift, m4, ones);
            acc0 = _mm256_fmadd_ps(_mm256_set1_ps(h2f(x) * ad[b]), _mm256_cvtepi32_ps(p), acc0);
            mins += h2f(x + 2) * as[b];
        }
        y[r] = hsum(_mm256_add_ps(acc0, acc1)) + mins;
    }
}

/// The (d, m) halves of block b of four rows (`x` at block b of the first, rows `rb` apart) as
/// floats [d0 m0 d1 m1 d2 m2 d3 m3]: one conversion where the one-row loop looks up eight.
AVX2 static inline __m256 q4_1_heads4(const uint8_t *x, size_t rb) {
    uint32_t h0, h1, h2, h3;
    memcpy(&h0, x, 4); memcpy(&h1, x + rb, 4); memcpy(&h2, x + 2 * rb, 4); memcpy(&h3, x + 3 * rb, 4);
    return _mm256_cvtph_ps(_mm_setr_epi32((int)h0, (int)h1, (int)h2, (int)h3));
}

/// acc += scale · Σ u·q for one Q4_1 block of one row: block_q4_1 and the one-row loop's FMA,
/// the nibbles and the scale straight from memory (a broadcast load costs no vector pipe).
/// Written in assembly because the compiler, given four rows of these, hoisted the loads of
/// all of them, ran out of the sixteen registers and spilled accumulators (~10% slower); as
/// volatile statements they stay in the order written.
AVX2 static inline __m256 q4_1_step(__m256 acc, const uint8_t *nibbles, const float *scale, __m256i q,
                                     __m256i shift, __m256i m4, __m256i ones) {
    __m256i t;
    __m256 u;
    __asm__ volatile("vbroadcasti128 %[n], %[t]\n\t"        // the 16 bytes in both halves
                     "vpsrlvq %[sh], %[t], %[t]\n\t"         // high half >> 4
                     "vpand %[m4], %[t], %[t]\n\t"           // elements 0..15 | 16..31
                     "vpmaddubsw %[q], %[t], %[t]\n\t"
                     "vpmaddwd %[one], %[t], %[t]\n\t"
                     "vcvtdq2ps %[t], %[t]\n\t"
                     "vbroadcastss %[s], %[u]\n\t"
                     "vfmadd231ps %[t], %[u], %[acc]"
                     : [acc] "+x"(acc), [t] "=&x"(t), [u] "=&x"(u)
                     : [n] "m"(*(const __m128i *)nibbles), [s] "m"(*scale), [q] "x"(q), [sh] "x"(shift), [m4] "x"(m4), [one] "x"(ones));
    return acc;
}

// Four rows a step, sharing the activation loads, each row's float steps exactly those of
// rows_q4_1_one (even blocks into acc0, odd into acc1, mins a pair at a time as
// fma(m_b, s_b, m_b+1 · s_b+1)), so every row's result is the same bits. The per-block
// scales of the four rows are worked out in one vector, [d·da | m·s] per row, and each row
// takes its own from memory by a broadcast load: the one-row loop spent ~19 instructions a
// block, eight of them loads, this one ~11, three of them loads.
AVX2 static void rows_q4_1_four(int n, const uint8_t *x, size_t rb, const strata_q8_act *a, float *y) {
    const int nb = n / 32;
    const __m256i m4 = _mm256_set1_epi8(0x0F), shift = _mm256_set_epi64x(4, 4, 0, 0), ones = _mm256_set1_epi16(1);
    const int8_t *aq = a->q;
    const float *ad = a->d, *as = a->s;
    float sc[2][8] __attribute__((aligned(32)));  // this pair of blocks' [d·da, m·s] per row
    __m256 acc0[4], acc1[4], mins = _mm256_setzero_ps();  // mins: odd lanes, one per row
    for (int r = 0; r < 4; r++) acc0[r] = acc1[r] = _mm256_setzero_ps();
    // The next four rows are prefetched in address order, 160 bytes a step (what a step reads
    // of these four), starting 2 KB into them: one step's prefetches are one sequential stream
    // ahead of the reads. Prefetching each of the next rows at this step's offset (four
    // streams 960 bytes apart at 1536 columns) kept 576x1536 at ~10 GB/s streaming on one
    // Zen 3 core; this gives ~14 (1536x576 and 576x576 ~1.1x too; alternating runs).
    const uint8_t *next = x + 4 * rb + 2048;
    int b = 0;
    for (; b + 1 < nb; b += 2, x += 40) {
        __m256 f0 = q4_1_heads4(x, rb), f1 = q4_1_heads4(x + 20, rb);
        __m256 v0 = _mm256_blend_ps(_mm256_broadcast_ss(ad + b), _mm256_broadcast_ss(as + b), 0xAA);
        __m256 v1 = _mm256_blend_ps(_mm256_broadcast_ss(ad + b + 1), _mm256_broadcast_ss(as + b + 1), 0xAA);
        __m256 s1 = _mm256_mul_ps(f1, v1);
        // Odd lanes: m_b·s_b + m_b+1·s_b+1 as the one-row loop rounds it (even lanes unused).
        mins = _mm256_add_ps(mins, _mm256_fmadd_ps(f0, v0, s1));
        __asm__ volatile("" : "+x"(mins));  // done here, so f0, v0, s1 need no registers below
        _mm256_store_ps(sc[0], _mm256_mul_ps(f0, v0));
        _mm256_store_ps(sc[1], s1);
        __m256i q = _mm256_loadu_si256((const __m256i *)(aq + 32 * b));
        for (int r = 0; r < 4; r++) acc0[r] = q4_1_step(acc0[r], x + r * rb + 4, &sc[0][2 * r], q, shift, m4, ones);
        // Four short row streams a group lose the hardware prefetcher (576x1536 streamed at
        // half speed without this).
        for (int o = 0; o < 160; o += 64) _mm_prefetch((const char *)(next + o), _MM_HINT_T0);
        next += 160;
        q = _mm256_loadu_si256((const __m256i *)(aq + 32 * b + 32));
        for (int r = 0; r < 4; r++) acc1[r] = q4_1_step(acc1[r], x + r * rb + 24, &sc[1][2 * r], q, shift, m4, ones);
    }
    if (b < nb) {  // an odd last block: acc0, and mins as fma(m, s, mins)
        __m256 f0 = q4_1_heads4(x, rb);
        __m256 v0 = _mm256_blend_ps(_mm256_broadcast_ss(ad + b), _mm256_broadcast_ss(as + b), 0xAA);
        mins = _mm256_fmadd_ps(f0, v0, mins);
        _mm256_store_ps(sc[0], _mm256_mul_ps(f0, v0));
        __m256i q = _mm256_loadu_si256((const __m256i *)(aq + 32 * b));
        for (int r = 0; r < 4; r++) acc0[r] = q4_1_step(acc0[r], x + r * rb + 4, &sc[0][2 * r], q, shift, m4, ones);
    }
    float m[8];
    _mm256_storeu_ps(m, mins);
    for (int r = 0; r < 4; r++) y[r] = hsum(_mm256_add_ps(acc0[r], acc1[r])) + m[2 * r + 1];
}

AVX2 void strata_rows_q4_1_avx2(int n, const void *w, size_t row_bytes, int rows, const strata_q8_act *a, float *y) {
    int r = 0;
    for (; r + 3 < rows; r += 4) rows_q4_1_four(n, (const uint8_t *)w + (size_t)r * row_bytes, row_bytes, a, y + r);
    if (r < rows) rows_q4_1_one(n, (const uint8_t *)w + (size_t)r * row_bytes, row_bytes, rows - r, a, y + r);
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

AVX2 static void rows_q8_0_one(int n, const void *w, size_t row_bytes, int rows, const strata_q8_act *a, float *y) {
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

/// acc += scale · Σ w·q for one Q8_0 block of one row, as rows_q8_0_one does it (s8×s8 via
/// u8×s8: |w| times q with w's sign moved onto q), in assembly for the reason q4_1_step is.
AVX2 static inline __m256 q8_0_step(__m256 acc, const uint8_t *weights, const float *scale, __m256i q, __m256i ones) {
    __m256i t, u;
    __m256 v;
    __asm__ volatile("vmovdqu %[w], %[t]\n\t"
                     "vpsignb %[t], %[q], %[u]\n\t"     // q with w's sign
                     "vpsignb %[t], %[t], %[t]\n\t"     // |w|
                     "vpmaddubsw %[u], %[t], %[t]\n\t"
                     "vpmaddwd %[one], %[t], %[t]\n\t"
                     "vcvtdq2ps %[t], %[t]\n\t"
                     "vbroadcastss %[s], %[v]\n\t"
                     "vfmadd231ps %[t], %[v], %[acc]"
                     : [acc] "+x"(acc), [t] "=&x"(t), [u] "=&x"(u), [v] "=&x"(v)
                     : [w] "m"(*(const __m256i *)weights), [s] "m"(*scale), [q] "x"(q), [one] "x"(ones));
    return acc;
}

// Eight rows a step. The one-row loop is bound by its accumulator (one FMA a block, each
// waiting for the last: 4 cycles a block on Zen 3) and spends a table lookup and a scalar
// multiply on each scale; here eight rows' chains run side by side, and a block's eight scales
// come from one conversion and one multiply, each row taking its own by a broadcast load.
// Every row's float steps are rows_q8_0_one's in its order: the same bits.
AVX2 static void rows_q8_0_eight(int n, const uint8_t *x, size_t rb, const strata_q8_act *a, float *y) {
    const int nb = n / 32;
    const __m256i ones = _mm256_set1_epi16(1);
    // Rows 0-3 at x + {0, 1, 2, 3}·rb, rows 4-7 the same from x4: two pointers and two strides
    // in registers (with a pointer per row the compiler ran out of general registers).
    const uint8_t *x4 = x + 4 * rb;
    const size_t rb3 = 3 * rb;
    // The next eight rows, read through in order over this group's steps (see rows_q4_1_four).
    const uint8_t *next = x + 8 * rb;
    const size_t ahead = (8 * rb + (size_t)nb - 1) / (size_t)nb;  // bytes of them per block
    float sc[8] __attribute__((aligned(32)));
    __m256 acc[8];
    for (int r = 0; r < 8; r++) acc[r] = _mm256_setzero_ps();
    for (int b = 0; b < nb; b++, x += 34, x4 += 34, next += ahead) {
        // The eight rows' f16 scales, gathered in general registers (idle here).
        uint16_t h[8];
        memcpy(h + 0, x, 2); memcpy(h + 1, x + rb, 2); memcpy(h + 2, x + 2 * rb, 2); memcpy(h + 3, x + rb3, 2);
        memcpy(h + 4, x4, 2); memcpy(h + 5, x4 + rb, 2); memcpy(h + 6, x4 + 2 * rb, 2); memcpy(h + 7, x4 + rb3, 2);
        __m128i hv = _mm_loadu_si128((const __m128i *)h);
        _mm256_store_ps(sc, _mm256_mul_ps(_mm256_cvtph_ps(hv), _mm256_broadcast_ss(a->d + b)));
        __m256i q = _mm256_loadu_si256((const __m256i *)(a->q + 32 * b));
        acc[0] = q8_0_step(acc[0], x + 2, &sc[0], q, ones);
        acc[1] = q8_0_step(acc[1], x + rb + 2, &sc[1], q, ones);
        acc[2] = q8_0_step(acc[2], x + 2 * rb + 2, &sc[2], q, ones);
        acc[3] = q8_0_step(acc[3], x + rb3 + 2, &sc[3], q, ones);
        acc[4] = q8_0_step(acc[4], x4 + 2, &sc[4], q, ones);
        acc[5] = q8_0_step(acc[5], x4 + rb + 2, &sc[5], q, ones);
        acc[6] = q8_0_step(acc[6], x4 + 2 * rb + 2, &sc[6], q, ones);
        acc[7] = q8_0_step(acc[7], x4 + rb3 + 2, &sc[7], q, ones);
        for (size_t o = 0; o < ahead; o += 64) _mm_prefetch((const char *)(next + o), _MM_HINT_T0);
    }
    for (int r = 0; r < 8; r++) y[r] = hsum(acc[r]);
}

AVX2 void strata_rows_q8_0_avx2(int n, const void *w, size_t row_bytes, int rows, const strata_q8_act *a, float *y) {
    int r = 0;
    for (; r + 7 < rows; r += 8) rows_q8_0_eight(n, (const uint8_t *)w + (size_t)r * row_bytes, row_bytes, a, y + r);
    if (r < rows) rows_q8_0_one(n, (const uint8_t *)w + (size_t)r * row_bytes, row_bytes, rows - r, a, y + r);
}

/// How far ahead of the block being read the K-quant row kernels prefetch. One row is one
/// sequential stream, but on one Zen 3 core the hardware prefetcher alone kept it at ~11 GB/s
/// against ~17 GB/s of read bandwidth; 3-6 KB ahead (the next rows when a row ends) gave
/// Q4_K and Q6_K 1.13-1.26x when streaming, 1.5 KB ~1.1x, 0.5 KB little (one core, CPU time,
/// alternating runs). The matrices of a decode step never fit in cache; from cache the extra
/// instructions cost ~3%.
#define K_PREFETCH_AHEAD 4096

/// Prefetches one block's worth of lines K_PREFETCH_AHEAD bytes past `x` (a hint: past the end
/// of the matrix it does nothing).
AVX2 static inline void prefetch_ahead(const uint8_t *x, int block_bytes) {
    for (int o = 0; o < block_bytes; o += 64) _mm_prefetch((const char *)(x + K_PREFETCH_AHEAD + o), _MM_HINT_T0);
}


/// vpshufb controls that spread int16 lane j of a 128-bit lane over all of it (ggml's
/// get_scale_shuffle_k4): one shuffle per scale vector where a broadcast of a byte took a
/// scalar extract, a vmovd and a vpbroadcastw, two of them on the vector pipes the kernel is
/// bound by (Q4_K decode, one thread: see strata_rows_q4_K_avx2).
static const uint8_t spread16[8][32] __attribute__((aligned(32))) = {
#define S(j) {2*j, 2*j+1, 2*j, 2*j+1, 2*j, 2*j+1, 2*j, 2*j+1, 2*j, 2*j+1, 2*j, 2*j+1, 2*j, 2*j+1, 2*j, 2*j+1, \
               2*j, 2*j+1, 2*j, 2*j+1, 2*j, 2*j+1, 2*j, 2*j+1, 2*j, 2*j+1, 2*j, 2*j+1, 2*j, 2*j+1, 2*j, 2*j+1}
    S(0), S(1), S(2), S(3), S(4), S(5), S(6), S(7)
#undef S
};

AVX2 static inline void rows_q45_K(int n, const void *w, size_t row_bytes, int rows,
                                   const strata_q8_act *a, float *y, int five) {
    const int nb = n / 256;
    const __m256i m4 = _mm256_set1_epi8(0x0F), one = _mm256_set1_epi8(1);
    // Hidden from the optimiser, which otherwise sees splats in the constant shuffles and
    // turns each back into two instructions (vpshufd + vpbroadcastw).
    const uint8_t (*spread)[32] = spread16;
    __asm__("" : "+r"(spread));
    for (int r = 0; r < rows; r++) {
        const uint8_t *x = (const uint8_t *)w + (size_t)r * row_bytes;
        __m256 acc = _mm256_setzero_ps();
        __m128 accm = _mm_setzero_ps();
        for (int b = 0; b < nb; b++, x += five ? 176 : 144) {
            uint32_t sm[4];
            scales_mins_k4(x + 4, sm);
            const uint8_t *qs = x + (five ? 48 : 16);
            const int8_t *q8 = a->q + 256 * b;
            // The 8 scales and 8 mins as int16: scales in both 128-bit lanes, mins in one.
            __m128i smv = _mm_loadu_si128((const __m128i *)sm);
            __m256i scales = _mm256_broadcastsi128_si256(_mm_cvtepu8_epi16(smv));
            // Σ_j min_j · (bsums[2j] + bsums[2j+1]) in one madd.
            __m256i bs = _mm256_loadu_si256((const __m256i *)(a->bsums + 16 * b));
            __m128i pair_sums = _mm_hadd_epi16(_mm256_castsi256_si128(bs), _mm256_extracti128_si256(bs, 1));
            __m128i mins = _mm_cvtepu8_epi16(_mm_unpackhi_epi64(smv, smv));
            __m128i mprod = _mm_madd_epi16(mins, pair_sums);
            __m256i hb = five ? _mm256_loadu_si256((const __m256i *)(x + 16)) : _mm256_setzero_si256();
            __m256i sumi = _mm256_setzero_si256();
            for (int k = 0; k < 4; k++) {
                __m256i q = _mm256_loadu_si256((const __m256i *)(qs + 32 * k));
                __m256i lo = _mm256_and_si256(q, m4), hi = _mm256_and_si256(_mm256_srli_epi16(q, 4), m4);
                if (five) {
                    lo = _mm256_or_si256(lo, _mm256_slli_epi16(_mm256_and_si256(hb, one), 4));
                    hi = _mm256_or_si256(hi, _mm256_slli_epi16(_mm256_and_si256(_mm256_srli_epi16(hb, 1), one), 4));
                    hb = _mm256_srli_epi16(hb, 2);
                }
                __m256i p0 = _mm256_madd_epi16(_mm256_maddubs_epi16(lo, _mm256_loadu_si256((const __m256i *)(q8 + 64 * k))),
                                               _mm256_shuffle_epi8(scales, _mm256_load_si256((const __m256i *)spread[2 * k])));
                __m256i p1 = _mm256_madd_epi16(_mm256_maddubs_epi16(hi, _mm256_loadu_si256((const __m256i *)(q8 + 64 * k + 32))),
                                               _mm256_shuffle_epi8(scales, _mm256_load_si256((const __m256i *)spread[2 * k + 1])));
                sumi = _mm256_add_epi32(sumi, _mm256_add_epi32(p0, p1));
            }
            prefetch_ahead(x, five ? 176 : 144);
            float da = a->d[b];
            acc = _mm256_fmadd_ps(_mm256_set1_ps(da * h2f(x)), _mm256_cvtepi32_ps(sumi), acc);
            accm = _mm_fmadd_ps(_mm_set1_ps(da * h2f(x + 2)), _mm_cvtepi32_ps(mprod), accm);
        }
        __m128 m = _mm_add_ps(accm, _mm_movehl_ps(accm, accm));
        m = _mm_add_ss(m, _mm_movehdup_ps(m));
        y[r] = hsum(acc) - _mm_cvtss_f32(m);
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
    const __m256i m4 = _mm256_set1_epi8(0x0F), m30 = _mm256_set1_epi8(0x30);
    // Shuffles that spread int16 scale 2k over the low 128 bits and 2k+1 over the high 128
    // bits (16-bit lanes 0..7 hold elements 0..15 of a 32-element quarter, lanes 8..15 16..31).
    __m256i spread[4];
    for (int k = 0; k < 4; k++) {
        const char lo = (char)(4 * k), hi = (char)(4 * k + 2);
        spread[k] = _mm256_setr_epi8(lo, lo + 1, lo, lo + 1, lo, lo + 1, lo, lo + 1, lo, lo + 1, lo, lo + 1, lo, lo + 1, lo, lo + 1,
                                     hi, hi + 1, hi, hi + 1, hi, hi + 1, hi, hi + 1, hi, hi + 1, hi, hi + 1, hi, hi + 1, hi, hi + 1);
    }
    for (int r = 0; r < rows; r++) {
        const uint8_t *x = (const uint8_t *)w + (size_t)r * row_bytes;
        __m256 acc = _mm256_setzero_ps();
        for (int b = 0; b < nb; b++, x += 210) {
            const int8_t *q8 = a->q + 256 * b;
            __m128i sc8 = _mm_loadu_si128((const __m128i *)(x + 192));
            // The -32 offset of every weight, through the group sums: 32 · Σ_g sc[g]·bsums[g].
            __m256i corr = _mm256_madd_epi16(_mm256_cvtepi8_epi16(sc8), _mm256_loadu_si256((const __m256i *)(a->bsums + 16 * b)));
            __m256i sumi = _mm256_sub_epi32(_mm256_setzero_si256(), _mm256_slli_epi32(corr, 5));
            for (int half = 0; half < 2; half++) {
                const uint8_t *ql = x + 64 * half, *qh = x + 128 + 32 * half;
                const int8_t *a8 = q8 + 128 * half;
                __m256i s16 = _mm256_broadcastsi128_si256(_mm_cvtepi8_epi16(half ? _mm_srli_si128(sc8, 8) : sc8));
                __m256i l0 = _mm256_loadu_si256((const __m256i *)ql);
                __m256i l1 = _mm256_loadu_si256((const __m256i *)(ql + 32));
                __m256i h = _mm256_loadu_si256((const __m256i *)qh);
                // The 2-bit high parts shifted straight to bits 4-5 and masked there: 7 operations
                // for the four instead of 11 (16-bit shifts only move bits across a byte boundary
                // into places the 0x30 mask drops).
                __m256i q[4];
                q[0] = _mm256_or_si256(_mm256_and_si256(l0, m4), _mm256_and_si256(_mm256_slli_epi16(h, 4), m30));
                q[1] = _mm256_or_si256(_mm256_and_si256(l1, m4), _mm256_and_si256(_mm256_slli_epi16(h, 2), m30));
                q[2] = _mm256_or_si256(_mm256_and_si256(_mm256_srli_epi16(l0, 4), m4), _mm256_and_si256(h, m30));
                q[3] = _mm256_or_si256(_mm256_and_si256(_mm256_srli_epi16(l1, 4), m4), _mm256_and_si256(_mm256_srli_epi16(h, 2), m30));
                for (int k = 0; k < 4; k++) {
                    __m256i p = _mm256_maddubs_epi16(q[k], _mm256_loadu_si256((const __m256i *)(a8 + 32 * k)));
                    sumi = _mm256_add_epi32(sumi, _mm256_madd_epi16(p, _mm256_shuffle_epi8(s16, spread[k])));
                }
            }
            prefetch_ahead(x, 210);
            acc = _mm256_fmadd_ps(_mm256_set1_ps(h2f(x + 208) * a->d[b]), _mm256_cvtepi32_ps(sumi), acc);
        }
        y[r] = hsum(acc);
    }
}
/// Int8 rows × int8 query, 32 bytes a step; four rows share each load of the query. Values
/// are in [-127, 127], so |x|·(±q) pairs summed by maddubs stay below 2·127² < 2¹⁵.
AVX2 static inline __m256i dot32_s8(__m256i x, __m256i q) {
    return dot_u8s8(_mm256_sign_epi8(x, x), _mm256_sign_epi8(q, x));
}

AVX2 static inline int32_t hsum_i32(__m256i v) {
    __m128i s = _mm_add_epi32(_mm256_castsi256_si128(v), _mm256_extracti128_si256(v, 1));
    s = _mm_add_epi32(s, _mm_shuffle_epi32(s, 0x4E));
    s = _mm_add_epi32(s, _mm_shuffle_epi32(s, 0xB1));
    return _mm_cvtsi128_si32(s);
}

AVX2 void strata_i8_dots_avx2(int d, const int8_t *x, int rows, const int8_t *q, int32_t *out) {
    const int body = d & ~31;
    int r = 0;
    for (; r + 4 <= rows; r += 4, x += 4 * (size_t)d) {
        // A scan is bound by memory: ask for the rows 8 ahead now, so more lines are in flight
        // than the hardware prefetcher keeps for one core.
        if (r + 28 <= rows)
            for (int i = 0; i < 4 * d; i += 64) _mm_prefetch((const char *)(x + 24 * (size_t)d + i), _MM_HINT_T0);
        __m256i a0 = _mm256_setzero_si256(), a1 = a0, a2 = a0, a3 = a0;
        for (int i = 0; i < body; i += 32) {
            __m256i qv = _mm256_loadu_si256((const __m256i *)(q + i));
            a0 = _mm256_add_epi32(a0, dot32_s8(_mm256_loadu_si256((const __m256i *)(x + i)), qv));
            a1 = _mm256_add_epi32(a1, dot32_s8(_mm256_loadu_si256((const __m256i *)(x + d + i)), qv));
            a2 = _mm256_add_epi32(a2, dot32_s8(_mm256_loadu_si256((const __m256i *)(x + 2 * d + i)), qv));
            a3 = _mm256_add_epi32(a3, dot32_s8(_mm256_loadu_si256((const __m256i *)(x + 3 * d + i)), qv));
        }
        int32_t s[4] = {hsum_i32(a0), hsum_i32(a1), hsum_i32(a2), hsum_i32(a3)};
        for (int i = body; i < d; i++)
            for (int k = 0; k < 4; k++) s[k] += (int32_t)x[k * d + i] * q[i];
        for (int k = 0; k < 4; k++) out[r + k] = s[k];
    }
    for (; r < rows; r++, x += d) {
        __m256i a = _mm256_setzero_si256();
        for (int i = 0; i < body; i += 32)
            a = _mm256_add_epi32(a, dot32_s8(_mm256_loadu_si256((const __m256i *)(x + i)), _mm256_loadu_si256((const __m256i *)(q + i))));
        int32_t s = hsum_i32(a);
        for (int i = body; i < d; i++) s += (int32_t)x[i] * q[i];
        out[r] = s;
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
void strata_i8_dots_avx2(int d, const int8_t *x, int rows, const int8_t *q, int32_t *out) {
    strata_i8_dots_generic(d, x, rows, q, out);
}
#endif
