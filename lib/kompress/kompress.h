/* The Kompress scorer: a ModernBERT encoder with a token head and a span
 * convolution (the layout of chopratejas/kompress-v2-base), loaded from a
 * folder holding config.json, model.safetensors and tokenizer.json, run on
 * the CPU (OpenBLAS) or on an NVIDIA GPU (cuBLAS), and turned into keep
 * decisions for whitespace-separated words. Internal to libhr. */
#ifndef HR_KOMPRESS_H
#define HR_KOMPRESS_H

#include "hr.h"
#include "kompress/safetensors.h"
#include "settings/route_settings.h"
#include "tokenizer/tokenizer_internal.h"

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
    int local_window; /* local_attention: a local layer sees |i - j| <= window / 2 */
    double norm_eps;
    double global_theta, local_theta;
    unsigned char global[HR_KOMPRESS_MAX_LAYERS]; /* 1: full attention */
};

/* Reads the ModernBERT settings hr needs, in either dialect transformers
 * writes (global_attn_every_n_layers and *_rope_theta, or layer_types and
 * rope_parameters). err: one line naming the file and the key. */
hr_status hr__kconfig_load(struct hr_kconfig *cfg, const char *path, char *err, size_t err_len);

/* ---- weights (kompress_weights.c) ------------------------------------------ */

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

/* ---- tokenizer.json (kompress_tokenizer_load.c; encoding: kompress_tokenizer.c) */

struct hr_kbyte_map;
struct hr_kadded;

struct hr_ktokenizer {
    struct hr_vocab vocab; /* ranks = merge order, built at load time */
    uint32_t *rank_to_id;
    uint64_t *slots; /* vocab's tables, owned */
    uint32_t *offsets;
    unsigned char *bytes;
    uint32_t cls_id, sep_id;
    uint32_t max_id; /* the largest id encoding can give */
    int add_prefix_space;
    int nfc;                    /* normalizer NFC: each word is NFC'd first */
    struct hr_kbyte_map *whole; /* ignore_merges: a piece the vocabulary holds is one token */
    struct hr_kadded *added;    /* added_tokens, split out of words first */
    struct hr_bpe_scratch scratch;
};

hr_status hr__ktokenizer_load(struct hr_ktokenizer *t, const char *path, char *err, size_t err_len);
/* The id of the vocabulary token whose bytes are p[0..len), or HR_NO_RANK
 * (the first one read when two have the same bytes). */
uint32_t hr__kbyte_map_find(const struct hr_kbyte_map *m, const unsigned char *p, size_t len);

/* added_tokens (kompress_added.c) */
hr_status hr__kadded_load(const hr_json *doc, hr_json_node root, const char *path, struct hr_kadded **out, char *err,
                          size_t err_len);
void hr__kadded_free(struct hr_kadded *a);
uint32_t hr__kadded_max_id(const struct hr_kadded *a);
/* The leftmost-longest added token of the given stage ("normalized" true or
 * false) in s[from..n): returns where it starts, with its length and id, or
 * n when there is none. */
size_t hr__kadded_find(const struct hr_kadded *a, int normalized, const unsigned char *s, size_t n, size_t from,
                       size_t *len, uint32_t *id);
void hr__ktokenizer_free(struct hr_ktokenizer *t);
/* The ids of one word (no whitespace in it) as the Hugging Face tokenizer
 * gives them with is_split_into_words. Appends to *ids; HR_ENOMEM. */
hr_status hr__ktokenizer_word(struct hr_ktokenizer *t, const char *w, size_t n, uint32_t **ids, size_t *len,
                              size_t *cap);

/* GPT-2's pre-split pattern (byte-level BPE with use_regex); presplit_gpt2.c */
size_t hr__presplit_gpt2(const unsigned char *s, size_t n, size_t i);

/* ---- compute backends (kompress_cpu.c, kompress_cuda.cu) ----------------- */

/* One window: ids[0] is [CLS], ids[n - 1] is [SEP]. The backend writes, per
 * token, the two token-head logits and the span score (after the sigmoid). */
struct hr_kwindow {
    const uint32_t *ids;
    size_t n;
    float *logit0, *logit1, *span;
};

struct hr_kbackend {
    const char *name;    /* "cpu" (fp32), "cpu-bf16", "cuda" */
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

/* ---- bf16 products for the CPU backend (kompress_bf16.c) ---------------- */

/* W[out][in] rounded to bfloat16, in panels of 32 output columns. */
struct hr_kbf16_matrix {
    uint16_t *data;
    int out, in, kp; /* kp: in rounded up to even */
    int panels;
    size_t panel_stride; /* elements from one panel to the next */
};

/* Whether this CPU has AVX-512 BF16 (and the OS keeps its registers). */
int hr__kbf16_supported(void);
/* A weight matrix W[out][in] packed into memory of its own (HR_ENOMEM). */
hr_status hr__kbf16_pack(struct hr_kbf16_matrix *m, const float *W, int out, int in);
void hr__kbf16_free(struct hr_kbf16_matrix *m);
/* Elements a packed [out][in] matrix takes. */
size_t hr__kbf16_packed_size(int out, int in);
/* Packs into caller's data (hr__kbf16_packed_size elements) the matrix whose
 * element (o, i) is W[o * out_stride + i * in_stride]. m is not to be freed. */
void hr__kbf16_pack_into(struct hr_kbf16_matrix *m, uint16_t *data, const float *W, int out, int in, size_t out_stride,
                         size_t in_stride);
/* The same for attention, vectorized: rows packs X[n][in] (stride ld) with
 * an output per row (a head's keys); cols packs it with an output per
 * column (a head's values, transposed). Only when hr__kbf16_supported(). */
void hr__kbf16_pack_rows(struct hr_kbf16_matrix *m, uint16_t *data, const float *X, int n, int in, size_t ld);
void hr__kbf16_pack_cols(struct hr_kbf16_matrix *m, uint16_t *data, const float *X, int n, int in, size_t ld);
/* Views of a packed matrix: outputs [from, from + count), from a multiple
 * of 32; inputs [from, from + count), from even. */
struct hr_kbf16_matrix hr__kbf16_outputs(const struct hr_kbf16_matrix *m, int from, int count);
struct hr_kbf16_matrix hr__kbf16_inputs(const struct hr_kbf16_matrix *m, int from, int count);
/* Elements of the scratch hr__kbf16_linear needs for in inputs and up to
 * HR_KOMPRESS_MAX_TOKENS rows. */
size_t hr__kbf16_scratch(int in);
/* y[n][out] = x[n][in] W^T (beta 0) or y += x W^T (beta 1), x rounded to
 * bf16 into xb, products summed in fp32. Only when hr__kbf16_supported(). */
void hr__kbf16_linear(const float *x, size_t n, int ldx, const struct hr_kbf16_matrix *W, float beta, float *y, int ldy,
                      uint16_t *xb);
/* hr__kbf16_linear in two steps, so threads can share the rounded inputs:
 * round x into xb, then any range [first, end) of W's panels (32 outputs
 * each) from xb. */
void hr__kbf16_round(const float *x, size_t n, int ldx, const struct hr_kbf16_matrix *W, uint16_t *xb);
void hr__kbf16_panels(const uint16_t *xb, size_t n, const struct hr_kbf16_matrix *W, int first, int end, float beta,
                      float *y, int ldy);

/* ---- element-wise math for the CPU backend (kompress_math.c) ------------- */

/* r[lo, hi) replaced by the softmax of scale * r[lo, hi); r[0, lo) and
 * r[hi, width) zeroed. */
void hr__ksoftmax(float *r, size_t width, size_t lo, size_t hi, float scale);
/* out = (x - mean) / sqrt(var + eps) * w over one row of n; out != x. */
void hr__klayer_norm(const float *x, const float *w, int n, float eps, float *out);
/* ModernBERT's rotary embedding of one head, the half-rotation form: pairs
 * (i, i + half) turned by the angle whose cosine and sine are c[i], s[i]. */
void hr__krope(float *p, const float *c, const float *s, int half);
/* out[i] = GELU(in[i]) * gate[i], GELU with the exact erf form. */
void hr__kgeglu(const float *in, const float *gate, float *out, int n);

/* ---- compute backends --------------------------------------------------- */

/* The CPU backend's arithmetic: fp32 throughout, or the encoder layers'
 * products (the four weight products and attention's two) with bf16 inputs
 * and fp32 sums; norms, softmax, GeGLU and the heads stay fp32. */
enum hr_kprecision { HR_KPREC_FP32, HR_KPREC_BF16 };

/* threads: windows run side by side, one per thread (a lone window uses
 * them all: inside OpenBLAS for fp32, as a team for bf16). HR_ENOTFOUND
 * for bf16 on a CPU without AVX-512 BF16. */
hr_status hr__kbackend_cpu_new(const struct hr_kweights *w, int threads, enum hr_kprecision prec,
                               struct hr_kbackend **out);
/* The plugin's backend, max_concurrent runs at a time. HR_ENOTFOUND when
 * built without CUDA, when no NVIDIA driver or device answers, or when the
 * plugin is missing; err says which. */
hr_status hr__kbackend_cuda_new(const struct hr_kweights *w, int max_concurrent, struct hr_kbackend **out, char *err,
                                size_t err_len);
/* Token t's ranking score from a window's outputs: p * (0.5 + 0.5 * span),
 * p the softmax of the token head's logits for keep. */
double hr__kwindow_score(const struct hr_kwindow *win, size_t t);
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

/* The backend asked for: name, else $HEADROOM_KOMPRESS_BACKEND, else "auto". */
const char *hr__kompress_backend_wanted(const char *name);

/* Opens a model folder on backend (a name as hr__kompress_backend_wanted
 * gives), for max_concurrent runs at a time on a GPU (0: 1). A CUDA backend that cannot start under auto falls back to
 * the CPU and says so in note (empty when nothing to say). */
hr_status hr__kompress_open(struct hr_kompress *k, const char *dir, const char *backend, size_t max_concurrent,
                            char *err, size_t err_len, char *note, size_t note_len);
void hr__kompress_close(struct hr_kompress *k);

/* Splits text into words, scores them in windows of at most 350 words and
 * 512 tokens (a window ends early rather than cut a word's tokens; a single
 * word longer than a window is scored by its first 510 tokens), and decides
 * keep per word: a word is kept when any of its tokens is (token head argmax
 * is keep, or 0.3 < p <= 0.5 with span > 0.5). *words is malloc'd. */
hr_status hr__kompress_words(struct hr_kompress *k, const char *text, size_t len, struct hr_kword **words, size_t *n);

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
hr_status hr__kompress_chunks(struct hr_kompress *k, const struct hr_kword *words, size_t n_words, const char *text,
                              struct hr_kchunk **chunks, size_t *n_chunks);
void hr__kchunks_free(struct hr_kchunk *c, size_t n);

/* ---- one model per folder and backend, shared (kompress_shared.c) -------- */

struct hr_kshared;
/* The model of dir on backend, loaded on first use; note as in
 * hr__kompress_open, given to the first caller only. */
hr_status hr__kshared_acquire(const char *dir, const char *backend, size_t max_concurrent, struct hr_kshared **out,
                              char *err, size_t err_len, char *note, size_t note_len);
void hr__kshared_release(struct hr_kshared *m);
/* hr__kompress_words, one caller at a time per model. */
hr_status hr__kshared_words(struct hr_kshared *m, const char *text, size_t len, struct hr_kword **words, size_t *n);
const char *hr__kshared_backend(const struct hr_kshared *m);

#endif
