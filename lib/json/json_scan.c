/* The JSON byte-span scanner: one pass, no recursion, no conversion. Every
 * value becomes a node with its byte span, so callers can splice edits into
 * the original text and leave everything else byte-identical. */
#include "util/grow.h"
#include "json/json_internal.h"
#include "unicode/unicode.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

hr_status hr_json_new(hr_json **out)
{
    if (!out) return HR_EINVAL;
    *out = calloc(1, sizeof **out);
    if (!*out) return HR_ENOMEM;
    (*out)->max_depth = HR_JSON_DEFAULT_MAX_DEPTH;
    return HR_OK;
}

void hr_json_free(hr_json *doc)
{
    if (!doc) return;
    free(doc->nodes);
    free(doc->stack);
    free(doc);
}

void hr__json_trim(hr_json *doc, size_t keep_bytes)
{
    if (!doc || doc->cap_nodes * sizeof *doc->nodes + doc->cap_stack * sizeof *doc->stack <= keep_bytes) return;
    free(doc->nodes);
    free(doc->stack);
    doc->nodes = NULL;
    doc->stack = NULL;
    doc->n_nodes = doc->cap_nodes = doc->cap_stack = 0;
    doc->buf = NULL;
    doc->len = 0;
}

void hr_json_set_max_depth(hr_json *doc, unsigned depth)
{
    if (doc) doc->max_depth = depth ? depth : 1;
}

const char *hr_json_errmsg(const hr_json *doc)
{
    return doc ? doc->errmsg : "";
}

const char *hr_json_error_reason(const hr_json *doc)
{
    return doc ? doc->errmsg + doc->err_reason : "";
}

size_t hr_json_error_offset(const hr_json *doc)
{
    return doc ? doc->err_offset : 0;
}

/* Records "line L, column C (byte B): message"; columns count characters. */
__attribute__((format(printf, 4, 5))) static hr_status fail(hr_json *d, hr_status st, size_t at, const char *fmt, ...)
{
    size_t line, col;
    hr__utf8_line_column(d->buf, d->len, at, &line, &col);
    int k = snprintf(d->errmsg, sizeof d->errmsg, "line %zu, column %zu (byte %zu): ", line, col, at);
    d->err_reason = k > 0 && (size_t)k < sizeof d->errmsg ? (size_t)k : 0;
    va_list ap;
    va_start(ap, fmt);
    if (k > 0 && (size_t)k < sizeof d->errmsg) vsnprintf(d->errmsg + k, sizeof d->errmsg - (size_t)k, fmt, ap);
    va_end(ap);
    d->err_offset = at;
    return st;
}

static size_t skip_ws(const char *s, size_t n, size_t i)
{
    while (i < n && (s[i] == ' ' || s[i] == '\n' || s[i] == '\r' || s[i] == '\t')) i++;
    return i;
}

static hr_status add_node(hr_json *d, hr_json_type type, size_t start, uint32_t *id)
{
    void *p = hr_grow(d->nodes, &d->cap_nodes, d->n_nodes + 1, sizeof *d->nodes);
    if (!p) return HR_ENOMEM;
    d->nodes = p;
    if (d->n_nodes >= UINT32_MAX - 1) return HR_ETOOBIG;
    *id = (uint32_t)d->n_nodes++;
    struct hr_json_nodeinfo *nd = &d->nodes[*id];
    memset(nd, 0, sizeof *nd);
    nd->type = (uint8_t)type;
    nd->start = (uint32_t)start;
    nd->skip = *id + 1;
    return HR_OK;
}

static int hexval(char c)
{
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

/* A string starting at s[i] == '"'; sets *end past the closing quote. */
static hr_status scan_string(hr_json *d, size_t i, size_t *end, int *escaped)
{
    const unsigned char *s = (const unsigned char *)d->buf;
    size_t n = d->len, start = i++;
    *escaped = 0;
    for (;;) {
        while (i < n && s[i] >= 0x20 && s[i] < 0x80 && s[i] != '"' && s[i] != '\\') i++;
        if (i >= n) return fail(d, HR_ETRUNCATED, start, "unterminated string");
        unsigned char c = s[i];
        if (c == '"') {
            *end = i + 1;
            return HR_OK;
        }
        /* a raw newline in a string almost always means a missing quote */
        if (c == '\n') return fail(d, HR_ESYNTAX, start, "unterminated string");
        if (c < 0x20) return fail(d, HR_ESYNTAX, i, "control character 0x%02x in string", c);
        if (c == '\\') {
            *escaped = 1;
            if (i + 1 >= n) return fail(d, HR_ETRUNCATED, start, "unterminated string");
            char e = (char)s[i + 1];
            if (e == 'u') {
                for (int k = 2; k < 6; k++) {
                    if (i + (size_t)k >= n) return fail(d, HR_ETRUNCATED, n, "unexpected end of input in \\u escape");
                    if (hexval((char)s[i + (size_t)k]) < 0)
                        return fail(d, HR_ESYNTAX, i, "bad \\u escape: four hex digits expected");
                }
                i += 6;
            } else if (strchr("\"\\/bfnrt", e) && e) {
                i += 2;
            } else {
                /* a control byte of the input is named, never printed: it
                 * would split the message or reach the terminal */
                if ((unsigned char)e > 0x20 && (unsigned char)e < 0x7f)
                    return fail(d, HR_ESYNTAX, i, "bad escape '\\%c'", e);
                return fail(d, HR_ESYNTAX, i, "bad escape: '\\' followed by byte 0x%02x", (unsigned char)e);
            }
            continue;
        }
        int len = hr__utf8_sequence_len(s + i, n - i);
        if (len < 0) return fail(d, HR_EUTF8, i, "invalid UTF-8 byte 0x%02x in string", c);
        i += (size_t)len;
    }
}

static int is_digit(char c)
{
    return c >= '0' && c <= '9';
}

static hr_status scan_number(hr_json *d, size_t i, size_t *end)
{
    const char *s = d->buf;
    size_t n = d->len, start = i;
    if (i < n && s[i] == '-') i++;
    if (i >= n) return fail(d, HR_ETRUNCATED, n, "unexpected end of input in number");
    if (s[i] == '0') {
        i++;
    } else if (is_digit(s[i])) {
        while (i < n && is_digit(s[i])) i++;
    } else {
        return fail(d, HR_ESYNTAX, i, "digit expected in number starting at byte %zu", start);
    }
    if (i < n && s[i] == '.') {
        if (++i >= n) return fail(d, HR_ETRUNCATED, n, "unexpected end of input in number");
        if (!is_digit(s[i])) return fail(d, HR_ESYNTAX, i, "digit expected after '.'");
        while (i < n && is_digit(s[i])) i++;
    }
    if (i < n && (s[i] == 'e' || s[i] == 'E')) {
        i++;
        if (i < n && (s[i] == '+' || s[i] == '-')) i++;
        if (i >= n) return fail(d, HR_ETRUNCATED, n, "unexpected end of input in number");
        if (!is_digit(s[i])) return fail(d, HR_ESYNTAX, i, "digit expected in exponent");
        while (i < n && is_digit(s[i])) i++;
    }
    *end = i;
    return HR_OK;
}

static hr_status scan_literal(hr_json *d, size_t i, const char *word, size_t *end)
{
    size_t len = strlen(word);
    size_t have = d->len - i < len ? d->len - i : len;
    if (memcmp(d->buf + i, word, have)) return fail(d, HR_ESYNTAX, i, "unexpected character '%c'", d->buf[i]);
    if (have < len) return fail(d, HR_ETRUNCATED, d->len, "unexpected end of input in '%s'", word);
    *end = i + len;
    return HR_OK;
}

/* Scans one scalar or opens a container at s[i]; sets *end past a scalar. */
static hr_status scan_value(hr_json *d, size_t i, uint32_t parent, uint32_t *id, size_t *end)
{
    const char *s = d->buf;
    hr_status st;
    hr_json_type type;
    int escaped = 0;
    if (i >= d->len) return fail(d, HR_ETRUNCATED, d->len, "unexpected end of input, value expected");
    switch (s[i]) {
    case '{':
        type = HR_JSON_OBJECT;
        st = HR_OK;
        *end = i + 1;
        break;
    case '[':
        type = HR_JSON_ARRAY;
        st = HR_OK;
        *end = i + 1;
        break;
    case '"':
        type = HR_JSON_STRING;
        st = scan_string(d, i, end, &escaped);
        break;
    case 't':
        type = HR_JSON_TRUE;
        st = scan_literal(d, i, "true", end);
        break;
    case 'f':
        type = HR_JSON_FALSE;
        st = scan_literal(d, i, "false", end);
        break;
    case 'n':
        type = HR_JSON_NULL;
        st = scan_literal(d, i, "null", end);
        break;
    default:
        if (s[i] == '-' || is_digit(s[i])) {
            type = HR_JSON_NUMBER;
            st = scan_number(d, i, end);
        } else if ((unsigned char)s[i] >= 0x20 && (unsigned char)s[i] < 0x7f) {
            return fail(d, HR_ESYNTAX, i, "unexpected character '%c', value expected", s[i]);
        } else {
            return fail(d, HR_ESYNTAX, i, "unexpected byte 0x%02x, value expected", (unsigned char)s[i]);
        }
    }
    if (st) return st;
    if ((st = add_node(d, type, i, id))) return st;
    d->nodes[*id].parent = parent;
    d->nodes[*id].escaped = (uint8_t)escaped;
    d->nodes[*id].end = (uint32_t)*end;
    /* An object counts its members: keys are counted by scan_key. */
    if (parent != HR_JSON_NONE && d->nodes[parent].type == HR_JSON_ARRAY) d->nodes[parent].count++;
    return HR_OK;
}

static hr_status push(hr_json *d, size_t depth, uint32_t id, size_t at)
{
    if (depth >= d->max_depth) return fail(d, HR_EDEPTH, at, "nesting deeper than %u levels", d->max_depth);
    void *p = hr_grow(d->stack, &d->cap_stack, depth + 1, sizeof *d->stack);
    if (!p) return HR_ENOMEM;
    d->stack = p;
    d->stack[depth] = id;
    return HR_OK;
}

/* After a complete value: close containers and find what comes next. The
 * state is the stack; returns with *i at the next value (or key) to scan. */
static hr_status after_value(hr_json *d, size_t *depth, size_t *i, int *want_key, int *done)
{
    const char *s = d->buf;
    for (;;) {
        *i = skip_ws(s, d->len, *i);
        if (*depth == 0) {
            if (*i < d->len) return fail(d, HR_ESYNTAX, *i, "unexpected data after the JSON value");
            *done = 1;
            return HR_OK;
        }
        uint32_t top = d->stack[*depth - 1];
        int is_obj = d->nodes[top].type == HR_JSON_OBJECT;
        char close = is_obj ? '}' : ']';
        if (*i >= d->len)
            return fail(d, HR_ETRUNCATED, d->len,
                        "unexpected end of input, '%c' or ',' expected (%s opened at byte %u)", close,
                        is_obj ? "object" : "array", d->nodes[top].start);
        if (s[*i] == ',') {
            *i = skip_ws(s, d->len, *i + 1);
            *want_key = is_obj;
            return HR_OK;
        }
        if (s[*i] != close) return fail(d, HR_ESYNTAX, *i, "'%c' or ',' expected", close);
        d->nodes[top].end = (uint32_t)++ * i;
        d->nodes[top].skip = (uint32_t)d->n_nodes;
        --*depth;
    }
}

/* An object key and its colon at s[*i]. */
static hr_status scan_key(hr_json *d, size_t depth, size_t *i)
{
    uint32_t top = d->stack[depth - 1], id;
    size_t end;
    if (*i >= d->len) return fail(d, HR_ETRUNCATED, d->len, "unexpected end of input, object key expected");
    if (d->buf[*i] != '"') return fail(d, HR_ESYNTAX, *i, "object key (a string) expected");
    hr_status st = scan_value(d, *i, top, &id, &end);
    if (st) return st;
    d->nodes[id].is_key = 1;
    d->nodes[top].count++;
    *i = skip_ws(d->buf, d->len, end);
    if (*i >= d->len) return fail(d, HR_ETRUNCATED, d->len, "unexpected end of input, ':' expected");
    if (d->buf[*i] != ':') return fail(d, HR_ESYNTAX, *i, "':' expected after object key");
    *i = skip_ws(d->buf, d->len, *i + 1);
    return HR_OK;
}

hr_status hr_json_parse(hr_json *d, const char *buf, size_t len)
{
    if (!d || (!buf && len)) return HR_EINVAL;
    d->buf = buf;
    d->len = len;
    d->n_nodes = 0;
    d->errmsg[0] = '\0';
    d->err_reason = 0;
    d->err_offset = 0;
    if (len >= UINT32_MAX) return fail(d, HR_ETOOBIG, 0, "input larger than 4 GiB");

    size_t depth = 0, i = skip_ws(buf, len, 0);
    int want_key = 0, done = 0;
    hr_status st;
    if (i >= len) return fail(d, HR_ETRUNCATED, len, "no JSON value in input");
    while (!done) {
        if (want_key && (st = scan_key(d, depth, &i))) return st;
        uint32_t id, parent = depth ? d->stack[depth - 1] : HR_JSON_NONE;
        size_t end;
        if ((st = scan_value(d, i, parent, &id, &end))) return st;
        int type = d->nodes[id].type;
        if (type == HR_JSON_OBJECT || type == HR_JSON_ARRAY) {
            if ((st = push(d, depth, id, i))) return st;
            depth++;
            char close = type == HR_JSON_OBJECT ? '}' : ']';
            i = skip_ws(buf, len, end);
            if (i < len && buf[i] == close) {
                i++;
                d->nodes[id].end = (uint32_t)i;
                depth--;
            } else {
                want_key = type == HR_JSON_OBJECT;
                continue;
            }
        } else {
            i = end;
        }
        if ((st = after_value(d, &depth, &i, &want_key, &done))) return st;
    }
    return HR_OK;
}
