/* The Kompress scorer against its PyTorch reference: two small random models
 * in kompress-v2-base's layout (testdata/kompress-ref/, written by
 * scripts/kompress-reference.py), one fp32 with 3 layers of hidden 64, one
 * bf16 with 4 layers of hidden 128, each with local and global layers. For
 * every text: the same words, windows and token ids exactly; per token the
 * logits, span and score within 1e-4 of the float64 reference; per word the
 * same keep decision except where the reference lies within 1e-3 of a
 * threshold. Also: choosing the scorer through hr_compress(). */
#include "json/json_internal.h"
#include "kompress/kompress.h"
#include "unit.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#define REF "testdata/kompress-ref/"
#define TOL 1e-4

struct ref {
    char dir[256]; /* the model's folder */
    hr_buf text;
    hr_json *doc;
};

static int load_ref(struct ref *r, const char *model)
{
    char path[300], err[HR_KOMPRESS_ERR];
    snprintf(r->dir, sizeof r->dir, REF "%s", model);
    snprintf(path, sizeof path, "%s/expected.json", r->dir);
    if (hr__json_load_file(path, &r->text, &r->doc, err, sizeof err)) {
        printf("  %s\n", err);
        return -1;
    }
    return 0;
}

static void free_ref(struct ref *r)
{
    hr_json_free(r->doc);
    hr_buf_free(&r->text);
}

static hr_json_node at(const hr_json *doc, hr_json_node arr, size_t i)
{
    hr_json_node e = hr_json_first(doc, arr);
    while (i-- && e != HR_JSON_NONE) e = hr_json_next(doc, e);
    return e;
}

static double num(const struct ref *r, hr_json_node obj, const char *key, size_t i)
{
    return hr__json_number(r->doc, at(r->doc, hr_json_get(r->doc, obj, key), i), r->text.data);
}

static size_t whole(const struct ref *r, hr_json_node obj, const char *key)
{
    return (size_t)hr__json_number(r->doc, hr_json_get(r->doc, obj, key), r->text.data);
}

static int flag(const struct ref *r, hr_json_node obj, const char *key, size_t i)
{
    return hr_json_type_of(r->doc, at(r->doc, hr_json_get(r->doc, obj, key), i)) == HR_JSON_TRUE;
}

struct worst {
    double score, span, logit;
    size_t tokens, words, near_threshold;
};

/* The per-token pass of one window against the reference's chunk. */
static void check_chunk(struct hr_kompress *k, const struct hr_kchunk *c, const struct ref *r, hr_json_node rc,
                        struct worst *w)
{
    CHECK_EQ_U(c->first_word, whole(r, rc, "first_word"));
    CHECK_EQ_U(c->end_word, whole(r, rc, "end_word"));
    CHECK_EQ_U(c->n, hr_json_length(r->doc, hr_json_get(r->doc, rc, "ids")));
    size_t bad_ids = 0;
    for (size_t t = 0; t < c->n; t++) bad_ids += c->ids[t] != (uint32_t)num(r, rc, "ids", t);
    CHECK_EQ_U(bad_ids, 0);
    if (bad_ids) return;
    float *out = malloc(3 * c->n * sizeof *out);
    struct hr_kwindow win = {c->ids, c->n, out, out + c->n, out + 2 * c->n};
    CHECK(k->backend->run(k->backend, &win, 1) == HR_OK);
    for (size_t t = 0; t < c->n; t++) {
        double l0 = num(r, rc, "logit0", t), l1 = num(r, rc, "logit1", t), sp = num(r, rc, "span", t);
        double p = 1.0 / (1.0 + exp((double)out[t] - out[c->n + t]));
        double score = p * (0.5 + 0.5 * out[2 * c->n + t]);
        double dl = fmax(fabs(out[t] - l0), fabs(out[c->n + t] - l1));
        w->logit = fmax(w->logit, dl);
        w->span = fmax(w->span, fabs(out[2 * c->n + t] - sp));
        w->score = fmax(w->score, fabs(score - num(r, rc, "score", t)));
        w->tokens++;
    }
    free(out);
}

static void check_text(struct hr_kompress *k, const struct ref *r, hr_json_node rt, struct worst *w)
{
    hr_buf text = {0};
    hr_json_string_decode(r->doc, hr_json_get(r->doc, rt, "text"), &text);
    struct hr_kword *words = NULL;
    size_t n = 0;
    CHECK(hr__kompress_words(k, text.data, text.len, &words, &n) == HR_OK);
    CHECK_EQ_U(n, whole(r, rt, "words"));
    struct hr_kchunk *chunks = NULL;
    size_t nc = 0;
    CHECK(hr__kompress_chunks(k, words, n, text.data, &chunks, &nc) == HR_OK);
    hr_json_node rcs = hr_json_get(r->doc, rt, "chunks");
    CHECK_EQ_U(nc, hr_json_length(r->doc, rcs));
    for (size_t i = 0; i < nc && i < hr_json_length(r->doc, rcs); i++)
        check_chunk(k, &chunks[i], r, at(r->doc, rcs, i), w);
    size_t differ = 0;
    for (size_t i = 0; i < n; i++) {
        int keep = flag(r, rt, "word_keep", i);
        double margin = num(r, rt, "word_margin", i);
        w->score = fmax(w->score, fabs(words[i].score - num(r, rt, "word_score", i)));
        if (margin < 1e-3) w->near_threshold++;
        else if (words[i].keep != keep) differ++;
        w->words++;
    }
    CHECK_EQ_U(differ, 0);
    hr__kchunks_free(chunks, nc);
    free(words);
    hr_buf_free(&text);
}

static void check_model(const char *model)
{
    struct ref r = {0};
    if (load_ref(&r, model)) {
        CHECK(0);
        return;
    }
    char err[HR_KOMPRESS_ERR], note[HR_KOMPRESS_ERR];
    struct hr_kompress k;
    hr_status st = hr__kompress_open(&k, r.dir, "cpu-fp32", 1, err, sizeof err, note, sizeof note);
    if (st) printf("  %s\n", err);
    CHECK(st == HR_OK);
    struct worst w = {0};
    hr_json_node texts = hr_json_get(r.doc, hr_json_root(r.doc), "texts");
    for (hr_json_node t = hr_json_first(r.doc, texts); !st && t != HR_JSON_NONE; t = hr_json_next(r.doc, t))
        check_text(&k, &r, t, &w);
    printf("  %s: %zu tokens, %zu words (%zu within 1e-3 of a threshold); largest differences: score %.2g, span %.2g, "
           "logit %.2g\n",
           model, w.tokens, w.words, w.near_threshold, w.score, w.span, w.logit);
    CHECK(w.tokens > 2000);
    CHECK(w.score <= TOL);
    CHECK(w.span <= TOL);
    CHECK(w.logit <= TOL);
    if (!st) hr__kompress_close(&k);
    free_ref(&r);
}

/* Through the public API: a kompress scorer whose folder is empty fails with
 * HR_EMODEL naming the file, and keeps failing for a minute without looking
 * again (loading a model is costly), even once the files are there; another
 * folder is tried at once and works. */
static void test_scorer_choice(void)
{
    static const char req[] = "{\"model\":\"gpt-4o\",\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}";
    char dir[] = "/tmp/hr-kompress-XXXXXX", cmd[512];
    CHECK(mkdtemp(dir) != NULL);
    hr_compressor *c = NULL;
    CHECK(hr_compressor_new(&c) == HR_OK);
    hr_compress_options opt;
    hr_compress_options_init(&opt);
    opt.scorer = "kompress";
    opt.model_dir = dir;
    opt.kompress_backend = "cpu-fp32";
    hr_buf out = {0};
    CHECK(hr_compress(c, &opt, req, sizeof req - 1, &out) == HR_EMODEL);
    CHECK(strstr(hr_compressor_errmsg(c), "config.json: No such file") != NULL);
    snprintf(cmd, sizeof cmd, "cp " REF "tiny-f32/*.json " REF "tiny-f32/model.safetensors %s/", dir);
    CHECK(system(cmd) == 0);
    CHECK(hr_compress(c, &opt, req, sizeof req - 1, &out) == HR_EMODEL);
    opt.model_dir = REF "tiny-f32";
    CHECK(hr_compress(c, &opt, req, sizeof req - 1, &out) == HR_OK);
    hr_compress_stats st;
    hr_compressor_stats(c, &st);
    CHECK_EQ_S(st.scorer, "kompress");
    CHECK_EQ_S(st.scorer_backend, "cpu");
    CHECK(hr_compressor_scorer_note(c) == NULL);
    opt.scorer = "lexical";
    CHECK(hr_compress(c, &opt, req, sizeof req - 1, &out) == HR_OK);
    hr_compressor_stats(c, &st);
    CHECK_EQ_S(st.scorer, "lexical");
    CHECK(st.scorer_backend == NULL);
    hr_buf_free(&out);
    hr_compressor_free(c);
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    CHECK(system(cmd) == 0);
}

/* Every window of every reference text through one run (on the GPU, padded
 * to the longest): a lower-precision backend's logits, spans and scores
 * against the fp32 CPU backend's within tol (logits 4 tol), and the same keep
 * decisions except where the fp32 score lies within tol of a threshold. The
 * CUDA backend is skipped, saying why, in builds without CUDA and on machines
 * without an NVIDIA driver or device; cpu-bf16 on CPUs without AVX-512 BF16.
 * Any other failure to start the backend (a missing plugin) fails. */
#define FP16_TOL 5e-3
#define BF16_TOL 1e-2
static int skip_backend(const char *model, const char *backend, hr_status st, const char *err)
{
    if (st != HR_ENOTFOUND) return 0;
    int absent = !strcmp(backend, "cpu-bf16")
                     ? !hr__kbf16_supported()
                     : !hr__kompress_cuda_built() || strstr(err, "no NVIDIA driver") || strstr(err, "no CUDA device");
    if (absent) {
        printf("  %s: %s skipped, not on this machine (%s)\n", model, backend, err);
        unit_skipped = 1;
    }
    return absent;
}

/* Each window run alone (a lone bf16 window is shared among the lanes as a
 * team) gives the very bits it got in a run of many. */
static size_t lone_differs(struct hr_kbackend *b, const struct hr_kwindow *batch, size_t count)
{
    size_t differ = 0;
    for (size_t i = 0; i < count; i++) {
        size_t n = batch[i].n;
        float *out = malloc(3 * n * sizeof *out);
        struct hr_kwindow w = {batch[i].ids, n, out, out + n, out + 2 * n};
        CHECK(b->run(b, &w, 1) == HR_OK);
        differ += memcmp(out, batch[i].logit0, n * sizeof *out) || memcmp(out + n, batch[i].logit1, n * sizeof *out) ||
                  memcmp(out + 2 * n, batch[i].span, n * sizeof *out);
        free(out);
    }
    return differ;
}

static void backend_vs_fp32(const char *model, const char *backend, double tol)
{
    struct ref r = {0};
    if (load_ref(&r, model)) {
        CHECK(0);
        return;
    }
    char err[HR_KOMPRESS_ERR], note[HR_KOMPRESS_ERR];
    struct hr_kompress cpu, other;
    CHECK(hr__kompress_open(&cpu, r.dir, "cpu-fp32", 1, err, sizeof err, note, sizeof note) == HR_OK);
    hr_status st = hr__kompress_open(&other, r.dir, backend, 2, err, sizeof err, note, sizeof note);
    if (skip_backend(model, backend, st, err)) {
        hr__kompress_close(&cpu);
        free_ref(&r);
        return;
    }
    CHECK(st == HR_OK);
    struct hr_kchunk *all = NULL;
    size_t n_all = 0, tokens = 0, differ = 0, near = 0;
    hr_json_node texts = hr_json_get(r.doc, hr_json_root(r.doc), "texts");
    for (hr_json_node t = hr_json_first(r.doc, texts); !st && t != HR_JSON_NONE; t = hr_json_next(r.doc, t)) {
        hr_buf text = {0};
        hr_json_string_decode(r.doc, hr_json_get(r.doc, t, "text"), &text);
        struct hr_kword *words = NULL;
        struct hr_kchunk *chunks = NULL;
        size_t n = 0, nc = 0;
        CHECK(hr__kompress_words(&cpu, text.data, text.len, &words, &n) == HR_OK);
        CHECK(hr__kompress_chunks(&cpu, words, n, text.data, &chunks, &nc) == HR_OK);
        all = realloc(all, (n_all + nc) * sizeof *all);
        memcpy(all + n_all, chunks, nc * sizeof *chunks);
        n_all += nc;
        free(chunks);
        free(words);
        hr_buf_free(&text);
    }
    for (size_t i = 0; i < n_all; i++) tokens += all[i].n;
    float *a = malloc(3 * tokens * sizeof *a), *b = malloc(3 * tokens * sizeof *b);
    struct hr_kwindow *wa = calloc(n_all, sizeof *wa), *wb = calloc(n_all, sizeof *wb);
    for (size_t i = 0, at = 0; i < n_all; at += 3 * all[i].n, i++) {
        size_t n = all[i].n;
        wa[i] = (struct hr_kwindow){all[i].ids, n, a + at, a + at + n, a + at + 2 * n};
        wb[i] = (struct hr_kwindow){all[i].ids, n, b + at, b + at + n, b + at + 2 * n};
    }
    CHECK(cpu.backend->run(cpu.backend, wa, n_all) == HR_OK);
    CHECK(other.backend->run(other.backend, wb, n_all) == HR_OK);
    if (!strcmp(backend, "cpu-bf16")) CHECK_EQ_U(lone_differs(other.backend, wb, n_all), 0);
    double worst_logit = 0, worst_span = 0, worst_score = 0;
    for (size_t i = 0; i < n_all; i++)
        for (size_t t = 0; t < all[i].n; t++) {
            float l0 = wa[i].logit0[t], l1 = wa[i].logit1[t], g0 = wb[i].logit0[t], g1 = wb[i].logit1[t];
            float pa = 1.0f / (1.0f + expf(l0 - l1)), pb = 1.0f / (1.0f + expf(g0 - g1));
            float sa = pa * (0.5f + 0.5f * wa[i].span[t]), sb = pb * (0.5f + 0.5f * wb[i].span[t]);
            worst_logit = fmax(worst_logit, fmax(fabs(l0 - g0), fabs(l1 - g1)));
            worst_span = fmax(worst_span, fabs(wa[i].span[t] - wb[i].span[t]));
            worst_score = fmax(worst_score, fabs(sa - sb));
            int ka = l1 > l0 || (pa > 0.3f && pa <= 0.5f && wa[i].span[t] > 0.5f);
            int kb = g1 > g0 || (pb > 0.3f && pb <= 0.5f && wb[i].span[t] > 0.5f);
            double margin = fmin(fmin(fabs(pa - 0.5f), fabs(pa - 0.3f)), fabs(wa[i].span[t] - 0.5f));
            if (margin < tol) near++;
            else differ += ka != kb;
        }
    printf("  %s: %zu windows, %zu tokens, %s vs cpu-fp32: logit %.2g, span %.2g, score %.2g; %zu near a threshold\n",
           model, n_all, tokens, other.backend->name, worst_logit, worst_span, worst_score, near);
    CHECK(n_all >= 5);
    CHECK(worst_score <= tol);
    CHECK(worst_span <= tol);
    CHECK(worst_logit <= 4 * tol);
    CHECK_EQ_U(differ, 0);
    hr__kchunks_free(all, n_all);
    free(a), free(b), free(wa), free(wb);
    hr__kompress_close(&other);
    hr__kompress_close(&cpu);
    free_ref(&r);
}

static void test_cuda_agrees_with_cpu(void)
{
    backend_vs_fp32("tiny-f32", "cuda", FP16_TOL);
    backend_vs_fp32("small-bf16", "cuda", FP16_TOL);
}

static void test_bf16_agrees_with_fp32(void)
{
    backend_vs_fp32("tiny-f32", "cpu-bf16", BF16_TOL);
    backend_vs_fp32("small-bf16", "cpu-bf16", BF16_TOL);
}

/* A backend that is the CPU's with something wrong added: logit1 moved by
 * shift, or every span NaN. */
struct skewed {
    struct hr_kbackend base;
    struct hr_kbackend *cpu;
    float shift;
    int nan_span;
};

static hr_status skewed_run(struct hr_kbackend *self, struct hr_kwindow *win, size_t count)
{
    struct skewed *s = (struct skewed *)self;
    hr_status st = s->cpu->run(s->cpu, win, count);
    for (size_t i = 0; !st && i < count; i++)
        for (size_t t = 0; t < win[i].n; t++) {
            win[i].logit1[t] += s->shift;
            if (s->nan_span) win[i].span[t] = NAN;
        }
    return st;
}

/* Two fp32 runs on the CPU agree to rounding, not bit for bit: the start-up
 * check's own CPU backend runs OpenBLAS on one thread, the backend opened
 * for the model on as many as the process may use, and OpenBLAS splits a
 * product's sums among its threads (and picks its kernels) by the machine,
 * so their order changes with the cores, taskset and OPENBLAS_NUM_THREADS.
 * Differences of 2e-7 in a score have been seen; 1e-5 is far above that and
 * far below the smallest skew the check must see (0.02) and what it refuses
 * (0.05). Exact equality holds only on some machines. */
#define RUN_TO_RUN_TOL 1e-5

/* The start-up check of a GPU backend against the CPU: another CPU backend
 * agrees to rounding, and so does the same run with a rounding-sized
 * difference; a backend off by a little passes, one off by more than 0.05
 * in a score, or giving NaN, is refused with its difference. */
static void test_selfcheck(void)
{
    char dir[] = REF "tiny-f32", err[HR_KOMPRESS_ERR], note[HR_KOMPRESS_ERR];
    struct hr_kompress k;
    CHECK(hr__kompress_open(&k, dir, "cpu-fp32", 1, err, sizeof err, note, sizeof note) == HR_OK);
    struct skewed s = {{"skewed", 0, skewed_run, NULL}, k.backend, 0, 0};
    double worst = -1;
    CHECK(hr__kbackend_selfcheck(&k.w, k.tok.cls_id, k.tok.sep_id, &s.base, &worst) == HR_OK);
    CHECK(worst >= 0 && worst <= RUN_TO_RUN_TOL);
    s.shift = 2e-6f; /* what other thread counts do to a logit, and a little more */
    CHECK(hr__kbackend_selfcheck(&k.w, k.tok.cls_id, k.tok.sep_id, &s.base, &worst) == HR_OK);
    CHECK(worst > 0 && worst <= RUN_TO_RUN_TOL);
    s.shift = 0.02f;
    CHECK(hr__kbackend_selfcheck(&k.w, k.tok.cls_id, k.tok.sep_id, &s.base, &worst) == HR_OK);
    CHECK(worst > 0 && worst < 0.05);
    s.shift = 1.0f;
    CHECK(hr__kbackend_selfcheck(&k.w, k.tok.cls_id, k.tok.sep_id, &s.base, &worst) == HR_EMODEL);
    CHECK(worst > 0.05 && worst < 1);
    s.shift = 0, s.nan_span = 1;
    CHECK(hr__kbackend_selfcheck(&k.w, k.tok.cls_id, k.tok.sep_id, &s.base, &worst) == HR_EMODEL);
    CHECK(isinf(worst));
    hr__kompress_close(&k);
}

static void test_tiny_f32(void)
{
    check_model("tiny-f32");
}
static void test_small_bf16(void)
{
    check_model("small-bf16");
}

int main(void)
{
    RUN(test_tiny_f32);
    RUN(test_small_bf16);
    RUN(test_scorer_choice);
    RUN(test_selfcheck);
    RUN(test_cuda_agrees_with_cpu);
    RUN(test_bf16_agrees_with_fp32);
    return unit_any_failed;
}
