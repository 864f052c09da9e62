/* --status: where each provider's traffic goes, read from the files Hermes
 * uses, and why; the plugin's presence and its last report; the backups. */
#include "patch.h"

#include <stdlib.h>
#include <string.h>

#define MAX_REASONS 8

struct verdict {
    const struct hr__provider *p;
    int via_proxy;
    size_t n_entries;
    char reasons[MAX_REASONS][512];
    size_t n_reasons;
};

static void reason(struct verdict *v, const char *what, const char *detail)
{
    if (v->n_reasons < MAX_REASONS) snprintf(v->reasons[v->n_reasons++], sizeof v->reasons[0], "%s%s", what, detail);
}

static void judge(const struct home *h, const char *proxy, const char *active, int plugin_ok, struct verdict *v)
{
    struct hr__pool_entry *e;
    size_t n;
    char err[256];
    v->via_proxy = 1;
    if (hr__pool_entries(h->auth_doc, v->p->id, &e, &n, err, sizeof err)) {
        v->via_proxy = 0;
        reason(v, "auth.json:", err);
        return;
    }
    v->n_entries = n;
    for (size_t i = 0; i < n; i++) {
        hr__url_kind k = hr__url_classify(v->p, proxy, e[i].base_url);
        if (k == HR_URL_PROXY) continue;
        v->via_proxy = 0;
        char where[128];
        snprintf(where, sizeof where, "auth.json credential_pool.%s[%zu] base_url is ", v->p->id, i);
        reason(v, where, k == HR_URL_NONE ? "not set (the official host)" : e[i].base_url);
    }
    hr__pool_entries_free(e, n);
    if (!plugin_ok) {
        v->via_proxy = 0;
        reason(v, "the " HR_PLUGIN_NAME " plugin is not installed and enabled: ",
               "Hermes re-seeds credentials with the official URL");
    }
    if (active && !strcmp(active, v->p->id)) {
        const struct hr__ynode *u = hr__yaml_find(&h->yaml, "model.base_url");
        const char *url = u && u->kind == HR_Y_SCALAR ? u->value : NULL;
        if (hr__url_classify(v->p, proxy, url) != HR_URL_PROXY) {
            v->via_proxy = 0;
            reason(v, "config.yaml model.base_url is ", url && *url ? url : "not set (the official host)");
        }
    }
}

static char *proxy_in_use(const struct home *h, const struct options *o)
{
    if (o->proxy_url) return strdup(o->proxy_url);
    const struct hr__ynode *u = hr__yaml_find(&h->yaml, "plugins." HR_PLUGIN_NAME ".proxy_url");
    return strdup(u && u->kind == HR_Y_SCALAR && *u->value ? u->value : "http://127.0.0.1:8788");
}

/* The plugin's own report of its last start: "time; patched: a, b" or NULL. */
static char *plugin_report(const struct home *h)
{
    char *path = home_path(h->dir, HR_PLUGIN_NAME ".state.json");
    hr_buf text = {0};
    hr_json *d = NULL;
    char *out = NULL;
    if (path && !hr__read_file(path, &text) && !hr_json_new(&d) && !hr_json_parse(d, text.data, text.len)) {
        hr_json_node root = hr_json_root(d), t = hr_json_get(d, root, "time"), pa = hr_json_get(d, root, "patched");
        hr_buf b = {0};
        if (t != HR_JSON_NONE && hr_json_type_of(d, t) == HR_JSON_STRING) hr_json_string_decode(d, t, &b);
        hr_buf_append(&b, "; patched: ", 11);
        size_t before = b.len;
        for (hr_json_node x = pa == HR_JSON_NONE ? HR_JSON_NONE : hr_json_first(d, pa); x != HR_JSON_NONE;
             x = hr_json_next(d, x)) {
            if (b.len > before) hr_buf_append(&b, ", ", 2);
            if (hr_json_type_of(d, x) == HR_JSON_STRING) hr_json_string_decode(d, x, &b);
        }
        if (b.len == before) hr_buf_append(&b, "none", 4);
        out = b.data;
    }
    hr_json_free(d);
    hr_buf_free(&text);
    free(path);
    return out;
}

static void print_text(const struct home *h, const char *proxy, const struct hr__provider *const *routed,
                       struct verdict *v, size_t n, int installed,
                       int enabled, const char *report, char **ids, size_t n_ids)
{
    printf("hr-patch-auth: Hermes home %s, proxy %s\n", h->dir, proxy);
    for (size_t i = 0; i < n; i++) {
        printf("  %-13s %s (%zu pool entr%s)\n", v[i].p->id, v[i].via_proxy ? "proxy" : "DIRECT", v[i].n_entries,
               v[i].n_entries == 1 ? "y" : "ies");
        for (size_t r = 0; r < v[i].n_reasons; r++) printf("      %s\n", v[i].reasons[r]);
    }
    if (!n) printf("  no provider is routed\n");
    print_not_routed(h, routed, n, stdout, 0);
    printf("  plugin %s: %s, %s\n", HR_PLUGIN_NAME, installed ? "installed" : "not installed",
           enabled ? "enabled" : "not in plugins.enabled");
    printf("  plugin's last report: %s\n", report ? report : "none (Hermes has not started with it)");
    if (!n_ids) printf("  backups: none\n");
    for (size_t i = 0; i < n_ids; i++)
        printf("  backup %s%s\n", ids[i], backup_rolled_back(h, ids[i]) ? " (rolled back)" : "");
}

static void print_json(const struct home *h, const char *proxy, const struct hr__provider *const *routed,
                       struct verdict *v, size_t n, int installed,
                       int enabled, const char *report, char **ids, size_t n_ids, int ok)
{
    printf("{\"hermes_home\": ");
    json_str(stdout, h->dir);
    printf(", \"proxy_url\": ");
    json_str(stdout, proxy);
    printf(", \"ok\": %s, \"providers\": [", ok ? "true" : "false");
    for (size_t i = 0; i < n; i++) {
        printf("%s{\"id\": \"%s\", \"via\": \"%s\", \"pool_entries\": %zu, \"reasons\": [", i ? ", " : "",
               v[i].p->id, v[i].via_proxy ? "proxy" : "direct", v[i].n_entries);
        for (size_t r = 0; r < v[i].n_reasons; r++) {
            if (r) printf(", ");
            json_str(stdout, v[i].reasons[r]);
        }
        printf("]}");
    }
    printf("], \"not_routed\": [");
    print_not_routed(h, routed, n, stdout, 1);
    printf("], \"plugin\": {\"installed\": %s, \"enabled\": %s, \"last_report\": ", installed ? "true" : "false",
           enabled ? "true" : "false");
    json_str_or_null(stdout, report);
    printf("}, \"backups\": [");
    for (size_t i = 0; i < n_ids; i++) {
        printf("%s{\"id\": ", i ? ", " : "");
        json_str(stdout, ids[i]);
        printf(", \"rolled_back\": %s}", backup_rolled_back(h, ids[i]) ? "true" : "false");
    }
    printf("]}\n");
}

int do_status(const struct options *o)
{
    struct home h;
    int rc = home_load(&h, o, 0);
    const struct hr__provider *routed[MAX_ROUTED];
    size_t n = 0;
    if (!rc) rc = routed_providers(&h, o->providers, 1, routed, &n);
    if (rc) {
        home_free(&h);
        return rc;
    }
    char *proxy = proxy_in_use(&h, o), *active = active_provider(&h), *report = plugin_report(&h);
    int installed = plugin_present(&h), enabled = hr__config_plugin_enabled(&h.yaml);
    struct verdict v[MAX_ROUTED] = {0};
    int ok = n > 0;
    for (size_t i = 0; i < n; i++) {
        v[i].p = routed[i];
        judge(&h, proxy, active, installed && enabled, &v[i]);
        ok &= v[i].via_proxy;
    }
    char **ids;
    size_t n_ids;
    backups_list(&h, &ids, &n_ids);
    if (o->json) print_json(&h, proxy, routed, v, n, installed, enabled, report, ids, n_ids, ok);
    else print_text(&h, proxy, routed, v, n, installed, enabled, report, ids, n_ids);
    backups_free(ids, n_ids);
    free(proxy);
    free(active);
    free(report);
    home_free(&h);
    return ok ? EXIT_OK : EXIT_NOT_ROUTED;
}
