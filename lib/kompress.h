/* The Kompress scorer: a ModernBERT encoder with a token head and a span
 * convolution (the layout of chopratejas/kompress-v2-base), loaded from a
 * folder holding config.json, model.safetensors and tokenizer.json, run on
 * the CPU (OpenBLAS) or on an NVIDIA GPU (cuBLAS), and turned into keep
 * decisions for whitespace-separated words. Internal to libhr. */
#ifndef HR_KOMPRESS_H
#define HR_KOMPRESS_H

#include "hr.h"
#include "safetensors.h"
#include "tokenizer_internal.h"

#include <pthread.h>
#include <stddef.h>
#include <stdint.h>

#define HR_KOMPRESS_CHUNK_WORDS 350
#define HR_KOMPRESS_MAX_TOKENS 512 /* a window, [CLS] and [SEP] included */
#define HR_KOMPRESS_SPAN_CHANNELS 256
#define HR_KOMPRESS_MAX_LAYERS 64
#define HR_KOMPRESS_ERR 320
#define HR_KOMPRESS_MAX_CONCURRENT 8 /* GPU runs at a time, each with its own scratch */

/* ---- config.json (kompress_config.c) --------------------------------------- */

struct hr_kconfig {
    int hidden, layers, heads, intermediate, vocab;
    int local_window;  /* local_attention: a local layer sees |i - j| <= window / 2 */
    double norm_eps;
    double global_theta, local_theta;
    unsigned char global[HR_KOMPRESS_MAX_LAYERS]; /* 1: full attention */
};

/* Reads the ModernBERT settings hr needs, in either dialect transformers
 * writes (global_attn_every_n_layers and *_rope_theta, or layer_types and
 * rope_parameters). err: one line naming the file and the key. */
hr_status hr__kconfig_load(struct hr_kconfig *cfg, const char *path, char *err, size_t err_len);

/* ---- weights (kompress_model.c) -------------------------------------------- */

struct hr_klayer {
    const float *attn_norm; /* NULL in layer 0, whose attention norm is the identity */
    const float *wqkv;      /* [3H][H] */
    const float *wo;        /* [H][H] */
    const float *mlp_norm;  /* [H] */
    const float *wi;        /* [2I][H]: the input half, then the gate half */
    const float *wo2;       /* [H][I] */
};

struct hr_kweights {
    struct hr_kconfig cfg;
    struct hr__safetensors st;
    const struct hr__st_tensor *tok_emb; /* [V][H], widened a row at a time */
    const float *emb_norm, *final_norm;
    struct hr_klayer layer[HR_KOMPRESS_MAX_LAYERS];
    const float *head_w, *head_b;   /* [2][H], [2] */
    const float *conv0_w, *conv0_b; /* [256][H][5], [256] */
    const float *conv2_w, *conv2_b; /* [1][256][3], [1] */
    float **owned;                  /* fp32 copies of fp16/bf16 tensors */
    size_t n_owned;
    /* derived once for every backend (hr__kweights_derive) */
    float *rope_cos[2], *rope_sin[2]; /* [0] global, [1] local: [MAX_TOKENS][head_dim / 2] */
    float *conv0_taps;                /* span_conv.0 as [5][256][H]: one product gives every tap */
};

/* Loads dir/config.json and dir/model.safetensors, every tensor's shape
 * checked against the config. */
hr_status hr__kweights_load(struct hr_kweights *w, const char *dir, char *err, size_t err_len);
void hr__kweights_free(struct hr_kweights *w);
/* The rotary tables and conv0_taps from the config and the weights (done by
 * hr__kweights_load; for weights put together in memory). HR_ENOMEM. */
hr_status hr__kweights_derive(struct hr_kweights *w);
/* Embedding row `id` as fp32 into out[H]. */
void hr__kweights_embed(const struct hr_kweights *w, uint32_t id, float *out);

/* ---- tokenizer.json (kompress_tokenizer.c) ---------------------------------- */

struct hr_ktokenizer {
    struct hr_vocab vocab;  /* ranks = merge order, built at load time */
    uint32_t *rank_to_id;
    uint64_t *slots;        /* vocab's tables, owned */
    uint32_t *offsets;
    unsigned char *bytes;
    uint32_t cls_id, sep_id;
    int add_prefix_space;
    struct hr_bpe_scratch scratch;
};

hr_status hr__ktokenizer_load(struct hr_ktokenizer *t, const char *path, char *err, size_t err_len);
void hr__ktokenizer_free(struct hr_ktokenizer *t);
/* The ids of one word (no whitespace in it) as the Hugging Face tokenizer
 * gives them with is_split_into_words. Appends to *ids; HR_ENOMEM. */
hr_status hr__ktokenizer_word(struct hr_ktokenizer *t, const char *w, size_t n, uint32_t **ids, size_t *len,
                              size_t *cap);

/* GPT-2's pre-split pattern (byte-level BPE with use_regex); presplit_gpt2.c */
size_t hr_presplit_gpt2(const unsigned char *s, size_t n, size_t i);

/* ---- compute backends (kompress_cpu.c, kompress_cuda.cu) ----------------- */

/* One window: ids[0] is [CLS], ids[n - 1] is [SEP]. The backend writes, per
 * token, the two token-head logits and the span score (after the sigmoid). */
struct hr_kwindow {
    const uint32_t *ids;
    size_t n;
    float *logit0, *logit1, *span;
};

struct hr_kbackend {
    const char *name;    /* "cpu", "cuda" */
    size_t device_bytes; /* device memory held (weights and scratch); 0 on the CPU */
    hr_status (*run)(struct hr_kbackend *self, struct hr_kwindow *win, size_t count);
    void (*destroy)(struct hr_kbackend *self);
};

/* The CUDA backend is a plugin (kompress-cuda.so, from kompress_cuda.cu)
 * that exports hr_kompress_cuda_abi, which must equal this number, and
 * hr_kompress_cuda_new(w, host, max_concurrent, out, err, err_len): host
 * lends it libhr's own readers. Raise it whenever struct hr_kweights,
 * hr_kwindow, hr_kbackend or hr_kcuda_host change. */
#define HR_KOMPRESS_CUDA_ABI 2

struct hr_kcuda_host {
    void (*embed)(const struct hr_kweights *w, uint32_t id, float *out); /* hr__kweights_embed */
};

/* threads: windows run side by side, one per thread (a lone window uses
 * them all inside OpenBLAS). */
hr_status hr__kbackend_cpu_new(const struct hr_kweights *w, int threads, struct hr_kbackend **out);
/* The plugin's backend, max_concurrent runs at a time. HR_ENOTFOUND when
 * built without CUDA, when no NVIDIA driver or device answers, or when the
 * plugin is missing; err says which. */
hr_status hr__kbackend_cuda_new(const struct hr_kweights *w, int max_concurrent, struct hr_kbackend **out,
                                char *err, size_t err_len);
/* Runs one short test window (cls, 62 fixed ids, sep) on other and on a
 * one-thread CPU backend: HR_OK when every token's score agrees within 0.05,
 * HR_EMODEL when not (worst: the largest difference, INFINITY for NaN),
 * else the status of a run that failed. */
hr_status hr__kbackend_selfcheck(const struct hr_kweights *w, uint32_t cls, uint32_t sep, struct hr_kbackend *other,
                                 double *worst);
/* Whether this libhr was built with the CUDA backend (kompress_cuda_load.c). */
int hr__kompress_cuda_built(void);

/* ---- words (kompress_words.c) ----------------------------------------------- */

struct hr_kword {
    size_t off, len; /* in the text */
    float score;     /* best sub-token score: p * (0.5 + 0.5 * span) */
    unsigned char keep;
};

struct hr_kompress {
    struct hr_kweights w;
    struct hr_ktokenizer tok;
    struct hr_kbackend *backend;
};

/* Whether name is a backend: "auto", "cpu", "cuda" or its alias "pytorch". */
int hr__kompress_backend_known(const char *name);
/* The backend asked for: name, else $HEADROOM_KOMPRESS_BACKEND, else "auto". */
const char *hr__kompress_backend_wanted(const char *name);

/* Opens a model folder on backend (a name as hr__kompress_backend_wanted
 * gives), for max_concurrent runs at a time on a GPU (0: 1). A CUDA backend that cannot start under auto falls back to the CPU
 * and says so in note (empty when nothing to say). */
hr_status hr__kompress_open(struct hr_kompress *k, const char *dir, const char *backend, size_t max_concurrent,
                            char *err, size_t err_len, char *note, size_t note_len);
void hr__kompress_close(struct hr_kompress *k);

/* Splits text into words, scores them in windows of at most 350 words and
 * 512 tokens (a window ends early rather than cut a word's tokens; a single
 * word longer than a window is scored by its first 510 tokens), and decides
 * keep per word: a word is kept when any of its tokens is (token head argmax
 * is keep, or 0.3 < p <= 0.5 with span > 0.5). *words is malloc'd. */
hr_status hr__kompress_words(struct hr_kompress *k, const char *text, size_t len, struct hr_kword **words,
                             size_t *n);

/* hr__kompress_words with tok_lock (when not NULL) held while the text is
 * tokenised, whose scratch is the model's, and not while the backend runs:
 * backends bound their own concurrency. */
hr_status hr__kompress_words_locked(struct hr_kompress *k, pthread_mutex_t *tok_lock, const char *text, size_t len,
                                    struct hr_kword **words, size_t *n);

/* The per-token pass behind hr__kompress_words, exposed for the tests:
 * windows' token ids with, per token, the word it belongs to (SIZE_MAX for
 * [CLS] and [SEP]). */
struct hr_kchunk {
    size_t first_word, end_word;
    uint32_t *ids;
    size_t *word;
    size_t n;
};
hr_status hr__kompress_chunks(struct hr_kompress *k, const struct hr_kword *words, size_t n_words,
                              const char *text, struct hr_kchunk **chunks, size_t *n_chunks);
void hr__kchunks_free(struct hr_kchunk *c, size_t n);

/* ---- one model per folder and backend, shared (kompress_shared.c) -------- */

struct hr_kshared;
/* The model of dir on backend, loaded on first use; note as in
 * hr__kompress_open, given to the first caller only. */
hr_status hr__kshared_acquire(const char *dir, const char *backend, size_t max_concurrent, struct hr_kshared **out,
                              char *err, size_t err_len, char *note, size_t note_len);
void hr__kshared_release(struct hr_kshared *m);
/* hr__kompress_words, one caller at a time per model. */
hr_status hr__kshared_words(struct hr_kshared *m, const char *text, size_t len, struct hr_kword **words,
                            size_t *n);
const char *hr__kshared_backend(const struct hr_kshared *m);

#endif
