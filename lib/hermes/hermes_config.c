/* The config.yaml edits hr-patch-auth makes and undoes: headroom-route in
 * plugins.enabled, its settings block, model.base_url. Each edit is a splice
 * at a place libyaml located, so comments, order and quoting stay. */
#include "hermes/hermes.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct plan {
    const struct hr__yaml *y;
    hr_splice *sp;
    const char *eol; /* the file's own line ending */
    char *err;
    size_t err_len;
    /* what goes at the end of the file, in the order planned: a splice takes
     * one insertion per place, and both a model line and a plugins section
     * may belong there */
    hr_buf at_end;
};

static const char *line_ending(const char *text, size_t len)
{
    const char *nl = memchr(text, '\n', len);
    return nl && nl > text && nl[-1] == '\r' ? "\r\n" : "\n";
}

static int ends_line(const struct hr__yaml *y)
{
    return y->len == 0 || y->text[y->len - 1] == '\n';
}

static size_t indent_of(const struct hr__yaml *y, size_t at)
{
    return at - hr__line_start(y->text, at);
}

static hr_status shape(struct plan *p, const struct hr__ynode *n, const char *what)
{
    snprintf(p->err, p->err_len, "%zu:%zu: %s", n->line + 1, n->column + 1, what);
    return HR_EINVAL;
}

static hr_status put(hr_buf *b, const char *s)
{
    return hr_buf_append(b, s, strlen(s));
}

static hr_status put_indent(hr_buf *b, size_t n)
{
    hr_status st = HR_OK;
    while (n-- && !st) st = hr_buf_append(b, " ", 1);
    return st;
}

/* One "KEY: VALUE" line (value may be "") at indent. */
static hr_status put_line(struct plan *p, hr_buf *b, size_t indent, const char *key, const char *value)
{
    hr_status st = put_indent(b, indent);
    if (!st) st = put(b, key);
    if (!st) st = put(b, *value ? ": " : ":");
    if (!st) st = put(b, value);
    if (!st) st = put(b, p->eol);
    return st;
}

/* The indentation step the file uses: that of the first nested mapping. */
static size_t indent_step(const struct hr__yaml *y)
{
    for (size_t i = 0; i < y->n; i++)
        if (y->v[i].path[0] && !strchr(y->v[i].path, '.') && !strchr(y->v[i].path, '[') &&
            y->v[i].kind == HR_Y_BLOCK_MAP && indent_of(y, y->v[i].start) > 0)
            return indent_of(y, y->v[i].start);
    return 2;
}

static hr_status put_enabled(struct plan *p, hr_buf *b, size_t indent, size_t step)
{
    hr_status st = put_line(p, b, indent, "enabled", "");
    if (!st) st = put_indent(b, indent + step);
    if (!st) st = put(b, "- " HR_HERMES_PLUGIN);
    if (!st) st = put(b, p->eol);
    return st;
}

static hr_status put_block(struct plan *p, hr_buf *b, size_t indent, size_t step, const struct hr__config_settings *s)
{
    char providers[512];
    snprintf(providers, sizeof providers, "[%s]", s->providers);
    hr_status st = put_line(p, b, indent, HR_HERMES_PLUGIN, "");
    if (!st) st = put_line(p, b, indent + step, "proxy_url", s->proxy_url);
    if (!st) st = put_line(p, b, indent + step, "providers", providers);
    if (!st) st = put_line(p, b, indent + step, "require_health", "true");
    return st;
}

static hr_status insert(struct plan *p, size_t at, const hr_buf *b)
{
    if (!b->len) return HR_OK;
    if (at == p->y->len) return hr_buf_append(&p->at_end, b->data, b->len);
    return hr_splice_replace(p->sp, at, at, b->data, b->len);
}

/* Replaces [start, end) with text; an insertion at the end of the file (an
 * empty value there) joins what else goes there, as insert's do. */
static hr_status replace(struct plan *p, size_t start, size_t end, const char *text, size_t n)
{
    if (start == end && start == p->y->len) return n ? hr_buf_append(&p->at_end, text, n) : HR_OK;
    return hr_splice_replace(p->sp, start, end, text, n);
}

/* The start of a new item line shaped like the item at `at`: the indent of
 * its dash, then "- " (an empty item's ends at its dash; an item may sit on
 * a line below its dash). *ls: where the dash's line starts. 0 when no dash
 * comes before the item, or more than indent and dashes before that. */
static int put_item_prefix(hr_buf *b, const char *text, size_t at, size_t *ls, hr_status *st)
{
    size_t dash = at;
    while (dash > 0 &&
           (text[dash - 1] == ' ' || text[dash - 1] == '\t' || text[dash - 1] == '\n' || text[dash - 1] == '\r'))
        dash--;
    if (dash == 0 || text[--dash] != '-') return 0;
    *ls = hr__line_start(text, dash);
    for (size_t i = *ls; i < dash; i++)
        if (text[i] != ' ' && text[i] != '-') return 0;
    *st = hr_buf_append(b, text + *ls, dash - *ls);
    if (!*st) *st = put(b, "- ");
    return 1;
}

/* Records what was planned for the end of the file, and frees the plan. */
static hr_status plan_finish(struct plan *p, hr_status st)
{
    if (!st && p->at_end.len) st = hr_splice_replace(p->sp, p->y->len, p->y->len, p->at_end.data, p->at_end.len);
    if (st && !*p->err) /* not a shape of the file's: it has no place to name */
        snprintf(p->err, p->err_len, " %s", st == HR_ENOMEM ? "out of memory" : hr_splice_errmsg(p->sp));
    hr_buf_free(&p->at_end);
    return st;
}

/* No plugins key: the whole section goes at the end of the file. */
static hr_status add_plugins_section(struct plan *p, const struct hr__config_settings *s, struct hr__config_changes *ch)
{
    /* at the column of the other top-level keys, which need not be 0 */
    size_t top = p->y->n ? indent_of(p->y, p->y->v[0].start) : 0, step = indent_step(p->y);
    step = step > top ? step - top : 2;
    hr_buf b = {0};
    hr_status st = ends_line(p->y) ? HR_OK : put(&b, p->eol);
    if (!st) st = put_line(p, &b, top, "plugins", "");
    if (!st) st = put_enabled(p, &b, top + step, step);
    if (!st) st = put_block(p, &b, top + step, step, s);
    if (!st) st = insert(p, p->y->len, &b);
    hr_buf_free(&b);
    ch->enabled_added = ch->block_added = 1;
    return st;
}

static int names_plugin(const struct hr__ynode *item)
{
    return item->kind == HR_Y_SCALAR && !strcmp(item->value, HR_HERMES_PLUGIN);
}

static int empty_scalar(const struct hr__ynode *n)
{
    return n->kind == HR_Y_SCALAR && n->style == 1 &&
           (!*n->value || !strcmp(n->value, "~") || !strcmp(n->value, "null"));
}

/* Whether the list at path ("plugins.enabled") names the plugin. */
static int listed(const struct hr__yaml *y, const char *path)
{
    char items[64];
    snprintf(items, sizeof items, "%s[]", path);
    for (const struct hr__ynode *it = hr__yaml_find(y, items); it; it = hr__yaml_find_next(y, it, items))
        if (names_plugin(it)) return 1;
    return 0;
}

/* Appends the plugin to the existing list at path (plugins.enabled, or
 * plugins.disabled when a rollback puts it back). A new item line that
 * falls where plugins ends joins the tail, the text inserted there. */
static hr_status add_to_list(struct plan *p, const char *path, hr_buf *tail, size_t tail_at)
{
    const struct hr__yaml *y = p->y;
    const struct hr__ynode *enabled = hr__yaml_find(y, path), *last = NULL;
    char items[64], what[96];
    snprintf(items, sizeof items, "%s[]", path);
    for (const struct hr__ynode *it = hr__yaml_find(y, items); it; it = hr__yaml_find_next(y, it, items)) {
        if (names_plugin(it)) return HR_OK;
        last = it;
    }
    if (empty_scalar(enabled)) {
        const char *text = enabled->start == enabled->end ? " [" HR_HERMES_PLUGIN "]" : "[" HR_HERMES_PLUGIN "]";
        return replace(p, enabled->start, enabled->end, text, strlen(text));
    }
    if (enabled->kind == HR_Y_FLOW_SEQ) {
        const char *text = last ? ", " HR_HERMES_PLUGIN : HR_HERMES_PLUGIN;
        size_t at = last ? last->last : enabled->end - 1;
        return hr_splice_replace(p->sp, at, at, text, strlen(text));
    }
    snprintf(what, sizeof what, "%s is not a list", path);
    if (enabled->kind != HR_Y_BLOCK_SEQ || !last) return shape(p, enabled, what);
    /* a new item line shaped like the last one: same indent, same "- " */
    snprintf(what, sizeof what, "%s: an item hr cannot follow", path);
    size_t at = hr__line_end(y->text, y->len, last->last), ls;
    hr_buf own = {0}, *b = at == tail_at ? tail : &own;
    size_t mark = b->len;
    hr_status st = HR_OK;
    if (!put_item_prefix(b, y->text, last->start, &ls, &st)) {
        b->len = mark;
        return shape(p, last, what);
    }
    if (!st) st = put(b, HR_HERMES_PLUGIN);
    if (!st) st = put(b, p->eol);
    if (!st && b == &own) st = insert(p, at, &own);
    hr_buf_free(&own);
    return st;
}

static hr_status styled(const struct hr__ynode *old, const char *url, hr_buf *b);

/* Spaces to put before a value written where n's was: one on a line below
 * its key must be indented more than the key, which libyaml does not ask of
 * a block scalar's indicator (">-" under "base_url:", in the key's column). */
static size_t deeper(const struct hr__yaml *y, const struct hr__ynode *n)
{
    if (!memchr(y->text + n->key_start, '\n', n->start - n->key_start)) return 0;
    size_t key = indent_of(y, n->key_start), at = indent_of(y, n->start);
    return at <= key ? key + 1 - at : 0;
}
static hr_status unlist(const struct hr__yaml *y, const char *path, hr_splice *sp);
static hr_status remove_lines(const struct hr__yaml *y, const struct hr__ynode *n, hr_splice *sp);

/* The providers of an existing block as "a, b". */
static hr_status block_providers(const struct hr__yaml *y, hr_buf *out)
{
    hr_status st = hr_buf_append(out, "", 0);
    for (const struct hr__ynode *it = hr__yaml_find(y, "plugins." HR_HERMES_PLUGIN ".providers[]"); it && !st;
         it = hr__yaml_find_next(y, it, "plugins." HR_HERMES_PLUGIN ".providers[]")) {
        if (out->len) st = put(out, ", ");
        if (!st) st = put(out, it->kind == HR_Y_SCALAR ? it->value : "?");
    }
    return st;
}

/* An existing block gets this run's proxy URL and providers; the rest of it
 * (require_health, comments) is the user's. */
static hr_status update_block(struct plan *p, const struct hr__ynode *block, const struct hr__config_settings *s)
{
    const struct hr__yaml *y = p->y;
    const struct hr__ynode *url = hr__yaml_find(y, "plugins." HR_HERMES_PLUGIN ".proxy_url");
    const struct hr__ynode *prov = hr__yaml_find(y, "plugins." HR_HERMES_PLUGIN ".providers");
    size_t indent = indent_of(y, block->start);
    hr_buf b = {0}, missing = {0};
    hr_status st = HR_OK;
    if (url && url->kind != HR_Y_SCALAR) return shape(p, url, "plugins." HR_HERMES_PLUGIN ".proxy_url is not a string");
    if (url && strcmp(url->value, s->proxy_url)) {
        st = put_indent(&b, deeper(y, url));
        if (!st) st = styled(url, s->proxy_url, &b);
        if (!st) st = replace(p, url->start, url->end, b.data, b.len);
    } else if (!url) {
        st = put_line(p, &missing, indent, "proxy_url", s->proxy_url);
    }
    hr_buf now = {0};
    if (!st && prov) st = block_providers(y, &now);
    if (!st && prov && strcmp(now.data, s->providers)) {
        /* a block list (Hermes's own save_config writes "- x" lines) becomes
         * a flow list on the key's line, from just after its colon */
        char text[512];
        size_t from = prov->start;
        if (prov->kind == HR_Y_BLOCK_SEQ) {
            const char *colon = memchr(y->text + prov->key_start, ':', prov->start - prov->key_start);
            from = colon ? (size_t)(colon - y->text) + 1 : prov->start;
        }
        /* after the colon: "providers:" with no value has its place there;
         * in place of a value on a line below, indented past the key */
        snprintf(text, sizeof text, "%*s%s[%s]", from == prov->start ? (int)deeper(y, prov) : 0, "",
                 from != prov->start || prov->start == prov->end ? " " : "", s->providers);
        st = replace(p, from, prov->end, text, strlen(text));
    } else if (!st && !prov) {
        char text[512];
        snprintf(text, sizeof text, "[%s]", s->providers);
        st = put_line(p, &missing, indent, "providers", text);
    }
    if (!st) st = insert(p, hr__line_start(y->text, block->start), &missing);
    hr_buf_free(&now);
    hr_buf_free(&b);
    hr_buf_free(&missing);
    return st;
}

static hr_status plan_plugins(struct plan *p, const struct hr__config_settings *s, struct hr__config_changes *ch)
{
    const struct hr__yaml *y = p->y;
    const struct hr__ynode *plugins = hr__yaml_find(y, "plugins");
    if (!plugins) return add_plugins_section(p, s, ch);
    if (plugins->kind != HR_Y_BLOCK_MAP)
        return shape(p, plugins,
                     "plugins is not a block mapping; write it as one (key: value lines) for "
                     "hr-patch-auth to edit it");
    const struct hr__ynode *enabled = hr__yaml_find(y, "plugins.enabled");
    const struct hr__ynode *block = hr__yaml_find(y, "plugins." HR_HERMES_PLUGIN);
    size_t indent = indent_of(y, plugins->start), step = indent ? indent : 2;
    /* new keys go after plugins' last line, where a person would add them */
    size_t tail_at = hr__line_end(y->text, y->len, plugins->last);
    int open_end = tail_at == y->len && !ends_line(y);
    hr_buf tail = {0};
    hr_status st = open_end ? put(&tail, p->eol) : HR_OK;
    size_t empty = tail.len;
    if (!st && !enabled) {
        st = put_enabled(p, &tail, indent, step);
        ch->enabled_added = 1;
    } else if (!st) {
        ch->enabled_added = !listed(y, "plugins.enabled");
        st = add_to_list(p, "plugins.enabled", &tail, tail_at);
    }
    /* Hermes skips a plugin named in plugins.disabled whatever enabled says */
    if (!st && listed(y, "plugins.disabled")) {
        st = unlist(y, "plugins.disabled", p->sp);
        ch->disabled_removed = 1;
    }
    if (!st && !block) {
        st = put_block(p, &tail, indent, step, s);
        ch->block_added = 1;
    } else if (!st && block->kind != HR_Y_BLOCK_MAP) {
        st = shape(p, block, "plugins." HR_HERMES_PLUGIN " is not a block mapping");
    } else if (!st) {
        st = update_block(p, block, s);
    }
    if (!st && tail.len > empty) st = insert(p, tail_at, &tail);
    hr_buf_free(&tail);
    return st;
}

/* model.base_url's new text in the style of the old one. */
static hr_status styled(const struct hr__ynode *old, const char *url, hr_buf *b)
{
    const char *q = !old || old->style == 1 ? "" : old->style == 2 ? "'" : "\"";
    hr_status st = old && old->start == old->end ? put(b, " ") : HR_OK;
    if (!st) st = put(b, q);
    if (!st) st = put(b, url);
    if (!st) st = put(b, q);
    return st;
}

/* A new "base_url: TEXT" line in model: after model.provider, or before
 * model's first key. */
static hr_status insert_model_url(struct plan *p, const struct hr__ynode *model, const char *text)
{
    const struct hr__yaml *y = p->y;
    const struct hr__ynode *prov = hr__yaml_find(y, "model.provider");
    size_t at = prov ? hr__line_end(y->text, y->len, prov->last) : hr__line_start(y->text, model->start);
    int open_line = at == y->len && !ends_line(y);
    hr_buf b = {0};
    hr_status st = open_line ? put(&b, p->eol) : HR_OK;
    if (!st) st = put_indent(&b, indent_of(y, model->start));
    if (!st) st = put(&b, "base_url: ");
    if (!st) st = put(&b, text);
    if (!st && !open_line) st = put(&b, p->eol);
    if (!st) st = insert(p, at, &b);
    hr_buf_free(&b);
    return st;
}

static hr_status plan_model_url(struct plan *p, const char *url, struct hr__config_changes *ch)
{
    const struct hr__yaml *y = p->y;
    const struct hr__ynode *model = hr__yaml_find(y, "model");
    if (!model || model->kind != HR_Y_BLOCK_MAP) return HR_OK;
    const struct hr__ynode *cur = hr__yaml_find(y, "model.base_url");
    if (cur && cur->kind == HR_Y_SCALAR && !strcmp(cur->value, url)) return HR_OK;
    hr_status st;
    if (cur) {
        if (cur->kind != HR_Y_SCALAR) return shape(p, cur, "model.base_url is not a string");
        hr_buf b = {0};
        ch->base_url_old = strndup(y->text + cur->start, cur->end - cur->start);
        st = ch->base_url_old ? put_indent(&b, deeper(y, cur)) : HR_ENOMEM;
        if (!st) st = styled(cur, url, &b);
        if (!st) st = replace(p, cur->start, cur->end, b.data, b.len);
        hr_buf_free(&b);
    } else {
        st = insert_model_url(p, model, url);
    }
    ch->base_url_set = !st;
    return st;
}

/* Removes model.base_url, keeping its text for rollback. Not when the key
 * is there twice: PyYAML reads the last one, and with it gone would read
 * the other. */
static hr_status drop_model_url(struct plan *p, struct hr__config_changes *ch)
{
    const struct hr__ynode *cur = hr__yaml_find(p->y, "model.base_url");
    if (!cur || cur->kind != HR_Y_SCALAR) return HR_OK;
    /* its lines are the whole mapping's in {provider: ..., base_url: ...} */
    const struct hr__ynode *model = hr__yaml_find(p->y, "model");
    if (model && model->kind != HR_Y_BLOCK_MAP)
        return shape(p, model,
                     "model is a flow mapping ({...}); write it as key: value lines for hr-patch-auth "
                     "to remove model.base_url from it");
    const struct hr__ynode *twin = hr__yaml_shadowed_twin(p->y, cur);
    if (twin) {
        char what[160];
        snprintf(what, sizeof what,
                 "model.base_url is there twice (also at line %zu, column %zu); with this one "
                 "removed Hermes would read the other: delete one of them",
                 twin->line + 1, twin->column + 1);
        return shape(p, cur, what);
    }
    ch->base_url_old = strndup(p->y->text + cur->start, cur->end - cur->start);
    if (!ch->base_url_old) return HR_ENOMEM;
    ch->base_url_removed = 1;
    return remove_lines(p->y, cur, p->sp);
}

hr_status hr__config_plan_apply(const struct hr__yaml *y, const struct hr__config_settings *s, hr_splice *sp,
                                struct hr__config_changes *ch, char *err, size_t err_len)
{
    struct plan p = {y, sp, line_ending(y->text, y->len), err, err_len, {0}};
    *ch = (struct hr__config_changes){0};
    *err = '\0';
    if (y->n && !y->root_is_map) return shape(&p, &y->v[0], "not a mapping of settings");
    if (y->n && y->v[0].kind == HR_Y_FLOW_MAP) return shape(&p, &y->v[0], "a flow mapping ({...}) at the top");
    /* model first: where model is the file's last section, its new line goes
     * at the end before a new plugins section */
    hr_status st = HR_OK;
    if (s->model_url) st = plan_model_url(&p, s->model_url, ch);
    else if (s->drop_model_url) st = drop_model_url(&p, ch);
    if (!st) st = plan_plugins(&p, s, ch);
    return plan_finish(&p, st);
}

int hr__config_plugin_enabled(const struct hr__yaml *y)
{
    return listed(y, "plugins.enabled") && !listed(y, "plugins.disabled");
}

int hr__config_plugin_disabled(const struct hr__yaml *y)
{
    return listed(y, "plugins.disabled");
}

/* The whole lines of node n, its key's line included. */
static hr_status remove_lines(const struct hr__yaml *y, const struct hr__ynode *n, hr_splice *sp)
{
    return hr_splice_replace(sp, hr__line_start(y->text, n->key_start), hr__line_end(y->text, y->len, n->last), NULL,
                             0);
}

/* Takes the plugin out of the list at path ("plugins.enabled") wherever the
 * list names it: Hermes goes by any one mention. In a flow list an item
 * goes with the ", " after it; those after the last item kept, with the
 * ", " before them. */
static hr_status unlist(const struct hr__yaml *y, const char *path, hr_splice *sp)
{
    const struct hr__ynode *list = hr__yaml_find(y, path), *first = NULL, *last = NULL, *kept_last = NULL;
    char items[64];
    snprintf(items, sizeof items, "%s[]", path);
    int named = 0;
    for (const struct hr__ynode *it = hr__yaml_find(y, items); it; it = hr__yaml_find_next(y, it, items)) {
        if (!first) first = it;
        last = it;
        if (names_plugin(it)) named = 1;
        else kept_last = it;
    }
    if (!named) return HR_OK;
    int block = list->kind == HR_Y_BLOCK_SEQ;
    /* the whole flow list, a trailing comma ("[headroom-route, ]") with it */
    if (!block && !kept_last) return hr_splice_replace(sp, list->start, list->end, "[]", 2);
    hr_status st = HR_OK;
    for (const struct hr__ynode *it = first, *next; it && !st; it = next) {
        next = hr__yaml_find_next(y, it, items);
        if (!names_plugin(it)) continue;
        if (block) st = remove_lines(y, it, sp);
        else if (it->start < kept_last->start) st = hr_splice_replace(sp, it->start, next->start, NULL, 0);
    }
    if (!st && !block && last != kept_last) st = hr_splice_replace(sp, kept_last->last, last->last, NULL, 0);
    return st;
}

/* Undoing a removal from plugins.disabled: the plugin goes back in, where
 * the list still exists and does not name it already. */
static hr_status relist_disabled(struct plan *p)
{
    const struct hr__ynode *list = hr__yaml_find(p->y, "plugins.disabled");
    if (!list || listed(p->y, "plugins.disabled")) return HR_OK;
    const struct hr__ynode *first = hr__yaml_find(p->y, "plugins.disabled[]");
    if (list->kind == HR_Y_BLOCK_SEQ && first) {
        /* a line shaped like the first item's, before it: after the last one
         * is where the plugin's own block, which rollback removes, may start */
        size_t ls;
        hr_buf b = {0};
        hr_status st = HR_OK;
        if (!put_item_prefix(&b, p->y->text, first->start, &ls, &st)) {
            hr_buf_free(&b);
            return HR_OK; /* a shape the user made since: left to them */
        }
        if (!st) st = put(&b, HR_HERMES_PLUGIN);
        if (!st) st = put(&b, p->eol);
        if (!st) st = insert(p, ls, &b);
        hr_buf_free(&b);
        return st;
    }
    hr_buf unused = {0};
    hr_status st = add_to_list(p, "plugins.disabled", &unused, (size_t)-1);
    hr_buf_free(&unused);
    return st == HR_EINVAL ? HR_OK : st; /* a shape the user made since: left to them */
}

/* model.base_url as apply left it: set to the proxy, or removed. */
static hr_status restore_model_url(struct plan *p, const struct hr__config_changes *ch, const char *proxy_model_url)
{
    const struct hr__yaml *y = p->y;
    const struct hr__ynode *url = hr__yaml_find(y, "model.base_url"), *model = hr__yaml_find(y, "model");
    if (ch->base_url_removed)
        return !url && ch->base_url_old && model && model->kind == HR_Y_BLOCK_MAP
                   ? insert_model_url(p, model, ch->base_url_old)
                   : HR_OK;
    if (!ch->base_url_set || !url || url->kind != HR_Y_SCALAR || !proxy_model_url ||
        strcmp(url->value, proxy_model_url))
        return HR_OK; /* changed since apply: the user's value stays */
    if (!ch->base_url_old) return remove_lines(y, url, p->sp);
    return hr_splice_replace(p->sp, url->start, url->end, ch->base_url_old, strlen(ch->base_url_old));
}

hr_status hr__config_plan_rollback(const struct hr__yaml *y, const struct hr__config_changes *ch,
                                   const char *proxy_model_url, hr_splice *sp)
{
    char err[256] = "";
    struct plan p = {y, sp, line_ending(y->text, y->len), err, sizeof err, {0}};
    hr_status st = ch->enabled_added ? unlist(y, "plugins.enabled", sp) : HR_OK;
    const struct hr__ynode *block = hr__yaml_find(y, "plugins." HR_HERMES_PLUGIN);
    if (!st && ch->block_added && block && block->kind == HR_Y_BLOCK_MAP) st = remove_lines(y, block, sp);
    if (!st && ch->disabled_removed) st = relist_disabled(&p);
    if (!st) st = restore_model_url(&p, ch, proxy_model_url);
    return plan_finish(&p, st);
}
