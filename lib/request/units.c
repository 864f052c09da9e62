/* Where the compressible text of a request is, in each API shape: tool
 * results (Anthropic tool_result blocks, Chat role "tool" messages, Responses
 * function_call_output items) and user text, in messages old enough to be
 * compressed. Everything else is never a unit. */
#include "request/request.h"
#include "util/grow.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

hr_json_node hr__message_list(const hr_json *doc, hr_format format)
{
    hr_json_node root = hr_json_root(doc);
    if (hr_json_type_of(doc, root) != HR_JSON_OBJECT) return HR_JSON_NONE;
    hr_json_node list = hr_json_get(doc, root, format == HR_FORMAT_OPENAI_RESPONSES ? "input" : "messages");
    int t = hr_json_type_of(doc, list);
    if (list == HR_JSON_NONE) return HR_JSON_NONE;
    if (t == HR_JSON_ARRAY || (t == HR_JSON_STRING && format == HR_FORMAT_OPENAI_RESPONSES)) return list;
    return HR_JSON_NONE;
}

static int is_text_part(const hr_json *doc, hr_json_node part)
{
    hr_json_node type = hr_json_get(doc, part, "type");
    return hr__str_is(doc, type, "text") || hr__str_is(doc, type, "input_text") || hr__str_is(doc, type, "output_text");
}

/* A user message (a Responses item of role user, with or without
 * "type": "message"). */
static int is_user_message(const hr_json *doc, hr_json_node m)
{
    hr_json_node type = hr_json_get(doc, m, "type");
    return hr__str_is(doc, hr_json_get(doc, m, "role"), "user") &&
           (type == HR_JSON_NONE || hr__str_is(doc, type, "message"));
}

/* Appends the text of a user message's content; *found says if it had any. */
static hr_status user_text(const hr_json *doc, hr_json_node content, hr_buf *text, int *found)
{
    if (hr_json_type_of(doc, content) == HR_JSON_STRING) {
        *found = 1;
        return hr_json_string_decode(doc, content, text);
    }
    if (hr_json_type_of(doc, content) != HR_JSON_ARRAY) return HR_OK;
    for (hr_json_node p = hr_json_first(doc, content); p != HR_JSON_NONE; p = hr_json_next(doc, p)) {
        hr_json_node t = hr_json_get(doc, p, "text");
        if (!is_text_part(doc, p) || hr_json_type_of(doc, t) != HR_JSON_STRING) continue;
        if (*found && hr_buf_append(text, "\n", 1)) return HR_ENOMEM;
        *found = 1;
        hr_status st = hr_json_string_decode(doc, t, text);
        if (st) return st;
    }
    return HR_OK;
}

hr_status hr__task_message(const hr_json *doc, hr_format format, size_t *index, hr_buf *text)
{
    *index = SIZE_MAX;
    hr_json_node list = hr__message_list(doc, format);
    if (list == HR_JSON_NONE) return HR_OK;
    if (hr_json_type_of(doc, list) == HR_JSON_STRING) {
        *index = 0;
        return hr_json_string_decode(doc, list, text);
    }
    size_t i = 0, mark = text->len;
    for (hr_json_node m = hr_json_first(doc, list); m != HR_JSON_NONE; m = hr_json_next(doc, m), i++) {
        if (!is_user_message(doc, m)) continue;
        hr_buf here = HR_BUF_INIT;
        int found = 0;
        hr_status st = user_text(doc, hr_json_get(doc, m, "content"), &here, &found);
        if (!st && found) {
            text->len = mark;
            st = hr_buf_append(text, here.data ? here.data : "", here.len);
            *index = i;
        }
        hr_buf_free(&here);
        if (st) return st;
    }
    return HR_OK;
}

hr_status hr__message_text(const hr_json *doc, hr_format format, size_t index, hr_buf *text)
{
    hr_json_node list = hr__message_list(doc, format);
    if (list == HR_JSON_NONE || hr_json_type_of(doc, list) != HR_JSON_ARRAY) return HR_OK;
    size_t i = 0;
    for (hr_json_node m = hr_json_first(doc, list); m != HR_JSON_NONE; m = hr_json_next(doc, m), i++) {
        if (i != index) continue;
        int found = 0;
        return user_text(doc, hr_json_get(doc, m, "content"), text, &found);
    }
    return HR_OK;
}

/* ---- collecting ------------------------------------------------------------- */

struct collector {
    const hr_json *doc;
    struct hr_unit_list *out;
    size_t message;
    hr_status st;
};

__attribute__((format(printf, 3, 4))) static void add(struct collector *c, hr_json_node str, const char *fmt, ...)
{
    if (c->st || hr_json_type_of(c->doc, str) != HR_JSON_STRING) return;
    void *p = hr_grow(c->out->v, &c->out->cap, c->out->n + 1, sizeof *c->out->v);
    if (!p) {
        c->st = HR_ENOMEM;
        return;
    }
    c->out->v = p;
    struct hr_unit_ref *u = &c->out->v[c->out->n++];
    u->node = str;
    u->message = c->message;
    u->task = SIZE_MAX;
    u->call_name = u->call_args = HR_JSON_NONE;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(u->where, sizeof u->where, fmt, ap);
    va_end(ap);
}

/* A content value: a string, or an array of parts whose text parts count. */
static void add_content(struct collector *c, hr_json_node content, const char *where)
{
    if (hr_json_type_of(c->doc, content) == HR_JSON_STRING) {
        add(c, content, "%s", where);
        return;
    }
    if (hr_json_type_of(c->doc, content) != HR_JSON_ARRAY) return;
    size_t j = 0;
    for (hr_json_node p = hr_json_first(c->doc, content); p != HR_JSON_NONE; p = hr_json_next(c->doc, p), j++)
        if (is_text_part(c->doc, p)) add(c, hr_json_get(c->doc, p, "text"), "%s[%zu].text", where, j);
}

static void anthropic_units(struct collector *c, hr_json_node m, const char *at)
{
    const hr_json *doc = c->doc;
    if (!hr__str_is(doc, hr_json_get(doc, m, "role"), "user")) return; /* the model's own turns stay */
    hr_json_node content = hr_json_get(doc, m, "content");
    char where[64];
    snprintf(where, sizeof where, "%s.content", at);
    if (hr_json_type_of(doc, content) != HR_JSON_ARRAY) {
        add_content(c, content, where);
        return;
    }
    size_t j = 0;
    for (hr_json_node b = hr_json_first(doc, content); b != HR_JSON_NONE; b = hr_json_next(doc, b), j++) {
        hr_json_node type = hr_json_get(doc, b, "type");
        char inner[112];
        if (hr__str_is(doc, type, "text")) {
            add(c, hr_json_get(doc, b, "text"), "%s[%zu].text", where, j);
        } else if (hr__str_is(doc, type, "tool_result")) {
            snprintf(inner, sizeof inner, "%s[%zu].content", where, j);
            add_content(c, hr_json_get(doc, b, "content"), inner);
        }
    }
}

static void chat_units(struct collector *c, hr_json_node m, const char *at)
{
    const hr_json *doc = c->doc;
    hr_json_node role = hr_json_get(doc, m, "role");
    if (!hr__str_is(doc, role, "user") && !hr__str_is(doc, role, "tool") && !hr__str_is(doc, role, "function")) return;
    char where[64];
    snprintf(where, sizeof where, "%s.content", at);
    add_content(c, hr_json_get(doc, m, "content"), where);
}

static void responses_units(struct collector *c, hr_json_node item, const char *at)
{
    const hr_json *doc = c->doc;
    hr_json_node type = hr_json_get(doc, item, "type");
    char where[64];
    if (hr__str_is(doc, type, "function_call_output") || hr__str_is(doc, type, "custom_tool_call_output")) {
        snprintf(where, sizeof where, "%s.output", at);
        add_content(c, hr_json_get(doc, item, "output"), where);
    } else if (is_user_message(doc, item)) {
        snprintf(where, sizeof where, "%s.content", at);
        add_content(c, hr_json_get(doc, item, "content"), where);
    }
}

hr_status hr__find_units(const hr_json *doc, hr_format format, size_t protect_recent, size_t skip,
                         struct hr_unit_list *out)
{
    hr_json_node list = hr__message_list(doc, format);
    if (list == HR_JSON_NONE || hr_json_type_of(doc, list) != HR_JSON_ARRAY) return HR_OK;
    size_t n = hr_json_length(doc, list);
    size_t open = n > protect_recent ? n - protect_recent : 0;
    const char *name = format == HR_FORMAT_OPENAI_RESPONSES ? "input" : "messages";
    struct collector c = {doc, out, 0, HR_OK};
    size_t i = 0;
    for (hr_json_node m = hr_json_first(doc, list); m != HR_JSON_NONE && i < open; m = hr_json_next(doc, m), i++) {
        if (i == skip || hr_json_type_of(doc, m) != HR_JSON_OBJECT) continue;
        char at[32];
        snprintf(at, sizeof at, "%s[%zu]", name, i);
        c.message = i;
        if (format == HR_FORMAT_ANTHROPIC) anthropic_units(&c, m, at);
        else if (format == HR_FORMAT_OPENAI_CHAT) chat_units(&c, m, at);
        else responses_units(&c, m, at);
        if (c.st) return c.st;
    }
    return HR_OK;
}
