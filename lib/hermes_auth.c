/* auth.json's credential pool: reading each entry's base_url and recording
 * the splices that change it, so every other byte of the file stays. */
#include "hermes.h"
#include "json_internal.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void shape_error(const hr_json *doc, hr_json_node node, char *err, size_t err_len, const char *fmt, ...)
{
    size_t line, col;
    hr_utf8_line_column(doc->buf, doc->len, hr_json_start(doc, node), &line, &col);
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

static hr_status read_entry(const hr_json *doc, hr_json_node obj, size_t index, struct hr__pool_entry *e,
                            char *err, size_t err_len)
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

hr_status hr__pool_entries(const hr_json *doc, const char *provider, struct hr__pool_entry **out, size_t *n,
                           char *err, size_t err_len)
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
