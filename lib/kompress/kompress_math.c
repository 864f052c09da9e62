/* The Kompress CPU backend's element-wise math: the attention softmax and
 * the GeGLU, which call exp and erf for every score and every hidden unit
 * (about 70,000 exps a token in ModernBERT-base), LayerNorm and the rotary
 * embedding. Written without calls so
 * the compiler vectorizes the loops, and cloned for AVX-512, AVX2 and plain
 * x86-64, picked at load time: one call to libm's expf a score measured a
 * third of the time the bf16 backend spent outside its products. Both
 * approximations are within a few ulp of libm, far inside the 1e-4 the
 * reference allows. */
#include "kompress/kompress.h"

#include <math.h>
#include <stdint.h>
#include <string.h>

#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__)
#define VECTOR_CLONES __attribute__((target_clones("avx512f", "avx2", "default")))
#else
#define VECTOR_CLONES
#endif

/* e^x for x <= 88 (inputs below -87 give e^-87): Cody-Waite reduction by
 * ln 2 and a degree-6 polynomial, as in Cephes' expf. */
static inline float exp_poly(float x)
{
    x = x < -87.0f ? -87.0f : x > 88.0f ? 88.0f : x;
    const float shifter = 12582912.0f; /* 1.5 * 2^23: adding it rounds to an integer */
    float n = (x * 1.44269504088896341f + shifter) - shifter;
    float r = x - n * 0.693359375f + n * 2.12194440e-4f;
    float p = 1.9875691500e-4f;
    p = p * r + 1.3981999507e-3f;
    p = p * r + 8.3334519073e-3f;
    p = p * r + 4.1665795894e-2f;
    p = p * r + 1.6666665459e-1f;
    p = p * r + 5.0000001201e-1f;
    p = p * r * r + r + 1.0f;
    int32_t bits = ((int32_t)n + 127) * (1 << 23);
    float scale;
    memcpy(&scale, &bits, sizeof scale);
    return p * scale;
}

/* erf(x) by Abramowitz and Stegun 7.1.26 (absolute error below 1.5e-7). */
static inline float erf_poly(float x)
{
    float a = x < 0 ? -x : x;
    float t = 1.0f / (1.0f + 0.3275911f * a);
    float y = t * (0.254829592f + t * (-0.284496736f + t * (1.421413741f + t * (-1.453152027f + t * 1.061405429f))));
    float e = 1.0f - y * exp_poly(-a * a);
    return x < 0 ? -e : e;
}

/* Sixteen running maxima or sums, each over every sixteenth element and
 * then folded in a fixed order: the compiler keeps them in one vector, and
 * every clone adds in the same order, so results do not depend on the CPU. */
#define LANES 16

static inline float max_of(const float *r, size_t n)
{
    float part[LANES];
    for (int k = 0; k < LANES; k++) part[k] = -3.0e38f;
    size_t j = 0;
    for (; j + LANES <= n; j += LANES)
        for (int k = 0; k < LANES; k++) part[k] = r[j + k] > part[k] ? r[j + k] : part[k];
    for (; j < n; j++) part[0] = r[j] > part[0] ? r[j] : part[0];
    float mx = part[0];
    for (int k = 1; k < LANES; k++) mx = part[k] > mx ? part[k] : mx;
    return mx;
}

static inline float sum_of(const float *r, size_t n)
{
    float part[LANES] = {0};
    size_t j = 0;
    for (; j + LANES <= n; j += LANES)
        for (int k = 0; k < LANES; k++) part[k] += r[j + k];
    for (; j < n; j++) part[0] += r[j];
    for (int width = LANES / 2; width; width /= 2)
        for (int k = 0; k < width; k++) part[k] += part[k + width];
    return part[0];
}

VECTOR_CLONES void hr__ksoftmax(float *r, size_t width, size_t lo, size_t hi, float scale)
{
    float mx = max_of(r + lo, hi - lo);
    for (size_t j = lo; j < hi; j++) r[j] = exp_poly((r[j] - mx) * scale);
    float inv = 1.0f / sum_of(r + lo, hi - lo);
    for (size_t j = lo; j < hi; j++) r[j] *= inv;
    memset(r, 0, lo * sizeof *r);
    memset(r + hi, 0, (width - hi) * sizeof *r);
}

VECTOR_CLONES void hr__klayer_norm(const float *x, const float *w, int n, float eps, float *out)
{
    float mean = sum_of(x, (size_t)n) / (float)n;
    for (int i = 0; i < n; i++) out[i] = (x[i] - mean) * (x[i] - mean);
    float inv = 1.0f / sqrtf(sum_of(out, (size_t)n) / (float)n + eps);
    for (int i = 0; i < n; i++) out[i] = (x[i] - mean) * inv * w[i];
}

VECTOR_CLONES void hr__krope(float *p, const float *c, const float *s, int half)
{
    for (int i = 0; i < half; i++) {
        float a = p[i], z = p[i + half];
        p[i] = a * c[i] - z * s[i];
        p[i + half] = z * c[i] + a * s[i];
    }
}

VECTOR_CLONES void hr__kgeglu(const float *in, const float *gate, float *out, int n)
{
    for (int i = 0; i < n; i++) {
        float x = in[i];
        out[i] = 0.5f * x * (1.0f + erf_poly(x * 0.70710678118654752f)) * gate[i];
    }
}
