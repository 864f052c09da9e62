/* A Kompress model's weights: model.safetensors mapped, every tensor's shape
 * checked against config.json, fp32 tensors used in place and fp16/bf16 ones
 * widened once. The embedding table stays in the file and is widened a row
 * at a time, since a window reads at most 512 of its 50,000 rows. */
#include "util/errmsg.h"
#include "util/file_io.h"
#include "kompress/kompress.h"

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct loader {
    struct hr_kweights *w;
    char *err;
    size_t err_len;
};

/* The tensor as fp32: in place when stored as aligned fp32, else a copy. */
static hr_status as_f32(struct loader *L, const struct hr__st_tensor *t, const float **out)
{
    if (t->dtype == HR_ST_F32 && (uintptr_t)t->data % sizeof(float) == 0) {
        *out = (const float *)(const void *)t->data;
        return HR_OK;
    }
    if (t->dtype == HR_ST_OTHER)
        return hr__errorf(L->err, L->err_len, HR_EINVAL, "%s: tensor %s is %s; weights must be F32, F16 or BF16",
                          L->w->st.path, t->name, t->dtype_name);
    float **grown = realloc(L->w->owned, (L->w->n_owned + 1) * sizeof *grown);
    if (!grown) return HR_ENOMEM;
    L->w->owned = grown;
    float *copy = malloc(t->count * sizeof *copy);
    if (!copy) return hr__errorf(L->err, L->err_len, HR_ENOMEM, "%s: no memory for tensor %s", L->w->st.path, t->name);
    grown[L->w->n_owned++] = copy;
    hr__st_to_f32(t, copy);
    *out = copy;
    return HR_OK;
}

static hr_status tensor(struct loader *L, const char *name, size_t ndim, int64_t d0, int64_t d1, int64_t d2,
                        const float **out)
{
    const int64_t dims[3] = {d0, d1, d2};
    const struct hr__st_tensor *t;
    hr_status st = hr__st_expect(&L->w->st, name, ndim, dims, &t, L->err, L->err_len);
    return st ? st : as_f32(L, t, out);
}

static hr_status load_layer(struct loader *L, int i)
{
    const struct hr_kconfig *c = &L->w->cfg;
    struct hr_klayer *y = &L->w->layer[i];
    int64_t H = c->hidden, I = c->intermediate;
    char name[96];
    hr_status st = HR_OK;
#define LAYER_TENSOR(suffix, ndim, a, b, dst)                                                                          \
    do {                                                                                                               \
        snprintf(name, sizeof name, "encoder.layers.%d.%s", i, suffix);                                                \
        if (!st) st = tensor(L, name, ndim, a, b, 0, dst);                                                             \
    } while (0)
    if (i > 0) LAYER_TENSOR("attn_norm.weight", 1, H, 0, &y->attn_norm);
    LAYER_TENSOR("attn.Wqkv.weight", 2, 3 * H, H, &y->wqkv);
    LAYER_TENSOR("attn.Wo.weight", 2, H, H, &y->wo);
    LAYER_TENSOR("mlp_norm.weight", 1, H, 0, &y->mlp_norm);
    LAYER_TENSOR("mlp.Wi.weight", 2, 2 * I, H, &y->wi);
    LAYER_TENSOR("mlp.Wo.weight", 2, H, I, &y->wo2);
#undef LAYER_TENSOR
    return st;
}

static hr_status load_tensors(struct loader *L)
{
    struct hr_kweights *w = L->w;
    const struct hr_kconfig *c = &w->cfg;
    int64_t H = c->hidden, S = HR_KOMPRESS_SPAN_CHANNELS;
    const int64_t emb_dims[2] = {c->vocab, H};
    hr_status st =
        hr__st_expect(&w->st, "encoder.embeddings.tok_embeddings.weight", 2, emb_dims, &w->tok_emb, L->err, L->err_len);
    if (!st && w->tok_emb->dtype == HR_ST_OTHER)
        st = hr__errorf(L->err, L->err_len, HR_EINVAL, "%s: tensor %s is %s; weights must be F32, F16 or BF16",
                        w->st.path, w->tok_emb->name, w->tok_emb->dtype_name);
    if (!st) st = tensor(L, "encoder.embeddings.norm.weight", 1, H, 0, 0, &w->emb_norm);
    for (int i = 0; !st && i < c->layers; i++) st = load_layer(L, i);
    if (!st) st = tensor(L, "encoder.final_norm.weight", 1, H, 0, 0, &w->final_norm);
    if (!st) st = tensor(L, "token_head.weight", 2, 2, H, 0, &w->head_w);
    if (!st) st = tensor(L, "token_head.bias", 1, 2, 0, 0, &w->head_b);
    if (!st) st = tensor(L, "span_conv.0.weight", 3, S, H, 5, &w->conv0_w);
    if (!st) st = tensor(L, "span_conv.0.bias", 1, S, 0, 0, &w->conv0_b);
    if (!st) st = tensor(L, "span_conv.2.weight", 3, 1, S, 3, &w->conv2_w);
    if (!st) st = tensor(L, "span_conv.2.bias", 1, 1, 0, 0, &w->conv2_b);
    return st;
}

hr_status hr__kweights_load(struct hr_kweights *w, const char *dir, char *err, size_t err_len)
{
    memset(w, 0, sizeof *w);
    char *config = hr__path_join(dir, "config.json"), *weights = hr__path_join(dir, "model.safetensors");
    hr_status st = config && weights ? HR_OK : hr__errorf(err, err_len, HR_ENOMEM, "%s: out of memory", dir);
    if (!st) st = hr__kconfig_load(&w->cfg, config, err, err_len);
    if (!st) st = hr__st_open(&w->st, weights, err, err_len);
    free(config);
    free(weights);
    if (st) return st;
    struct loader L = {w, err, err_len};
    st = load_tensors(&L);
    if (!st && hr__kweights_derive(w)) st = hr__errorf(err, err_len, HR_ENOMEM, "%s: out of memory", dir);
    return st;
}

/* cos and sin of position * theta^(-2i/hd), computed in double. */
static void rope_table(float *cos_out, float *sin_out, int hd, double theta)
{
    int half = hd / 2;
    for (int t = 0; t < HR_KOMPRESS_MAX_TOKENS; t++)
        for (int i = 0; i < half; i++) {
            double a = t * pow(theta, -2.0 * i / hd);
            cos_out[t * half + i] = (float)cos(a);
            sin_out[t * half + i] = (float)sin(a);
        }
}

hr_status hr__kweights_derive(struct hr_kweights *w)
{
    size_t H = (size_t)w->cfg.hidden, C = HR_KOMPRESS_SPAN_CHANNELS;
    int hd = w->cfg.hidden / w->cfg.heads;
    size_t cells = (size_t)HR_KOMPRESS_MAX_TOKENS * (size_t)(hd / 2);
    for (int k = 0; k < 2; k++) {
        w->rope_cos[k] = malloc(cells * sizeof(float));
        w->rope_sin[k] = malloc(cells * sizeof(float));
        if (!w->rope_cos[k] || !w->rope_sin[k]) return HR_ENOMEM;
    }
    w->conv0_taps = malloc(5 * C * H * sizeof(float));
    if (!w->conv0_taps) return HR_ENOMEM;
    rope_table(w->rope_cos[0], w->rope_sin[0], hd, w->cfg.global_theta);
    rope_table(w->rope_cos[1], w->rope_sin[1], hd, w->cfg.local_theta);
    for (size_t k = 0; k < 5; k++) /* [256][H][5] -> [5][256][H] */
        for (size_t c = 0; c < C; c++)
            for (size_t j = 0; j < H; j++) w->conv0_taps[(k * C + c) * H + j] = w->conv0_w[(c * H + j) * 5 + k];
    return HR_OK;
}

void hr__kweights_free(struct hr_kweights *w)
{
    for (size_t i = 0; i < w->n_owned; i++) free(w->owned[i]);
    free(w->owned);
    for (int k = 0; k < 2; k++) free(w->rope_cos[k]), free(w->rope_sin[k]);
    free(w->conv0_taps);
    hr__st_close(&w->st);
    memset(w, 0, sizeof *w);
}

void hr__kweights_embed(const struct hr_kweights *w, uint32_t id, float *out)
{
    const struct hr__st_tensor *t = w->tok_emb;
    size_t H = (size_t)w->cfg.hidden;
    const unsigned char *row = t->data + (size_t)id * H * (t->dtype == HR_ST_F32 ? 4 : 2);
    for (size_t i = 0; i < H; i++) {
        if (t->dtype == HR_ST_F32) {
            memcpy(out + i, row + 4 * i, 4);
        } else {
            uint16_t h;
            memcpy(&h, row + 2 * i, 2);
            out[i] = t->dtype == HR_ST_F16 ? hr__f16_to_f32(h) : hr__bf16_to_f32(h);
        }
    }
}
