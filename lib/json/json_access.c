/* Reading a scanned JSON document: navigation, string decoding, integers. */
#include "json/json_internal.h"
#include "unicode/unicode.h"

#include <string.h>

static const struct hr_json_nodeinfo *node_at(const hr_json *d, hr_json_node n)
{
    return d && n < d->n_nodes ? &d->nodes[n] : NULL;
}

hr_json_node hr_json_root(const hr_json *doc)
{
    return doc && doc->n_nodes ? 0 : HR_JSON_NONE;
}

hr_json_type hr_json_type_of(const hr_json *doc, hr_json_node node)
{
    const struct hr_json_nodeinfo *nd = node_at(doc, node);
    return nd ? (hr_json_type)nd->type : HR_JSON_NULL;
}

size_t hr_json_start(const hr_json *doc, hr_json_node node)
{
    const struct hr_json_nodeinfo *nd = node_at(doc, node);
    return nd ? nd->start : 0;
}

size_t hr_json_end(const hr_json *doc, hr_json_node node)
{
    const struct hr_json_nodeinfo *nd = node_at(doc, node);
    return nd ? nd->end : 0;
}

size_t hr_json_length(const hr_json *doc, hr_json_node node)
{
    const struct hr_json_nodeinfo *nd = node_at(doc, node);
    return nd && (nd->type == HR_JSON_ARRAY || nd->type == HR_JSON_OBJECT) ? nd->count : 0;
}

hr_json_node hr_json_first(const hr_json *doc, hr_json_node node)
{
    return hr_json_length(doc, node) ? node + 1 : HR_JSON_NONE;
}

hr_json_node hr_json_next(const hr_json *doc, hr_json_node node)
{
    const struct hr_json_nodeinfo *nd = node_at(doc, node);
    if (!nd || nd->parent == HR_JSON_NONE) return HR_JSON_NONE;
    uint32_t after = nd->is_key ? doc->nodes[node + 1].skip : nd->skip;
    return after < doc->nodes[nd->parent].skip ? after : HR_JSON_NONE;
}

hr_json_node hr_json_value(const hr_json *doc, hr_json_node key)
{
    const struct hr_json_nodeinfo *nd = node_at(doc, key);
    return nd && nd->is_key ? key + 1 : HR_JSON_NONE;
}

hr_json_node hr_json_get(const hr_json *doc, hr_json_node object, const char *key)
{
    if (hr_json_type_of(doc, object) != HR_JSON_OBJECT || !key) return HR_JSON_NONE;
    size_t len = strlen(key);
    for (hr_json_node k = hr_json_first(doc, object); k != HR_JSON_NONE; k = hr_json_next(doc, k))
        if (hr_json_string_equals(doc, k, key, len)) return k + 1;
    return HR_JSON_NONE;
}

static int hex4(const char *s)
{
    int v = 0;
    for (int i = 0; i < 4; i++) {
        char c = s[i];
        int h = c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : c - 'A' + 10;
        v = v * 16 + h;
    }
    return v;
}

/* Decodes the escape at s[0] == '\\' into out; returns bytes consumed. */
static size_t decode_escape(const char *s, const char *end, char *out, size_t *out_len)
{
    static const char from[] = "\"\\/bfnrt", to[] = "\"\\/\b\f\n\r\t";
    if (s[1] != 'u') {
        out[0] = to[strchr(from, s[1]) - from];
        *out_len = 1;
        return 2;
    }
    uint32_t cp = (uint32_t)hex4(s + 2);
    size_t used = 6;
    if (cp >= 0xd800 && cp < 0xdc00 && end - s >= 12 && s[6] == '\\' && s[7] == 'u') {
        uint32_t lo = (uint32_t)hex4(s + 8);
        if (lo >= 0xdc00 && lo < 0xe000) {
            cp = 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00);
            used = 12;
        }
    }
    if (cp >= 0xd800 && cp < 0xe000) cp = 0xfffd; /* lone surrogate */
    *out_len = hr__utf8_encode(cp, (unsigned char *)out);
    return used;
}

hr_status hr_json_string_decode(const hr_json *doc, hr_json_node str, hr_buf *out)
{
    const struct hr_json_nodeinfo *nd = node_at(doc, str);
    if (!nd || nd->type != HR_JSON_STRING || !out) return HR_EINVAL;
    const char *p = doc->buf + nd->start + 1, *end = doc->buf + nd->end - 1;
    if (!nd->escaped) return hr_buf_append(out, p, (size_t)(end - p));
    while (p < end) {
        const char *bs = memchr(p, '\\', (size_t)(end - p));
        size_t plain = bs ? (size_t)(bs - p) : (size_t)(end - p);
        hr_status st = hr_buf_append(out, p, plain);
        if (st || !bs) return st;
        char tmp[4];
        size_t n;
        p = bs + decode_escape(bs, end, tmp, &n);
        if ((st = hr_buf_append(out, tmp, n))) return st;
    }
    return HR_OK;
}

int hr_json_string_equals(const hr_json *doc, hr_json_node str, const char *text, size_t len)
{
    const struct hr_json_nodeinfo *nd = node_at(doc, str);
    if (!nd || nd->type != HR_JSON_STRING) return 0;
    if (!nd->escaped) return nd->end - nd->start - 2 == len && !memcmp(doc->buf + nd->start + 1, text, len);
    hr_buf b = HR_BUF_INIT;
    int eq = hr_json_string_decode(doc, str, &b) == HR_OK && b.len == len && (!len || !memcmp(b.data, text, len));
    hr_buf_free(&b);
    return eq;
}

hr_status hr_json_int64(const hr_json *doc, hr_json_node num, int64_t *value)
{
    const struct hr_json_nodeinfo *nd = node_at(doc, num);
    if (!nd || nd->type != HR_JSON_NUMBER || !value) return HR_EINVAL;
    const char *p = doc->buf + nd->start, *end = doc->buf + nd->end;
    int neg = *p == '-';
    p += neg;
    /* Accumulate as a negative number so INT64_MIN fits. */
    int64_t v = 0;
    for (; p < end; p++) {
        if (*p < '0' || *p > '9') return HR_ERANGE;
        int digit = *p - '0';
        if (v < (INT64_MIN + digit) / 10) return HR_ERANGE;
        v = v * 10 - digit;
    }
    if (!neg) {
        if (v == INT64_MIN) return HR_ERANGE;
        v = -v;
    }
    *value = v;
    return HR_OK;
}

hr_status hr__json_member_string(const hr_json *doc, hr_json_node obj, const char *key, char **out)
{
    hr_json_node v = hr_json_get(doc, obj, key);
    hr_buf b = HR_BUF_INIT;
    *out = NULL;
    if (v == HR_JSON_NONE || hr_json_type_of(doc, v) != HR_JSON_STRING) return HR_OK;
    if (hr_json_string_decode(doc, v, &b)) {
        hr_buf_free(&b);
        return HR_ENOMEM;
    }
    *out = b.data ? b.data : strdup("");
    return *out ? HR_OK : HR_ENOMEM;
}
