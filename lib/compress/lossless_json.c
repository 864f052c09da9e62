/* JSON said again in fewer tokens, every value kept: no whitespace between
 * tokens, escapes that JSON does not need written as the UTF-8 they stand
 * for, numbers byte for byte as written, and an array of objects most of
 * which have the same keys in the same order as a table:
 *
 *   ["[hr: table: ...]",
 *   ["id","name"],
 *   [1,"alpha"],
 *   [2,"beta"]]
 *
 * whose first row names the keys and each row after it holds one object's
 * values in that order; an object of other keys stays an object among the
 * rows. A model reads it as it is; a program gets the original value back
 * by zipping each row with the keys. The lossy JSON
 * stage writes what it keeps through the same writer, with its gaps. */
#include "compress/compress_internal.h"
#include "json/json_internal.h"

#include <string.h>

#define TABLE_MIN_ROWS 3
#define TABLE_NOTE "[hr: table: the first row names the fields, each row after it is one object's values]"

struct writer {
    const hr_json *doc;
    const char *text;
    const struct hr_json_cuts *cuts; /* NULL: every item stays */
    hr_buf *out;
};

static hr_status put(struct writer *w, const char *s, size_t n)
{
    return hr_buf_append(w->out, s, n);
}

static int hex_value(const char *s)
{
    int v = 0;
    for (int i = 0; i < 4; i++) {
        char c = s[i];
        int h = c >= '0' && c <= '9'   ? c - '0'
                : c >= 'a' && c <= 'f' ? c - 'a' + 10
                : c >= 'A' && c <= 'F' ? c - 'A' + 10
                                       : -1;
        if (h < 0) return -1;
        v = v * 16 + h;
    }
    return v;
}

static size_t utf8_put(unsigned cp, char *b)
{
    if (cp < 0x80) {
        b[0] = (char)cp;
        return 1;
    }
    if (cp < 0x800) {
        b[0] = (char)(0xc0 | cp >> 6);
        b[1] = (char)(0x80 | (cp & 0x3f));
        return 2;
    }
    if (cp < 0x10000) {
        b[0] = (char)(0xe0 | cp >> 12);
        b[1] = (char)(0x80 | ((cp >> 6) & 0x3f));
        b[2] = (char)(0x80 | (cp & 0x3f));
        return 3;
    }
    b[0] = (char)(0xf0 | cp >> 18);
    b[1] = (char)(0x80 | ((cp >> 12) & 0x3f));
    b[2] = (char)(0x80 | ((cp >> 6) & 0x3f));
    b[3] = (char)(0x80 | (cp & 0x3f));
    return 4;
}

/* The escape at s (s[0] == '\\', s[1] == 'u', n bytes left) as the shortest
 * text with the same value: *used gets the bytes it stands for. A lone
 * surrogate stays as written, having no UTF-8 form. */
static size_t unicode_escape(const char *s, size_t n, char *b, size_t *used)
{
    int cp = n >= 6 ? hex_value(s + 2) : -1;
    *used = 6;
    if (cp < 0) return 0;
    if (cp >= 0xd800 && cp <= 0xdbff) {
        int lo = n >= 12 && s[6] == '\\' && s[7] == 'u' ? hex_value(s + 8) : -1;
        if (lo < 0xdc00 || lo > 0xdfff) return 0;
        *used = 12;
        return utf8_put(0x10000 + (((unsigned)cp - 0xd800) << 10) + ((unsigned)lo - 0xdc00), b);
    }
    if (cp >= 0xdc00 && cp <= 0xdfff) return 0;
    static const char shorts[] = {'\b', 'b', '\f', 'f', '\n', 'n', '\r', 'r', '\t', 't', '"', '"', '\\', '\\'};
    for (size_t i = 0; i < sizeof shorts; i += 2)
        if (cp == shorts[i]) {
            b[0] = '\\';
            b[1] = shorts[i + 1];
            return 2;
        }
    if (cp < 0x20) return 0; /* no shorter form */
    return utf8_put((unsigned)cp, b);
}

/* A string literal with each escape at its shortest: "\u00e9" as "é",
 * "\/" as "/", a surrogate pair as its 4 bytes. */
static hr_status write_string(struct writer *w, hr_json_node str)
{
    size_t s = hr_json_start(w->doc, str), e = hr_json_end(w->doc, str);
    const char *t = w->text;
    if (!w->doc->nodes[str].escaped) return put(w, t + s, e - s);
    hr_status st = HR_OK;
    size_t run = s;
    for (size_t i = s; !st && i < e;) {
        if (t[i] != '\\') {
            i++;
            continue;
        }
        char b[4];
        size_t used = 2, n = 0;
        if (t[i + 1] == '/') b[n++] = '/';
        else if (t[i + 1] == 'u') n = unicode_escape(t + i, e - i, b, &used);
        if (!n) { /* stays as written */
            i += used;
            continue;
        }
        st = put(w, t + run, i - run);
        if (!st) st = put(w, b, n);
        i += used;
        run = i;
    }
    return st ? st : put(w, t + run, e - run);
}

static hr_status write_value(struct writer *w, hr_json_node v, unsigned depth);

static hr_status write_object(struct writer *w, hr_json_node obj, unsigned depth)
{
    hr_status st = put(w, "{", 1);
    for (hr_json_node k = hr_json_first(w->doc, obj); !st && k != HR_JSON_NONE; k = hr_json_next(w->doc, k)) {
        if (k != hr_json_first(w->doc, obj)) st = put(w, ",", 1);
        if (!st) st = write_string(w, k);
        if (!st) st = put(w, ":", 1);
        if (!st) st = write_value(w, hr_json_value(w->doc, k), depth + 1);
    }
    return st ? st : put(w, "}", 1);
}

/* Whether two objects have the same keys, written the same, in one order. */
static int same_keys(const hr_json *doc, const char *t, hr_json_node a, hr_json_node b)
{
    if (hr_json_length(doc, a) != hr_json_length(doc, b)) return 0;
    hr_json_node x = hr_json_first(doc, a), y = hr_json_first(doc, b);
    for (; x != HR_JSON_NONE; x = hr_json_next(doc, x), y = hr_json_next(doc, y)) {
        size_t xs = hr_json_start(doc, x), xn = hr_json_end(doc, x) - xs;
        size_t ys = hr_json_start(doc, y), yn = hr_json_end(doc, y) - ys;
        if (xn != yn || memcmp(t + xs, t + ys, xn)) return 0;
    }
    return 1;
}

static size_t rows_like(const hr_json *doc, const char *t, hr_json_node arr, hr_json_node shape)
{
    size_t rows = 0;
    for (hr_json_node e = hr_json_first(doc, arr); e != HR_JSON_NONE; e = hr_json_next(doc, e))
        rows += same_keys(doc, t, shape, e);
    return rows;
}

/* The object whose keys head the array's table, HR_JSON_NONE when a table
 * does not pay: every item must be an object, most of them with one set of
 * keys in one order (the others stay objects among the rows), and the keys
 * the rows stop repeating must outweigh the table's note. The shape is the
 * first, second or middle item's, whichever the most items share. */
static hr_json_node table_shape(const struct writer *w, hr_json_node arr)
{
    const hr_json *doc = w->doc;
    size_t n = hr_json_length(doc, arr), i = 0, best_rows = 0;
    hr_json_node picks[3] = {HR_JSON_NONE, HR_JSON_NONE, HR_JSON_NONE}, best = HR_JSON_NONE;
    if (n < TABLE_MIN_ROWS) return HR_JSON_NONE;
    for (hr_json_node e = hr_json_first(doc, arr); e != HR_JSON_NONE; e = hr_json_next(doc, e), i++) {
        if (hr_json_type_of(doc, e) != HR_JSON_OBJECT) return HR_JSON_NONE;
        if (i < 2) picks[i] = e;
        if (i == n / 2) picks[2] = e;
    }
    for (int k = 0; k < 3; k++) {
        if (!hr_json_length(doc, picks[k])) continue;
        size_t rows = rows_like(doc, w->text, arr, picks[k]);
        if (rows > best_rows) best = picks[k], best_rows = rows;
    }
    if (best == HR_JSON_NONE || best_rows < TABLE_MIN_ROWS || best_rows * 2 < n) return HR_JSON_NONE;
    size_t key_bytes = 0;
    for (hr_json_node k = hr_json_first(doc, best); k != HR_JSON_NONE; k = hr_json_next(doc, k))
        key_bytes += hr_json_end(doc, k) - hr_json_start(doc, k) + 2;
    return (best_rows - 1) * key_bytes > sizeof TABLE_NOTE + key_bytes ? best : HR_JSON_NONE;
}

static hr_status write_row(struct writer *w, hr_json_node obj, unsigned depth)
{
    hr_status st = put(w, "[", 1);
    for (hr_json_node k = hr_json_first(w->doc, obj); !st && k != HR_JSON_NONE; k = hr_json_next(w->doc, k)) {
        if (k != hr_json_first(w->doc, obj)) st = put(w, ",", 1);
        if (!st) st = write_value(w, hr_json_value(w->doc, k), depth + 1);
    }
    return st ? st : put(w, "]", 1);
}

static hr_status write_header(struct writer *w, hr_json_node obj)
{
    hr_status st = put(w, "[", 1);
    for (hr_json_node k = hr_json_first(w->doc, obj); !st && k != HR_JSON_NONE; k = hr_json_next(w->doc, k)) {
        if (k != hr_json_first(w->doc, obj)) st = put(w, ",", 1);
        if (!st) st = write_string(w, k);
    }
    return st ? st : put(w, "]", 1);
}

static int item_dropped(const unsigned char *keep, size_t i)
{
    return keep && (keep[i] == HR_DROP || keep[i] == HR_FOLD);
}

/* Items, or rows of the table of shape (an object of another shape stays an
 * object), one after another; a run of items the lossy stage dropped is one
 * string saying so. */
static hr_status write_items(struct writer *w, hr_json_node arr, hr_json_node shape, unsigned depth, const char *sep)
{
    const unsigned char *keep = w->cuts ? w->cuts->keep_of(w->cuts->ctx, arr) : NULL;
    hr_status st = HR_OK;
    size_t i = 0, sep_len = strlen(sep);
    int any = 0;
    for (hr_json_node e = hr_json_first(w->doc, arr); !st && e != HR_JSON_NONE; i++) {
        if (any) st = put(w, sep, sep_len);
        any = 1;
        if (!st && item_dropped(keep, i)) {
            size_t j = i;
            while (e != HR_JSON_NONE && item_dropped(keep, j)) {
                e = hr_json_next(w->doc, e);
                j++;
            }
            st = w->cuts->gap(w->cuts->ctx, arr, i, j, shape != HR_JSON_NONE, w->out);
            i = j - 1;
            continue;
        }
        int row = shape != HR_JSON_NONE && same_keys(w->doc, w->text, shape, e);
        if (!st) st = row ? write_row(w, e, depth) : write_value(w, e, depth + 1);
        e = hr_json_next(w->doc, e);
    }
    return st;
}

static hr_status write_array(struct writer *w, hr_json_node arr, unsigned depth)
{
    hr_json_node shape = table_shape(w, arr);
    if (shape == HR_JSON_NONE) {
        hr_status st = put(w, "[", 1);
        if (!st) st = write_items(w, arr, HR_JSON_NONE, depth, ",");
        return st ? st : put(w, "]", 1);
    }
    hr_status st = put(w, "[", 1);
    if (!st) st = hr_json_encode_string(w->out, TABLE_NOTE, sizeof TABLE_NOTE - 1);
    if (!st) st = put(w, ",\n", 2);
    if (!st) st = write_header(w, shape);
    if (!st) st = put(w, ",\n", 2);
    if (!st) st = write_items(w, arr, shape, depth, ",\n");
    return st ? st : put(w, "]", 1);
}

static hr_status write_value(struct writer *w, hr_json_node v, unsigned depth)
{
    switch (hr_json_type_of(w->doc, v)) {
    case HR_JSON_OBJECT: return write_object(w, v, depth);
    case HR_JSON_ARRAY: return write_array(w, v, depth);
    case HR_JSON_STRING: return write_string(w, v);
    default: {
        size_t s = hr_json_start(w->doc, v);
        return put(w, w->text + s, hr_json_end(w->doc, v) - s);
    }
    }
}

hr_status hr__json_write(const hr_json *doc, const char *text, const struct hr_json_cuts *cuts, hr_buf *out)
{
    struct writer w = {doc, text, cuts, out};
    size_t mark = out->len;
    hr_status st = write_value(&w, hr_json_root(doc), 0);
    if (st) out->len = mark;
    return st;
}

int hr__json_hides_marker(const hr_json *doc)
{
    for (hr_json_node i = 0; i < doc->n_nodes; i++) {
        const struct hr_json_nodeinfo *nd = &doc->nodes[i];
        if (nd->type != HR_JSON_STRING || !nd->escaped || nd->end - nd->start < 3) continue;
        char first = doc->buf[nd->start + 1];
        if (first != '[' && first != '\\') continue;
        hr_buf value = HR_BUF_INIT;
        int hides = hr_json_string_decode(doc, i, &value) == HR_OK && value.len >= 4 && !memcmp(value.data, "[hr:", 4);
        hr_buf_free(&value);
        if (hides) return 1;
    }
    return 0;
}

hr_status hr__lossless_json(hr_json *doc, const char *text, size_t len, hr_buf *out)
{
    if (hr_json_parse(doc, text, len) != HR_OK || hr__json_hides_marker(doc)) return hr_buf_append(out, text, len);
    return hr__json_write(doc, text, NULL, out);
}
