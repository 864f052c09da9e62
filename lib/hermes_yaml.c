/* config.yaml's nodes located by byte span. libyaml reports positions in
 * characters and never reports comments, so positions are converted to
 * bytes here and edits splice the original text around them. */
#include "hermes.h"
#include "grow.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <yaml.h>

#define RECORD_DEPTH 4  /* nodes deeper than plugins.<name>.<key>[] are walked, not kept */
#define MAX_DEPTH 256   /* deeper nesting is refused rather than recursed into */

struct walker {
    yaml_parser_t parser;
    struct hr__yaml *y;
    size_t ci, bi; /* a character index and its byte offset: marks mostly ascend */
    char *err;
    size_t err_len;
};

static size_t byte_at(struct walker *w, size_t char_index)
{
    const unsigned char *s = (const unsigned char *)w->y->text;
    if (char_index < w->ci) w->ci = w->bi = 0;
    while (w->ci < char_index && w->bi < w->y->len) {
        unsigned c = s[w->bi];
        w->bi += c < 0xC0 ? 1 : c < 0xE0 ? 2 : c < 0xF0 ? 3 : 4;
        w->ci++;
    }
    return w->bi < w->y->len ? w->bi : w->y->len;
}

static hr_status next_event(struct walker *w, yaml_event_t *e)
{
    if (yaml_parser_parse(&w->parser, e)) return HR_OK;
    const yaml_mark_t *m = w->parser.context ? &w->parser.context_mark : &w->parser.problem_mark;
    if (w->parser.problem_mark.line || w->parser.problem_mark.column) m = &w->parser.problem_mark;
    snprintf(w->err, w->err_len, "%zu:%zu: %s", m->line + 1, m->column + 1,
             w->parser.problem ? w->parser.problem : "invalid YAML");
    return w->parser.error == YAML_MEMORY_ERROR ? HR_ENOMEM : HR_ESYNTAX;
}

void hr__yaml_free(struct hr__yaml *y)
{
    for (size_t i = 0; y && i < y->n; i++) {
        free(y->v[i].path);
        free(y->v[i].value);
    }
    if (y) free(y->v);
}

static char *child_path(const char *parent, const char *key, size_t key_len)
{
    if (!parent) return NULL;
    size_t pn = strlen(parent), total = pn + 1 + key_len + 1;
    char *p = malloc(total);
    if (!p) return NULL;
    if (pn) snprintf(p, total, "%s.%.*s", parent, (int)key_len, key);
    else snprintf(p, total, "%.*s", (int)key_len, key);
    return p;
}

static char *item_path(const char *parent)
{
    size_t total = strlen(parent) + 3;
    char *p = malloc(total);
    if (p) snprintf(p, total, "%s[]", parent);
    return p;
}

/* Reserves a node for path (taken over) so that parents precede children. */
static hr_status reserve(struct walker *w, char *path, size_t *slot)
{
    struct hr__yaml *y = w->y;
    void *p = hr_grow(y->v, &y->cap, y->n + 1, sizeof *y->v);
    if (!p) {
        free(path);
        return HR_ENOMEM;
    }
    y->v = p;
    *slot = y->n;
    y->v[y->n++] = (struct hr__ynode){.path = path};
    return HR_OK;
}

static hr_status walk(struct walker *w, yaml_event_t *e, char *path, int depth, yaml_mark_t key, size_t *last);

static hr_status walk_mapping(struct walker *w, const char *path, int depth, size_t *last, size_t *flow_end)
{
    for (;;) {
        yaml_event_t k;
        hr_status st = next_event(w, &k);
        if (st) return st;
        if (k.type == YAML_MAPPING_END_EVENT) {
            *flow_end = byte_at(w, k.end_mark.index);
            yaml_event_delete(&k);
            return HR_OK;
        }
        char *child = NULL;
        yaml_mark_t key = k.start_mark;
        size_t klast = 0;
        if (k.type == YAML_SCALAR_EVENT && path && depth < RECORD_DEPTH) {
            child = child_path(path, (const char *)k.data.scalar.value, k.data.scalar.length);
            if (!child) {
                yaml_event_delete(&k);
                return HR_ENOMEM;
            }
            yaml_event_delete(&k);
        } else if ((st = walk(w, &k, NULL, depth + 1, key, &klast))) { /* a complex key: walked, not kept */
            return st;
        }
        yaml_event_t v;
        if ((st = next_event(w, &v))) {
            free(child);
            return st;
        }
        if ((st = walk(w, &v, child, depth + 1, key, last))) return st;
    }
}

static hr_status walk_sequence(struct walker *w, const char *path, int depth, size_t *last, size_t *flow_end)
{
    for (;;) {
        yaml_event_t item;
        hr_status st = next_event(w, &item);
        if (st) return st;
        if (item.type == YAML_SEQUENCE_END_EVENT) {
            *flow_end = byte_at(w, item.end_mark.index);
            yaml_event_delete(&item);
            return HR_OK;
        }
        char *child = path && depth < RECORD_DEPTH ? item_path(path) : NULL;
        if (path && depth < RECORD_DEPTH && !child) {
            yaml_event_delete(&item);
            return HR_ENOMEM;
        }
        if ((st = walk(w, &item, child, depth + 1, item.start_mark, last))) return st;
    }
}

/* Walks the node that starts with event e (consumed); key is where its key
 * starts (the node's own start for items and the root); path (taken over) is
 * where to record it, NULL for nodes not kept. *last grows to the end of its
 * last byte. */
static hr_status walk(struct walker *w, yaml_event_t *e, char *path, int depth, yaml_mark_t key, size_t *last)
{
    if (depth > MAX_DEPTH) {
        snprintf(w->err, w->err_len, "%zu:%zu: nested too deeply", e->start_mark.line + 1,
                 e->start_mark.column + 1);
        yaml_event_delete(e);
        free(path);
        return HR_ESYNTAX;
    }
    size_t slot = 0, start = byte_at(w, e->start_mark.index);
    hr_status st = path ? reserve(w, path, &slot) : HR_OK;
    if (st) {
        yaml_event_delete(e);
        return st;
    }
    const char *kept = path ? w->y->v[slot].path : NULL;
    size_t my_last = start, flow_end = 0, scalar_end = 0;
    hr__ynode_kind kind = HR_Y_OTHER;
    char *value = NULL;
    int style = 0;
    switch (e->type) {
    case YAML_SCALAR_EVENT:
        kind = HR_Y_SCALAR;
        style = (int)e->data.scalar.style;
        scalar_end = my_last = byte_at(w, e->end_mark.index);
        if (path && !(value = strndup((const char *)e->data.scalar.value, e->data.scalar.length))) st = HR_ENOMEM;
        break;
    case YAML_SEQUENCE_START_EVENT:
        kind = e->data.sequence_start.style == YAML_FLOW_SEQUENCE_STYLE ? HR_Y_FLOW_SEQ : HR_Y_BLOCK_SEQ;
        st = walk_sequence(w, kept, depth, &my_last, &flow_end);
        break;
    case YAML_MAPPING_START_EVENT:
        kind = e->data.mapping_start.style == YAML_FLOW_MAPPING_STYLE ? HR_Y_FLOW_MAP : HR_Y_BLOCK_MAP;
        st = walk_mapping(w, kept, depth, &my_last, &flow_end);
        break;
    default:
        my_last = byte_at(w, e->end_mark.index);
        break;
    }
    yaml_event_delete(e);
    if (kind == HR_Y_FLOW_SEQ || kind == HR_Y_FLOW_MAP) my_last = flow_end;
    if (!st && path) {
        struct hr__ynode *n = &w->y->v[slot];
        n->kind = kind;
        n->style = style;
        n->value = value;
        n->key_start = byte_at(w, key.index);
        n->start = start;
        n->end = kind == HR_Y_SCALAR ? scalar_end : my_last;
        n->last = my_last;
        n->line = key.line;
        n->column = key.column;
        value = NULL;
    }
    free(value);
    if (my_last > *last) *last = my_last;
    return st;
}

static hr_status walk_stream(struct walker *w)
{
    yaml_event_t e;
    hr_status st;
    int documents = 0;
    for (;;) {
        if ((st = next_event(w, &e))) return st;
        yaml_event_type_t t = e.type;
        if (t == YAML_STREAM_END_EVENT) {
            yaml_event_delete(&e);
            return HR_OK;
        }
        if (t == YAML_DOCUMENT_START_EVENT && ++documents > 1) {
            snprintf(w->err, w->err_len, "%zu:%zu: more than one YAML document", e.start_mark.line + 1,
                     e.start_mark.column + 1);
            yaml_event_delete(&e);
            return HR_ESYNTAX;
        }
        if (t == YAML_DOCUMENT_START_EVENT) {
            yaml_event_delete(&e);
            if ((st = next_event(w, &e))) return st;
            w->y->root_is_map = e.type == YAML_MAPPING_START_EVENT;
            char *root = strdup("");
            if (!root) {
                yaml_event_delete(&e);
                return HR_ENOMEM;
            }
            size_t last = 0;
            if ((st = walk(w, &e, root, 0, e.start_mark, &last))) return st;
            continue;
        }
        yaml_event_delete(&e);
    }
}

hr_status hr__yaml_scan(struct hr__yaml *y, const char *text, size_t len, char *err, size_t err_len)
{
    *y = (struct hr__yaml){.text = text, .len = len};
    struct walker w = {.y = y, .err = err, .err_len = err_len};
    if (!yaml_parser_initialize(&w.parser)) return HR_ENOMEM;
    yaml_parser_set_input_string(&w.parser, (const unsigned char *)text, len);
    hr_status st = walk_stream(&w);
    yaml_parser_delete(&w.parser);
    if (st) {
        hr__yaml_free(y);
        *y = (struct hr__yaml){.text = text, .len = len};
    }
    return st;
}

const struct hr__ynode *hr__yaml_find_next(const struct hr__yaml *y, const struct hr__ynode *prev, const char *path)
{
    size_t i = prev ? (size_t)(prev - y->v) + 1 : 0;
    for (; i < y->n; i++)
        if (!strcmp(y->v[i].path, path)) return &y->v[i];
    return NULL;
}

const struct hr__ynode *hr__yaml_find(const struct hr__yaml *y, const char *path)
{
    return hr__yaml_find_next(y, NULL, path);
}

size_t hr__line_start(const char *text, size_t at)
{
    while (at > 0 && text[at - 1] != '\n') at--;
    return at;
}

size_t hr__line_end(const char *text, size_t len, size_t at)
{
    while (at < len && text[at] != '\n') at++;
    return at < len ? at + 1 : len;
}
