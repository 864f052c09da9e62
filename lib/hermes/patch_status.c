/* --status: where each provider's traffic goes, read from the files Hermes
 * uses, and why; the plugin's presence and its last report; the backups. */
#include "hermes/patch.h"

#include <stdlib.h>
#include <string.h>

static char *proxy_in_use(const struct hr__home *h, const hr_patch_options *o)
{
    return o->proxy_url ? strdup(o->proxy_url) : hr__home_proxy_url(h);
}

/* The plugin's own report of its last start: "time; patched: a, b" or NULL. */
static char *plugin_report(const struct hr__home *h)
{
    struct hr__plugin_state st;
    char err[600];
    if (hr__plugin_state_read(h->dir, &st, err, sizeof err)) return NULL;
    hr_buf b = {0};
    if (st.time) hr_buf_append(&b, st.time, strlen(st.time));
    hr_buf_append(&b, "; patched: ", 11);
    for (size_t i = 0; i < st.n_patched; i++) {
        if (i) hr_buf_append(&b, ", ", 2);
        hr_buf_append(&b, st.patched[i], strlen(st.patched[i]));
    }
    if (!st.n_patched) hr_buf_append(&b, "none", 4);
    hr__plugin_state_free(&st);
    return b.data;
}

static void print_text(struct hr__patch_io *io, const struct hr__home *h, const char *proxy,
                       const struct hr__provider *const *routed, struct hr__route_verdict *v, size_t n, int installed,
                       const char *enabled, const char *report, char **ids, size_t n_ids)
{
    fprintf(io->out, "hr-patch-auth: Hermes home %s, proxy %s\n", h->dir, proxy);
    for (size_t i = 0; i < n; i++) {
        fprintf(io->out, "  %-13s %s (%zu pool entr%s)\n", v[i].p->id, v[i].via_proxy ? "proxy" : "DIRECT",
                v[i].n_entries, v[i].n_entries == 1 ? "y" : "ies");
        for (size_t r = 0; r < v[i].n_reasons; r++) fprintf(io->out, "      %s\n", v[i].reasons[r]);
    }
    if (!n) fprintf(io->out, "  no provider is routed\n");
    hr__patch_print_not_routed(h, routed, n, io->out, 0);
    fprintf(io->out, "  plugin %s: %s, %s\n", HR_HERMES_PLUGIN, installed ? "installed" : "not installed", enabled);
    fprintf(io->out, "  plugin's last report: %s\n", report ? report : "none (Hermes has not started with it)");
    if (!n_ids) fprintf(io->out, "  backups: none\n");
    for (size_t i = 0; i < n_ids; i++)
        fprintf(io->out, "  backup %s%s\n", ids[i],
                hr__patch_backup_rolled_back(h, ids[i]) ? " (rolled back)"
                : !hr__patch_backup_complete(io, h, ids[i])
                    ? " (an interrupted apply: the next --apply or --rollback undoes it)"
                    : "");
}

static void print_json(struct hr__patch_io *io, const struct hr__home *h, const char *proxy,
                       const struct hr__provider *const *routed, struct hr__route_verdict *v, size_t n, int installed,
                       int enabled, const char *loading, const char *report, char **ids, size_t n_ids, int ok)
{
    fprintf(io->out, "{\"hermes_home\": ");
    hr__patch_json_string(io->out, h->dir);
    fprintf(io->out, ", \"proxy_url\": ");
    hr__patch_json_string(io->out, proxy);
    fprintf(io->out, ", \"ok\": %s, \"providers\": [", ok ? "true" : "false");
    for (size_t i = 0; i < n; i++) {
        fprintf(io->out, "%s{\"id\": \"%s\", \"via\": \"%s\", \"pool_entries\": %zu, \"reasons\": [", i ? ", " : "",
                v[i].p->id, v[i].via_proxy ? "proxy" : "direct", v[i].n_entries);
        for (size_t r = 0; r < v[i].n_reasons; r++) {
            if (r) fprintf(io->out, ", ");
            hr__patch_json_string(io->out, v[i].reasons[r]);
        }
        fprintf(io->out, "]}");
    }
    fprintf(io->out, "], \"not_routed\": [");
    hr__patch_print_not_routed(h, routed, n, io->out, 1);
    fprintf(io->out,
            "], \"plugin\": {\"installed\": %s, \"enabled\": %s, \"last_report\": ", installed ? "true" : "false",
            enabled ? "true" : "false");
    hr__patch_json_string_or_null(io->out, report);
    fprintf(io->out, ", \"loading\": ");
    hr__patch_json_string(io->out, loading);
    fprintf(io->out, "}, \"backups\": [");
    for (size_t i = 0; i < n_ids; i++) {
        fprintf(io->out, "%s{\"id\": ", i ? ", " : "");
        hr__patch_json_string(io->out, ids[i]);
        int rolled_back = hr__patch_backup_rolled_back(h, ids[i]);
        fprintf(io->out, ", \"rolled_back\": %s, \"interrupted\": %s}", rolled_back ? "true" : "false",
                !rolled_back && !hr__patch_backup_complete(io, h, ids[i]) ? "true" : "false");
    }
    fprintf(io->out, "]}\n");
}

int hr__patch_do_status(struct hr__patch_io *io, const hr_patch_options *o, int *all_routed)
{
    struct hr__home h;
    int rc = hr__patch_home_load(io, &h, o, 0);
    *all_routed = 0;
    const struct hr__provider *routed[HR_MAX_ROUTED];
    size_t n = 0;
    if (!rc) rc = hr__patch_routed_providers(io, &h, o->providers, 1, routed, &n);
    if (rc) {
        hr__home_free(&h);
        return rc;
    }
    char *proxy = proxy_in_use(&h, o), *model_provider = hr__home_model_provider(&h), *report = plugin_report(&h);
    int installed = hr__home_plugin_present(&h), enabled;
    const char *loading = hr__home_plugin_loading(&h, &enabled);
    struct hr__route_verdict v[HR_MAX_ROUTED] = {0};
    int ok = n > 0;
    for (size_t i = 0; i < n; i++) {
        v[i].p = routed[i];
        hr__route_judge(&h, proxy, model_provider, installed && enabled, &v[i]);
        ok &= v[i].via_proxy;
    }
    char **ids;
    size_t n_ids;
    hr__patch_backups_list(&h, &ids, &n_ids);
    if (o->json) print_json(io, &h, proxy, routed, v, n, installed, enabled, loading, report, ids, n_ids, ok);
    else print_text(io, &h, proxy, routed, v, n, installed, loading, report, ids, n_ids);
    hr__patch_backups_free(ids, n_ids);
    free(proxy);
    free(model_provider);
    free(report);
    hr__home_free(&h);
    *all_routed = ok;
    return 0;
}
