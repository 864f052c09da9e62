/* Cache mode's units: every tool result of a request, in every message, each
 * with what produced it (the tool's name and arguments, found by the call id
 * in the assistant turn before it) and the task as it stood then (the last
 * user message with text before it). Nothing that follows a result counts,
 * so a result is compressed the same way in every request that holds it. */
#include "request/request.h"
#include "util/grow.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* A tool call seen so far: its id, name and arguments nodes. */
struct call {
    hr_json_node id, name, args;
};

struct walk {
    const hr_json *doc;
    struct hr_unit_list *out;
    struct call *calls;
    size_t n_calls, cap_calls;
    size_t message, task;  /* the message walked, the last with user text */
    size_t last_assistant; /* the last of the model's turns, SIZE_MAX: none */
    hr_status st;
};

static void remember_call(struct walk *w, hr_json_node id, hr_json_node name, hr_json_node args)
{
    if (w->st || hr_json_type_of(w->doc, id) != HR_JSON_STRING) return;
    void *p = hr_grow(w->calls, &w->cap_calls, w->n_calls + 1, sizeof *w->calls);
    if (!p) {
        w->st = HR_ENOMEM;
        return;
    }
    w->calls = p;
    w->calls[w->n_calls++] = (struct call){id, name, args};
}

/* The call whose id equals the result's, the latest first. */
static const struct call *find_call(const struct walk *w, hr_json_node id)
{
    if (hr_json_type_of(w->doc, id) != HR_JSON_STRING) return NULL;
    hr_buf want = HR_BUF_INIT;
    const struct call *found = NULL;
    if (hr_json_string_decode(w->doc, id, &want) == HR_OK) {
        for (size_t i = w->n_calls; i-- > 0 && !found;)
            if (hr_json_string_equals(w->doc, w->calls[i].id, want.data ? want.data : "", want.len))
                found = &w->calls[i];
    }
    hr_buf_free(&want);
    return found;
}

static void add(struct walk *w, hr_json_node str, const struct call *call, const char *where)
{
    if (w->st || hr_json_type_of(w->doc, str) != HR_JSON_STRING) return;
    void *p = hr_grow(w->out->v, &w->out->cap, w->out->n + 1, sizeof *w->out->v);
    if (!p) {
        w->st = HR_ENOMEM;
        return;
    }
    w->out->v = p;
    struct hr_unit_ref *u = &w->out->v[w->out->n++];
    memset(u, 0, sizeof *u);
    u->node = str;
    u->message = w->message;
    u->task = w->task;
    u->call_name = call ? call->name : HR_JSON_NONE;
    u->call_args = call ? call->args : HR_JSON_NONE;
    snprintf(u->where, sizeof u->where, "%s", where);
}

/* A tool result's content: a string, or text parts (each its own unit). */
static void add_result(struct walk *w, hr_json_node content, hr_json_node call_id, const char *where)
{
    const struct call *call = find_call(w, call_id);
    if (hr_json_type_of(w->doc, content) == HR_JSON_STRING) {
        add(w, content, call, where);
        return;
    }
    if (hr_json_type_of(w->doc, content) != HR_JSON_ARRAY) return;
    size_t j = 0;
    for (hr_json_node p = hr_json_first(w->doc, content); p != HR_JSON_NONE; p = hr_json_next(w->doc, p), j++) {
        hr_json_node type = hr_json_get(w->doc, p, "type");
        char part[160];
        snprintf(part, sizeof part, "%s[%zu].text", where, j);
        if (hr__str_is(w->doc, type, "text") || hr__str_is(w->doc, type, "input_text") ||
            hr__str_is(w->doc, type, "output_text"))
            add(w, hr_json_get(w->doc, p, "text"), call, part);
    }
}

static int has_user_text(const hr_json *doc, hr_json_node content)
{
    if (hr_json_type_of(doc, content) == HR_JSON_STRING) return 1;
    if (hr_json_type_of(doc, content) != HR_JSON_ARRAY) return 0;
    for (hr_json_node p = hr_json_first(doc, content); p != HR_JSON_NONE; p = hr_json_next(doc, p)) {
        hr_json_node type = hr_json_get(doc, p, "type");
        if (hr__str_is(doc, type, "text") || hr__str_is(doc, type, "input_text")) return 1;
    }
    return 0;
}

static void anthropic_message(struct walk *w, hr_json_node m, const char *at)
{
    const hr_json *doc = w->doc;
    hr_json_node role = hr_json_get(doc, m, "role"), content = hr_json_get(doc, m, "content");
    int user = hr__str_is(doc, role, "user");
    if (user && has_user_text(doc, content)) w->task = w->message;
    if (hr__str_is(doc, role, "assistant")) w->last_assistant = w->message;
    if (hr_json_type_of(doc, content) != HR_JSON_ARRAY) return;
    size_t j = 0;
    for (hr_json_node b = hr_json_first(doc, content); b != HR_JSON_NONE; b = hr_json_next(doc, b), j++) {
        hr_json_node type = hr_json_get(doc, b, "type");
        if (!user && hr__str_is(doc, type, "tool_use")) {
            remember_call(w, hr_json_get(doc, b, "id"), hr_json_get(doc, b, "name"), hr_json_get(doc, b, "input"));
        } else if (user && hr__str_is(doc, type, "tool_result")) {
            char where[112];
            snprintf(where, sizeof where, "%s.content[%zu].content", at, j);
            add_result(w, hr_json_get(doc, b, "content"), hr_json_get(doc, b, "tool_use_id"), where);
        }
    }
}

static void chat_message(struct walk *w, hr_json_node m, const char *at)
{
    const hr_json *doc = w->doc;
    hr_json_node role = hr_json_get(doc, m, "role"), content = hr_json_get(doc, m, "content");
    char where[112];
    if (hr__str_is(doc, role, "user") && has_user_text(doc, content)) {
        w->task = w->message;
    } else if (hr__str_is(doc, role, "assistant")) {
        w->last_assistant = w->message;
        hr_json_node calls = hr_json_get(doc, m, "tool_calls");
        if (hr_json_type_of(doc, calls) != HR_JSON_ARRAY) return;
        for (hr_json_node c = hr_json_first(doc, calls); c != HR_JSON_NONE; c = hr_json_next(doc, c)) {
            hr_json_node fn = hr_json_get(doc, c, "function");
            remember_call(w, hr_json_get(doc, c, "id"), hr_json_get(doc, fn, "name"),
                          hr_json_get(doc, fn, "arguments"));
        }
    } else if (hr__str_is(doc, role, "tool")) {
        snprintf(where, sizeof where, "%s.content", at);
        add_result(w, content, hr_json_get(doc, m, "tool_call_id"), where);
    }
}

static void responses_item(struct walk *w, hr_json_node item, const char *at)
{
    const hr_json *doc = w->doc;
    hr_json_node type = hr_json_get(doc, item, "type");
    char where[112];
    if (hr__str_is(doc, type, "function_call") || hr__str_is(doc, type, "custom_tool_call") ||
        hr__str_is(doc, type, "reasoning") || hr__str_is(doc, hr_json_get(doc, item, "role"), "assistant"))
        w->last_assistant = w->message;
    if (hr__str_is(doc, type, "function_call")) {
        remember_call(w, hr_json_get(doc, item, "call_id"), hr_json_get(doc, item, "name"),
                      hr_json_get(doc, item, "arguments"));
    } else if (hr__str_is(doc, type, "custom_tool_call")) {
        remember_call(w, hr_json_get(doc, item, "call_id"), hr_json_get(doc, item, "name"),
                      hr_json_get(doc, item, "input"));
    } else if (hr__str_is(doc, type, "function_call_output") || hr__str_is(doc, type, "custom_tool_call_output")) {
        snprintf(where, sizeof where, "%s.output", at);
        add_result(w, hr_json_get(doc, item, "output"), hr_json_get(doc, item, "call_id"), where);
    } else if (hr__str_is(doc, hr_json_get(doc, item, "role"), "user") &&
               has_user_text(doc, hr_json_get(doc, item, "content"))) {
        w->task = w->message;
    }
}

hr_status hr__find_tool_results(const hr_json *doc, hr_format format, struct hr_unit_list *out, size_t *first_new)
{
    hr_json_node list = hr__message_list(doc, format);
    if (list == HR_JSON_NONE || hr_json_type_of(doc, list) != HR_JSON_ARRAY) return HR_OK;
    const char *name = format == HR_FORMAT_OPENAI_RESPONSES ? "input" : "messages";
    struct walk w = {.doc = doc, .out = out, .task = SIZE_MAX, .last_assistant = SIZE_MAX};
    for (hr_json_node m = hr_json_first(doc, list); m != HR_JSON_NONE && !w.st; m = hr_json_next(doc, m), w.message++) {
        if (hr_json_type_of(doc, m) != HR_JSON_OBJECT) continue;
        char at[32];
        snprintf(at, sizeof at, "%s[%zu]", name, w.message);
        if (format == HR_FORMAT_ANTHROPIC) anthropic_message(&w, m, at);
        else if (format == HR_FORMAT_OPENAI_CHAT) chat_message(&w, m, at);
        else responses_item(&w, m, at);
    }
    free(w.calls);
    if (first_new) *first_new = w.last_assistant == SIZE_MAX ? 0 : w.last_assistant + 1;
    return w.st;
}
