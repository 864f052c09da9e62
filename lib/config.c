/* Reading route.yaml with libyaml: the top-level scalars of a mapping. */
#include "hr.h"
#include "grow.h"

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

const char *hr_setting(const char *flag_value, const char *env_name, const hr_config *cfg, const char *key,
                       char *from)
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

static hr_status add_entry(hr_config *cfg, const yaml_node_t *k, const yaml_node_t *v)
{
    void *p = hr_grow(cfg->v, &cfg->cap, cfg->n + 1, sizeof *cfg->v);
    if (!p) return HR_ENOMEM;
    cfg->v = p;
    char *key = strndup((const char *)k->data.scalar.value, k->data.scalar.length);
    char *value = strndup((const char *)v->data.scalar.value, v->data.scalar.length);
    if (!key || !value) {
        free(key);
        free(value);
        return HR_ENOMEM;
    }
    cfg->v[cfg->n++] = (struct entry){key, value};
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
    for (yaml_node_pair_t *pair = root->data.mapping.pairs.start; pair < root->data.mapping.pairs.top; pair++) {
        yaml_node_t *k = yaml_document_get_node(doc, pair->key);
        yaml_node_t *v = yaml_document_get_node(doc, pair->value);
        if (!k || !v || k->type != YAML_SCALAR_NODE || v->type != YAML_SCALAR_NODE) continue;
        hr_status st = add_entry(cfg, k, v);
        if (st) return st;
    }
    return HR_OK;
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
