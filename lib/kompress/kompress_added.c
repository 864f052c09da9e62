/* tokenizer.json's added_tokens inside words, as Hugging Face's tokenizers
 * split them out: leftmost-longest matches, each becoming its own id, first
 * of the tokens marked "normalized": false on the raw text, then of the
 * others on the normalized rest. ModernBERT's [CLS], [SEP], [MASK] and
 * <|endoftext|> are such tokens, and so are |||IP_ADDRESS||| and its kind. */
#include "kompress/kompress.h"

#include "util/errmsg.h"
#include "util/grow.h"
#include "unicode/unicode.h"

#include <stdlib.h>
#include <string.h>

struct hr_kadded {
    struct added_token {
        uint32_t off, len, id;
        uint8_t normalized, single_word;
    } * tok;
    size_t n, cap;
    hr_buf bytes;
    uint8_t first[256]; /* a token starts with this byte */
};

static int is_true(const hr_json *doc, hr_json_node obj, const char *key)
{
    hr_json_node v = hr_json_get(doc, obj, key);
    return v != HR_JSON_NONE && hr_json_type_of(doc, v) == HR_JSON_TRUE;
}

static hr_status add_token(struct hr_kadded *a, const hr_json *doc, hr_json_node t, hr_buf *content)
{
    int64_t id;
    content->len = 0;
    hr_json_node c = hr_json_get(doc, t, "content");
    if (c == HR_JSON_NONE || hr_json_string_decode(doc, c, content) ||
        hr_json_int64(doc, hr_json_get(doc, t, "id"), &id) || id < 0 || id >= (int64_t)1 << 30)
        return HR_EINVAL;
    if (!content->len) return HR_OK;
    void *grown = hr_grow(a->tok, &a->cap, a->n + 1, sizeof *a->tok);
    if (!grown) return HR_ENOMEM;
    a->tok = grown;
    /* "normalized" defaults to true for tokens that are not special */
    hr_json_node norm = hr_json_get(doc, t, "normalized");
    int normalized = norm == HR_JSON_NONE ? !is_true(doc, t, "special") : hr_json_type_of(doc, norm) == HR_JSON_TRUE;
    a->tok[a->n++] = (struct added_token){(uint32_t)a->bytes.len, (uint32_t)content->len, (uint32_t)id,
                                          (uint8_t)normalized, (uint8_t)is_true(doc, t, "single_word")};
    a->first[(unsigned char)content->data[0]] = 1;
    return hr_buf_append(&a->bytes, content->data, content->len) ? HR_ENOMEM : HR_OK;
}

hr_status hr__kadded_load(const hr_json *doc, hr_json_node root, const char *path, struct hr_kadded **out, char *err,
                          size_t err_len)
{
    *out = NULL;
    struct hr_kadded *a = calloc(1, sizeof *a);
    if (!a) return HR_ENOMEM;
    hr_buf content = {0};
    hr_status st = HR_OK;
    size_t k = 0;
    hr_json_node list = hr_json_get(doc, root, "added_tokens");
    for (hr_json_node t = list == HR_JSON_NONE ? HR_JSON_NONE : hr_json_first(doc, list); !st && t != HR_JSON_NONE;
         t = hr_json_next(doc, t), k++)
        st = add_token(a, doc, t, &content);
    hr_buf_free(&content);
    if (st == HR_EINVAL)
        hr__errorf(err, err_len, st, "%s: added_tokens[%zu] needs a string content and a whole-number id", path, k - 1);
    if (st) {
        hr__kadded_free(a);
        return st;
    }
    *out = a;
    return HR_OK;
}

void hr__kadded_free(struct hr_kadded *a)
{
    if (!a) return;
    free(a->tok);
    hr_buf_free(&a->bytes);
    free(a);
}

uint32_t hr__kadded_max_id(const struct hr_kadded *a)
{
    uint32_t max = 0;
    for (size_t k = 0; a && k < a->n; k++)
        if (a->tok[k].id > max) max = a->tok[k].id;
    return max;
}

/* Letters, marks, numbers and '_': what a single_word token may not touch. */
static int word_char(uint32_t cp)
{
    enum hr_uc_class c = hr_uc_class_of(cp);
    return cp == '_' || c == HR_UC_UPPER || c == HR_UC_LOWER || c == HR_UC_LETTER_OTHER || c == HR_UC_MARK ||
           c == HR_UC_NUMBER;
}

static int alone(const unsigned char *s, size_t n, size_t start, size_t end)
{
    size_t len;
    if (end < n && word_char(hr_utf8_decode_valid(s + end, &len))) return 0;
    if (start == 0) return 1;
    size_t p = start - 1;
    while (p > 0 && (s[p] & 0xC0) == 0x80) p--;
    return !word_char(hr_utf8_decode_valid(s + p, &len));
}

size_t hr__kadded_find(const struct hr_kadded *a, int normalized, const unsigned char *s, size_t n, size_t from,
                       size_t *len, uint32_t *id)
{
    for (size_t i = from; a && a->n && i < n; i++) {
        if (!a->first[s[i]]) continue;
        size_t best = 0;
        for (size_t k = 0; k < a->n; k++) {
            const struct added_token *t = &a->tok[k];
            if (t->normalized != normalized || t->len <= best || t->len > n - i ||
                memcmp(s + i, a->bytes.data + t->off, t->len) || (t->single_word && !alone(s, n, i, i + t->len)))
                continue;
            best = t->len;
            *id = t->id;
        }
        if (best) {
            *len = best;
            return i;
        }
    }
    return n;
}
