/* bf16 matrix products for the Kompress CPU backend: weights rounded to
 * bfloat16 once and laid out in panels, activations rounded a product at a
 * time, and AVX-512 BF16's VDPBF16PS summing pairs of products into fp32.
 * On the CPUs that have it (AMD Zen 4 and later, Intel Cooper Lake and
 * Sapphire Rapids and later) one instruction does 32 multiply-adds where an
 * fp32 FMA does 16: measured 210 against OpenBLAS's ~100 GFLOP/s a core on
 * a Zen 4 EPYC. The kernel functions carry their own target attribute, so
 * the rest of libhr still runs on any x86-64 and this file is entered only
 * after hr__kbf16_supported() said yes. */
#include "kompress/kompress.h"

#include <stdlib.h>
#include <string.h>

#if defined(__x86_64__) && defined(__GNUC__)
#define HAVE_BF16_KERNEL 1
#include <immintrin.h>
#define BF16_TARGET __attribute__((target("avx512f,avx512bw,avx512vl,avx512bf16")))
#else
#define HAVE_BF16_KERNEL 0
#endif

#define PANEL 32 /* output columns a panel holds: two zmm registers */
#define ROWS 12  /* rows a tile computes: 12 x 2 accumulators, of 32 registers */

int hr__kbf16_supported(void)
{
#if HAVE_BF16_KERNEL
    __builtin_cpu_init();
    return __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
           __builtin_cpu_supports("avx512vl") && __builtin_cpu_supports("avx512bf16");
#else
    return 0;
#endif
}

/* Round to nearest, ties to even, as VCVTNE2PS2BF16 does; NaN stays NaN. */
static uint16_t to_bf16(float f)
{
    uint32_t u;
    memcpy(&u, &f, sizeof u);
    if ((u & 0x7fffffffu) > 0x7f800000u) return (uint16_t)((u >> 16) | 0x40);
    u += 0x7fffu + ((u >> 16) & 1u);
    return (uint16_t)(u >> 16);
}

size_t hr__kbf16_scratch(int in)
{
    return (size_t)HR_KOMPRESS_MAX_TOKENS * (size_t)((in + 1) & ~1);
}

/* Panel p holds columns [32p, 32p + 32) as [kp / 2][32][2]: for each pair of
 * inputs, the 32 columns' two weights side by side, which is the operand
 * layout VDPBF16PS multiplies against a broadcast pair of inputs. */
size_t hr__kbf16_packed_size(int out, int in)
{
    return (size_t)((out + PANEL - 1) / PANEL) * PANEL * (size_t)((in + 1) & ~1);
}

/* m over data for W[out][in], data zeroed: the padding stays zero. */
static void start_pack(struct hr_kbf16_matrix *m, uint16_t *data, int out, int in)
{
    m->data = data, m->out = out, m->in = in, m->kp = (in + 1) & ~1;
    m->panels = (out + PANEL - 1) / PANEL;
    m->panel_stride = (size_t)PANEL * (size_t)m->kp;
    memset(data, 0, (size_t)m->panels * m->panel_stride * sizeof *data);
}

struct hr_kbf16_matrix hr__kbf16_outputs(const struct hr_kbf16_matrix *m, int from, int count)
{
    struct hr_kbf16_matrix v = *m;
    v.data = m->data + (size_t)(from / PANEL) * m->panel_stride;
    v.out = count, v.panels = (count + PANEL - 1) / PANEL;
    return v;
}

/* Past an odd count's last input the view may hold a real weight, not a
 * zero: the rounded inputs' own padding is zero, so it adds nothing. */
struct hr_kbf16_matrix hr__kbf16_inputs(const struct hr_kbf16_matrix *m, int from, int count)
{
    struct hr_kbf16_matrix v = *m;
    v.data = m->data + (size_t)from * PANEL;
    v.in = count, v.kp = (count + 1) & ~1;
    return v;
}

void hr__kbf16_pack_into(struct hr_kbf16_matrix *m, uint16_t *data, const float *W, int out, int in, size_t out_stride,
                         size_t in_stride)
{
    start_pack(m, data, out, in);
    for (int n = 0; n < out; n++) {
        uint16_t *col = data + (size_t)(n / PANEL) * m->panel_stride + (size_t)(n % PANEL) * 2;
        const float *w = W + (size_t)n * out_stride;
        for (int k = 0; k < in; k++) col[(size_t)(k / 2) * PANEL * 2 + (k & 1)] = to_bf16(w[(size_t)k * in_stride]);
    }
}

hr_status hr__kbf16_pack(struct hr_kbf16_matrix *m, const float *W, int out, int in)
{
    uint16_t *data = malloc(hr__kbf16_packed_size(out, in) * sizeof *data);
    if (!data) return HR_ENOMEM;
    hr__kbf16_pack_into(m, data, W, out, in, (size_t)in, 1);
    return HR_OK;
}

void hr__kbf16_free(struct hr_kbf16_matrix *m)
{
    free(m->data);
    memset(m, 0, sizeof *m);
}

#if HAVE_BF16_KERNEL

/* rows x[n][in] (stride ldx) as bf16 into xb[n][kp], the odd tail zeroed */
BF16_TARGET static void round_rows(const float *x, size_t n, int in, int ldx, int kp, uint16_t *xb)
{
    for (size_t t = 0; t < n; t++) {
        const float *r = x + t * (size_t)ldx;
        uint16_t *o = xb + t * (size_t)kp;
        int k = 0;
        for (; k + 32 <= in; k += 32) {
            __m512bh v = _mm512_cvtne2ps_pbh(_mm512_loadu_ps(r + k + 16), _mm512_loadu_ps(r + k));
            _mm512_storeu_si512(o + k, (__m512i)v);
        }
        for (; k < in; k++) o[k] = to_bf16(r[k]);
        if (kp > in) o[in] = 0;
    }
}

/* Each output's inputs rounded as one row, whose pair i (one 32-bit word)
 * goes to word i * 32 + o % 32 of the output's panel. */
BF16_TARGET void hr__kbf16_pack_rows(struct hr_kbf16_matrix *m, uint16_t *data, const float *X, int n, int in,
                                     size_t ld)
{
    uint16_t row[HR_KOMPRESS_MAX_TOKENS];
    if (in > HR_KOMPRESS_MAX_TOKENS) { /* wider than any head: the general packer */
        hr__kbf16_pack_into(m, data, X, n, in, ld, 1);
        return;
    }
    start_pack(m, data, n, in);
    for (int o = 0; o < n; o++) {
        round_rows(X + (size_t)o * ld, 1, in, (int)ld, m->kp, row);
        uint32_t *panel = (uint32_t *)(void *)(data + (size_t)(o / PANEL) * m->panel_stride) + o % PANEL;
        for (int i = 0; i < m->kp / 2; i++) {
            uint32_t word;
            memcpy(&word, row + 2 * i, sizeof word);
            panel[(size_t)i * PANEL] = word;
        }
    }
}

/* Inputs 2i and 2i + 1 are rows 2i and 2i + 1 of X: each pair of rows
 * gives, for 16 outputs at a time, 16 words of (row 2i, row 2i + 1). */
BF16_TARGET void hr__kbf16_pack_cols(struct hr_kbf16_matrix *m, uint16_t *data, const float *X, int n, int in,
                                     size_t ld)
{
    start_pack(m, data, in, n);
    for (int i = 0; i < n; i += 2) {
        const float *lo = X + (size_t)i * ld, *hi = i + 1 < n ? lo + ld : NULL;
        for (int o = 0; o < in; o += 16) {
            __mmask16 k = (__mmask16)(in - o >= 16 ? 0xffff : (1u << (in - o)) - 1);
            __m512i a = _mm512_cvtepu16_epi32((__m256i)_mm512_cvtneps_pbh(_mm512_maskz_loadu_ps(k, lo + o)));
            __m512i b = hi ? _mm512_cvtepu16_epi32((__m256i)_mm512_cvtneps_pbh(_mm512_maskz_loadu_ps(k, hi + o)))
                           : _mm512_setzero_si512();
            uint32_t *dst = (uint32_t *)(void *)(data + (size_t)(o / PANEL) * m->panel_stride) +
                            (size_t)(i / 2) * PANEL + o % PANEL;
            _mm512_mask_storeu_epi32(dst, k, _mm512_or_si512(a, _mm512_slli_epi32(b, 16)));
        }
    }
}

/* One tile: rows [0, R) of a (bf16, stride kp) against one panel, into y
 * (stride ldy) through the column masks, added to y or replacing it. R is a
 * constant at each call, so the row loops unroll and the accumulators stay
 * in registers. */
BF16_TARGET static inline __attribute__((always_inline)) void tile(const int R, const uint16_t *a, int kp,
                                                                   const uint16_t *panel, float *y, size_t ldy,
                                                                   __mmask16 m0, __mmask16 m1, int add)
{
    __m512 c0[ROWS], c1[ROWS];
#pragma GCC unroll 12
    for (int i = 0; i < R; i++) c0[i] = _mm512_setzero_ps(), c1[i] = _mm512_setzero_ps();
    for (int k = 0; k < kp; k += 2, panel += 2 * PANEL) {
        __m512bh b0 = (__m512bh)_mm512_loadu_si512(panel), b1 = (__m512bh)_mm512_loadu_si512(panel + PANEL);
#pragma GCC unroll 12
        for (int i = 0; i < R; i++) {
            int32_t pair;
            memcpy(&pair, a + (size_t)i * kp + k, sizeof pair);
            __m512bh av = (__m512bh)_mm512_set1_epi32(pair);
            c0[i] = _mm512_dpbf16_ps(c0[i], b0, av);
            c1[i] = _mm512_dpbf16_ps(c1[i], b1, av);
        }
    }
#pragma GCC unroll 12
    for (int i = 0; i < R; i++) {
        float *o = y + (size_t)i * ldy;
        if (add) {
            c0[i] = _mm512_add_ps(c0[i], _mm512_maskz_loadu_ps(m0, o));
            c1[i] = _mm512_add_ps(c1[i], _mm512_maskz_loadu_ps(m1, o + 16));
        }
        _mm512_mask_storeu_ps(o, m0, c0[i]);
        _mm512_mask_storeu_ps(o + 16, m1, c1[i]);
    }
}

#define TILE_CASE(r)                                                                                                   \
    case r: tile(r, a, kp, panel, y, ldy, m0, m1, add); break;

BF16_TARGET static void tile_rows(int rows, const uint16_t *a, int kp, const uint16_t *panel, float *y, size_t ldy,
                                  __mmask16 m0, __mmask16 m1, int add)
{
    /* the cases are macros, which clang-format cannot lay out */
    /* clang-format off */
    switch (rows) {
        TILE_CASE(1) TILE_CASE(2) TILE_CASE(3) TILE_CASE(4) TILE_CASE(5) TILE_CASE(6)
        TILE_CASE(7) TILE_CASE(8) TILE_CASE(9) TILE_CASE(10) TILE_CASE(11) TILE_CASE(12)
    }
    /* clang-format on */
}

BF16_TARGET void hr__kbf16_round(const float *x, size_t n, int ldx, const struct hr_kbf16_matrix *W, uint16_t *xb)
{
    round_rows(x, n, W->in, ldx, W->kp, xb);
}

BF16_TARGET void hr__kbf16_panels(const uint16_t *xb, size_t n, const struct hr_kbf16_matrix *W, int first, int end,
                                  float beta, float *y, int ldy)
{
    int kp = W->kp;
    /* a panel stays in L2 while every row passes it */
    for (int p = first; p < end; p++) {
        const uint16_t *panel = W->data + (size_t)p * W->panel_stride;
        int cols = W->out - p * PANEL < PANEL ? W->out - p * PANEL : PANEL;
        __mmask16 m0 = (__mmask16)(cols >= 16 ? 0xffff : (1u << cols) - 1);
        __mmask16 m1 = (__mmask16)(cols >= 32 ? 0xffff : cols > 16 ? (1u << (cols - 16)) - 1 : 0);
        for (size_t t = 0; t < n; t += ROWS) {
            int rows = n - t < ROWS ? (int)(n - t) : ROWS;
            tile_rows(rows, xb + t * (size_t)kp, kp, panel, y + t * (size_t)ldy + (size_t)p * PANEL, (size_t)ldy, m0,
                      m1, beta != 0.0f);
        }
    }
}

void hr__kbf16_linear(const float *x, size_t n, int ldx, const struct hr_kbf16_matrix *W, float beta, float *y, int ldy,
                      uint16_t *xb)
{
    hr__kbf16_round(x, n, ldx, W, xb);
    hr__kbf16_panels(xb, n, W, 0, W->panels, beta, y, ldy);
}

#else

void hr__kbf16_pack_rows(struct hr_kbf16_matrix *m, uint16_t *data, const float *X, int n, int in, size_t ld)
{
    hr__kbf16_pack_into(m, data, X, n, in, ld, 1);
}

void hr__kbf16_pack_cols(struct hr_kbf16_matrix *m, uint16_t *data, const float *X, int n, int in, size_t ld)
{
    hr__kbf16_pack_into(m, data, X, in, n, 1, ld);
}

void hr__kbf16_round(const float *x, size_t n, int ldx, const struct hr_kbf16_matrix *W, uint16_t *xb)
{
    (void)x, (void)n, (void)ldx, (void)W, (void)xb;
    abort(); /* unreachable: hr__kbf16_supported() is 0 */
}

void hr__kbf16_panels(const uint16_t *xb, size_t n, const struct hr_kbf16_matrix *W, int first, int end, float beta,
                      float *y, int ldy)
{
    (void)xb, (void)n, (void)W, (void)first, (void)end, (void)beta, (void)y, (void)ldy;
    abort();
}

void hr__kbf16_linear(const float *x, size_t n, int ldx, const struct hr_kbf16_matrix *W, float beta, float *y, int ldy,
                      uint16_t *xb)
{
    hr__kbf16_round(x, n, ldx, W, xb);
    hr__kbf16_panels(xb, n, W, 0, W->panels, beta, y, ldy);
}

#endif
