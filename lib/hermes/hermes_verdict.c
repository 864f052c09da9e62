/* Whether a routed provider's traffic goes through the proxy, judged from
 * the files Hermes reads, and the headroom-route plugin's report of its last
 * start (its state file). */
#include "hermes/hermes.h"
#include "json/json_internal.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void add_reason(struct hr__route_verdict *v, const char *what, const char *detail)
{
    if (v->n_reasons < HR_MAX_REASONS) snprintf(v->reasons[v->n_reasons++], sizeof v->reasons[0], "%s%s", what, detail);
}

void hr__route_judge(const struct hr__home *h, const char *proxy, const char *model_provider, int plugin_ok,
                     struct hr__route_verdict *v)
{
    struct hr__pool_entry *e;
    size_t n;
    char err[256];
    v->via_proxy = 1;
    v->n_entries = 0;
    v->n_reasons = 0;
    if (hr__pool_entries(h->auth_doc, v->p->id, &e, &n, err, sizeof err)) {
        v->via_proxy = 0;
        add_reason(v, "auth.json:", err);
        return;
    }
    v->n_entries = n;
    for (size_t i = 0; i < n; i++) {
        hr__url_kind k = hr__url_classify(v->p, proxy, e[i].base_url);
        if (k == HR_URL_PROXY) continue;
        v->via_proxy = 0;
        char where[128];
        snprintf(where, sizeof where, "auth.json credential_pool.%s[%zu] base_url is ", v->p->id, i);
        add_reason(v, where, k == HR_URL_NONE ? "not set (the official host)" : e[i].base_url);
    }
    hr__pool_entries_free(e, n);
    if (!plugin_ok) {
        v->via_proxy = 0;
        add_reason(v,
                   "the " HR_HERMES_PLUGIN " plugin will not load (not installed, not enabled, disabled, or "
                   "HERMES_SAFE_MODE): ",
                   "Hermes re-seeds credentials with the official URL");
    }
    if (v->p->takes_model_url && model_provider && !strcmp(model_provider, v->p->id)) {
        const struct hr__ynode *u = hr__yaml_find(&h->yaml, "model.base_url");
        const char *url = u && u->kind == HR_Y_SCALAR ? u->value : NULL;
        if (hr__url_classify(v->p, proxy, url) != HR_URL_PROXY) {
            v->via_proxy = 0;
            add_reason(v, "config.yaml model.base_url is ", url && *url ? url : "not set (the official host)");
        }
    }
}

/* ---- the plugin's state file ------------------------------------------------ */

static hr_status name_list(const hr_json *d, hr_json_node obj, const char *key, char ***out, size_t *n)
{
    hr_json_node list = hr_json_get(d, obj, key);
    *out = NULL;
    *n = 0;
    if (list == HR_JSON_NONE || hr_json_type_of(d, list) != HR_JSON_ARRAY) return HR_OK;
    *out = calloc(hr_json_length(d, list) + 1, sizeof **out);
    if (!*out) return HR_ENOMEM;
    for (hr_json_node x = hr_json_first(d, list); x != HR_JSON_NONE; x = hr_json_next(d, x)) {
        hr_buf b = {0};
        if (hr_json_type_of(d, x) != HR_JSON_STRING) continue;
        if (hr_json_string_decode(d, x, &b)) return HR_ENOMEM;
        (*out)[(*n)++] = b.data ? b.data : strdup("");
    }
    return HR_OK;
}

static hr_status state_from(const hr_json *d, struct hr__plugin_state *st)
{
    hr_json_node root = hr_json_root(d);
    if (hr_json_type_of(d, root) != HR_JSON_OBJECT) return HR_ESYNTAX;
    hr_status s = hr__json_member_string(d, root, "time", &st->time);
    if (!s) s = hr__json_member_string(d, root, "hermes_version", &st->hermes_version);
    if (!s) s = hr__json_member_string(d, root, "proxy_url", &st->proxy_url);
    if (!s) s = hr__json_member_string(d, root, "reason", &st->reason);
    if (s) return s;
    hr_json_node pid = hr_json_get(d, root, "pid"), healthy = hr_json_get(d, root, "healthy");
    int64_t v;
    if (pid != HR_JSON_NONE && hr_json_type_of(d, pid) == HR_JSON_NUMBER && !hr_json_int64(d, pid, &v)) st->pid = v;
    hr_json_type ht = healthy == HR_JSON_NONE ? HR_JSON_NULL : hr_json_type_of(d, healthy);
    st->healthy = ht == HR_JSON_TRUE ? 1 : ht == HR_JSON_FALSE ? 0 : -1;
    s = name_list(d, root, "patched", &st->patched, &st->n_patched);
    return s ? s : name_list(d, root, "failed", &st->failed, &st->n_failed);
}

hr_status hr__plugin_state_read(const char *home_dir, struct hr__plugin_state *st, char *err, size_t err_len)
{
    *st = (struct hr__plugin_state){.healthy = -1};
    char *path = hr__path_join(home_dir, HR_HERMES_PLUGIN ".state.json");
    hr_buf text = {0};
    hr_json *d = NULL;
    int e = path ? hr__read_file(path, &text) : ENOMEM;
    hr_status s = e == ENOENT ? HR_ENOTFOUND : e == ENOMEM ? HR_ENOMEM : e ? HR_EINVAL : HR_OK;
    if (e) snprintf(err, err_len, "%s: %s", path ? path : home_dir, strerror(e));
    if (!s) s = hr_json_new(&d);
    if (!s && hr_json_parse(d, text.data, text.len)) {
        snprintf(err, err_len, "%s: %s", path, hr_json_errmsg(d));
        s = HR_ESYNTAX;
    }
    if (!s && (s = state_from(d, st)) != HR_OK) snprintf(err, err_len, "%s: not the plugin's state", path);
    if (s) hr__plugin_state_free(st);
    hr_json_free(d);
    hr_buf_free(&text);
    free(path);
    return s;
}

static void free_list(char **v, size_t n)
{
    for (size_t i = 0; i < n; i++) free(v[i]);
    free(v);
}

void hr__plugin_state_free(struct hr__plugin_state *st)
{
    free(st->time);
    free(st->hermes_version);
    free(st->proxy_url);
    free(st->reason);
    free_list(st->patched, st->n_patched);
    free_list(st->failed, st->n_failed);
    *st = (struct hr__plugin_state){.healthy = -1};
}

int hr__plugin_state_patched(const struct hr__plugin_state *st, const char *provider)
{
    for (size_t i = 0; i < st->n_patched; i++)
        if (!strcmp(st->patched[i], provider)) return 1;
    return 0;
}
