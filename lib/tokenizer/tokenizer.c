/* The public tokenizer: UTF-8 clean-up, special tokens, pre-split, BPE. */
#include "hr.h"
#include "tokenizer/tokenizer_internal.h"
#include "unicode/unicode.h"

#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

struct special_token {
    const char *text;
    uint32_t id;
};

static const struct special_token cl100k_specials[] = {
    {"<|endoftext|>", 100257},  {"<|fim_prefix|>", 100258},  {"<|fim_middle|>", 100259},
    {"<|fim_suffix|>", 100260}, {"<|endofprompt|>", 100276}, {NULL, 0},
};
static const struct special_token o200k_specials[] = {
    {"<|endoftext|>", 199999},
    {"<|endofprompt|>", 200018},
    {NULL, 0},
};

typedef size_t (*presplit_fn)(const unsigned char *, size_t, size_t);

/* Counting remembers how many tokens a piece of several tokens made: tool
 * output repeats its words, keys and paths, and a piece's count never
 * changes. Direct-mapped, pieces of up to PIECE_CACHE_BYTES bytes. */
#define PIECE_CACHE_SLOTS 4096
#define PIECE_CACHE_BYTES 30
struct piece_count {
    unsigned char len; /* 0: empty slot */
    unsigned char bytes[PIECE_CACHE_BYTES];
    uint32_t tokens;
};

struct hr_tokenizer {
    const struct hr_vocab *vocab;
    presplit_fn presplit;
    const struct special_token *specials;
    struct hr_bpe_scratch scratch;
    uint32_t *piece_ids;
    size_t piece_cap;
    struct piece_count *cache; /* PIECE_CACHE_SLOTS, made on first count */
    size_t window;             /* 0, or the longest run merged as one (hr__tokenizer_bound) */
    const atomic_int *cancel;  /* NULL, or nonzero to stop */
};

void hr__tokenizer_bound(hr_tokenizer *t, size_t window, const atomic_int *cancel)
{
    t->window = window;
    t->cancel = cancel;
}

void hr__tokenizer_trim(hr_tokenizer *t, size_t keep_bytes)
{
    hr__bpe_scratch_trim(&t->scratch, keep_bytes);
    if (t->piece_cap * sizeof *t->piece_ids > keep_bytes) {
        free(t->piece_ids);
        t->piece_ids = NULL;
        t->piece_cap = 0;
    }
}

static int cancelled(const hr_tokenizer *t)
{
    return t->cancel && atomic_load_explicit(t->cancel, memory_order_relaxed);
}

hr_status hr_tokenizer_new(const char *encoding, hr_tokenizer **out)
{
    if (!encoding || !out) return HR_EINVAL;
    *out = NULL;
    const struct hr_vocab *v = hr__vocab_get(encoding);
    if (!v) return HR_ENOTFOUND;
    hr_tokenizer *t = calloc(1, sizeof *t);
    if (!t) return HR_ENOMEM;
    t->vocab = v;
    if (!strcmp(encoding, "cl100k_base")) {
        t->presplit = hr__presplit_cl100k;
        t->specials = cl100k_specials;
    } else {
        t->presplit = hr__presplit_o200k;
        t->specials = o200k_specials;
    }
    *out = t;
    return HR_OK;
}

void hr_tokenizer_free(hr_tokenizer *tok)
{
    if (!tok) return;
    hr__bpe_scratch_free(&tok->scratch);
    free(tok->piece_ids);
    free(tok->cache);
    free(tok);
}

const char *hr_tokenizer_encoding(const hr_tokenizer *tok)
{
    return tok ? tok->vocab->name : NULL;
}

hr_status hr_tokenizer_token_bytes(const hr_tokenizer *tok, uint32_t id, const char **bytes, size_t *len)
{
    if (!tok || !bytes || !len) return HR_EINVAL;
    for (const struct special_token *s = tok->specials; s->text; s++) {
        if (s->id == id) {
            *bytes = s->text;
            *len = strlen(s->text);
            return HR_OK;
        }
    }
    const struct hr_vocab *v = tok->vocab;
    if (id >= v->n_ranks) return HR_ENOTFOUND;
    *bytes = (const char *)v->bytes + v->offsets[id];
    *len = v->offsets[id + 1] - v->offsets[id];
    return HR_OK;
}

/* Where ids go: counted always, stored while there is room. */
struct sink {
    uint32_t *ids;
    size_t cap;
    size_t n;
};

static void sink_put(struct sink *k, const uint32_t *ids, size_t n)
{
    if (k->ids && k->n < k->cap) {
        size_t room = k->cap - k->n;
        memcpy(k->ids + k->n, ids, (n < room ? n : room) * sizeof *ids);
    }
    k->n += n;
}

/* Byte-pair encodes one piece into the sink. A bounded tokenizer merges a
 * piece longer than its window window by window, cut at character starts:
 * the scratch memory stays that of one window, and the count may differ
 * from the whole piece's by a token or two per cut. */
static hr_status encode_piece(hr_tokenizer *t, const unsigned char *s, size_t len, struct sink *k)
{
    size_t step = t->window && len > t->window ? t->window : len;
    for (size_t at = 0; at < len;) {
        size_t w = len - at < step ? len - at : step;
        while (at + w < len && w > 1 && (s[at + w] & 0xC0) == 0x80) w--;
        if (k->ids && w > t->piece_cap) {
            size_t cap = w < 256 ? 256 : w;
            uint32_t *p = realloc(t->piece_ids, cap * sizeof *p);
            if (!p) return HR_ENOMEM;
            t->piece_ids = p;
            t->piece_cap = cap;
        }
        size_t m = hr__bpe_encode(t->vocab, &t->scratch, s + at, w, k->ids ? t->piece_ids : NULL);
        if (m == SIZE_MAX) return HR_ENOMEM;
        sink_put(k, t->piece_ids, m);
        at += w;
        if (at < len && cancelled(t)) return HR_ECANCELED;
    }
    return HR_OK;
}

/* Ordinary text: pre-split, then BPE each piece. */
static struct piece_count *cache_slot(hr_tokenizer *t, const unsigned char *s, size_t len)
{
    if (len > PIECE_CACHE_BYTES) return NULL;
    if (!t->cache && !(t->cache = calloc(PIECE_CACHE_SLOTS, sizeof *t->cache))) return NULL;
    uint32_t h = 2166136261u;
    for (size_t i = 0; i < len; i++) h = (h ^ s[i]) * 16777619u;
    return &t->cache[(h ^ (h >> 15)) & (PIECE_CACHE_SLOTS - 1)];
}

/* How many pieces go by between looks at the cancel flag. */
#define CANCEL_EVERY 4096

static hr_status encode_ordinary(hr_tokenizer *t, const unsigned char *s, size_t n, struct sink *k)
{
    const struct hr_vocab *v = t->vocab;
    size_t i = 0, pieces = 0;
    while (i < n) {
        if (++pieces % CANCEL_EVERY == 0 && cancelled(t)) return HR_ECANCELED;
        size_t e = t->presplit(s, n, i), len = e - i;
        struct piece_count *slot = NULL;
        if (!k->ids) { /* counting: no ids needed for single-token pieces */
            if (len == 1 || hr_vocab_lookup(v, s + i, len) != HR_NO_RANK) {
                k->n++;
                i = e;
                continue;
            }
            slot = cache_slot(t, s + i, len);
            if (slot && slot->len == len && !memcmp(slot->bytes, s + i, len)) {
                k->n += slot->tokens;
                i = e;
                continue;
            }
        }
        size_t had = k->n;
        hr_status st = encode_piece(t, s + i, len, k);
        if (st) return st;
        if (slot) {
            slot->len = (unsigned char)len;
            memcpy(slot->bytes, s + i, len);
            slot->tokens = (uint32_t)(k->n - had);
        }
        i = e;
    }
    return HR_OK;
}

/* The earliest special token at or after s[from], or NULL. */
static const struct special_token *next_special(const hr_tokenizer *t, const unsigned char *s, size_t n, size_t from,
                                                size_t *at)
{
    for (size_t i = from; i + 1 < n; i++) {
        const unsigned char *p = memchr(s + i, '<', n - i - 1);
        if (!p) return NULL;
        i = (size_t)(p - s);
        if (s[i + 1] != '|') continue;
        for (const struct special_token *sp = t->specials; sp->text; sp++) {
            size_t len = strlen(sp->text);
            if (len <= n - i && !memcmp(s + i, sp->text, len)) {
                *at = i;
                return sp;
            }
        }
    }
    return NULL;
}

static hr_status encode_text(hr_tokenizer *t, const unsigned char *s, size_t n, unsigned flags, struct sink *k)
{
    size_t i = 0;
    if (flags & HR_ALLOW_SPECIAL) {
        size_t at;
        const struct special_token *sp;
        while ((sp = next_special(t, s, n, i, &at))) {
            hr_status st = encode_ordinary(t, s + i, at - i, k);
            if (st) return st;
            sink_put(k, &sp->id, 1);
            i = at + strlen(sp->text);
        }
    }
    return encode_ordinary(t, s + i, n - i, k);
}

static hr_status encode_any(hr_tokenizer *t, const char *text, size_t len, unsigned flags, struct sink *k)
{
    if (!t || (!text && len) || (flags & ~HR_ALLOW_SPECIAL)) return HR_EINVAL;
    const unsigned char *s = (const unsigned char *)text;
    if (hr__utf8_valid_prefix(s, len) == len) return encode_text(t, s, len, flags, k);
    if (len > SIZE_MAX / 3) return HR_ENOMEM;
    unsigned char *clean = malloc(3 * len);
    if (!clean) return HR_ENOMEM;
    size_t n = hr__utf8_sanitize(s, len, clean);
    hr_status st = encode_text(t, clean, n, flags, k);
    free(clean);
    return st;
}

hr_status hr_tokenizer_count(hr_tokenizer *tok, const char *text, size_t len, unsigned flags, size_t *count)
{
    struct sink k = {NULL, 0, 0};
    if (!count) return HR_EINVAL;
    hr_status st = encode_any(tok, text, len, flags, &k);
    *count = k.n;
    return st;
}

hr_status hr_tokenizer_encode(hr_tokenizer *tok, const char *text, size_t len, unsigned flags, uint32_t *ids,
                              size_t cap, size_t *n)
{
    struct sink k = {ids, ids ? cap : 0, 0};
    if (!n) return HR_EINVAL;
    hr_status st = encode_any(tok, text, len, flags, &k);
    *n = k.n;
    if (st == HR_OK && k.n > k.cap) return HR_ERANGE;
    return st;
}
