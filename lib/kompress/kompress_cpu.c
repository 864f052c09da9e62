/* The Kompress encoder and heads on the CPU. Products run in fp32 through
 * OpenBLAS (which picks AVX2 or AVX-512 kernels for the CPU it runs on), or,
 * on CPUs with AVX-512 BF16, with bf16 inputs through kompress_bf16.c: the
 * layers' weight products and attention's two, 2x the fp32 rate. The rest
 * (norms, rotary embedding, softmax, GeGLU: kompress_math.c; the heads) is
 * fp32. Local layers score each block of 32 queries against the keys within
 * reach only. Several windows run side by side, one per core (a lane), each
 * single-threaded: a core then never waits for the others between products,
 * which measured 1.3x faster on two cores than spreading each product over
 * both. A lone window gets every core: through OpenBLAS's threads for fp32,
 * and for bf16 by the lanes as a team, each taking a share of every
 * product's outputs and of the attention heads. */
#include "kompress/kompress.h"

#include <cblas.h>
#undef I /* complex.h, through openblas_config.h */
#include <math.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

void openblas_set_num_threads(int num_threads);

/* A layer's four weight products rounded to bf16 (HR_KPREC_BF16). */
struct bf16_layer {
    struct hr_kbf16_matrix wqkv, wo, wi, wo2;
};

/* One lane: the model, shared, and its own scratch. */
struct cpu_backend {
    const struct hr_kweights *w;
    const struct bf16_layer *bf16; /* per layer, shared; NULL for fp32 */
    int H, F, heads, hd;
    /* scratch for one window of up to MAX_TOKENS tokens */
    float *x, *h, *qkv, *att, *scores, *mlp, *gated, *conv_in, *conv_mid;
    uint16_t *xb;                           /* bf16 inputs of a product */
    uint16_t *k_pack, *v_pack;              /* a head's keys, and its values transposed */
    struct hr_kbf16_matrix k_bf16, vt_bf16; /* the same, as matrices */
    /* A lone bf16 window shares its products and heads with the idle lanes:
     * team[0] is this lane, the others lend their scratch. */
    struct cpu_backend *team;
    int team_size; /* 1: alone */
};

#define MAX_LANES 64

struct part_job {
    void (*part)(void *arg, int k);
    void *arg;
    int k;
};

static void *part_main(void *arg)
{
    struct part_job *j = arg;
    j->part(j->arg, j->k);
    return NULL;
}

/* Runs part(arg, k) for k in [0, parts), part 0 on this thread and the
 * others on threads of their own (or here, where none can start): the
 * lanes of a run, and a lone window's team. */
static void fork_join(int parts, void (*part)(void *arg, int k), void *arg)
{
    pthread_t tid[MAX_LANES];
    struct part_job job[MAX_LANES];
    int started[MAX_LANES] = {0};
    for (int k = 1; k < parts; k++) {
        job[k] = (struct part_job){part, arg, k};
        started[k] = !pthread_create(&tid[k], NULL, part_main, &job[k]);
    }
    part(arg, 0);
    for (int k = 1; k < parts; k++)
        if (started[k]) pthread_join(tid[k], NULL);
        else part(arg, k);
}

static void layer_norm(float *x, const float *w, size_t n, int H, double eps, float *out)
{
    for (size_t t = 0; t < n; t++) hr__klayer_norm(x + t * (size_t)H, w, H, (float)eps, out + t * (size_t)H);
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

/* One bf16 product split by panels among a team. */
struct panels_job {
    const uint16_t *xb;
    size_t n;
    const struct hr_kbf16_matrix *W;
    float beta, *y;
    int ldy, parts;
};

static void panels_part(void *arg, int k)
{
    struct panels_job *j = arg;
    int first = j->W->panels * k / j->parts, end = j->W->panels * (k + 1) / j->parts;
    hr__kbf16_panels(j->xb, j->n, j->W, first, end, j->beta, j->y, j->ldy);
}

/* A layer's weight product: W's bf16 copy when the lane has one. */
static void layer_linear(struct cpu_backend *b, const float *x, size_t n, int in, const float *W,
                         const struct hr_kbf16_matrix *Wb, int out, float beta, float *y, int ldx, int ldy)
{
    if (!b->bf16) {
        linear(x, n, in, W, out, beta, y, ldx, ldy);
    } else if (b->team_size > 1) {
        hr__kbf16_round(x, n, ldx, Wb, b->xb);
        struct panels_job j = {b->xb, n, Wb, beta, y, ldy, b->team_size};
        fork_join(b->team_size, panels_part, &j);
    } else {
        hr__kbf16_linear(x, n, ldx, Wb, beta, y, ldy, b->xb);
    }
}

/* ModernBERT's rotary embedding, the half-rotation form: pairs (i, i + hd/2). */
static void rope(float *v, size_t n, int stride, const struct cpu_backend *b, int local)
{
    int half = b->hd / 2;
    for (size_t t = 0; t < n; t++) {
        const float *c = b->w->rope_cos[local] + t * (size_t)half, *s = b->w->rope_sin[local] + t * (size_t)half;
        for (int h = 0; h < b->heads; h++) hr__krope(v + t * (size_t)stride + (size_t)h * b->hd, c, s, half);
    }
}

/* Softmax of query rows [i0, i1) over keys [j0, j1), scores[i - i0][j - j0],
 * counting only keys with |i - j| <= reach (all when reach < 0). */
static void softmax_rows(float *scores, size_t i0, size_t i1, size_t j0, size_t j1, long reach, float scale)
{
    size_t width = j1 - j0;
    for (size_t i = i0; i < i1; i++) {
        size_t lo = j0, hi = j1;
        if (reach >= 0) {
            if (i > j0 + (size_t)reach) lo = i - (size_t)reach;
            if (i + (size_t)reach + 1 < j1) hi = i + (size_t)reach + 1;
        }
        hr__ksoftmax(scores + (i - i0) * width, width, lo - j0, hi - j0, scale);
    }
}

/* Query rows a local layer takes at a time: their keys span the block plus
 * the reach on each side, which for ModernBERT's window of 128 is 192 keys
 * where the whole window would be 512. */
#define LOCAL_BLOCK 32

/* scores[rows][keys] = q k^T, then probs v into out: fp32 through OpenBLAS,
 * or with the keys and the values rounded to bf16 for the lane's kernels. */
static void scores_fp32(struct cpu_backend *b, const float *q, const float *k, int rows, int keys)
{
    int ld = 3 * b->H;
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, rows, keys, b->hd, 1.0f, q, ld, k, ld, 0.0f, b->scores, keys);
}

static void mix_fp32(struct cpu_backend *b, const float *v, int rows, int keys, float *out)
{
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, rows, b->hd, keys, 1.0f, b->scores, keys, v, 3 * b->H, 0.0f,
                out, b->H);
}

/* The bf16 forms take the head's keys and values packed once for all its
 * blocks (pack_head), and views of the keys [j0, j1) a block sees. */
static void scores_bf16(struct cpu_backend *b, const float *q, size_t j0, int rows, int keys)
{
    struct hr_kbf16_matrix km = hr__kbf16_outputs(&b->k_bf16, (int)j0, keys);
    hr__kbf16_linear(q, (size_t)rows, 3 * b->H, &km, 0.0f, b->scores, keys, b->xb);
}

static void mix_bf16(struct cpu_backend *b, size_t j0, int rows, int keys, float *out)
{
    struct hr_kbf16_matrix vt = hr__kbf16_inputs(&b->vt_bf16, (int)j0, keys);
    hr__kbf16_linear(b->scores, (size_t)rows, keys, &vt, 0.0f, out, b->H, b->xb);
}

static void pack_head(struct cpu_backend *b, const float *qkv, int h, size_t n)
{
    const float *k = qkv + b->H + (size_t)h * b->hd, *v = k + b->H;
    hr__kbf16_pack_rows(&b->k_bf16, b->k_pack, k, (int)n, b->hd, 3 * (size_t)b->H);
    hr__kbf16_pack_cols(&b->vt_bf16, b->v_pack, v, (int)n, b->hd, 3 * (size_t)b->H);
}

/* Head h of queries [i0, i1) against the keys they may see, from qkv into
 * att, in b's scratch. */
static void attend_block(struct cpu_backend *b, const float *qkv, float *att, int h, size_t n, size_t i0, size_t i1,
                         long reach)
{
    int H = b->H, hd = b->hd;
    size_t j0 = 0, j1 = n;
    if (reach >= 0) {
        /* from a multiple of 32, where a panel of packed keys starts; the
         * softmax leaves out the keys beyond the reach this adds */
        j0 = i0 > (size_t)reach ? (i0 - (size_t)reach) & ~(size_t)31 : 0;
        j1 = i1 + (size_t)reach < n ? i1 + (size_t)reach : n;
    }
    int rows = (int)(i1 - i0), keys = (int)(j1 - j0);
    const float *q = qkv + i0 * 3 * H + (size_t)h * hd, *k = qkv + j0 * 3 * H + H + (size_t)h * hd;
    const float *v = k + H;
    float *out = att + i0 * H + (size_t)h * hd;
    if (b->bf16) scores_bf16(b, q, j0, rows, keys);
    else scores_fp32(b, q, k, rows, keys);
    softmax_rows(b->scores, i0, i1, j0, j1, reach, 1.0f / sqrtf((float)hd));
    if (b->bf16) mix_bf16(b, j0, rows, keys, out);
    else mix_fp32(b, v, rows, keys, out);
}

/* The heads, split among a team: part k takes its share of the heads in
 * the scratch of the team's lane k. */
struct heads_job {
    struct cpu_backend *b;
    size_t n;
    long reach;
    int parts;
};

static void heads_part(void *arg, int k)
{
    struct heads_job *j = arg;
    struct cpu_backend *b = j->b, *s = j->parts > 1 ? &b->team[k] : b;
    size_t n = j->n, block = j->reach < 0 ? n : LOCAL_BLOCK;
    for (int h = b->heads * k / j->parts; h < b->heads * (k + 1) / j->parts; h++) {
        if (b->bf16) pack_head(s, b->qkv, h, n);
        for (size_t i0 = 0; i0 < n; i0 += block)
            attend_block(s, b->qkv, b->att, h, n, i0, i0 + block < n ? i0 + block : n, j->reach);
    }
}

static void attention(struct cpu_backend *b, const struct hr_klayer *y, const struct bf16_layer *yb, int global,
                      size_t n)
{
    int H = b->H;
    layer_linear(b, b->h, n, H, y->wqkv, yb ? &yb->wqkv : NULL, 3 * H, 0.0f, b->qkv, H, 3 * H);
    rope(b->qkv, n, 3 * H, b, !global);     /* q */
    rope(b->qkv + H, n, 3 * H, b, !global); /* k */
    struct heads_job j = {b, n, global ? -1 : b->w->cfg.local_window / 2, b->team_size};
    if (b->team_size > 1) fork_join(b->team_size, heads_part, &j);
    else heads_part(&j, 0);
    layer_linear(b, b->att, n, H, y->wo, yb ? &yb->wo : NULL, H, 1.0f, b->x, H, H); /* residual */
}

static void mlp(struct cpu_backend *b, const struct hr_klayer *y, const struct bf16_layer *yb, size_t n)
{
    int H = b->H, F = b->F;
    layer_linear(b, b->h, n, H, y->wi, yb ? &yb->wi : NULL, 2 * F, 0.0f, b->mlp, H, 2 * F);
    for (size_t t = 0; t < n; t++) {
        const float *in = b->mlp + t * 2 * (size_t)F;
        hr__kgeglu(in, in + F, b->gated + t * (size_t)F, F);
    }
    layer_linear(b, b->gated, n, F, y->wo2, yb ? &yb->wo2 : NULL, H, 1.0f, b->x, F, H); /* residual */
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
        const struct bf16_layer *yb = b->bf16 ? &b->bf16[i] : NULL;
        if (y->attn_norm) layer_norm(b->x, y->attn_norm, n, H, w->cfg.norm_eps, b->h);
        else memcpy(b->h, b->x, n * (size_t)H * sizeof *b->h);
        attention(b, y, yb, w->cfg.global[i], n);
        layer_norm(b->x, y->mlp_norm, n, H, w->cfg.norm_eps, b->h);
        mlp(b, y, yb, n);
    }
    layer_norm(b->x, w->final_norm, n, H, w->cfg.norm_eps, b->h);
    heads(b, n, win);
    return HR_OK;
}

struct cpu_pool {
    struct hr_kbackend base;
    pthread_mutex_t one_run; /* the lanes' scratch serves one run at a time */
    struct cpu_backend lane[MAX_LANES];
    int lanes;
    struct bf16_layer *bf16; /* [layers], HR_KPREC_BF16 only */
    int layers;
};

struct lane_job {
    struct cpu_backend *lane;
    struct hr_kwindow *win;
    size_t first, count, step;
    hr_status st;
};

static void lane_work(struct lane_job *j)
{
    for (size_t i = j->first; i < j->count && !j->st; i += j->step) j->st = cpu_run_one(j->lane, &j->win[i]);
}

static void lane_part(void *arg, int k)
{
    lane_work((struct lane_job *)arg + k);
}

static hr_status run_lanes(struct cpu_pool *p, struct hr_kwindow *win, size_t count)
{
    size_t lanes = count < (size_t)p->lanes ? count : (size_t)p->lanes;
    if (lanes <= 1) {
        /* fp32: OpenBLAS's threads; bf16: the lanes as a team */
        openblas_set_num_threads(p->bf16 ? 1 : p->lanes);
        if (p->bf16) p->lane[0].team_size = p->lanes;
        struct lane_job j = {&p->lane[0], win, 0, count, 1, HR_OK};
        lane_work(&j);
        p->lane[0].team_size = 1;
        return j.st;
    }
    openblas_set_num_threads(1);
    struct lane_job jobs[MAX_LANES];
    for (size_t k = 0; k < lanes; k++) jobs[k] = (struct lane_job){&p->lane[k], win, k, count, lanes, HR_OK};
    fork_join((int)lanes, lane_part, jobs);
    hr_status st = HR_OK;
    for (size_t k = 0; k < lanes && !st; k++) st = jobs[k].st;
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
    free(b->xb), free(b->k_pack), free(b->v_pack);
}

static void bf16_free(struct bf16_layer *layers, int n)
{
    for (int i = 0; layers && i < n; i++) {
        hr__kbf16_free(&layers[i].wqkv), hr__kbf16_free(&layers[i].wo);
        hr__kbf16_free(&layers[i].wi), hr__kbf16_free(&layers[i].wo2);
    }
    free(layers);
}

/* Every layer's four weight products rounded to bf16, once for all lanes. */
static hr_status bf16_pack(const struct hr_kweights *w, struct bf16_layer **out)
{
    int H = w->cfg.hidden, F = w->cfg.intermediate, L = w->cfg.layers;
    struct bf16_layer *layers = calloc((size_t)L, sizeof *layers);
    hr_status st = layers ? HR_OK : HR_ENOMEM;
    for (int i = 0; !st && i < L; i++) {
        const struct hr_klayer *y = &w->layer[i];
        struct bf16_layer *d = &layers[i];
        st = hr__kbf16_pack(&d->wqkv, y->wqkv, 3 * H, H);
        if (!st) st = hr__kbf16_pack(&d->wo, y->wo, H, H);
        if (!st) st = hr__kbf16_pack(&d->wi, y->wi, 2 * F, H);
        if (!st) st = hr__kbf16_pack(&d->wo2, y->wo2, H, F);
    }
    if (st) {
        bf16_free(layers, L);
        return st;
    }
    *out = layers;
    return HR_OK;
}

static void cpu_destroy(struct hr_kbackend *self)
{
    struct cpu_pool *p = (struct cpu_pool *)self;
    if (!p) return;
    for (int k = 0; k < p->lanes; k++) lane_free(&p->lane[k]);
    bf16_free(p->bf16, p->layers);
    pthread_mutex_destroy(&p->one_run);
    free(p);
}

static float *alloc_f(size_t count, int *failed)
{
    float *p = malloc(count * sizeof *p);
    if (!p) *failed = 1;
    return p;
}

static hr_status lane_init(struct cpu_backend *b, const struct hr_kweights *w, const struct bf16_layer *bf16,
                           struct cpu_backend *team)
{
    b->w = w, b->bf16 = bf16, b->team = team, b->team_size = 1;
    b->H = w->cfg.hidden, b->F = w->cfg.intermediate, b->heads = w->cfg.heads, b->hd = b->H / b->heads;
    size_t T = HR_KOMPRESS_MAX_TOKENS, H = (size_t)b->H, F = (size_t)b->F, C = HR_KOMPRESS_SPAN_CHANNELS;
    int failed = 0;
    b->x = alloc_f(T * H, &failed), b->h = alloc_f(T * H, &failed), b->qkv = alloc_f(T * 3 * H, &failed);
    b->att = alloc_f(T * H, &failed), b->scores = alloc_f(T * T, &failed), b->mlp = alloc_f(T * 2 * F, &failed);
    b->gated = alloc_f(T * F, &failed), b->conv_in = alloc_f(T * 5 * C, &failed);
    b->conv_mid = alloc_f(T * C, &failed);
    if (bf16) {
        /* the widest input of a product: the hidden size, the GeGLU's or a row of scores */
        int widest = b->H > b->F ? b->H : b->F;
        if (widest < HR_KOMPRESS_MAX_TOKENS) widest = HR_KOMPRESS_MAX_TOKENS;
        size_t keys = hr__kbf16_packed_size((int)T, b->hd), values = hr__kbf16_packed_size(b->hd, (int)T);
        b->xb = malloc(hr__kbf16_scratch(widest) * sizeof *b->xb);
        b->k_pack = malloc(keys * sizeof *b->k_pack), b->v_pack = malloc(values * sizeof *b->v_pack);
        if (!b->xb || !b->k_pack || !b->v_pack) failed = 1;
    }
    return failed ? HR_ENOMEM : HR_OK;
}

hr_status hr__kbackend_cpu_new(const struct hr_kweights *w, int threads, enum hr_kprecision prec,
                               struct hr_kbackend **out)
{
    *out = NULL;
    if (prec == HR_KPREC_BF16 && !hr__kbf16_supported()) return HR_ENOTFOUND;
    struct cpu_pool *p = calloc(1, sizeof *p);
    if (!p) return HR_ENOMEM;
    p->base = (struct hr_kbackend){prec == HR_KPREC_BF16 ? "cpu-bf16" : "cpu", 0, cpu_run, cpu_destroy};
    pthread_mutex_init(&p->one_run, NULL);
    int lanes = threads < 1 ? 1 : threads > MAX_LANES ? MAX_LANES : threads;
    p->layers = w->cfg.layers;
    hr_status st = prec == HR_KPREC_BF16 ? bf16_pack(w, &p->bf16) : HR_OK;
    for (; p->lanes < lanes && !st; p->lanes++) st = lane_init(&p->lane[p->lanes], w, p->bf16, p->lane);
    if (st) {
        cpu_destroy(&p->base);
        return st;
    }
    *out = &p->base;
    return HR_OK;
}
