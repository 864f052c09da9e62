/* Reading ModernBERT's tokenizer.json (a Hugging Face byte-level BPE) for
 * hr-count's BPE engine: the vocabulary, the merges, the added tokens and the
 * pre-tokenizer and normalizer settings. The engine merges by rank, tiktoken's
 * way; a BPE given as merges becomes ranks by giving merge k the rank 256 + k
 * and each single byte a rank below them, and a rank-to-id table maps the
 * result back to the model's ids. For a trained vocabulary, where every token
 * is made by its own merge, the two ways give the same tokens. Encoding words
 * with what is read here is kompress_tokenizer.c's. */
#include "util/errmsg.h"
#include "util/grow.h"
#include "json/json_internal.h"
#include "kompress/kompress.h"
#include "unicode/unicode.h"

#include <stdlib.h>
#include <string.h>

/* ---- GPT-2's printable stand-ins for bytes ----------------------------------- */

static int printable_byte(unsigned b)
{
    return (b >= '!' && b <= '~') || (b >= 0xA1 && b <= 0xAC) || (b >= 0xAE);
}

/* The byte a code point of a vocabulary entry stands for, or -1. */
static int byte_of(uint32_t cp)
{
    if (cp < 256) return printable_byte(cp) ? (int)cp : -1;
    if (cp >= 256 + 68) return -1;
    unsigned k = cp - 256; /* the k-th byte that is not printable */
    for (unsigned b = 0; b < 256; b++)
        if (!printable_byte(b) && k-- == 0) return (int)b;
    return -1;
}

/* Decodes a vocabulary string to the bytes it stands for; 0 when some
 * character stands for no byte (an added token outside the byte alphabet). */
static int entry_bytes(const hr_buf *s, hr_buf *out)
{
    out->len = 0;
    const unsigned char *p = (const unsigned char *)s->data;
    for (size_t i = 0; i < s->len;) {
        size_t len = 1;
        uint32_t cp = p[i] < 0x80 ? p[i] : hr_utf8_decode_valid(p + i, &len);
        int b = byte_of(cp);
        if (b < 0) return 0;
        unsigned char c = (unsigned char)b;
        if (hr_buf_append(out, &c, 1)) return -1;
        i += len;
    }
    return 1;
}

/* ---- bytes -> id: for building, and for ignore_merges when encoding ---------- */

struct hr_kbyte_map {
    hr_buf bytes;
    struct entry {
        uint32_t off, len, id;
    } * e;
    size_t n, cap;
    uint32_t *slot; /* index + 1 into e; 0 empty */
    size_t mask;
};

static hr_status map_add(struct hr_kbyte_map *m, const unsigned char *p, size_t len, uint32_t id)
{
    void *grown = hr_grow(m->e, &m->cap, m->n + 1, sizeof *m->e);
    if (!grown) return HR_ENOMEM;
    m->e = grown;
    m->e[m->n++] = (struct entry){(uint32_t)m->bytes.len, (uint32_t)len, id};
    return hr_buf_append(&m->bytes, p, len) ? HR_ENOMEM : HR_OK;
}

static hr_status map_index(struct hr_kbyte_map *m)
{
    size_t slots = 1;
    while (slots < 2 * m->n + 2) slots <<= 1;
    m->slot = calloc(slots, sizeof *m->slot);
    if (!m->slot) return HR_ENOMEM;
    m->mask = slots - 1;
    for (size_t k = 0; k < m->n; k++) {
        const unsigned char *p = (const unsigned char *)m->bytes.data + m->e[k].off;
        size_t i = hr_vocab_hash(p, m->e[k].len) & m->mask;
        for (;; i = (i + 1) & m->mask) {
            if (!m->slot[i]) {
                m->slot[i] = (uint32_t)k + 1;
                break;
            }
            const struct entry *o = &m->e[m->slot[i] - 1];
            if (o->len == m->e[k].len && !memcmp(m->bytes.data + o->off, p, o->len)) break; /* first wins */
        }
    }
    return HR_OK;
}

uint32_t hr__kbyte_map_find(const struct hr_kbyte_map *m, const unsigned char *p, size_t len)
{
    for (size_t i = hr_vocab_hash(p, len) & m->mask; m->slot[i]; i = (i + 1) & m->mask) {
        const struct entry *o = &m->e[m->slot[i] - 1];
        if (o->len == len && !memcmp(m->bytes.data + o->off, p, len)) return o->id;
    }
    return HR_NO_RANK;
}

static void map_free(struct hr_kbyte_map *m)
{
    hr_buf_free(&m->bytes);
    free(m->e);
    free(m->slot);
}

/* ---- reading tokenizer.json ---------------------------------------------------- */

struct tk_reader {
    const hr_json *doc;
    const char *path;
    char *err;
    size_t err_len;
    struct hr_kbyte_map vocab;
    hr_buf ranks;      /* token bytes in rank order */
    uint32_t *offsets; /* n_ranks + 1 */
    uint32_t *ids;
    size_t n_ranks, cap_ranks;
};

static hr_status read_vocab(struct tk_reader *r, hr_json_node model)
{
    hr_json_node v = hr_json_get(r->doc, model, "vocab");
    if (v == HR_JSON_NONE || hr_json_type_of(r->doc, v) != HR_JSON_OBJECT)
        return hr__errorf(r->err, r->err_len, HR_EINVAL, "%s: model.vocab must be an object", r->path);
    hr_buf key = {0}, bytes = {0};
    hr_status st = HR_OK;
    for (hr_json_node k = hr_json_first(r->doc, v); !st && k != HR_JSON_NONE; k = hr_json_next(r->doc, k)) {
        int64_t id;
        key.len = 0;
        if (hr_json_string_decode(r->doc, k, &key) || hr_json_int64(r->doc, hr_json_value(r->doc, k), &id) || id < 0 ||
            id >= (int64_t)1 << 30) {
            st = hr__errorf(r->err, r->err_len, HR_EINVAL, "%s: model.vocab: \"%.40s\" needs a whole-number id",
                            r->path, key.data ? key.data : "");
            break;
        }
        int ok = entry_bytes(&key, &bytes);
        if (ok < 0) st = HR_ENOMEM;
        else if (ok) st = map_add(&r->vocab, (const unsigned char *)bytes.data, bytes.len, (uint32_t)id);
    }
    hr_buf_free(&key);
    hr_buf_free(&bytes);
    return st ? st : map_index(&r->vocab);
}

static hr_status add_rank(struct tk_reader *r, const unsigned char *p, size_t len, uint32_t id)
{
    size_t cap = r->cap_ranks;
    uint32_t *ids = hr_grow(r->ids, &cap, r->n_ranks + 1, sizeof *ids);
    if (!ids) return HR_ENOMEM;
    r->ids = ids;
    uint32_t *off = realloc(r->offsets, (cap + 1) * sizeof *off);
    if (!off) return HR_ENOMEM;
    r->offsets = off;
    r->cap_ranks = cap;
    r->offsets[r->n_ranks] = (uint32_t)r->ranks.len;
    r->ids[r->n_ranks++] = id;
    if (hr_buf_append(&r->ranks, p, len)) return HR_ENOMEM;
    r->offsets[r->n_ranks] = (uint32_t)r->ranks.len;
    return HR_OK;
}

/* One merge, "a b" or ["a", "b"], as the bytes of a and of b joined. */
static hr_status merge_bytes(struct tk_reader *r, hr_json_node m, size_t k, hr_buf *out)
{
    hr_buf s = {0}, b = {0};
    hr_status st = HR_OK;
    out->len = 0;
    if (hr_json_type_of(r->doc, m) == HR_JSON_STRING) {
        st = hr_json_string_decode(r->doc, m, &s);
        char *sp = s.data ? memchr(s.data, ' ', s.len) : NULL;
        if (!st && !sp) st = HR_EINVAL;
        if (!st) { /* "a b" -> "ab" */
            memmove(sp, sp + 1, s.len - (size_t)(sp - s.data) - 1);
            s.len--;
        }
    } else if (hr_json_type_of(r->doc, m) == HR_JSON_ARRAY && hr_json_length(r->doc, m) == 2) {
        for (hr_json_node e = hr_json_first(r->doc, m); !st && e != HR_JSON_NONE; e = hr_json_next(r->doc, e))
            st = hr_json_string_decode(r->doc, e, &s);
    } else {
        st = HR_EINVAL;
    }
    int ok = st ? 0 : entry_bytes(&s, &b);
    if (ok > 0 && hr_buf_append(out, b.data, b.len)) st = HR_ENOMEM;
    hr_buf_free(&s);
    hr_buf_free(&b);
    if (st == HR_ENOMEM || ok < 0) return HR_ENOMEM;
    if (st || !ok)
        return hr__errorf(r->err, r->err_len, HR_EINVAL, "%s: model.merges[%zu] is not a pair of byte-level tokens",
                          r->path, k);
    return HR_OK;
}

static hr_status read_ranks(struct tk_reader *r, hr_json_node model)
{
    hr_status st = HR_OK;
    for (unsigned b = 0; !st && b < 256; b++) {
        unsigned char c = (unsigned char)b;
        uint32_t id = hr__kbyte_map_find(&r->vocab, &c, 1);
        if (id == HR_NO_RANK)
            return hr__errorf(r->err, r->err_len, HR_EINVAL, "%s: model.vocab has no token for byte 0x%02x", r->path,
                              b);
        st = add_rank(r, &c, 1, id);
    }
    hr_json_node merges = hr_json_get(r->doc, model, "merges");
    if (merges == HR_JSON_NONE || hr_json_type_of(r->doc, merges) != HR_JSON_ARRAY)
        return hr__errorf(r->err, r->err_len, HR_EINVAL, "%s: model.merges must be an array", r->path);
    hr_buf joined = {0};
    size_t k = 0;
    for (hr_json_node m = hr_json_first(r->doc, merges); !st && m != HR_JSON_NONE; m = hr_json_next(r->doc, m), k++) {
        st = merge_bytes(r, m, k, &joined);
        if (st) break;
        uint32_t id = hr__kbyte_map_find(&r->vocab, (const unsigned char *)joined.data, joined.len);
        if (id == HR_NO_RANK) {
            st = hr__errorf(r->err, r->err_len, HR_EINVAL, "%s: model.merges[%zu] makes a token model.vocab lacks",
                            r->path, k);
            break;
        }
        st = add_rank(r, (const unsigned char *)joined.data, joined.len, id);
    }
    hr_buf_free(&joined);
    return st;
}

/* pre_tokenizer: ByteLevel, alone or in a Sequence */
static hr_status read_pretokenizer(struct tk_reader *r, hr_json_node root, struct hr_ktokenizer *t)
{
    hr_json_node p = hr_json_get(r->doc, root, "pre_tokenizer");
    hr_json_node list = p == HR_JSON_NONE ? HR_JSON_NONE : hr_json_get(r->doc, p, "pretokenizers");
    if (list != HR_JSON_NONE && hr_json_length(r->doc, list) == 1) p = hr_json_first(r->doc, list);
    hr_json_node type = p == HR_JSON_NONE ? HR_JSON_NONE : hr_json_get(r->doc, p, "type");
    if (type == HR_JSON_NONE || !hr_json_string_equals(r->doc, type, "ByteLevel", 9))
        return hr__errorf(r->err, r->err_len, HR_EINVAL, "%s: pre_tokenizer must be ByteLevel (a byte-level BPE)",
                          r->path);
    hr_json_node regex = hr_json_get(r->doc, p, "use_regex");
    if (regex != HR_JSON_NONE && hr_json_type_of(r->doc, regex) == HR_JSON_FALSE)
        return hr__errorf(r->err, r->err_len, HR_EINVAL, "%s: ByteLevel with use_regex false is not supported",
                          r->path);
    hr_json_node prefix = hr_json_get(r->doc, p, "add_prefix_space");
    t->add_prefix_space = prefix != HR_JSON_NONE && hr_json_type_of(r->doc, prefix) == HR_JSON_TRUE;
    hr_json_node norm = hr_json_get(r->doc, root, "normalizer");
    hr_json_node ntype = norm == HR_JSON_NONE ? HR_JSON_NONE : hr_json_get(r->doc, norm, "type");
    t->nfc = ntype != HR_JSON_NONE;
    if (t->nfc && !hr_json_string_equals(r->doc, ntype, "NFC", 3))
        return hr__errorf(r->err, r->err_len, HR_EINVAL, "%s: normalizer must be null or NFC", r->path);
    return HR_OK;
}

static hr_status special_id(struct tk_reader *r, hr_json_node root, const char *name, uint32_t *id)
{
    hr_json_node added = hr_json_get(r->doc, root, "added_tokens");
    for (hr_json_node a = added == HR_JSON_NONE ? HR_JSON_NONE : hr_json_first(r->doc, added); a != HR_JSON_NONE;
         a = hr_json_next(r->doc, a)) {
        hr_json_node c = hr_json_get(r->doc, a, "content");
        int64_t v;
        if (c != HR_JSON_NONE && hr_json_string_equals(r->doc, c, name, strlen(name)) &&
            !hr_json_int64(r->doc, hr_json_get(r->doc, a, "id"), &v) && v >= 0 && v < (int64_t)1 << 30) {
            *id = (uint32_t)v;
            return HR_OK;
        }
    }
    return hr__errorf(r->err, r->err_len, HR_EINVAL, "%s: added_tokens has no %s", r->path, name);
}

static hr_status build_vocab(struct tk_reader *r, struct hr_ktokenizer *t)
{
    size_t slots = 1, max_len = 0;
    while (slots < 2 * r->n_ranks) slots <<= 1;
    uint64_t *table = calloc(slots, sizeof *table);
    if (!table) return HR_ENOMEM;
    for (size_t k = r->n_ranks; k-- > 0;) { /* lower ranks last, so a repeated token keeps its lowest */
        const unsigned char *p = (const unsigned char *)r->ranks.data + r->offsets[k];
        size_t len = r->offsets[k + 1] - r->offsets[k];
        if (len > max_len) max_len = len;
        uint64_t h = hr_vocab_hash(p, len);
        size_t i = h & (slots - 1);
        for (;; i = (i + 1) & (slots - 1)) {
            uint64_t e = table[i];
            if (!e) break;
            uint32_t o = (uint32_t)e - 1;
            if (r->offsets[o + 1] - r->offsets[o] == len && !memcmp(r->ranks.data + r->offsets[o], p, len)) break;
        }
        table[i] = (h >> 32) << 32 | (uint64_t)(k + 1);
    }
    t->slots = table;
    t->offsets = r->offsets;
    t->bytes = (unsigned char *)r->ranks.data;
    t->rank_to_id = r->ids;
    r->offsets = NULL, r->ids = NULL, r->ranks = (hr_buf){0};
    t->vocab = (struct hr_vocab){.name = "tokenizer.json",
                                 .offsets = t->offsets,
                                 .slots = table,
                                 .bytes = t->bytes,
                                 .mask = (uint32_t)(slots - 1),
                                 .n_ranks = (uint32_t)r->n_ranks,
                                 .max_token_len = (uint32_t)max_len};
    for (unsigned b = 0; b < 256; b++) t->vocab.byte_rank[b] = b;
    return HR_OK;
}

/* The BPE options that change the tokens: those hr does not implement are
 * refused rather than ignored; ignore_merges is honoured. */
static hr_status read_bpe_options(struct tk_reader *r, hr_json_node model, struct hr_ktokenizer *t)
{
    static const char *const unsupported[] = {"dropout", "continuing_subword_prefix", "end_of_word_suffix"};
    for (size_t i = 0; i < sizeof unsupported / sizeof *unsupported; i++) {
        hr_json_node v = hr_json_get(r->doc, model, unsupported[i]);
        int type = v == HR_JSON_NONE ? HR_JSON_NULL : hr_json_type_of(r->doc, v);
        int empty = type == HR_JSON_NULL || (type == HR_JSON_STRING && hr_json_string_equals(r->doc, v, "", 0));
        if (!empty)
            return hr__errorf(r->err, r->err_len, HR_EINVAL, "%s: model.%s is not supported (it must be null)", r->path,
                              unsupported[i]);
    }
    hr_json_node ignore = hr_json_get(r->doc, model, "ignore_merges");
    if (ignore != HR_JSON_NONE && hr_json_type_of(r->doc, ignore) == HR_JSON_TRUE) {
        t->whole = malloc(sizeof *t->whole);
        if (!t->whole) return HR_ENOMEM;
        *t->whole = r->vocab;
        r->vocab = (struct hr_kbyte_map){0};
    }
    return HR_OK;
}

static hr_status read_tokenizer(struct tk_reader *r, struct hr_ktokenizer *t)
{
    hr_json_node root = hr_json_root(r->doc);
    hr_json_node model = hr_json_get(r->doc, root, "model");
    hr_json_node type = model == HR_JSON_NONE ? HR_JSON_NONE : hr_json_get(r->doc, model, "type");
    if (type == HR_JSON_NONE || !hr_json_string_equals(r->doc, type, "BPE", 3))
        return hr__errorf(r->err, r->err_len, HR_EINVAL, "%s: model.type must be \"BPE\"", r->path);
    hr_status st = read_pretokenizer(r, root, t);
    if (!st) st = special_id(r, root, "[CLS]", &t->cls_id);
    if (!st) st = special_id(r, root, "[SEP]", &t->sep_id);
    if (!st) st = read_vocab(r, model);
    if (!st) st = read_ranks(r, model);
    if (!st) st = build_vocab(r, t);
    if (!st) st = read_bpe_options(r, model, t);
    if (!st) st = hr__kadded_load(r->doc, root, r->path, &t->added, r->err, r->err_len);
    if (st) return st;
    t->max_id = t->cls_id > t->sep_id ? t->cls_id : t->sep_id;
    for (size_t k = 0; k < r->n_ranks; k++)
        if (t->rank_to_id[k] > t->max_id) t->max_id = t->rank_to_id[k];
    for (size_t k = 0; t->whole && k < t->whole->n; k++)
        if (t->whole->e[k].id > t->max_id) t->max_id = t->whole->e[k].id;
    if (hr__kadded_max_id(t->added) > t->max_id) t->max_id = hr__kadded_max_id(t->added);
    return HR_OK;
}

hr_status hr__ktokenizer_load(struct hr_ktokenizer *t, const char *path, char *err, size_t err_len)
{
    memset(t, 0, sizeof *t);
    hr_buf text = {0};
    struct tk_reader r = {.path = path, .err = err, .err_len = err_len};
    hr_json *doc = NULL;
    hr_status st = hr__json_load_file(path, &text, &doc, err, err_len);
    r.doc = doc;
    if (!st) st = read_tokenizer(&r, t);
    if (st == HR_ENOMEM) hr__errorf(err, err_len, st, "%s: out of memory", path);
    if (st) hr__ktokenizer_free(t);
    map_free(&r.vocab);
    hr_buf_free(&r.ranks);
    free(r.offsets);
    free(r.ids);
    hr_json_free(doc);
    hr_buf_free(&text);
    return st;
}

void hr__ktokenizer_free(struct hr_ktokenizer *t)
{
    free(t->slots);
    free(t->offsets);
    free(t->bytes);
    free(t->rank_to_id);
    if (t->whole) map_free(t->whole);
    free(t->whole);
    hr__kadded_free(t->added);
    hr__bpe_scratch_free(&t->scratch);
    memset(t, 0, sizeof *t);
}
