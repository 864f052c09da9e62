/* Recognising the three API request shapes (Anthropic Messages, Chat
 * Completions, Responses) from a request's JSON, the names of the formats,
 * and the model a request names. Counting each part's tokens is
 * request_count.c's. */
#include "request/request.h"

#include <string.h>

const char *hr_format_name(hr_format format)
{
    switch (format) {
    case HR_FORMAT_ANTHROPIC: return "anthropic";
    case HR_FORMAT_OPENAI_CHAT: return "openai-chat";
    case HR_FORMAT_OPENAI_RESPONSES: return "openai-responses";
    case HR_FORMAT_UNKNOWN: break;
    }
    return "unknown";
}

hr_status hr_format_parse(const char *name, hr_format *out)
{
    static const hr_format all[] = {HR_FORMAT_ANTHROPIC, HR_FORMAT_OPENAI_CHAT, HR_FORMAT_OPENAI_RESPONSES};
    if (!name || !out) return HR_EINVAL;
    for (size_t i = 0; i < sizeof all / sizeof all[0]; i++) {
        if (!strcmp(name, hr_format_name(all[i]))) {
            *out = all[i];
            return HR_OK;
        }
    }
    return HR_ENOTFOUND;
}

int hr__str_is(const hr_json *doc, hr_json_node n, const char *text)
{
    return n != HR_JSON_NONE && hr_json_type_of(doc, n) == HR_JSON_STRING &&
           hr_json_string_equals(doc, n, text, strlen(text));
}

int hr__str_in(const hr_json *doc, hr_json_node n, const char *const *list)
{
    for (; *list; list++)
        if (hr__str_is(doc, n, *list)) return 1;
    return 0;
}

/* What one message says about its API: 1 Anthropic, 2 Chat, 0 either. */
static int message_hint(const hr_json *doc, hr_json_node msg)
{
    static const char *const chat_roles[] = {"system", "developer", "tool", "function", NULL};
    static const char *const anthropic_blocks[] = {"tool_use",          "tool_result", "thinking",
                                                   "redacted_thinking", "document",    NULL};
    static const char *const chat_parts[] = {"image_url", "input_audio", "file", NULL};
    if (hr__str_in(doc, hr_json_get(doc, msg, "role"), chat_roles)) return 2;
    if (hr_json_get(doc, msg, "tool_calls") != HR_JSON_NONE) return 2;
    hr_json_node content = hr_json_get(doc, msg, "content");
    if (hr_json_type_of(doc, content) != HR_JSON_ARRAY) return 0;
    for (hr_json_node b = hr_json_first(doc, content); b != HR_JSON_NONE; b = hr_json_next(doc, b)) {
        hr_json_node type = hr_json_get(doc, b, "type");
        if (hr__str_in(doc, type, anthropic_blocks)) return 1;
        if (hr__str_in(doc, type, chat_parts)) return 2;
        if (hr__str_is(doc, type, "image") && hr_json_get(doc, b, "source") != HR_JSON_NONE) return 1;
    }
    return 0;
}

hr_format hr_request_detect(const hr_json *doc)
{
    hr_json_node root = hr_json_root(doc);
    if (hr_json_type_of(doc, root) != HR_JSON_OBJECT) return HR_FORMAT_UNKNOWN;
    hr_json_node messages = hr_json_get(doc, root, "messages");
    if (hr_json_type_of(doc, messages) != HR_JSON_ARRAY) {
        hr_json_node input = hr_json_get(doc, root, "input");
        int t = hr_json_type_of(doc, input);
        if (input != HR_JSON_NONE && (t == HR_JSON_ARRAY || t == HR_JSON_STRING)) return HR_FORMAT_OPENAI_RESPONSES;
        return HR_FORMAT_UNKNOWN;
    }
    if (hr_json_get(doc, root, "system") != HR_JSON_NONE) return HR_FORMAT_ANTHROPIC;
    for (hr_json_node m = hr_json_first(doc, messages); m != HR_JSON_NONE; m = hr_json_next(doc, m)) {
        int hint = message_hint(doc, m);
        if (hint) return hint == 1 ? HR_FORMAT_ANTHROPIC : HR_FORMAT_OPENAI_CHAT;
    }
    hr_json_node model = hr_json_get(doc, root, "model");
    if (hr_json_type_of(doc, model) == HR_JSON_STRING) {
        hr_buf name = HR_BUF_INIT;
        int claude =
            hr_json_string_decode(doc, model, &name) == HR_OK && name.len && (strstr(name.data, "claude") != NULL);
        hr_buf_free(&name);
        if (claude) return HR_FORMAT_ANTHROPIC;
    }
    return HR_FORMAT_OPENAI_CHAT;
}

hr_status hr_request_model(const hr_json *doc, hr_buf *out)
{
    hr_json_node model = hr_json_get(doc, hr_json_root(doc), "model");
    if (hr_json_type_of(doc, model) != HR_JSON_STRING) return hr_buf_append(out, "", 0);
    return hr_json_string_decode(doc, model, out);
}
