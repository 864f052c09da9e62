/* The Kompress encoder and heads on the CPU: the matrix products through
 * OpenBLAS (which picks AVX2 or AVX-512 kernels for the CPU it runs on), the
 * rest (norms, rotary embedding, attention softmax, GeGLU, the span
 * convolution's sums) in plain C over fp32. Several windows run side by side,
 * one per core (a lane), each with single-threaded OpenBLAS: a core then
 * never waits for the others between products, which measured 1.3x faster
 * on two cores than spreading each product over both. A lone window gets
 * every core through OpenBLAS's own threads. */
#include "kompress.h"

#include <cblas.h>
#undef I /* complex.h, through openblas_config.h */
#include <math.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

void openblas_set_num_threads(int num_threads);

/* One lane: the model, shared, and its own scratch. */
struct cpu_backend {
    const struct hr_kweights *w;
    int H, F, heads, hd;
    /* scratch for one window of up to MAX_TOKENS tokens */
    float *x, *h, *qkv, *att, *scores, *mlp, *gated, *conv_in, *conv_mid;
};

static void layer_norm(float *x, const float *w, size_t n, int H, double eps, float *out)
{
    for (size_t t = 0; t < n; t++) {
        const float *r = x + t * (size_t)H;
        float *o = out + t * (size_t)H;
        double mean = 0, var = 0;
        for (int i = 0; i < H; i++) mean += r[i];
        mean /= H;
        for (int i = 0; i < H; i++) var += (r[i] - mean) * (r[i] - mean);
        float inv = (float)(1.0 / sqrt(var / H + eps));
        for (int i = 0; i < H; i++) o[i] = (float)(r[i] - mean) * inv * w[i];
    }
}

static float gelu(float x)
{
    return 0.5f * x * (1.0f + erff(x * 0.70710678118654752f));
}

/* y[n][out] (+)= x[n][in] W^T for W stored [out][in] */
static void linear(const float *x, size_t n, int in, const float *W, int out, float beta, float *y, int ldx, int ldy)
{
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, (int)n, out, in, 1.0f, x, ldx, W, in, beta, y, ldy);
}

/* ModernBERT's rotary embedding, the half-rotation form: pairs (i, i + hd/2). */
static void rope(float *v, size_t n, int stride, const struct cpu_backend *b, int local)
{
    int half = b->hd / 2;
    for (size_t t = 0; t < n; t++) {
        const float *c = b->w->rope_cos[local] + t * (size_t)half, *s = b->w->rope_sin[local] + t * (size_t)half;
        for (int h = 0; h < b->heads; h++) {
            float *p = v + t * (size_t)stride + (size_t)h * b->hd;
            for (int i = 0; i < half; i++) {
                float a = p[i], z = p[i + half];
                p[i] = a * c[i] - z * s[i];
                p[i + half] = z * c[i] + a * s[i];
            }
        }
    }
}

/* Row-wise softmax of scores[n][n], over |i - j| <= reach only (all when reach < 0). */
static void softmax_rows(float *scores, size_t n, long reach)
{
    for (size_t i = 0; i < n; i++) {
        float *r = scores + i * n;
        size_t lo = 0, hi = n;
        if (reach >= 0) {
            lo = i > (size_t)reach ? i - (size_t)reach : 0;
            hi = i + (size_t)reach + 1 < n ? i + (size_t)reach + 1 : n;
        }
        float mx = -INFINITY, sum = 0;
        for (size_t j = lo; j < hi; j++) mx = r[j] > mx ? r[j] : mx;
        for (size_t j = 0; j < n; j++) {
            float e = j >= lo && j < hi ? expf(r[j] - mx) : 0.0f;
            r[j] = e;
            sum += e;
        }
        for (size_t j = lo; j < hi; j++) r[j] /= sum;
    }
}

static void attention(struct cpu_backend *b, const struct hr_klayer *y, int global, size_t n)
{
    int H = b->H, hd = b->hd;
    linear(b->h, n, H, y->wqkv, 3 * H, 0.0f, b->qkv, H, 3 * H);
    rope(b->qkv, n, 3 * H, b, !global);     /* q */
    rope(b->qkv + H, n, 3 * H, b, !global); /* k */
    long reach = global ? -1 : b->w->cfg.local_window / 2;
    float scale = 1.0f / sqrtf((float)hd);
    for (int h = 0; h < b->heads; h++) {
        const float *q = b->qkv + (size_t)h * hd, *k = q + H, *v = q + 2 * H;
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, (int)n, (int)n, hd, scale, q, 3 * H, k, 3 * H, 0.0f,
                    b->scores, (int)n);
        softmax_rows(b->scores, n, reach);
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, (int)n, hd, (int)n, 1.0f, b->scores, (int)n, v, 3 * H,
                    0.0f, b->att + (size_t)h * hd, H);
    }
    linear(b->att, n, H, y->wo, H, 1.0f, b->x, H, H); /* residual */
}

static void mlp(struct cpu_backend *b, const struct hr_klayer *y, size_t n)
{
    int H = b->H, F = b->F;
    linear(b->h, n, H, y->wi, 2 * F, 0.0f, b->mlp, H, 2 * F);
    for (size_t t = 0; t < n; t++) {
        const float *in = b->mlp + t * 2 * (size_t)F, *gate = in + F;
        float *o = b->gated + t * (size_t)F;
        for (int i = 0; i < F; i++) o[i] = gelu(in[i]) * gate[i];
    }
    linear(b->gated, n, F, y->wo2, H, 1.0f, b->x, F, H); /* residual */
}

/* token_head, then span_conv: Conv1d(H, 256, 5, pad 2) -> GELU ->
 * Conv1d(256, 1, 3, pad 1) -> sigmoid, over the window's tokens. */
static void heads(struct cpu_backend *b, size_t n, struct hr_kwindow *win)
{
    const struct hr_kweights *w = b->w;
    int H = b->H, C = HR_KOMPRESS_SPAN_CHANNELS;
    for (size_t t = 0; t < n; t++) {
        const float *r = b->h + t * (size_t)H;
        float l0 = w->head_b[0], l1 = w->head_b[1];
        for (int i = 0; i < H; i++) l0 += r[i] * w->head_w[i], l1 += r[i] * w->head_w[H + i];
        win->logit0[t] = l0;
        win->logit1[t] = l1;
    }
    /* conv_in[t][k][c]: tap k of every output channel c at token t */
    linear(b->h, n, H, w->conv0_taps, 5 * C, 0.0f, b->conv_in, H, 5 * C);
    for (size_t t = 0; t < n; t++) {
        float *o = b->conv_mid + t * (size_t)C;
        for (int c = 0; c < C; c++) o[c] = w->conv0_b[c];
        for (int k = 0; k < 5; k++) {
            long src = (long)t + k - 2;
            if (src < 0 || src >= (long)n) continue;
            const float *p = b->conv_in + (size_t)src * 5 * C + (size_t)k * C;
            for (int c = 0; c < C; c++) o[c] += p[c];
        }
        for (int c = 0; c < C; c++) o[c] = gelu(o[c]);
    }
    for (size_t t = 0; t < n; t++) {
        float s = w->conv2_b[0];
        for (int k = 0; k < 3; k++) {
            long src = (long)t + k - 1;
            if (src < 0 || src >= (long)n) continue;
            const float *p = b->conv_mid + (size_t)src * C;
            for (int c = 0; c < C; c++) s += w->conv2_w[c * 3 + k] * p[c];
        }
        win->span[t] = 1.0f / (1.0f + expf(-s));
    }
}

static hr_status cpu_run_one(struct cpu_backend *b, struct hr_kwindow *win)
{
    const struct hr_kweights *w = b->w;
    size_t n = win->n;
    int H = b->H;
    if (n == 0 || n > HR_KOMPRESS_MAX_TOKENS) return HR_EINVAL;
    for (size_t t = 0; t < n; t++) {
        if (win->ids[t] >= (uint32_t)w->cfg.vocab) return HR_EINVAL;
        hr__kweights_embed(w, win->ids[t], b->h + t * (size_t)H);
    }
    layer_norm(b->h, w->emb_norm, n, H, w->cfg.norm_eps, b->x);
    for (int i = 0; i < w->cfg.layers; i++) {
        const struct hr_klayer *y = &w->layer[i];
        if (y->attn_norm) layer_norm(b->x, y->attn_norm, n, H, w->cfg.norm_eps, b->h);
        else memcpy(b->h, b->x, n * (size_t)H * sizeof *b->h);
        attention(b, y, w->cfg.global[i], n);
        layer_norm(b->x, y->mlp_norm, n, H, w->cfg.norm_eps, b->h);
        mlp(b, y, n);
    }
    layer_norm(b->x, w->final_norm, n, H, w->cfg.norm_eps, b->h);
    heads(b, n, win);
    return HR_OK;
}

#define MAX_LANES 64

struct cpu_pool {
    struct hr_kbackend base;
    pthread_mutex_t one_run; /* the lanes' scratch serves one run at a time */
    struct cpu_backend lane[MAX_LANES];
    int lanes;
};

struct lane_job {
    struct cpu_backend *lane;
    struct hr_kwindow *win;
    size_t first, count, step;
    hr_status st;
};

static void *lane_work(void *arg)
{
    struct lane_job *j = arg;
    for (size_t i = j->first; i < j->count && !j->st; i += j->step) j->st = cpu_run_one(j->lane, &j->win[i]);
    return NULL;
}

static hr_status run_lanes(struct cpu_pool *p, struct hr_kwindow *win, size_t count)
{
    size_t lanes = count < (size_t)p->lanes ? count : (size_t)p->lanes;
    if (lanes <= 1) {
        openblas_set_num_threads(p->lanes);
        struct lane_job j = {&p->lane[0], win, 0, count, 1, HR_OK};
        lane_work(&j);
        return j.st;
    }
    openblas_set_num_threads(1);
    struct lane_job jobs[MAX_LANES];
    pthread_t tid[MAX_LANES];
    size_t started = 1;
    for (size_t k = 0; k < lanes; k++) jobs[k] = (struct lane_job){&p->lane[k], win, k, count, lanes, HR_OK};
    for (size_t k = 1; k < lanes; k++, started++)
        if (pthread_create(&tid[k], NULL, lane_work, &jobs[k])) break;
    lane_work(&jobs[0]);
    for (size_t k = started; k < lanes; k++) lane_work(&jobs[k]); /* lanes no thread could take */
    hr_status st = jobs[0].st;
    for (size_t k = started; k < lanes; k++)
        if (!st) st = jobs[k].st;
    for (size_t k = 1; k < started; k++) {
        pthread_join(tid[k], NULL);
        if (!st) st = jobs[k].st;
    }
    return st;
}

static hr_status cpu_run(struct hr_kbackend *self, struct hr_kwindow *win, size_t count)
{
    struct cpu_pool *p = (struct cpu_pool *)self;
    pthread_mutex_lock(&p->one_run);
    hr_status st = run_lanes(p, win, count);
    pthread_mutex_unlock(&p->one_run);
    return st;
}

static void lane_free(struct cpu_backend *b)
{
    float *all[] = {b->x, b->h, b->qkv, b->att, b->scores, b->mlp, b->gated, b->conv_in, b->conv_mid};
    for (size_t i = 0; i < sizeof all / sizeof all[0]; i++) free(all[i]);
}

static void cpu_destroy(struct hr_kbackend *self)
{
    struct cpu_pool *p = (struct cpu_pool *)self;
    if (!p) return;
    for (int k = 0; k < p->lanes; k++) lane_free(&p->lane[k]);
    pthread_mutex_destroy(&p->one_run);
    free(p);
}

static float *alloc_f(size_t count, int *failed)
{
    float *p = malloc(count * sizeof *p);
    if (!p) *failed = 1;
    return p;
}

static hr_status lane_init(struct cpu_backend *b, const struct hr_kweights *w)
{
    b->w = w;
    b->H = w->cfg.hidden, b->F = w->cfg.intermediate, b->heads = w->cfg.heads, b->hd = b->H / b->heads;
    size_t T = HR_KOMPRESS_MAX_TOKENS, H = (size_t)b->H, F = (size_t)b->F, C = HR_KOMPRESS_SPAN_CHANNELS;
    int failed = 0;
    b->x = alloc_f(T * H, &failed), b->h = alloc_f(T * H, &failed), b->qkv = alloc_f(T * 3 * H, &failed);
    b->att = alloc_f(T * H, &failed), b->scores = alloc_f(T * T, &failed), b->mlp = alloc_f(T * 2 * F, &failed);
    b->gated = alloc_f(T * F, &failed), b->conv_in = alloc_f(T * 5 * C, &failed);
    b->conv_mid = alloc_f(T * C, &failed);
    return failed ? HR_ENOMEM : HR_OK;
}

hr_status hr__kbackend_cpu_new(const struct hr_kweights *w, int threads, struct hr_kbackend **out)
{
    *out = NULL;
    struct cpu_pool *p = calloc(1, sizeof *p);
    if (!p) return HR_ENOMEM;
    p->base = (struct hr_kbackend){"cpu", 0, cpu_run, cpu_destroy};
    pthread_mutex_init(&p->one_run, NULL);
    int lanes = threads < 1 ? 1 : threads > MAX_LANES ? MAX_LANES : threads;
    hr_status st = HR_OK;
    for (; p->lanes < lanes && !st; p->lanes++) st = lane_init(&p->lane[p->lanes], w);
    if (st) {
        cpu_destroy(&p->base);
        return st;
    }
    *out = &p->base;
    return HR_OK;
}
