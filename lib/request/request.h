/* The request layer: what libhr knows of the three API request shapes
 * beyond hr.h's hr_request_detect and hr_request_count: where a request's
 * messages and compressible strings (units) are, and its token total with
 * some strings already counted. The compressors (compress/) walk requests
 * through it. Internal to libhr. */
#ifndef HR_REQUEST_H
#define HR_REQUEST_H

#include "hr.h"

#include <stddef.h>

/* The list of messages / input items, HR_JSON_NONE when the shape lacks it
 * (units.c). */
hr_json_node hr__message_list(const hr_json *doc, hr_format format);
/* The text of message index's user content (text parts joined by newlines). */
hr_status hr__message_text(const hr_json *doc, hr_format format, size_t index, hr_buf *text);

/* ---- where the units are (units.c) --------------------------------------------- */

/* A string of the request that may be compressed. */
struct hr_unit_ref {
    hr_json_node node;
    size_t message;
    char where[160];
    /* cache mode: the message the task is read from (SIZE_MAX: none), and
     * the call that produced a tool result (HR_JSON_NONE when unknown) */
    size_t task;
    hr_json_node call_name, call_args;
};
struct hr_unit_list {
    struct hr_unit_ref *v;
    size_t n, cap;
};
/* The index of the message the task is read from (the latest user message
 * with text) and its text; SIZE_MAX and "" when there is none. */
hr_status hr__task_message(const hr_json *doc, hr_format format, size_t *index, hr_buf *text);
/* The compressible strings of the messages before the last protect_recent,
 * leaving out the message at skip: tool results and user text. */
hr_status hr__find_units(const hr_json *doc, hr_format format, size_t protect_recent, size_t skip,
                         struct hr_unit_list *out);
/* Every tool result of the request, with its call and task (tool_results.c);
 * *first_new (may be NULL): the first message after the model's last turn,
 * where the results it has not seen yet are. */
hr_status hr__find_tool_results(const hr_json *doc, hr_format format, struct hr_unit_list *out, size_t *first_new);

/* ---- the API shapes of a request (request_shape.c) ------------------------------- */

/* Whether node n is a string equal to text; to one of list (NULL-ended). */
int hr__str_is(const hr_json *doc, hr_json_node n, const char *text);
int hr__str_in(const hr_json *doc, hr_json_node n, const char *const *list);

/* ---- counting a request with some strings already counted (request_count.c) */

struct hr_known_count {
    hr_json_node node;
    size_t tokens;
};
/* hr_request_count's total, taking the count of each string node listed in
 * known (sorted by node) from there instead of counting it again. */
hr_status hr__request_total(hr_tokenizer *tok, const hr_json *doc, hr_format format, const struct hr_known_count *known,
                            size_t n_known, size_t *total);

#endif
