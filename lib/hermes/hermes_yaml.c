/* config.yaml's nodes located by byte span. libyaml reports positions in
 * characters (after a byte order mark, which it skips) and never reports
 * comments, so positions are converted to bytes here and edits splice the
 * original text around them. A key held twice in a mapping is read as
 * PyYAML (Hermes) reads it: the last one counts. */
#include "hermes/hermes.h"
#include "util/grow.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <yaml.h>

#define RECORD_DEPTH 4 /* nodes deeper than plugins.<name>.<key>[] are walked, not kept */
#define MAX_DEPTH 256  /* deeper nesting is refused rather than recursed into */
#define NO_PARENT ((size_t)-1)

static const char UTF8_BOM[] = "\xef\xbb\xbf";

struct walker {
    yaml_parser_t parser;
    struct hr__yaml *y;
    size_t bom;    /* bytes of a byte order mark: libyaml's character 0 comes after them */
    size_t ci, bi; /* a character index and its byte offset: marks mostly ascend */
    char *err;
    size_t err_len;
};

static size_t bom_length(const char *text, size_t len)
{
    return len >= 3 && !memcmp(text, UTF8_BOM, 3) ? 3 : 0;
}

static size_t byte_at(struct walker *w, size_t char_index)
{
    const unsigned char *s = (const unsigned char *)w->y->text;
    if (char_index < w->ci) w->ci = 0, w->bi = w->bom;
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

/* Reserves a node for path (taken over) under the node at slot parent, so
 * that parents precede children. */
static hr_status reserve(struct walker *w, char *path, size_t parent, size_t *slot)
{
    struct hr__yaml *y = w->y;
    void *p = hr_grow(y->v, &y->cap, y->n + 1, sizeof *y->v);
    if (!p) {
        free(path);
        return HR_ENOMEM;
    }
    y->v = p;
    *slot = y->n;
    y->v[y->n++] = (struct hr__ynode){.path = path, .parent = parent};
    return HR_OK;
}

static hr_status walk(struct walker *w, yaml_event_t *e, char *path, size_t parent, int depth, yaml_mark_t key,
                      size_t *last);

/* Whether a key can be found by its path: one that is empty or holds '.',
 * '[', ']' or a control byte would be taken for another ("model.base_url"
 * at the top for base_url under model, "" for the root), and a block
 * scalar's (| or >) changes with a line break added after it, so such a key
 * is walked, not kept. */
static int plain_key(const yaml_event_t *k)
{
    const char *s = (const char *)k->data.scalar.value;
    size_t n = k->data.scalar.length;
    if (!n || k->data.scalar.style == YAML_LITERAL_SCALAR_STYLE || k->data.scalar.style == YAML_FOLDED_SCALAR_STYLE)
        return 0;
    for (size_t i = 0; i < n; i++)
        if (s[i] == '.' || s[i] == '[' || s[i] == ']' || (unsigned char)s[i] < 0x20) return 0;
    return 1;
}

/* Whether the key that ends at byte at is followed by its ':' on its line,
 * as an implicit one is. An explicit key ("? key", its ':' if any on a line
 * of its own) and a flow mapping's key with no value ("{a}") are not: their
 * entries do not start at their keys, nor their values after a ':'. */
static int followed_by_colon(const char *text, size_t len, size_t at)
{
    while (at < len && (text[at] == ' ' || text[at] == '\t')) at++;
    return at < len && text[at] == ':';
}

/* The children of the mapping recorded at slot (path; NULL: not kept);
 * *first_key: where its first key starts. */
static hr_status walk_mapping(struct walker *w, const char *path, size_t slot, int depth, size_t *last,
                              size_t *flow_end, size_t *first_key)
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
        int scalar = k.type == YAML_SCALAR_EVENT;
        size_t kend = scalar ? byte_at(w, k.end_mark.index) : 0;
        if (*first_key == SIZE_MAX) *first_key = byte_at(w, key.index);
        if (scalar && path && depth < RECORD_DEPTH && plain_key(&k)) {
            child = child_path(path, (const char *)k.data.scalar.value, k.data.scalar.length);
            if (!child) {
                yaml_event_delete(&k);
                return HR_ENOMEM;
            }
            yaml_event_delete(&k);
        } else if ((st = walk(w, &k, NULL, NO_PARENT, depth + 1, key, scalar ? &(size_t){0} : &kend))) {
            return st; /* another key: walked, not kept */
        }
        if (!followed_by_colon(w->y->text, w->y->len, kend)) {
            free(child);
            snprintf(w->err, w->err_len,
                     "%zu:%zu: an explicit key (? ...) or a key without a value; hr edits "
                     "mappings of key: value lines",
                     key.line + 1, key.column + 1);
            return HR_ESYNTAX;
        }
        if (kend > *last) *last = kend; /* its bytes are the mapping's, whatever its value */
        yaml_event_t v;
        if ((st = next_event(w, &v))) {
            free(child);
            return st;
        }
        if ((st = walk(w, &v, child, slot, depth + 1, key, last))) return st;
    }
}

static hr_status walk_sequence(struct walker *w, const char *path, size_t slot, int depth, size_t *last,
                               size_t *flow_end)
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
        if ((st = walk(w, &item, child, slot, depth + 1, item.start_mark, last))) return st;
    }
}

/* libyaml ends a block scalar (| or >) after the line breaks and blank
 * lines that follow its text, at the start of the next line. Its bytes end
 * with its text, as other scalars' do, so that an edit of the value keeps
 * the line break and what comes after it. */
static size_t block_scalar_end(const char *text, size_t start, size_t end)
{
    /* back to the first line break of the blanks at the end: spaces before
     * it are the text's own */
    for (size_t i = end;
         i > start && (text[i - 1] == '\n' || text[i - 1] == '\r' || text[i - 1] == ' ' || text[i - 1] == '\t'); i--)
        if (text[i - 1] == '\n' || text[i - 1] == '\r') end = i - 1;
    return end;
}

/* Whether only blanks come before byte at on its line. */
static int first_on_line(const char *text, size_t at)
{
    while (at > 0 && (text[at - 1] == ' ' || text[at - 1] == '\t')) at--;
    return at == 0 || text[at - 1] == '\n';
}

/* Walks the node that starts with event e (consumed); key is where its key
 * starts (the node's own start for items and the root); path (taken over) is
 * where to record it, under the node at slot parent, NULL for nodes not
 * kept. *last grows to the end of its last byte. */
static hr_status walk(struct walker *w, yaml_event_t *e, char *path, size_t parent, int depth, yaml_mark_t key,
                      size_t *last)
{
    if (depth > MAX_DEPTH) {
        snprintf(w->err, w->err_len, "%zu:%zu: nested too deeply", e->start_mark.line + 1, e->start_mark.column + 1);
        yaml_event_delete(e);
        free(path);
        return HR_ESYNTAX;
    }
    size_t slot = 0, start = byte_at(w, e->start_mark.index);
    hr_status st = path ? reserve(w, path, parent, &slot) : HR_OK;
    if (st) {
        yaml_event_delete(e);
        return st;
    }
    const char *kept = path ? w->y->v[slot].path : NULL;
    size_t my_last = start, flow_end = 0, scalar_end = 0, first_key = SIZE_MAX;
    hr__ynode_kind kind = HR_Y_OTHER;
    char *value = NULL;
    int style = 0, placeless = 0;
    switch (e->type) {
    case YAML_SCALAR_EVENT:
        kind = HR_Y_SCALAR;
        style = (int)e->data.scalar.style;
        scalar_end = my_last = byte_at(w, e->end_mark.index);
        if (style == YAML_LITERAL_SCALAR_STYLE || style == YAML_FOLDED_SCALAR_STYLE)
            scalar_end = my_last = block_scalar_end(w->y->text, start, scalar_end);
        /* an empty value with nothing to mark its place ("? key" and no
         * ": ") gets the mark of the token after it, lines below: it has no
         * bytes of its own for an edit to replace, nor is its parent's text
         * longer for it */
        if (!e->data.scalar.length && style == YAML_PLAIN_SCALAR_STYLE && !e->data.scalar.anchor &&
            !e->data.scalar.tag && first_on_line(w->y->text, start))
            kind = HR_Y_OTHER, placeless = 1;
        if (path && !(value = strndup((const char *)e->data.scalar.value, e->data.scalar.length))) st = HR_ENOMEM;
        break;
    case YAML_SEQUENCE_START_EVENT:
        kind = e->data.sequence_start.style == YAML_FLOW_SEQUENCE_STYLE ? HR_Y_FLOW_SEQ : HR_Y_BLOCK_SEQ;
        st = walk_sequence(w, kept, slot, depth, &my_last, &flow_end);
        break;
    case YAML_MAPPING_START_EVENT:
        kind = e->data.mapping_start.style == YAML_FLOW_MAPPING_STYLE ? HR_Y_FLOW_MAP : HR_Y_BLOCK_MAP;
        st = walk_mapping(w, kept, slot, depth, &my_last, &flow_end, &first_key);
        /* "model: &m" or "model: !tag": libyaml starts the mapping at the
         * anchor or tag, on its key's line; its keys, which edits line up
         * with, start on the next */
        if (kind == HR_Y_BLOCK_MAP && (e->data.mapping_start.anchor || e->data.mapping_start.tag) &&
            first_key != SIZE_MAX)
            start = first_key;
        break;
    default: my_last = byte_at(w, e->end_mark.index); break;
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
        n->subtree_end = w->y->n;
        value = NULL;
    }
    free(value);
    if (!placeless && my_last > *last) *last = my_last;
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
            if ((st = walk(w, &e, root, NO_PARENT, 0, e.start_mark, &last))) return st;
            continue;
        }
        /* "...": what hr appends at the end of the file would come after it */
        if (t == YAML_DOCUMENT_END_EVENT && !e.data.document_end.implicit) {
            snprintf(w->err, w->err_len,
                     "%zu:%zu: a document end marker (...); hr adds settings at the end of the "
                     "file",
                     e.start_mark.line + 1, e.start_mark.column + 1);
            yaml_event_delete(&e);
            return HR_ESYNTAX;
        }
        yaml_event_delete(&e);
    }
}

static int is_mapping_value(const struct hr__ynode *n)
{
    size_t len = strlen(n->path);
    return n->parent != NO_PARENT && !(len >= 2 && !strcmp(n->path + len - 2, "[]"));
}

/* Mapping values by mapping, then key, then place: a key held twice sorts
 * next to its twin, the last one last. */
static int by_mapping_and_key(const void *pa, const void *pb)
{
    const struct hr__ynode *a = *(const struct hr__ynode *const *)pa, *b = *(const struct hr__ynode *const *)pb;
    if (a->parent != b->parent) return a->parent < b->parent ? -1 : 1;
    int c = strcmp(a->path, b->path);
    return c ? c : (a > b) - (a < b);
}

/* PyYAML keeps the last of a key held twice: the earlier ones, and all
 * that was recorded under them, are shadowed. */
static hr_status shadow_duplicate_keys(struct hr__yaml *y)
{
    const struct hr__ynode **byk = calloc(y->n ? y->n : 1, sizeof *byk);
    if (!byk) return HR_ENOMEM;
    size_t n = 0;
    for (size_t i = 0; i < y->n; i++)
        if (is_mapping_value(&y->v[i])) byk[n++] = &y->v[i];
    if (n > 1) qsort(byk, n, sizeof *byk, by_mapping_and_key);
    for (size_t i = 0; i + 1 < n; i++) {
        if (byk[i]->parent != byk[i + 1]->parent || strcmp(byk[i]->path, byk[i + 1]->path)) continue;
        size_t from = (size_t)(byk[i] - y->v);
        for (size_t k = from; k < byk[i]->subtree_end; k++) y->v[k].shadowed = 1;
    }
    free(byk);
    return HR_OK;
}

/* Hermes opens config.yaml as UTF-8; libyaml would take UTF-16 (by its
 * byte order mark), with positions hr could not map to bytes. */
static hr_status refuse_utf16(const char *text, size_t len, char *err, size_t err_len)
{
    const unsigned char *u = (const unsigned char *)text;
    if (len < 2 || !((u[0] == 0xFF && u[1] == 0xFE) || (u[0] == 0xFE && u[1] == 0xFF))) return HR_OK;
    snprintf(err, err_len, "1:1: UTF-16 text; Hermes reads config.yaml as UTF-8");
    return HR_ESYNTAX;
}

/* What, at text[i], libyaml reads as a line break (or skips at the start of
 * a line) that hr does not: hr's edits count lines by LF and columns by
 * bytes, and would land in the wrong place. NULL when nothing. */
static const char *odd_break(const unsigned char *u, size_t len, size_t i)
{
    if (u[i] == '\r' && (i + 1 == len || u[i + 1] != '\n')) return "a carriage return without a line feed";
    if (u[i] == 0xC2 && i + 1 < len && u[i + 1] == 0x85) return "a next-line character (U+0085)";
    if (u[i] == 0xE2 && i + 2 < len && u[i + 1] == 0x80 && (u[i + 2] == 0xA8 || u[i + 2] == 0xA9))
        return "a line or paragraph separator (U+2028, U+2029)";
    if (u[i] == 0xEF && i + 2 < len && u[i + 1] == 0xBB && u[i + 2] == 0xBF) return "a byte order mark";
    return NULL;
}

static hr_status refuse_odd_breaks(const char *text, size_t len, size_t bom, char *err, size_t err_len)
{
    const unsigned char *u = (const unsigned char *)text;
    size_t line = 1, column = 1;
    for (size_t i = bom; i < len; i++) {
        const char *what = odd_break(u, len, i);
        if (what) {
            snprintf(err, err_len, "%zu:%zu: %s; hr edits files whose lines end in LF or CRLF", line, column, what);
            return HR_ESYNTAX;
        }
        if (u[i] == '\n') line++, column = 1;
        else column += (u[i] & 0xC0) != 0x80; /* characters, as libyaml counts them */
    }
    return HR_OK;
}

hr_status hr__yaml_scan(struct hr__yaml *y, const char *text, size_t len, char *err, size_t err_len)
{
    *y = (struct hr__yaml){.text = text, .len = len};
    hr_status st = refuse_utf16(text, len, err, err_len);
    if (st) return st;
    size_t bom = bom_length(text, len);
    if ((st = refuse_odd_breaks(text, len, bom, err, err_len))) return st;
    struct walker w = {.y = y, .bom = bom, .bi = bom, .err = err, .err_len = err_len};
    if (!yaml_parser_initialize(&w.parser)) return HR_ENOMEM;
    yaml_parser_set_input_string(&w.parser, (const unsigned char *)text, len);
    st = walk_stream(&w);
    yaml_parser_delete(&w.parser);
    if (!st) st = shadow_duplicate_keys(y);
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
        if (!y->v[i].shadowed && !strcmp(y->v[i].path, path)) return &y->v[i];
    return NULL;
}

const struct hr__ynode *hr__yaml_shadowed_twin(const struct hr__yaml *y, const struct hr__ynode *n)
{
    for (size_t i = (size_t)(n - y->v); i-- > 0;)
        if (y->v[i].shadowed && y->v[i].parent == n->parent && !strcmp(y->v[i].path, n->path)) return &y->v[i];
    return NULL;
}

const struct hr__ynode *hr__yaml_find(const struct hr__yaml *y, const char *path)
{
    return hr__yaml_find_next(y, NULL, path);
}

size_t hr__line_start(const char *text, size_t at)
{
    size_t from = at;
    while (at > 0 && text[at - 1] != '\n') at--;
    if (at == 0 && from >= 3 && !memcmp(text, UTF8_BOM, 3)) return 3; /* a byte order mark is no indent */
    return at;
}

size_t hr__line_end(const char *text, size_t len, size_t at)
{
    while (at < len && text[at] != '\n') at++;
    return at < len ? at + 1 : len;
}
