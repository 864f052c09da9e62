/* Words, their hashes, the task's words, and document frequencies: the
 * vocabulary the lexical scorer and the compressors reason with. */
#include "compress/compress_internal.h"
#include "util/grow.h"

#include <stdlib.h>
#include <string.h>

static int is_word_byte(unsigned char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' || c >= 0x80;
}

size_t hr__next_word(const char *s, size_t n, size_t i, size_t *start, size_t *len)
{
    while (i < n && !is_word_byte((unsigned char)s[i])) i++;
    size_t b = i;
    while (i < n && is_word_byte((unsigned char)s[i])) i++;
    *start = b;
    *len = i - b;
    return i;
}

#define FNV_OFFSET 14695981039346656037ull
#define FNV_PRIME 1099511628211ull

uint64_t hr__hash(const char *s, size_t n)
{
    uint64_t h = FNV_OFFSET;
    for (size_t i = 0; i < n; i++) h = (h ^ (unsigned char)s[i]) * FNV_PRIME;
    return h;
}

uint64_t hr__hash_lower(const char *s, size_t n)
{
    uint64_t h = FNV_OFFSET;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c >= 'A' && c <= 'Z') c = (unsigned char)(c + 32);
        h = (h ^ c) * FNV_PRIME;
    }
    return h;
}

/* Words that say nothing about what a task is after: English function words
 * and the verbs people use to ask an agent for something. */
static const char *const stopwords[] = {
    "about",  "above",  "after",  "again",   "all",    "also",  "and",   "any",     "are",   "because", "been",
    "before", "being",  "below",  "between", "both",   "but",   "can",   "could",   "did",   "does",    "doing",
    "down",   "during", "each",   "few",     "find",   "for",   "from",  "further", "get",   "give",    "had",
    "has",    "have",   "having", "her",     "here",   "hers",  "him",   "his",     "how",   "into",    "its",
    "just",   "let",    "look",   "made",    "make",   "more",  "most",  "much",    "must",  "need",    "nor",
    "not",    "now",    "off",    "once",    "one",    "only",  "other", "our",     "out",   "over",    "own",
    "please", "same",   "see",    "she",     "should", "show",  "some",  "such",    "tell",  "than",    "that",
    "the",    "their",  "them",   "then",    "there",  "these", "they",  "this",    "those", "through", "too",
    "under",  "until",  "use",    "very",    "want",   "was",   "way",   "were",    "what",  "when",    "where",
    "which",  "while",  "who",    "whom",    "why",    "will",  "with",  "would",   "you",   "your",    "yours",
};

int hr__is_stopword(const char *s, size_t n)
{
    if (n == 2 && s[0] >= '0' && s[0] <= '9' && s[1] >= '0' && s[1] <= '9') return 0; /* "web-41" */
    if (n < 3) return 1;
    if (n > 8) return 0;
    char low[9];
    for (size_t i = 0; i < n; i++) low[i] = (char)((s[i] >= 'A' && s[i] <= 'Z') ? s[i] + 32 : s[i]);
    low[n] = '\0';
    size_t lo = 0, hi = sizeof stopwords / sizeof stopwords[0];
    while (lo < hi) { /* the list is sorted */
        size_t mid = (lo + hi) / 2;
        int c = strcmp(low, stopwords[mid]);
        if (!c) return 1;
        if (c < 0) hi = mid;
        else lo = mid + 1;
    }
    return 0;
}

/* CamelCase (an upper-case letter after a lower-case one) or snake_case
 * (an inner '_' between word characters). */
static int is_identifier(const char *s, size_t n)
{
    for (size_t i = 1; i + 1 < n; i++)
        if (s[i] == '_' && s[i - 1] != '_' && s[i + 1] != '_') return 1;
    for (size_t i = 1; i < n; i++)
        if (s[i] >= 'A' && s[i] <= 'Z' && s[i - 1] >= 'a' && s[i - 1] <= 'z') return 1;
    return 0;
}

static int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return (x > y) - (x < y);
}

static size_t sort_unique(uint64_t *v, size_t n)
{
    if (!n) return 0;
    qsort(v, n, sizeof *v, cmp_u64);
    size_t k = 1;
    for (size_t i = 1; i < n; i++)
        if (v[i] != v[k - 1]) v[k++] = v[i];
    return k;
}

static hr_status push_u64(uint64_t **v, size_t *n, size_t *cap, uint64_t x)
{
    void *p = hr_grow(*v, cap, *n + 1, sizeof **v);
    if (!p) return HR_ENOMEM;
    *v = p;
    (*v)[(*n)++] = x;
    return HR_OK;
}

hr_status hr__query_build(struct hr_query *q, const char *text, size_t len)
{
    memset(q, 0, sizeof *q);
    size_t i = 0, ws, wl;
    while ((i = hr__next_word(text, len, i, &ws, &wl)), wl) {
        const char *w = text + ws;
        if (is_identifier(w, wl) && push_u64(&q->idents, &q->n_idents, &q->cap_idents, hr__hash(w, wl)))
            return HR_ENOMEM;
        if (hr__is_stopword(w, wl)) continue;
        if (push_u64(&q->terms, &q->n_terms, &q->cap_terms, hr__hash_lower(w, wl))) return HR_ENOMEM;
        /* "changelogs" finds "changelog" too */
        if (wl >= 5 && (w[wl - 1] | 0x20) == 's' && (w[wl - 2] | 0x20) != 's' &&
            push_u64(&q->terms, &q->n_terms, &q->cap_terms, hr__hash_lower(w, wl - 1)))
            return HR_ENOMEM;
    }
    q->n_terms = sort_unique(q->terms, q->n_terms);
    for (size_t k = 0; k < q->n_terms; k++) q->bloom |= 1ull << (q->terms[k] >> 58);
    q->n_idents = sort_unique(q->idents, q->n_idents);
    return HR_OK;
}

void hr__query_free(struct hr_query *q)
{
    free(q->terms);
    free(q->idents);
    memset(q, 0, sizeof *q);
}

static int has_u64(const uint64_t *v, size_t n, uint64_t x)
{
    size_t lo = 0, hi = n;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        if (v[mid] == x) return 1;
        if (v[mid] < x) lo = mid + 1;
        else hi = mid;
    }
    return 0;
}

int hr__query_has_term(const struct hr_query *q, uint64_t folded)
{
    return q && (q->bloom >> (folded >> 58) & 1) && has_u64(q->terms, q->n_terms, folded);
}

int hr__query_has_ident(const struct hr_query *q, uint64_t exact)
{
    return q && has_u64(q->idents, q->n_idents, exact);
}

static int has_prefix_lib(const char *w, size_t n)
{
    return n > 5 && (w[0] | 0x20) == 'l' && (w[1] | 0x20) == 'i' && (w[2] | 0x20) == 'b';
}

/* The task's term a word stands for, 0 when none: the word itself, or the
 * word less a plural 's', a version's trailing digits or a package's "lib"
 * ("libcurl3" is curl, "changelogs" a changelog). */
static uint64_t term_of(const struct hr_query *q, const char *w, size_t n)
{
    uint64_t h = hr__hash_lower(w, n);
    if (hr__query_has_term(q, h)) return h;
    if (n >= 5 && (w[n - 1] | 0x20) == 's' && hr__query_has_term(q, h = hr__hash_lower(w, n - 1))) return h;
    size_t k = n;
    while (k > 3 && w[k - 1] >= '0' && w[k - 1] <= '9') k--;
    if (k < n && hr__query_has_term(q, h = hr__hash_lower(w, k))) return h;
    if (has_prefix_lib(w, k) && hr__query_has_term(q, h = hr__hash_lower(w + 3, k - 3))) return h;
    return 0;
}

hr_status hr__task_hits(const struct hr_query *q, const char *text, const struct hr_seg *segs, size_t n,
                        unsigned char *hits)
{
    memset(hits, 0, n);
    if (!q || !q->n_terms) return HR_OK;
    struct hr_termtab df = {0};
    size_t ws, wl;
    for (size_t k = 0; k < n; k++) {
        size_t i = segs[k].off, end = segs[k].off + segs[k].len;
        while ((i = hr__next_word(text, end, i, &ws, &wl)), wl) {
            uint64_t h = term_of(q, text + ws, wl);
            if (h && hr__termtab_add(&df, h, (uint32_t)k)) {
                hr__termtab_free(&df);
                return HR_ENOMEM;
            }
        }
    }
    for (size_t k = 0; k < n; k++) {
        size_t i = segs[k].off, end = segs[k].off + segs[k].len;
        while ((i = hr__next_word(text, end, i, &ws, &wl)), wl) {
            uint64_t h = term_of(q, text + ws, wl);
            size_t f = h ? hr__termtab_df(&df, h) : 0;
            if (!h || f * 2 > n) continue;
            hits[k] |= HR_HIT_TERM | (f <= HR_RARE_SEGMENTS ? HR_HIT_RARE : 0);
            if (hr__query_has_ident(q, hr__hash(text + ws, wl))) hits[k] |= HR_HIT_IDENT;
        }
    }
    hr__termtab_free(&df);
    return HR_OK;
}

/* ---- document frequencies: open addressing, keys never 0 ----------------------- */

static size_t slot_of(const struct hr_termtab *t, uint64_t key)
{
    size_t mask = t->cap - 1, i = (size_t)(key ^ (key >> 29)) & mask;
    while (t->keys[i] && t->keys[i] != key) i = (i + 1) & mask;
    return i;
}

static hr_status rehash(struct hr_termtab *t)
{
    struct hr_termtab bigger = {0};
    bigger.cap = t->cap ? t->cap * 2 : 1024;
    bigger.keys = calloc(bigger.cap, sizeof *bigger.keys);
    bigger.df = calloc(bigger.cap, sizeof *bigger.df);
    bigger.last = calloc(bigger.cap, sizeof *bigger.last);
    if (!bigger.keys || !bigger.df || !bigger.last) {
        hr__termtab_free(&bigger);
        return HR_ENOMEM;
    }
    for (size_t i = 0; i < t->cap; i++) {
        if (!t->keys[i]) continue;
        size_t j = slot_of(&bigger, t->keys[i]);
        bigger.keys[j] = t->keys[i];
        bigger.df[j] = t->df[i];
        bigger.last[j] = t->last[i];
    }
    bigger.n = t->n;
    hr__termtab_free(t);
    *t = bigger;
    return HR_OK;
}

hr_status hr__termtab_add(struct hr_termtab *t, uint64_t key, uint32_t doc)
{
    if (!key) key = 1;
    if ((t->n + 1) * 2 > t->cap && rehash(t)) return HR_ENOMEM;
    size_t i = slot_of(t, key);
    if (!t->keys[i]) {
        t->keys[i] = key;
        t->n++;
        t->df[i] = 1;
        t->last[i] = doc;
    } else if (t->last[i] != doc) { /* count each word once per segment */
        t->df[i]++;
        t->last[i] = doc;
    }
    return HR_OK;
}

uint32_t hr__termtab_df(const struct hr_termtab *t, uint64_t key)
{
    if (!key) key = 1;
    if (!t->cap) return 0;
    size_t i = slot_of(t, key);
    return t->keys[i] ? t->df[i] : 0;
}

void hr__termtab_free(struct hr_termtab *t)
{
    free(t->keys);
    free(t->df);
    free(t->last);
    memset(t, 0, sizeof *t);
}
