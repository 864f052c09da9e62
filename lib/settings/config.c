/* Reading route.yaml with libyaml: the scalars of a mapping, those of
 * nested mappings under dotted keys ("prices.anthropic.cache_write"). */
#include "hr.h"
#include "util/grow.h"
#include "settings/route_settings.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <yaml.h>

struct entry {
    char *key, *value;
};

struct hr_config {
    struct entry *v;
    size_t n, cap;
};

void hr_config_free(hr_config *cfg)
{
    if (!cfg) return;
    for (size_t i = 0; i < cfg->n; i++) {
        free(cfg->v[i].key);
        free(cfg->v[i].value);
    }
    free(cfg->v);
    free(cfg);
}

const char *hr_config_get(const hr_config *cfg, const char *key)
{
    if (!cfg || !key) return NULL;
    for (size_t i = cfg->n; i-- > 0;) /* a repeated key: the last one wins */
        if (!strcmp(cfg->v[i].key, key)) return cfg->v[i].value;
    return NULL;
}

const char *hr_setting(const char *flag_value, const char *env_name, const hr_config *cfg, const char *key, char *from)
{
    const char *v;
    char where = 'd';
    if (flag_value) {
        v = flag_value;
        where = 'f';
    } else if (env_name && (v = getenv(env_name)) && *v) {
        where = 'e';
    } else if (key && (v = hr_config_get(cfg, key))) {
        where = 'c';
    } else {
        v = NULL;
    }
    if (from) *from = where;
    return v;
}

void hr__config_each(const hr_config *cfg, const char *prefix,
                     void (*fn)(const char *key, const char *value, void *ctx), void *ctx)
{
    size_t n = strlen(prefix);
    for (size_t i = 0; cfg && i < cfg->n; i++)
        if (!strncmp(cfg->v[i].key, prefix, n)) fn(cfg->v[i].key + n, cfg->v[i].value, ctx);
}

/* prefix: the dotted keys of the mappings around k, "" at the top. */
static hr_status add_entry(hr_config *cfg, const char *prefix, const yaml_node_t *k, const char *text, size_t len)
{
    void *p = hr_grow(cfg->v, &cfg->cap, cfg->n + 1, sizeof *cfg->v);
    if (!p) return HR_ENOMEM;
    cfg->v = p;
    size_t pn = strlen(prefix), kn = k->data.scalar.length;
    char *key = malloc(pn + kn + 1);
    char *value = strndup(text, len);
    if (!key || !value) {
        free(key);
        free(value);
        return HR_ENOMEM;
    }
    memcpy(key, prefix, pn);
    memcpy(key + pn, k->data.scalar.value, kn);
    key[pn + kn] = '\0';
    cfg->v[cfg->n++] = (struct entry){key, value};
    return HR_OK;
}

/* A list of scalars reads as one value, "a, b" (exact_tools: [a, b]). */
static hr_status add_list(yaml_document_t *doc, hr_config *cfg, const char *prefix, const yaml_node_t *k,
                          const yaml_node_t *seq)
{
    hr_buf joined = HR_BUF_INIT;
    hr_status st = HR_OK;
    for (yaml_node_item_t *it = seq->data.sequence.items.start; it < seq->data.sequence.items.top && !st; it++) {
        yaml_node_t *x = yaml_document_get_node(doc, *it);
        if (!x || x->type != YAML_SCALAR_NODE) continue;
        if (joined.len) st = hr_buf_append(&joined, ", ", 2);
        if (!st) st = hr_buf_append(&joined, (const char *)x->data.scalar.value, x->data.scalar.length);
    }
    if (!st) st = add_entry(cfg, prefix, k, joined.data ? joined.data : "", joined.len);
    hr_buf_free(&joined);
    return st;
}

/* Nested mappings are kept for the programs that own them (hr-proxy's
 * prices:), a few levels deep; lists of scalars as one value. */
#define MAX_NESTING 4

static hr_status add_mapping(yaml_document_t *doc, hr_config *cfg, const yaml_node_t *map, const char *prefix,
                             int depth)
{
    for (yaml_node_pair_t *pair = map->data.mapping.pairs.start; pair < map->data.mapping.pairs.top; pair++) {
        yaml_node_t *k = yaml_document_get_node(doc, pair->key);
        yaml_node_t *v = yaml_document_get_node(doc, pair->value);
        if (!k || !v || k->type != YAML_SCALAR_NODE) continue;
        hr_status st = HR_OK;
        if (v->type == YAML_SCALAR_NODE) {
            st = add_entry(cfg, prefix, k, (const char *)v->data.scalar.value, v->data.scalar.length);
        } else if (v->type == YAML_SEQUENCE_NODE) {
            st = add_list(doc, cfg, prefix, k, v);
        } else if (v->type == YAML_MAPPING_NODE && depth < MAX_NESTING) {
            char inner[512];
            int n = snprintf(inner, sizeof inner, "%s%.*s.", prefix, (int)k->data.scalar.length,
                             (const char *)k->data.scalar.value);
            if (n > 0 && (size_t)n < sizeof inner) st = add_mapping(doc, cfg, v, inner, depth + 1);
        }
        if (st) return st;
    }
    return HR_OK;
}

static hr_status read_mapping(yaml_document_t *doc, hr_config *cfg, const char *path, char *err, size_t err_len)
{
    yaml_node_t *root = yaml_document_get_root_node(doc);
    if (!root) return HR_OK; /* an empty file */
    if (root->type != YAML_MAPPING_NODE) {
        snprintf(err, err_len, "%s:%zu:%zu: a mapping of settings expected", path, root->start_mark.line + 1,
                 root->start_mark.column + 1);
        return HR_ESYNTAX;
    }
    return add_mapping(doc, cfg, root, "", 0);
}

hr_status hr_config_load(const char *path, hr_config **out, char *err, size_t err_len)
{
    if (!path || !out || !err || !err_len) return HR_EINVAL;
    *out = NULL;
    err[0] = '\0';
    FILE *f = fopen(path, "rb");
    if (!f) {
        snprintf(err, err_len, "%s: %s", path, strerror(errno));
        return errno == ENOENT ? HR_ENOTFOUND : HR_EINVAL;
    }
    yaml_parser_t parser;
    yaml_document_t doc;
    hr_config *cfg = calloc(1, sizeof *cfg);
    hr_status st = cfg ? HR_OK : HR_ENOMEM;
    if (!st && !yaml_parser_initialize(&parser)) st = HR_ENOMEM;
    if (st) {
        fclose(f);
        free(cfg);
        return st;
    }
    yaml_parser_set_input_file(&parser, f);
    if (!yaml_parser_load(&parser, &doc)) {
        /* libyaml counts lines and columns from 0, and columns in characters */
        snprintf(err, err_len, "%s:%zu:%zu: %s", path, parser.problem_mark.line + 1, parser.problem_mark.column + 1,
                 parser.problem ? parser.problem : "invalid YAML");
        st = HR_ESYNTAX;
    } else {
        st = read_mapping(&doc, cfg, path, err, err_len);
        yaml_document_delete(&doc);
    }
    yaml_parser_delete(&parser);
    fclose(f);
    if (st) {
        hr_config_free(cfg);
        return st;
    }
    *out = cfg;
    return HR_OK;
}
