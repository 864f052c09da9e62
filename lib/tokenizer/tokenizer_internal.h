/* Internal interfaces of the tokenizer: the embedded rank tables, the BPE
 * merge engine and the per-encoding pre-splitters. */
#ifndef HR_TOKENIZER_INTERNAL_H
#define HR_TOKENIZER_INTERNAL_H

#include "hr.h"
#include "tokenizer/vocab_format.h"

#include <stddef.h>
#include <stdint.h>

#define HR_NO_RANK UINT32_MAX

struct hr_vocab {
    const char *name;
    const uint32_t *offsets;
    const uint64_t *slots;
    const unsigned char *bytes;
    uint32_t mask;
    uint32_t n_ranks;
    uint32_t max_token_len;
    uint32_t byte_rank[256];
};

/* The vocabulary of an encoding ("cl100k_base", "o200k_base"), or NULL. The
 * tables are static data; the struct is built once and never freed. */
const struct hr_vocab *hr__vocab_get(const char *encoding);

static inline uint32_t hr_vocab_lookup(const struct hr_vocab *v, const unsigned char *p, size_t n)
{
    if (n > v->max_token_len) return HR_NO_RANK;
    uint64_t h = hr_vocab_hash(p, n);
    uint32_t tag = (uint32_t)(h >> 32);
    for (size_t i = h & v->mask;; i = (i + 1) & v->mask) {
        uint64_t e = v->slots[i];
        if (!e) return HR_NO_RANK;
        if ((uint32_t)(e >> 32) == tag) {
            uint32_t r = (uint32_t)e - 1;
            if (v->offsets[r + 1] - v->offsets[r] == n && !memcmp(v->bytes + v->offsets[r], p, n)) return r;
        }
    }
}

/* Scratch memory the large-piece merge reuses between calls. */
struct hr_bpe_scratch {
    uint32_t *next, *prev, *pair_rank, *tok;
    size_t pos_cap;
    uint32_t *bucket_head; /* one per rank, HR_NO_RANK when empty */
    struct hr_bpe_node {
        uint32_t pos, next;
    } * nodes;
    size_t nodes_len, nodes_cap;
    uint32_t free_node;
    uint32_t *heap;
    size_t heap_len, heap_cap;
    uint32_t *batch;
    size_t batch_cap;
};

void hr__bpe_scratch_free(struct hr_bpe_scratch *s);
/* Frees the scratch when its per-position arrays, nodes and heap hold more
 * than keep_bytes; it grows again on the next long piece. */
void hr__bpe_scratch_trim(struct hr_bpe_scratch *s, size_t keep_bytes);

/* A tokenizer inside the compressor: pieces longer than window bytes (0: no
 * limit) are merged window by window, and a nonzero *cancel stops encoding
 * with HR_ECANCELED. hr_tokenizer_new's tokenizers have neither, so hr-count
 * and the public API stay exact. */
#ifndef __cplusplus /* C11 atomics; the CUDA backend's C++ needs none of this */
#include <stdatomic.h>
void hr__tokenizer_bound(hr_tokenizer *t, size_t window, const atomic_int *cancel);
#endif
/* Frees scratch memory over keep_bytes, which a huge piece left behind. */
void hr__tokenizer_trim(hr_tokenizer *t, size_t keep_bytes);

/* Byte-pair encodes one pre-split piece exactly as tiktoken does (a piece that
 * is itself a token is that token; otherwise repeatedly merge the adjacent
 * pair of lowest rank, leftmost first). Writes at most n ids to out (which may
 * be NULL to count only) and returns the number of tokens, or SIZE_MAX when
 * scratch memory could not be allocated. */
size_t hr__bpe_encode(const struct hr_vocab *v, struct hr_bpe_scratch *s, const unsigned char *p, size_t n,
                      uint32_t *out);

/* The two merge strategies, exposed so the tests can compare them. */
size_t hr__bpe_merge_scan(const struct hr_vocab *v, const unsigned char *p, size_t n, uint32_t *out);
size_t hr__bpe_merge_buckets(const struct hr_vocab *v, struct hr_bpe_scratch *s, const unsigned char *p, size_t n,
                             uint32_t *out);

/* Pre-splitters: given valid UTF-8 s[0..n) and a piece start i < n, return
 * the end of the piece, exactly as the encoding's regular expression would. */
size_t hr__presplit_cl100k(const unsigned char *s, size_t n, size_t i);
size_t hr__presplit_o200k(const unsigned char *s, size_t n, size_t i);

#endif
