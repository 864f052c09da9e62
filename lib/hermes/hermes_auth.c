/* auth.json's credential pool: reading each entry's base_url and recording
 * the splices that change it, so every other byte of the file stays. */
#include "hermes/hermes.h"
#include "json/json_internal.h"
#include "unicode/unicode.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

__attribute__((format(printf, 5, 6))) static void shape_error(const hr_json *doc, hr_json_node node, char *err,
                                                              size_t err_len, const char *fmt, ...)
{
    size_t line, col;
    hr__utf8_line_column(doc->buf, doc->len, hr_json_start(doc, node), &line, &col);
    int k = snprintf(err, err_len, "%zu:%zu: ", line, col);
    if (k < 0 || (size_t)k >= err_len) return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err + k, err_len - (size_t)k, fmt, ap);
    va_end(ap);
}

/* The decoded string member key of obj, "" when absent or not a string;
 * NULL when out of memory. */
static char *member_text(const hr_json *doc, hr_json_node obj, const char *key)
{
    char *s;
    if (hr__json_member_string(doc, obj, key, &s)) return NULL;
    return s ? s : strdup("");
}

void hr__pool_entries_free(struct hr__pool_entry *v, size_t n)
{
    for (size_t i = 0; v && i < n; i++) {
        free(v[i].id);
        free(v[i].auth_type);
        free(v[i].base_url);
    }
    free(v);
}

static hr_status read_entry(const hr_json *doc, hr_json_node obj, size_t index, struct hr__pool_entry *e, char *err,
                            size_t err_len)
{
    *e = (struct hr__pool_entry){.index = index, .object = obj, .url_key = HR_JSON_NONE};
    if (hr_json_type_of(doc, obj) != HR_JSON_OBJECT) {
        shape_error(doc, obj, err, err_len, "credential pool entry %zu is not an object", index);
        return HR_ESYNTAX;
    }
    for (hr_json_node k = hr_json_first(doc, obj); k != HR_JSON_NONE; k = hr_json_next(doc, k))
        if (hr_json_string_equals(doc, k, "base_url", 8)) e->url_key = k;
    e->id = member_text(doc, obj, "id");
    e->auth_type = member_text(doc, obj, "auth_type");
    if (!e->id || !e->auth_type) return HR_ENOMEM;
    if (e->url_key == HR_JSON_NONE) return HR_OK;
    hr_json_node v = hr_json_value(doc, e->url_key);
    hr_json_type t = hr_json_type_of(doc, v);
    if (t == HR_JSON_NULL) return HR_OK;
    if (t != HR_JSON_STRING) {
        shape_error(doc, v, err, err_len, "base_url of credential pool entry %zu is not a string", index);
        return HR_ESYNTAX;
    }
    e->base_url = member_text(doc, obj, "base_url");
    return e->base_url ? HR_OK : HR_ENOMEM;
}

hr_status hr__pool_entries(const hr_json *doc, const char *provider, struct hr__pool_entry **out, size_t *n, char *err,
                           size_t err_len)
{
    *out = NULL;
    *n = 0;
    hr_json_node root = hr_json_root(doc);
    if (hr_json_type_of(doc, root) != HR_JSON_OBJECT) {
        shape_error(doc, root, err, err_len, "not a JSON object");
        return HR_ESYNTAX;
    }
    hr_json_node pool = hr_json_get(doc, root, "credential_pool");
    if (pool == HR_JSON_NONE || hr_json_type_of(doc, pool) == HR_JSON_NULL) return HR_OK;
    if (hr_json_type_of(doc, pool) != HR_JSON_OBJECT) {
        shape_error(doc, pool, err, err_len, "credential_pool is not an object");
        return HR_ESYNTAX;
    }
    hr_json_node list = hr_json_get(doc, pool, provider);
    if (list == HR_JSON_NONE || hr_json_type_of(doc, list) == HR_JSON_NULL) return HR_OK;
    if (hr_json_type_of(doc, list) != HR_JSON_ARRAY) {
        shape_error(doc, list, err, err_len, "credential_pool.%s is not a list", provider);
        return HR_ESYNTAX;
    }
    size_t count = hr_json_length(doc, list);
    struct hr__pool_entry *v = calloc(count ? count : 1, sizeof *v);
    if (!v) return HR_ENOMEM;
    size_t i = 0;
    hr_status st = HR_OK;
    for (hr_json_node x = hr_json_first(doc, list); x != HR_JSON_NONE && !st; x = hr_json_next(doc, x), i++)
        st = read_entry(doc, x, i, &v[i], err, err_len);
    if (st) {
        hr__pool_entries_free(v, i);
        return st;
    }
    *out = v;
    *n = count;
    return HR_OK;
}

/* The whitespace before a member's key: what a new member is indented by. */
static void member_indent(const hr_json *doc, hr_json_node key, size_t *from, size_t *to)
{
    size_t k = hr_json_start(doc, key), s = k;
    while (s > 0 && (doc->buf[s - 1] == ' ' || doc->buf[s - 1] == '\t')) s--;
    if (s > 0 && doc->buf[s - 1] == '\n') {
        *from = s - 1; /* the newline too */
        *to = k;
    } else {
        *from = *to = k; /* a one-line object: members follow ", " */
    }
}

hr_status hr__pool_set_url(const hr_json *doc, const struct hr__pool_entry *e, const char *url, hr_splice *sp)
{
    hr_buf text = {0};
    hr_status st;
    if (e->url_key != HR_JSON_NONE) {
        hr_json_node v = hr_json_value(doc, e->url_key);
        st = hr_json_encode_string(&text, url, strlen(url));
        if (!st) st = hr_splice_replace(sp, hr_json_start(doc, v), hr_json_end(doc, v), text.data, text.len);
        hr_buf_free(&text);
        return st;
    }
    /* after the last member: ",<newline and indent of that member>"base_url": "URL"" */
    hr_json_node last = HR_JSON_NONE;
    for (hr_json_node k = hr_json_first(doc, e->object); k != HR_JSON_NONE; k = hr_json_next(doc, k)) last = k;
    size_t at;
    if (last == HR_JSON_NONE) {
        at = hr_json_start(doc, e->object) + 1;
        st = hr_buf_append(&text, "\"base_url\": ", 12);
    } else {
        size_t from, to;
        member_indent(doc, last, &from, &to);
        at = hr_json_end(doc, hr_json_value(doc, last));
        st = hr_buf_append(&text, ",", 1);
        if (!st) st = from == to ? hr_buf_append(&text, " ", 1) : hr_buf_append(&text, doc->buf + from, to - from);
        if (!st) st = hr_buf_append(&text, "\"base_url\": ", 12);
    }
    if (!st) st = hr_json_encode_string(&text, url, strlen(url));
    if (!st) st = hr_splice_replace(sp, at, at, text.data, text.len);
    hr_buf_free(&text);
    return st;
}

hr_status hr__pool_remove_url(const hr_json *doc, const struct hr__pool_entry *e, hr_splice *sp)
{
    if (e->url_key == HR_JSON_NONE) return HR_OK;
    hr_json_node prev = HR_JSON_NONE, next = HR_JSON_NONE;
    for (hr_json_node k = hr_json_first(doc, e->object); k != HR_JSON_NONE; k = hr_json_next(doc, k)) {
        if (k == e->url_key) {
            next = hr_json_next(doc, k);
            break;
        }
        prev = k;
    }
    size_t end = hr_json_end(doc, hr_json_value(doc, e->url_key));
    if (prev != HR_JSON_NONE) /* from the end of the member before: its comma goes with this one */
        return hr_splice_replace(sp, hr_json_end(doc, hr_json_value(doc, prev)), end, NULL, 0);
    if (next != HR_JSON_NONE) /* the first member: up to the next key */
        return hr_splice_replace(sp, hr_json_start(doc, e->url_key), hr_json_start(doc, next), NULL, 0);
    return hr_splice_replace(sp, hr_json_start(doc, e->object) + 1, hr_json_end(doc, e->object) - 1, NULL, 0);
}

/* ---- keys Python's json would read otherwise ------------------------------- */

/* One object key: its object, its node, its decoded text (name, len; at
 * off in the text they were decoded into, until it stops growing). */
struct key_ref {
    hr_json_node object, node;
    size_t off, len;
    const char *name;
};

/* By object, then text, then place in the file: a key held twice sorts
 * next to its twin, the first one first. */
static int by_object_and_name(const void *pa, const void *pb)
{
    const struct key_ref *a = pa, *b = pb;
    if (a->object != b->object) return a->object < b->object ? -1 : 1;
    size_t n = a->len < b->len ? a->len : b->len;
    int c = memcmp(a->name, b->name, n);
    if (c) return c;
    if (a->len != b->len) return a->len < b->len ? -1 : 1;
    return (a->node > b->node) - (a->node < b->node);
}

static int same_key(const struct key_ref *a, const struct key_ref *b)
{
    return a->object == b->object && a->len == b->len && !memcmp(a->name, b->name, a->len);
}

/* Every key of every object, decoded (escapes compare as what they stand
 * for, as in Python), into *keys and the text they point into. */
static hr_status collect_keys(const hr_json *doc, struct key_ref **keys, size_t *n, hr_buf *names)
{
    size_t count = 0;
    for (size_t i = 0; i < doc->n_nodes; i++) count += doc->nodes[i].is_key;
    *n = 0;
    *keys = calloc(count ? count : 1, sizeof **keys);
    if (!*keys) return HR_ENOMEM;
    for (size_t i = 0; i < doc->n_nodes; i++) {
        if (!doc->nodes[i].is_key) continue;
        size_t off = names->len;
        if (hr_json_string_decode(doc, (hr_json_node)i, names)) return HR_ENOMEM;
        (*keys)[(*n)++] = (struct key_ref){doc->nodes[i].parent, (hr_json_node)i, off, names->len - off, NULL};
    }
    for (size_t i = 0; i < *n; i++) (*keys)[i].name = names->data ? names->data + (*keys)[i].off : "";
    return HR_OK;
}

static void say_duplicate(const hr_json *doc, const struct key_ref *first, const struct key_ref *again, char *err,
                          size_t err_len)
{
    size_t line, col, first_line, first_col;
    hr__utf8_line_column(doc->buf, doc->len, hr_json_start(doc, again->node), &line, &col);
    hr__utf8_line_column(doc->buf, doc->len, hr_json_start(doc, first->node), &first_line, &first_col);
    hr_buf shown = {0};
    int cut = again->len > 64; /* a cut may split a character: the encoder writes it as \ufffd */
    if (hr_json_encode_string(&shown, again->name, cut ? 64 : again->len)) hr_buf_free(&shown);
    snprintf(err, err_len,
             "%zu:%zu: duplicate key %s%s (first at line %zu, column %zu); Python's json, which Hermes reads the "
             "file with, keeps the last one: delete one of them",
             line, col, shown.data ? shown.data : "?", cut ? "..." : "", first_line, first_col);
    hr_buf_free(&shown);
}

hr_status hr__json_check_unique_keys(const hr_json *doc, char *err, size_t err_len)
{
    struct key_ref *keys = NULL;
    size_t n = 0;
    hr_buf names = {0};
    hr_status st = collect_keys(doc, &keys, &n, &names);
    if (!st && n > 1) qsort(keys, n, sizeof *keys, by_object_and_name);
    /* of the keys held twice, the one whose second place comes first in the
     * file: each group of equal keys is sorted by place, so its second */
    const struct key_ref *first = NULL, *again = NULL;
    for (size_t i = 1, group = 0; !st && i < n; i++) {
        if (!same_key(&keys[group], &keys[i])) {
            group = i;
            continue;
        }
        if (i == group + 1 && (!again || keys[i].node < again->node)) {
            first = &keys[group];
            again = &keys[i];
        }
    }
    if (again) {
        say_duplicate(doc, first, again, err, err_len);
        st = HR_ESYNTAX;
    }
    free(keys);
    hr_buf_free(&names);
    return st;
}
