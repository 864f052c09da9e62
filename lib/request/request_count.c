/* Counting the tokens of what the model reads in each part of a request
 * (system, tools, each message or item), in any of the three API shapes
 * request_shape.c tells apart. */
#include "request/request.h"
#include "util/grow.h"
#include "json/json_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct message_count {
    char role[32];
    size_t tokens;
};

struct hr_request_counts {
    size_t system, tools, total;
    struct message_count *msgs;
    size_t n, cap;
};

struct counter {
    hr_tokenizer *tok;
    const hr_json *doc;
    hr_buf scratch;
    hr_status st;
    const struct hr_known_count *known; /* sorted by node */
    size_t n_known;
};

static int known_count(const struct counter *c, hr_json_node n, size_t *tokens)
{
    size_t lo = 0, hi = c->n_known;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        if (c->known[mid].node == n) {
            *tokens = c->known[mid].tokens;
            return 1;
        }
        if (c->known[mid].node < n) lo = mid + 1;
        else hi = mid;
    }
    return 0;
}

static size_t count_bytes(struct counter *c, const char *p, size_t n)
{
    size_t k = 0;
    if (c->st) return 0;
    c->st = hr_tokenizer_count(c->tok, p, n, 0, &k);
    return k;
}

/* The decoded text of a string node; a non-string counts 0. */
static size_t count_string(struct counter *c, hr_json_node n)
{
    size_t known;
    if (hr_json_type_of(c->doc, n) != HR_JSON_STRING || c->st) return 0;
    if (known_count(c, n, &known)) return known;
    c->scratch.len = 0;
    if ((c->st = hr_json_string_decode(c->doc, n, &c->scratch))) return 0;
    return count_bytes(c, c->scratch.data, c->scratch.len);
}

/* A JSON value as the model reads it: its source text (tool inputs, schemas). */
static size_t count_raw(struct counter *c, hr_json_node n)
{
    if (n == HR_JSON_NONE) return 0;
    size_t start = hr_json_start(c->doc, n), end = hr_json_end(c->doc, n);
    return count_bytes(c, c->doc->buf + start, end - start);
}

static size_t count_field(struct counter *c, hr_json_node obj, const char *key)
{
    return count_string(c, hr_json_get(c->doc, obj, key));
}

/* Content in any of the shapes: a string, an array of blocks or parts, or
 * one block, part or Responses item. */
static size_t count_content(struct counter *c, hr_json_node n)
{
    static const char *const text_types[] = {"text",         "input_text",     "output_text",
                                             "summary_text", "reasoning_text", NULL};
    const hr_json *doc = c->doc;
    switch (hr_json_type_of(doc, n)) {
    case HR_JSON_STRING: return count_string(c, n);
    case HR_JSON_ARRAY: {
        size_t sum = 0;
        for (hr_json_node e = hr_json_first(doc, n); e != HR_JSON_NONE; e = hr_json_next(doc, e))
            sum += count_content(c, e);
        return sum;
    }
    case HR_JSON_OBJECT: break;
    default: return 0;
    }
    hr_json_node type = hr_json_get(doc, n, "type");
    if (type == HR_JSON_NONE || hr__str_is(doc, type, "message")) /* a message object */
        return count_content(c, hr_json_get(doc, n, "content")) + count_content(c, hr_json_get(doc, n, "tool_calls"));
    if (hr__str_in(doc, type, text_types)) return count_field(c, n, "text");
    if (hr__str_is(doc, type, "tool_use"))
        return count_field(c, n, "name") + count_raw(c, hr_json_get(doc, n, "input"));
    if (hr__str_is(doc, type, "function")) { /* a Chat tool call */
        hr_json_node fn = hr_json_get(doc, n, "function");
        return count_field(c, fn, "name") + count_field(c, fn, "arguments");
    }
    if (hr__str_is(doc, type, "function_call")) return count_field(c, n, "name") + count_field(c, n, "arguments");
    if (hr__str_is(doc, type, "custom_tool_call")) return count_field(c, n, "name") + count_field(c, n, "input");
    if (hr__str_is(doc, type, "tool_result")) return count_content(c, hr_json_get(doc, n, "content"));
    if (hr__str_is(doc, type, "function_call_output") || hr__str_is(doc, type, "custom_tool_call_output"))
        return count_content(c, hr_json_get(doc, n, "output"));
    if (hr__str_is(doc, type, "thinking")) return count_field(c, n, "thinking");
    if (hr__str_is(doc, type, "refusal")) return count_field(c, n, "refusal");
    if (hr__str_is(doc, type, "reasoning")) return count_content(c, hr_json_get(doc, n, "summary"));
    return 0; /* images, audio, files, unknown blocks */
}

/* A tool schema: name, description and parameters as the model reads them. */
static size_t count_tools(struct counter *c, hr_json_node tools)
{
    size_t sum = 0;
    const hr_json *doc = c->doc;
    if (hr_json_type_of(doc, tools) != HR_JSON_ARRAY) return 0;
    for (hr_json_node t = hr_json_first(doc, tools); t != HR_JSON_NONE; t = hr_json_next(doc, t)) {
        hr_json_node fn = hr_json_get(doc, t, "function");
        hr_json_node def = fn != HR_JSON_NONE ? fn : t;
        sum += count_field(c, def, "name") + count_field(c, def, "description");
        hr_json_node params = hr_json_get(doc, def, "parameters");
        if (params == HR_JSON_NONE) params = hr_json_get(doc, def, "input_schema");
        sum += count_raw(c, params);
    }
    return sum;
}

static hr_status add_message(hr_request_counts *rc, const char *role, size_t tokens)
{
    void *p = hr_grow(rc->msgs, &rc->cap, rc->n + 1, sizeof *rc->msgs);
    if (!p) return HR_ENOMEM;
    rc->msgs = p;
    struct message_count *m = &rc->msgs[rc->n++];
    snprintf(m->role, sizeof m->role, "%s", role);
    m->tokens = tokens;
    rc->total += tokens;
    return HR_OK;
}

/* The role of a message or item: its "role", else its "type". */
static void role_of(struct counter *c, hr_json_node m, char *out, size_t cap)
{
    hr_json_node r = hr_json_get(c->doc, m, "role");
    if (r == HR_JSON_NONE) r = hr_json_get(c->doc, m, "type");
    hr_buf b = HR_BUF_INIT;
    if (hr_json_type_of(c->doc, r) == HR_JSON_STRING && hr_json_string_decode(c->doc, r, &b) == HR_OK && b.len)
        snprintf(out, cap, "%s", b.data);
    else snprintf(out, cap, "%s", "unknown");
    hr_buf_free(&b);
}

static hr_status count_messages(struct counter *c, hr_request_counts *rc, hr_json_node list)
{
    const hr_json *doc = c->doc;
    if (hr_json_type_of(doc, list) == HR_JSON_STRING) /* Responses "input": "text" */
        return add_message(rc, "user", count_string(c, list));
    for (hr_json_node m = hr_json_first(doc, list); m != HR_JSON_NONE; m = hr_json_next(doc, m)) {
        char role[32];
        role_of(c, m, role, sizeof role);
        size_t tokens = count_content(c, m);
        if (c->st) return c->st;
        if (!strcmp(role, "system") || !strcmp(role, "developer")) rc->system += tokens;
        hr_status st = add_message(rc, role, tokens);
        if (st) return st;
    }
    return c->st;
}

static hr_status request_count(hr_tokenizer *tok, const hr_json *doc, hr_format format,
                               const struct hr_known_count *known, size_t n_known, hr_request_counts **out)
{
    if (!tok || !doc || !out) return HR_EINVAL;
    *out = NULL;
    hr_json_node root = hr_json_root(doc);
    if (format == HR_FORMAT_UNKNOWN || hr_json_type_of(doc, root) != HR_JSON_OBJECT) return HR_ENOTREQUEST;
    hr_request_counts *rc = calloc(1, sizeof *rc);
    if (!rc) return HR_ENOMEM;
    struct counter c = {tok, doc, HR_BUF_INIT, HR_OK, known, n_known};
    size_t top_system = 0;
    if (format == HR_FORMAT_ANTHROPIC) top_system = count_content(&c, hr_json_get(doc, root, "system"));
    if (format == HR_FORMAT_OPENAI_RESPONSES) top_system = count_string(&c, hr_json_get(doc, root, "instructions"));
    rc->tools = count_tools(&c, hr_json_get(doc, root, "tools"));
    hr_json_node list = hr_json_get(doc, root, format == HR_FORMAT_OPENAI_RESPONSES ? "input" : "messages");
    hr_status st = c.st ? c.st : count_messages(&c, rc, list);
    rc->system += top_system;
    rc->total += top_system + rc->tools;
    hr_buf_free(&c.scratch);
    if (st) {
        hr_request_counts_free(rc);
        return st;
    }
    *out = rc;
    return HR_OK;
}

hr_status hr_request_count(hr_tokenizer *tok, const hr_json *doc, hr_format format, hr_request_counts **out)
{
    return request_count(tok, doc, format, NULL, 0, out);
}

hr_status hr__request_total(hr_tokenizer *tok, const hr_json *doc, hr_format format, const struct hr_known_count *known,
                            size_t n_known, size_t *total)
{
    hr_request_counts *rc = NULL;
    hr_status st = request_count(tok, doc, format, known, n_known, &rc);
    *total = st ? 0 : rc->total;
    hr_request_counts_free(rc);
    return st;
}

void hr_request_counts_free(hr_request_counts *counts)
{
    if (!counts) return;
    free(counts->msgs);
    free(counts);
}

size_t hr_request_counts_system(const hr_request_counts *counts)
{
    return counts ? counts->system : 0;
}

size_t hr_request_counts_tools(const hr_request_counts *counts)
{
    return counts ? counts->tools : 0;
}

size_t hr_request_counts_total(const hr_request_counts *counts)
{
    return counts ? counts->total : 0;
}

size_t hr_request_counts_messages(const hr_request_counts *counts)
{
    return counts ? counts->n : 0;
}

hr_status hr_request_counts_message(const hr_request_counts *counts, size_t i, const char **role, size_t *tokens)
{
    if (!counts || i >= counts->n) return HR_EINVAL;
    if (role) *role = counts->msgs[i].role;
    if (tokens) *tokens = counts->msgs[i].tokens;
    return HR_OK;
}
