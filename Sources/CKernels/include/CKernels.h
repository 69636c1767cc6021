#ifndef STRATA_CKERNELS_H
#define STRATA_CKERNELS_H
#include <stdint.h>
#include <stddef.h>

/// 1 when this CPU has AVX2, FMA and F16C (what the release binary is compiled for).
int strata_cpu_supports_avx2_fma(void);
/// 1 when it also has AVX-512F and AVX-512BW, with the OS saving 512-bit registers.
int strata_cpu_supports_avx512bw(void);
/// 1 when it also has AVX-512 VNNI (`vpdpbusd` on 512-bit vectors) besides AVX-512BW.
int strata_cpu_supports_avx512vnni(void);
/// 1 when it has AVX-VNNI (the VEX-encoded 256-bit `vpdpbusd`, e.g. Intel Alder Lake, AMD Zen 5).
int strata_cpu_supports_avxvnni(void);

/// A spin-wait hint (x86 `pause`), so a spinning thread yields its core's pipeline.
static inline void strata_cpu_relax(void) {
#if defined(__x86_64__) || defined(__i386__)
    __builtin_ia32_pause();
#endif
}

/// Activations quantized to 8 bits, as the Swift side lays them out (not ggml's byte layout):
/// - `q`: n int8 values;
/// - for the 32-element types: `d[b]` is the scale of block b and `s[b]` = d[b]·Σq over it;
/// - for the 256-element (K) types: `d[b]` is the scale of block b and `bsums[g]` = Σq over
///   each group of 16 (llama.cpp's block_q8_K.bsums).
typedef struct {
    const int8_t *q;
    const float *d;
    const float *s;
    const int16_t *bsums;
} strata_q8_act;

/// Integer dot-product kernels: y[r] = Σ_i W[r,i]·a[i] for rows [0, rows) of a quantized
/// weight matrix (rows `row_bytes` apart, `n` elements each) against quantized activations.
/// Each has a portable variant (`_generic`, plain C, float contraction off so it matches the
/// Swift reference twin bit for bit) and an AVX2 one; the unsuffixed entry picks at run time.
#define STRATA_DECLARE_ROWS(T) \
    void strata_rows_##T(int n, const void *w, size_t row_bytes, int rows, const strata_q8_act *a, float *y); \
    void strata_rows_##T##_generic(int n, const void *w, size_t row_bytes, int rows, const strata_q8_act *a, float *y); \
    void strata_rows_##T##_avx2(int n, const void *w, size_t row_bytes, int rows, const strata_q8_act *a, float *y);

STRATA_DECLARE_ROWS(q4_0)
STRATA_DECLARE_ROWS(q4_1)
STRATA_DECLARE_ROWS(q5_0)
STRATA_DECLARE_ROWS(q8_0)
STRATA_DECLARE_ROWS(q4_K)
STRATA_DECLARE_ROWS(q5_K)
STRATA_DECLARE_ROWS(q6_K)

/// The prompt (prefill) product: y[t·ldy + r] = Σ_i W[r,i]·a[t][i] for rows [0, rows) and
/// tokens [0, tokens), `a` holding one activation view per token. Each weight row is unpacked
/// once into `scratch` (at least strata_tile_scratch_bytes(n) bytes, 32-byte aligned) and then
/// multiplied with every token, so the unpacking is paid once per row instead of once per
/// token. Every result equals the matching strata_rows_T variant's for that token bit for bit
/// (same integer lanes, same float order), so a prompt computes what decoding it would; the
/// Swift reference twin is therefore ReferenceDot.dot token by token, as for the row kernels.
#define STRATA_DECLARE_TILE(T) \
    void strata_tile_##T(int n, const void *w, size_t row_bytes, int rows, int tokens, const strata_q8_act *a, float *y, size_t ldy, void *scratch); \
    void strata_tile_##T##_generic(int n, const void *w, size_t row_bytes, int rows, int tokens, const strata_q8_act *a, float *y, size_t ldy, void *scratch); \
    void strata_tile_##T##_avx2(int n, const void *w, size_t row_bytes, int rows, int tokens, const strata_q8_act *a, float *y, size_t ldy, void *scratch);

STRATA_DECLARE_TILE(q4_1)
STRATA_DECLARE_TILE(q4_K)
STRATA_DECLARE_TILE(q6_K)

/// Q4_K prefill, eight rows interleaved per step (AVX2 only; the rest of `rows` below a
/// multiple of 8 goes to strata_tile_q4_K_avx2). The same integer sums as the row kernels,
/// scaled per block: equal to them up to float rounding, not bit for bit.
void strata_gemm8_q4_K_avx2(int n, const void *w, size_t row_bytes, int rows, int tokens, const strata_q8_act *a, float *y, size_t ldy, void *scratch);
/// Q4_K prefill sixteen rows at a time on AVX-512BW, bit for bit strata_gemm8_q4_K_avx2 (same
/// lane arithmetic on twice the lanes); the rest of `rows` below a multiple of 16 goes to it.
/// Call only when strata_cpu_supports_avx512bw().
void strata_gemm16_q4_K_avx512(int n, const void *w, size_t row_bytes, int rows, int tokens, const strata_q8_act *a, float *y, size_t ldy, void *scratch);
/// Q4_1 likewise (the rest of the rows through strata_tile_q4_1_avx2).
void strata_gemm8_q4_1_avx2(int n, const void *w, size_t row_bytes, int rows, int tokens, const strata_q8_act *a, float *y, size_t ldy, void *scratch);
/// Q6_K likewise: eight rows on AVX2 (the rest through strata_tile_q6_K_avx2), sixteen on
/// AVX-512BW bit for bit the eight-row kernel.
void strata_gemm8_q6_K_avx2(int n, const void *w, size_t row_bytes, int rows, int tokens, const strata_q8_act *a, float *y, size_t ldy, void *scratch);
void strata_gemm16_q6_K_avx512(int n, const void *w, size_t row_bytes, int rows, int tokens, const strata_q8_act *a, float *y, size_t ldy, void *scratch);
/// Q4_1 sixteen rows at a time on AVX-512BW, bit for bit strata_gemm8_q4_1_avx2.
void strata_gemm16_q4_1_avx512(int n, const void *w, size_t row_bytes, int rows, int tokens, const strata_q8_act *a, float *y, size_t ldy, void *scratch);

/// The interleaved kernels with `vpdpbusd` in place of maddubs + madd (dot_vnni.c): bit for bit
/// the eight-row AVX2 kernels of their type (see dot_vnni.c for why nothing saturates).
/// `_avxvnni`: eight rows, AVX-VNNI — call only when strata_cpu_supports_avxvnni().
/// `_avx512vnni`: sixteen rows, AVX-512 VNNI — only when strata_cpu_supports_avx512vnni().
/// `_vnni_emulated`: the eight-row VNNI code with vpdpbusd done exactly in AVX2, so a host without
/// VNNI tests what the VNNI kernels compute (not their speed).
#define STRATA_DECLARE_VNNI(T) \
    void strata_gemm8_##T##_avxvnni(int n, const void *w, size_t row_bytes, int rows, int tokens, const strata_q8_act *a, float *y, size_t ldy, void *scratch); \
    void strata_gemm8_##T##_vnni_emulated(int n, const void *w, size_t row_bytes, int rows, int tokens, const strata_q8_act *a, float *y, size_t ldy, void *scratch); \
    void strata_gemm16_##T##_avx512vnni(int n, const void *w, size_t row_bytes, int rows, int tokens, const strata_q8_act *a, float *y, size_t ldy, void *scratch);

STRATA_DECLARE_VNNI(q4_K)
STRATA_DECLARE_VNNI(q6_K)
STRATA_DECLARE_VNNI(q4_1)

/// Runs `iterations` steps of register-only int8 multiply-adds with one path's instruction and
/// returns how many u8·s8 products they made (0 when the CPU lacks it): 0 maddubs (AVX2),
/// 1 maddubs on 512 bits (AVX-512BW), 2 vpdpbusd (AVX-512 VNNI), 3 vpdpbusd (AVX-VNNI). Divided
/// by the time it took, the compute ceiling of the prompt kernels (bench-llm).
long long strata_int8_peak(int path, long long iterations);

/// Bytes of scratch the tile kernels need for rows of n elements.
size_t strata_tile_scratch_bytes(int n);

/// Σ q[i]·x[r][i] as int32 for rows [0, rows) of a row-major int8 matrix (rows `d` bytes
/// apart), every value in [-127, 127] (the vector index's int8 copy against an int8 query).
/// Portable and AVX2 variants as above; the Swift reference twin is QuantizedRows.referenceDot.
void strata_i8_dots(int d, const int8_t *x, int rows, const int8_t *q, int32_t *out);
void strata_i8_dots_generic(int d, const int8_t *x, int rows, const int8_t *q, int32_t *out);
void strata_i8_dots_avx2(int d, const int8_t *x, int rows, const int8_t *q, int32_t *out);

#endif
