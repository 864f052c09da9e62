/* The node array behind an hr_json handle. */
#ifndef HR_JSON_INTERNAL_H
#define HR_JSON_INTERNAL_H

#include "hr.h"

struct hr_json_nodeinfo {
    uint32_t start, end; /* byte span of the value */
    uint32_t skip;       /* index of the first node after this one's subtree */
    uint32_t parent;     /* enclosing container, HR_JSON_NONE for the root */
    uint32_t count;      /* elements or members */
    uint8_t type;        /* hr_json_type */
    uint8_t is_key;      /* an object key; its value is the next node */
    uint8_t escaped;     /* a string containing backslash escapes */
};

struct hr_json {
    const char *buf;
    size_t len;
    struct hr_json_nodeinfo *nodes;
    size_t n_nodes, cap_nodes;
    uint32_t *stack;
    size_t cap_stack;
    unsigned max_depth;
    size_t err_offset;
    size_t err_reason; /* where the reason starts in errmsg */
    char errmsg[160];
};

/* Frees a parsed document's node and stack arrays when they hold more than
 * keep_bytes; the document is empty afterwards, ready for the next parse. */
void hr__json_trim(hr_json *doc, size_t keep_bytes);

/* The decoded value of obj's string member key, malloc'd, in *out; NULL
 * when the member is absent or not a string. HR_ENOMEM on failure. */
hr_status hr__json_member_string(const hr_json *doc, hr_json_node obj, const char *key, char **out);

/* Reads and parses a JSON file into text and a new *doc (freed by the
 * caller whatever this returns); err: "path: reason" or "path:line:col:
 * reason". HR_ENOTFOUND when the file does not exist. */
hr_status hr__json_load_file(const char *path, hr_buf *text, hr_json **doc, char *err, size_t err_len);
/* A number node's value as a double (text is the parsed buffer). */
double hr__json_number(const hr_json *doc, hr_json_node v, const char *text);

#endif
