/* Encoding one word to ModernBERT's ids with the tokenizer that
 * kompress_tokenizer_load.c read: the added tokens split out first, the rest
 * NFC'd when the normalizer says so, pre-split GPT-2's way and merged by
 * hr-count's BPE engine, its ranks mapped back to the model's ids. */
#include "util/grow.h"
#include "kompress/kompress.h"
#include "kompress/unicode_nfc.h"

#include <stdint.h>

static hr_status push_id(uint32_t id, uint32_t **ids, size_t *len, size_t *cap)
{
    uint32_t *grown = hr_grow(*ids, cap, *len + 1, sizeof **ids);
    if (!grown) return HR_ENOMEM;
    *ids = grown;
    (*ids)[(*len)++] = id;
    return HR_OK;
}

/* A piece of a word that holds no added token, normalized: the pre-tokenizer
 * (its prefix space, GPT-2's split) and the BPE. */
static hr_status encode_piece(struct hr_ktokenizer *t, const unsigned char *p, size_t n, uint32_t **ids, size_t *len,
                              size_t *cap)
{
    hr_buf piece = {0};
    if ((t->add_prefix_space && hr_buf_append(&piece, " ", 1)) || hr_buf_append(&piece, p, n)) {
        hr_buf_free(&piece);
        return HR_ENOMEM;
    }
    const unsigned char *s = (const unsigned char *)piece.data;
    hr_status st = HR_OK;
    for (size_t i = 0; !st && i < piece.len;) {
        size_t e = hr__presplit_gpt2(s, piece.len, i);
        /* a piece of m bytes gives at most m tokens */
        uint32_t *grown = hr_grow(*ids, cap, *len + (e - i), sizeof **ids);
        if (!grown) {
            st = HR_ENOMEM;
            break;
        }
        *ids = grown;
        uint32_t id = t->whole ? hr__kbyte_map_find(t->whole, s + i, e - i) : HR_NO_RANK;
        if (id != HR_NO_RANK) { /* ignore_merges: the vocabulary's own token */
            (*ids)[(*len)++] = id;
            i = e;
            continue;
        }
        size_t got = hr__bpe_encode(&t->vocab, &t->scratch, s + i, e - i, *ids + *len);
        if (got == SIZE_MAX) {
            st = HR_ENOMEM;
            break;
        }
        for (size_t k = 0; k < got; k++) (*ids)[*len + k] = t->rank_to_id[(*ids)[*len + k]];
        *len += got;
        i = e;
    }
    hr_buf_free(&piece);
    return st;
}

typedef hr_status piece_encoder(struct hr_ktokenizer *t, const unsigned char *s, size_t n, uint32_t **ids, size_t *len,
                                size_t *cap);

/* s[0..n) cut at the added tokens of one stage ("normalized" or not): each
 * token gives its id, each stretch between them goes to encode. */
static hr_status split_at_added(struct hr_ktokenizer *t, int normalized, piece_encoder *encode, const unsigned char *s,
                                size_t n, uint32_t **ids, size_t *len, size_t *cap)
{
    hr_status st = HR_OK;
    for (size_t i = 0; !st && i < n;) {
        size_t tlen = 0;
        uint32_t id = 0;
        size_t at = hr__kadded_find(t->added, normalized, s, n, i, &tlen, &id);
        if (at > i) st = encode(t, s + i, at - i, ids, len, cap);
        if (!st && at < n) st = push_id(id, ids, len, cap);
        i = at + tlen;
    }
    return st;
}

/* A piece of a word that holds no raw-text added token: normalized, then
 * split at the normalized added tokens. */
static hr_status encode_raw_piece(struct hr_ktokenizer *t, const unsigned char *s, size_t n, uint32_t **ids,
                                  size_t *len, size_t *cap)
{
    hr_buf norm = {0};
    if (t->nfc && !hr__nfc_is_stable(s, n)) {
        if (hr__nfc_append(s, n, &norm)) return HR_ENOMEM;
        s = (const unsigned char *)norm.data, n = norm.len;
    }
    hr_status st = split_at_added(t, 1, encode_piece, s, n, ids, len, cap);
    hr_buf_free(&norm);
    return st;
}

hr_status hr__ktokenizer_word(struct hr_ktokenizer *t, const char *w, size_t n, uint32_t **ids, size_t *len,
                              size_t *cap)
{
    return split_at_added(t, 0, encode_raw_piece, (const unsigned char *)w, n, ids, len, cap);
}
