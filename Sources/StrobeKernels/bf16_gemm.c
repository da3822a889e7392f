#include "strobe_bf16.h"

#include <stdlib.h>
#include <string.h>

#include "strobe_cpu.h"

int strobe_bf16_supported(void) {
    // Read once (getenv must not race a setenv elsewhere on every call). STROBE_DISABLE_BF16
    // makes a CPU with AVX512_BF16 behave as one without (for testing the refusal, or to rule
    // bf16 out in a deployment).
    static int cached = -1;  // a benign race: every thread computes the same value
    int value = __atomic_load_n(&cached, __ATOMIC_RELAXED);
    if (value < 0) {
        unsigned need = STROBE_CPU_AVX512 | STROBE_CPU_AVX512_BF16;
        value = (strobe_cpu_features() & need) == need && getenv("STROBE_DISABLE_BF16") == NULL;
        __atomic_store_n(&cached, value, __ATOMIC_RELAXED);
    }
    return value;
}

/// A 32-bit word read from memory written as bf16 halves.
typedef uint32_t __attribute__((may_alias)) pair_word;

static inline uint16_t round_bf16(float x) {
    uint32_t bits;
    memcpy(&bits, &x, sizeof bits);
    if ((bits & 0x7fffffffu) > 0x7f800000u) return (uint16_t)((bits >> 16) | 0x0040u);  // NaN
    if ((bits & 0x7f800000u) == 0) return (uint16_t)((bits >> 16) & 0x8000u);  // subnormal → ±0
    bits += 0x7fffu + ((bits >> 16) & 1u);
    return (uint16_t)(bits >> 16);
}

uint16_t strobe_bf16_round(float x) { return round_bf16(x); }

static long pairs(long k) { return (k + 1) / 2; }

long strobe_bf16_packed_count(long k, long n) {
    long panels = (n + STROBE_BF16_PANEL - 1) / STROBE_BF16_PANEL;
    return panels * pairs(k) * 2 * STROBE_BF16_PANEL;
}

static void pack_scalar(const float *b, long ldb, int trans, long k, long n, uint16_t *packed) {
    long kp = pairs(k), panels = (n + STROBE_BF16_PANEL - 1) / STROBE_BF16_PANEL;
    // Panel p, pair q, lane l holds (B[2q, j], B[2q+1, j]) for column j = 32p + l, as one
    // 32-bit word (the even k in the low half): 32 words per pair, two zmm registers.
    uint32_t *words = (uint32_t *)packed;
    if (trans) {
        // Column j of B is row j of the source: convert it once, then spread its pairs.
        uint16_t *column = calloc((size_t)(2 * kp), sizeof(uint16_t));
        if (column == NULL) abort();
        for (long j = 0; j < panels * STROBE_BF16_PANEL; j++) {
            uint32_t *panel = words + (j / STROBE_BF16_PANEL) * kp * STROBE_BF16_PANEL;
            long lane = j % STROBE_BF16_PANEL;
            for (long kk = 0; kk < k; kk++) column[kk] = j < n ? round_bf16(b[j * ldb + kk]) : 0;
            const uint16_t *pair = column;
            for (long q = 0; q < kp; q++, pair += 2)
                panel[q * STROBE_BF16_PANEL + lane] = (uint32_t)pair[0] | ((uint32_t)pair[1] << 16);
        }
        free(column);
        return;
    }
    for (long p = 0; p < panels; p++) {
        uint32_t *panel = words + p * kp * STROBE_BF16_PANEL;
        for (long q = 0; q < kp; q++) {
            const float *even = b + (2 * q) * ldb, *odd = b + (2 * q + 1) * ldb;
            int hasOdd = 2 * q + 1 < k;
            for (long lane = 0; lane < STROBE_BF16_PANEL; lane++) {
                long j = p * STROBE_BF16_PANEL + lane;
                uint32_t lo = j < n ? round_bf16(even[j]) : 0, hi = j < n && hasOdd ? round_bf16(odd[j]) : 0;
                panel[q * STROBE_BF16_PANEL + lane] = lo | (hi << 16);
            }
        }
    }
}

#if defined(__x86_64__)
#include <immintrin.h>

#define TARGET __attribute__((target("avx512f,avx512bw,avx512vl,avx512dq,avx512bf16")))

/// Stores `acc * alpha (+ beta * C)` into the first `n` (≤ 16) columns at `c`.
TARGET static inline void store16(float *c, __m512 acc, float alpha, float beta, long n) {
    __mmask16 mask = n >= 16 ? (__mmask16)0xffff : (__mmask16)((1u << n) - 1);
    __m512 v = _mm512_mul_ps(acc, _mm512_set1_ps(alpha));
    if (beta != 0) v = _mm512_add_ps(v, _mm512_mul_ps(_mm512_set1_ps(beta), _mm512_maskz_loadu_ps(mask, c)));
    _mm512_mask_storeu_ps(c, mask, v);
}

/// bf16 of `k` floats (VCVTNEPS2BF16: nearest even, subnormals to zero; as strobe_bf16_round).
TARGET static void convert_row(const float *src, uint16_t *dst, long k) {
    long kk = 0;
    for (; kk + 16 <= k; kk += 16)
        _mm256_storeu_si256((__m256i *)(dst + kk), (__m256i)_mm512_cvtneps_pbh(_mm512_loadu_ps(src + kk)));
    for (; kk < k; kk++) dst[kk] = round_bf16(src[kk]);
}

/// 16 words (B[2q, j], B[2q+1, j]) for j = 0..<16 from two rows of 16 floats.
TARGET static inline __m512i pair_words(const float *even, const float *odd) {
    __m512i lo = _mm512_cvtepu16_epi32((__m256i)_mm512_cvtneps_pbh(_mm512_loadu_ps(even)));
    __m512i hi = _mm512_cvtepu16_epi32((__m256i)_mm512_cvtneps_pbh(_mm512_loadu_ps(odd)));
    return _mm512_or_si512(lo, _mm512_slli_epi32(hi, 16));
}

/// strobe_bf16_pack with AVX-512 conversions, for whole panels and an even K (the caller falls
/// back to the scalar packing otherwise). Same bits as the scalar packing.
TARGET static void pack_avx512(const float *b, long ldb, int trans, long k, long n, uint16_t *packed) {
    long kp = k / 2, panels = n / STROBE_BF16_PANEL;
    uint32_t *words = (uint32_t *)packed;
    if (trans) {
        uint16_t *column = malloc((size_t)k * sizeof(uint16_t) + 2);
        if (column == NULL) abort();
        for (long j = 0; j < n; j++) {
            uint32_t *panel = words + (j / STROBE_BF16_PANEL) * kp * STROBE_BF16_PANEL + j % STROBE_BF16_PANEL;
            convert_row(b + j * ldb, column, k);
            const pair_word *pair = (const pair_word *)column;
            for (long q = 0; q < kp; q++) panel[q * STROBE_BF16_PANEL] = pair[q];
        }
        free(column);
        return;
    }
    for (long p = 0; p < panels; p++) {
        uint32_t *panel = words + p * kp * STROBE_BF16_PANEL;
        for (long q = 0; q < kp; q++) {
            const float *even = b + (2 * q) * ldb + p * STROBE_BF16_PANEL, *odd = even + ldb;
            _mm512_storeu_si512(panel + q * STROBE_BF16_PANEL, pair_words(even, odd));
            _mm512_storeu_si512(panel + q * STROBE_BF16_PANEL + 16, pair_words(even + 16, odd + 16));
        }
    }
}

/// 12 rows × 32 columns: `a` holds 12 rows of `kp` bf16 pairs (row stride `kp` pairs), `b` one
/// panel. Writes the first `rows` rows and `cols` columns.
TARGET static void micro_12x32(long kp, const pair_word *a, const uint16_t *b, float alpha,
                               float beta, float *c, long ldc, long rows, long cols) {
    __m512 acc[STROBE_BF16_ROWS][2];
    for (int r = 0; r < STROBE_BF16_ROWS; r++) acc[r][0] = acc[r][1] = _mm512_setzero_ps();
    for (long q = 0; q < kp; q++) {
        __m512bh b0 = (__m512bh)_mm512_loadu_si512(b + q * 64);
        __m512bh b1 = (__m512bh)_mm512_loadu_si512(b + q * 64 + 32);
#pragma clang loop unroll(full)
        for (int r = 0; r < STROBE_BF16_ROWS; r++) {
            __m512bh av = (__m512bh)_mm512_set1_epi32((int)a[r * kp + q]);
            acc[r][0] = _mm512_dpbf16_ps(acc[r][0], av, b0);
            acc[r][1] = _mm512_dpbf16_ps(acc[r][1], av, b1);
        }
    }
    for (long r = 0; r < rows; r++) {
        store16(c + r * ldc, acc[r][0], alpha, beta, cols);
        if (cols > 16) store16(c + r * ldc + 16, acc[r][1], alpha, beta, cols - 16);
    }
}

void strobe_bf16_gemm(long m, long n, long k, float alpha, const float *a, long lda,
                      const uint16_t *packed, float beta, float *c, long ldc) {
    if (m <= 0 || n <= 0) return;
    long kp = pairs(k), groups = (m + STROBE_BF16_ROWS - 1) / STROBE_BF16_ROWS;
    long panelSize = kp * 2 * STROBE_BF16_PANEL;
    // One row group of A at a time, as bf16 pairs, zero-padded to 12 rows and an even K.
    pair_word *rowsA = malloc((size_t)(STROBE_BF16_ROWS * kp + 1) * sizeof(uint32_t));
    if (rowsA == NULL) abort();
    for (long g = 0; g < groups; g++) {
        long first = g * STROBE_BF16_ROWS;
        long rows = m - first < STROBE_BF16_ROWS ? m - first : STROBE_BF16_ROWS;
        uint16_t *half = (uint16_t *)rowsA;
        memset(rowsA, 0, (size_t)(STROBE_BF16_ROWS * kp) * sizeof(uint32_t));
        for (long r = 0; r < rows; r++) convert_row(a + (first + r) * lda, half + r * kp * 2, k);
        for (long j = 0; j < n; j += STROBE_BF16_PANEL) {
            long cols = n - j < STROBE_BF16_PANEL ? n - j : STROBE_BF16_PANEL;
            micro_12x32(kp, rowsA, packed + (j / STROBE_BF16_PANEL) * panelSize, alpha, beta,
                        c + first * ldc + j, ldc, rows, cols);
        }
    }
    free(rowsA);
}
void strobe_bf16_pack(const float *b, long ldb, int trans, long k, long n, uint16_t *packed) {
    if (strobe_bf16_supported() && k % 2 == 0 && n % STROBE_BF16_PANEL == 0) {
        pack_avx512(b, ldb, trans, k, n, packed);
    } else {
        pack_scalar(b, ldb, trans, k, n, packed);
    }
}
#else
void strobe_bf16_pack(const float *b, long ldb, int trans, long k, long n, uint16_t *packed) {
    pack_scalar(b, ldb, trans, k, n, packed);
}

void strobe_bf16_gemm(long m, long n, long k, float alpha, const float *a, long lda,
                      const uint16_t *packed, float beta, float *c, long ldc) {
    (void)m; (void)n; (void)k; (void)alpha; (void)a; (void)lda; (void)packed; (void)beta;
    (void)c; (void)ldc;
    abort();  // strobe_bf16_supported() is 0 off x86-64
}
#endif
