/* Byte-pair merging of one pre-split piece, with tiktoken's semantics: merge
 * the adjacent pair of lowest rank, leftmost first, until no pair is a token.
 * Short pieces use a linear scan over a small array (fast in cache); long ones
 * use rank buckets so that a megabyte-long "word" stays near-linear. */
#include "util/grow.h"
#include "tokenizer/tokenizer_internal.h"

#include <stdlib.h>

/* Below this many bytes the quadratic scan beats any bookkeeping. */
#define SCAN_MAX 128

size_t hr__bpe_merge_scan(const struct hr_vocab *v, const unsigned char *p, size_t n, uint32_t *out)
{
    uint32_t start[SCAN_MAX + 1], rank[SCAN_MAX], tok[SCAN_MAX];
    size_t m = n;
    for (size_t k = 0; k < n; k++) {
        start[k] = (uint32_t)k;
        tok[k] = v->byte_rank[p[k]];
        rank[k] = k + 1 < n ? hr_vocab_lookup(v, p + k, 2) : HR_NO_RANK;
    }
    start[n] = (uint32_t)n;

    for (;;) {
        uint32_t best = HR_NO_RANK;
        size_t k = 0;
        for (size_t j = 0; j + 1 < m; j++) {
            if (rank[j] < best) {
                best = rank[j];
                k = j;
            }
        }
        if (best == HR_NO_RANK) break;
        /* Part k absorbs part k + 1. */
        tok[k] = best;
        memmove(start + k + 1, start + k + 2, (m - k - 1) * sizeof *start);
        memmove(rank + k + 1, rank + k + 2, (m - k - 2) * sizeof *rank);
        memmove(tok + k + 1, tok + k + 2, (m - k - 2) * sizeof *tok);
        m--;
        rank[k] = k + 1 < m ? hr_vocab_lookup(v, p + start[k], start[k + 2] - start[k]) : HR_NO_RANK;
        if (k > 0) rank[k - 1] = hr_vocab_lookup(v, p + start[k - 1], start[k + 1] - start[k - 1]);
    }
    if (out) memcpy(out, tok, m * sizeof *tok);
    return m;
}

/* --- rank buckets ------------------------------------------------------------
 * Every live pair sits in the bucket of its rank; a min-heap holds the ranks
 * whose buckets are non-empty. A whole bucket is taken at once and merged left
 * to right. That equals "lowest rank, leftmost first" because a merge at rank
 * r creates only pairs longer than token r, hence of other ranks; if one of
 * them has a rank below r (possible in principle, not in a trained
 * vocabulary), the rest of the bucket is put back and the lower rank goes
 * first. Stale entries are skipped by re-checking the pair's current rank. */

static void heap_push(struct hr_bpe_scratch *s, uint32_t r)
{
    size_t i = s->heap_len++;
    while (i > 0 && s->heap[(i - 1) / 2] > r) {
        s->heap[i] = s->heap[(i - 1) / 2];
        i = (i - 1) / 2;
    }
    s->heap[i] = r;
}

static uint32_t heap_pop(struct hr_bpe_scratch *s)
{
    uint32_t top = s->heap[0], last = s->heap[--s->heap_len];
    size_t i = 0, n = s->heap_len;
    for (;;) {
        size_t c = 2 * i + 1;
        if (c >= n) break;
        if (c + 1 < n && s->heap[c + 1] < s->heap[c]) c++;
        if (s->heap[c] >= last) break;
        s->heap[i] = s->heap[c];
        i = c;
    }
    if (n) s->heap[i] = last;
    return top;
}

static int bucket_push(struct hr_bpe_scratch *s, uint32_t r, uint32_t pos)
{
    uint32_t id;
    if (s->free_node != HR_NO_RANK) {
        id = s->free_node;
        s->free_node = s->nodes[id].next;
    } else {
        void *p = hr_grow(s->nodes, &s->nodes_cap, s->nodes_len + 1, sizeof *s->nodes);
        if (!p) return 0;
        s->nodes = p;
        id = (uint32_t)s->nodes_len++;
    }
    if (s->bucket_head[r] == HR_NO_RANK) {
        void *p = hr_grow(s->heap, &s->heap_cap, s->heap_len + 1, sizeof *s->heap);
        if (!p) return 0;
        s->heap = p;
        heap_push(s, r);
    }
    s->nodes[id].pos = pos;
    s->nodes[id].next = s->bucket_head[r];
    s->bucket_head[r] = id;
    return 1;
}

static int cmp_u32(const void *a, const void *b)
{
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
    return (x > y) - (x < y);
}

/* Empties bucket r into s->batch in position order; returns its length. */
static size_t bucket_take(struct hr_bpe_scratch *s, uint32_t r)
{
    size_t len = 0;
    for (uint32_t id = s->bucket_head[r]; id != HR_NO_RANK;) {
        uint32_t nx = s->nodes[id].next;
        s->batch[len++] = s->nodes[id].pos;
        s->nodes[id].next = s->free_node;
        s->free_node = id;
        id = nx;
    }
    s->bucket_head[r] = HR_NO_RANK;
    int sorted = 1;
    for (size_t i = 0; i < len / 2; i++) { /* pushes prepend: reverse */
        uint32_t t = s->batch[i];
        s->batch[i] = s->batch[len - 1 - i];
        s->batch[len - 1 - i] = t;
    }
    for (size_t i = 1; i < len && sorted; i++) sorted = s->batch[i - 1] < s->batch[i];
    if (!sorted) qsort(s->batch, len, sizeof *s->batch, cmp_u32);
    return len;
}

static int scratch_reserve(struct hr_bpe_scratch *s, const struct hr_vocab *v, size_t n)
{
    if (!s->bucket_head) {
        s->bucket_head = malloc((size_t)v->n_ranks * sizeof *s->bucket_head);
        if (!s->bucket_head) return 0;
        memset(s->bucket_head, 0xff, (size_t)v->n_ranks * sizeof *s->bucket_head);
        s->free_node = HR_NO_RANK;
    }
    if (n > s->pos_cap) {
        size_t c = n;
        uint32_t **arrs[] = {&s->next, &s->prev, &s->pair_rank, &s->tok, &s->batch};
        for (size_t i = 0; i < sizeof arrs / sizeof arrs[0]; i++) {
            void *np = realloc(*arrs[i], c * sizeof(uint32_t));
            if (!np) return 0;
            *arrs[i] = np;
        }
        s->pos_cap = c;
        s->batch_cap = c;
    }
    return 1;
}

/* Re-ranks the pair starting at part `at` and files it; reports whether its
 * rank is below `current` (the case that interrupts a batch). */
static int rerank(const struct hr_vocab *v, struct hr_bpe_scratch *s, const unsigned char *p, size_t n, uint32_t at,
                  uint32_t current, int *ok)
{
    uint32_t right = s->next[at];
    uint32_t r = HR_NO_RANK;
    if (right < n) r = hr_vocab_lookup(v, p + at, s->next[right] - at);
    s->pair_rank[at] = r;
    if (r == HR_NO_RANK) return 0;
    if (!bucket_push(s, r, at)) *ok = 0;
    return r < current;
}

size_t hr__bpe_merge_buckets(const struct hr_vocab *v, struct hr_bpe_scratch *s, const unsigned char *p, size_t n,
                             uint32_t *out)
{
    if (n >= UINT32_MAX || !scratch_reserve(s, v, n)) return SIZE_MAX;
    int ok = 1;
    s->heap_len = 0;
    for (size_t k = 0; k < n; k++) {
        s->next[k] = (uint32_t)(k + 1);
        s->prev[k] = k ? (uint32_t)(k - 1) : HR_NO_RANK;
        s->tok[k] = v->byte_rank[p[k]];
    }
    for (size_t k = 0; k < n; k++) {
        /* Runs of one repeated pair (long whitespace) need a single lookup. */
        if (k > 0 && k + 1 < n && p[k] == p[k - 1] && p[k + 1] == p[k]) {
            uint32_t r = s->pair_rank[k - 1];
            s->pair_rank[k] = r;
            if (r != HR_NO_RANK && !bucket_push(s, r, (uint32_t)k)) ok = 0;
            continue;
        }
        rerank(v, s, p, n, (uint32_t)k, 0, &ok);
    }

    while (ok && s->heap_len) {
        uint32_t r = heap_pop(s);
        size_t len = bucket_take(s, r);
        for (size_t i = 0; i < len; i++) {
            uint32_t at = s->batch[i];
            if (s->pair_rank[at] != r || s->tok[at] == HR_NO_RANK) continue;
            uint32_t gone = s->next[at], after = s->next[gone];
            s->tok[at] = r;
            s->tok[gone] = HR_NO_RANK; /* no longer a part start */
            s->next[at] = after;
            if (after < n) s->prev[after] = at;
            int lower = rerank(v, s, p, n, at, r, &ok);
            if (s->prev[at] != HR_NO_RANK) lower |= rerank(v, s, p, n, s->prev[at], r, &ok);
            if (lower) {
                for (size_t j = i + 1; j < len; j++)
                    if (!bucket_push(s, r, s->batch[j])) ok = 0;
                break;
            }
        }
    }
    /* Leave every bucket empty for the next call, even after a failure. */
    while (s->heap_len) bucket_take(s, heap_pop(s));
    if (!ok) return SIZE_MAX;

    size_t m = 0;
    for (uint32_t k = 0; k < n; k = s->next[k]) {
        if (out) out[m] = s->tok[k];
        m++;
    }
    return m;
}

size_t hr__bpe_encode(const struct hr_vocab *v, struct hr_bpe_scratch *s, const unsigned char *p, size_t n,
                      uint32_t *out)
{
    if (n == 1) {
        if (out) out[0] = v->byte_rank[p[0]];
        return 1;
    }
    uint32_t whole = hr_vocab_lookup(v, p, n);
    if (whole != HR_NO_RANK) {
        if (out) out[0] = whole;
        return 1;
    }
    if (n <= SCAN_MAX) return hr__bpe_merge_scan(v, p, n, out);
    return hr__bpe_merge_buckets(v, s, p, n, out);
}

void hr__bpe_scratch_trim(struct hr_bpe_scratch *s, size_t keep_bytes)
{
    size_t held = s->pos_cap * 5 * sizeof(uint32_t) /* next, prev, pair_rank, tok, batch */
                  + s->nodes_cap * sizeof *s->nodes + s->heap_cap * sizeof *s->heap;
    if (held > keep_bytes) hr__bpe_scratch_free(s);
}

void hr__bpe_scratch_free(struct hr_bpe_scratch *s)
{
    free(s->next);
    free(s->prev);
    free(s->pair_rank);
    free(s->tok);
    free(s->batch);
    free(s->bucket_head);
    free(s->nodes);
    free(s->heap);
    memset(s, 0, sizeof *s);
}
