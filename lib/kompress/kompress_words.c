/* From text to per-word keep decisions: words are what Python's str.split()
 * gives (Kompress was trained on such words), cut into windows of at most
 * 350 words and 512 tokens, scored by the model, and a word is kept when any
 * of its tokens is. */
#include "kompress/kompress.h"

#include "util/grow.h"
#include "json/json_internal.h"
#include "unicode/unicode.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* The whitespace of Python's str.split(), what separates words: the byte
 * length of the whitespace character at s[i], 0 when none. */
static size_t space_len(const char *s, size_t n, size_t i)
{
    unsigned char c = (unsigned char)s[i];
    if (c == ' ' || (c >= '\t' && c <= '\r') || (c >= 0x1c && c <= 0x1f)) return 1;
    if (c < 0x80) return 0;
    size_t len = 1;
    if (hr__utf8_sequence_len((const unsigned char *)s + i, n - i) <= 0) return 0;
    uint32_t cp = hr_utf8_decode_valid((const unsigned char *)s + i, &len);
    int space = cp == 0x85 || cp == 0xA0 || cp == 0x1680 || (cp >= 0x2000 && cp <= 0x200A) || cp == 0x2028 ||
                cp == 0x2029 || cp == 0x202F || cp == 0x205F || cp == 0x3000;
    return space ? len : 0;
}

static hr_status split_words(const char *text, size_t len, struct hr_kword **out, size_t *n)
{
    struct hr_kword *v = NULL;
    size_t cap = 0, count = 0;
    for (size_t i = 0; i < len;) {
        size_t sp = space_len(text, len, i);
        if (sp) {
            i += sp;
            continue;
        }
        size_t start = i;
        while (i < len && !space_len(text, len, i)) i++;
        struct hr_kword *grown = hr_grow(v, &cap, count + 1, sizeof *v);
        if (!grown) {
            free(v);
            return HR_ENOMEM;
        }
        v = grown;
        v[count++] = (struct hr_kword){start, i - start, 0.0f, 0};
    }
    *out = v;
    *n = count;
    return HR_OK;
}

void hr__kchunks_free(struct hr_kchunk *c, size_t n)
{
    for (size_t i = 0; c && i < n; i++) {
        free(c[i].ids);
        free(c[i].word);
    }
    free(c);
}

struct chunk_builder {
    uint32_t *ids;
    size_t *word;
    size_t n, cap, word_cap;
};

static hr_status push_token(struct chunk_builder *cb, uint32_t id, size_t word)
{
    size_t cap = cb->cap;
    uint32_t *ids = hr_grow(cb->ids, &cap, cb->n + 1, sizeof *ids);
    if (!ids) return HR_ENOMEM;
    cb->ids = ids;
    size_t *w = hr_grow(cb->word, &cb->word_cap, cb->n + 1, sizeof *w);
    if (!w) return HR_ENOMEM;
    cb->word = w;
    cb->cap = cap;
    cb->ids[cb->n] = id;
    cb->word[cb->n++] = word;
    return HR_OK;
}

/* One window from word `first`: as many words as fit; out->end_word is where
 * it stops. */
static hr_status build_chunk(struct hr_kompress *k, const struct hr_kword *words, size_t n_words, const char *text,
                             size_t first, struct hr_kchunk *out)
{
    struct chunk_builder cb = {0};
    uint32_t *tmp = NULL;
    size_t tmp_len, tmp_cap = 0, room = HR_KOMPRESS_MAX_TOKENS - 2, j = first;
    hr_status st = push_token(&cb, k->tok.cls_id, SIZE_MAX);
    for (; !st && j < n_words && j - first < HR_KOMPRESS_CHUNK_WORDS; j++) {
        tmp_len = 0;
        st = hr__ktokenizer_word(&k->tok, text + words[j].off, words[j].len, &tmp, &tmp_len, &tmp_cap);
        if (st) break;
        if (cb.n - 1 + tmp_len > room) {
            if (j > first) break; /* the word starts the next window */
            tmp_len = room;       /* a word longer than a window: its first tokens */
        }
        for (size_t t = 0; !st && t < tmp_len; t++) st = push_token(&cb, tmp[t], j);
    }
    if (!st) st = push_token(&cb, k->tok.sep_id, SIZE_MAX);
    free(tmp);
    if (st) {
        free(cb.ids);
        free(cb.word);
        return st;
    }
    *out = (struct hr_kchunk){first, j, cb.ids, cb.word, cb.n};
    return HR_OK;
}

hr_status hr__kompress_chunks(struct hr_kompress *k, const struct hr_kword *words, size_t n_words, const char *text,
                              struct hr_kchunk **chunks, size_t *n_chunks)
{
    struct hr_kchunk *v = NULL;
    size_t cap = 0, count = 0;
    hr_status st = HR_OK;
    for (size_t first = 0; first < n_words;) {
        struct hr_kchunk *grown = hr_grow(v, &cap, count + 1, sizeof *v);
        if (!grown) {
            st = HR_ENOMEM;
            break;
        }
        v = grown;
        st = build_chunk(k, words, n_words, text, first, &v[count]);
        if (st) break;
        first = v[count++].end_word;
    }
    if (st) {
        hr__kchunks_free(v, count);
        return st;
    }
    *chunks = v;
    *n_chunks = count;
    return HR_OK;
}

/* Per token: the score and the keep rule; per word: the best score, and
 * keep when any token keeps. */
static void decide(const struct hr_kchunk *c, const struct hr_kwindow *win, struct hr_kword *words)
{
    for (size_t t = 0; t < c->n; t++) {
        if (c->word[t] == SIZE_MAX) continue;
        float l0 = win->logit0[t], l1 = win->logit1[t], span = win->span[t];
        float p = 1.0f / (1.0f + expf(l0 - l1));
        float score = p * (0.5f + 0.5f * span);
        struct hr_kword *w = &words[c->word[t]];
        if (score > w->score) w->score = score;
        if (l1 > l0 || (p > 0.3f && p <= 0.5f && span > 0.5f)) w->keep = 1;
    }
}

static hr_status score_chunks(struct hr_kompress *k, struct hr_kchunk *c, size_t nc, struct hr_kword *words)
{
    struct hr_kwindow *win = calloc(nc ? nc : 1, sizeof *win);
    size_t total = 0;
    for (size_t i = 0; i < nc; i++) total += c[i].n;
    float *out = malloc((total ? total : 1) * 3 * sizeof *out);
    hr_status st = win && out ? HR_OK : HR_ENOMEM;
    for (size_t i = 0, at = 0; !st && i < nc; at += c[i].n, i++)
        win[i] = (struct hr_kwindow){c[i].ids, c[i].n, out + 3 * at, out + 3 * at + c[i].n, out + 3 * at + 2 * c[i].n};
    if (!st) st = k->backend->run(k->backend, win, nc);
    for (size_t i = 0; !st && i < nc; i++) decide(&c[i], &win[i], words);
    free(win);
    free(out);
    return st;
}

hr_status hr__kompress_words_locked(struct hr_kompress *k, pthread_mutex_t *tok_lock, const char *text, size_t len,
                                    struct hr_kword **words, size_t *n)
{
    struct hr_kchunk *chunks = NULL;
    size_t nc = 0;
    hr_status st = split_words(text, len, words, n);
    if (tok_lock) pthread_mutex_lock(tok_lock);
    if (!st) st = hr__kompress_chunks(k, *words, *n, text, &chunks, &nc);
    if (tok_lock) pthread_mutex_unlock(tok_lock);
    if (!st) st = score_chunks(k, chunks, nc, *words);
    hr__kchunks_free(chunks, nc);
    if (st) {
        free(*words);
        *words = NULL;
        *n = 0;
    }
    return st;
}

hr_status hr__kompress_words(struct hr_kompress *k, const char *text, size_t len, struct hr_kword **words, size_t *n)
{
    return hr__kompress_words_locked(k, NULL, text, len, words, n);
}
