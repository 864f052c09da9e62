/* --apply and --dry-run: plan the splices on auth.json and config.yaml,
 * check the results parse, back the originals up, install the plugin,
 * write. Exit 1 means nothing changed: when a step fails, what the steps
 * before it wrote is put back and the backup goes. An apply killed
 * half-way is undone by the next one before it starts. */
#include "hermes/patch.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

struct plan {
    const struct hr__provider *routed[HR_MAX_ROUTED];
    size_t n_routed;
    char providers[128]; /* "a, b" */
    hr_splice *auth_sp, *config_sp;
    struct auth_edits auth;
    struct hr__config_changes cfg;
    char *model_url;    /* model.base_url's new value, NULL: left alone */
    int drop_model_url; /* model.base_url holds an earlier proxy URL: removed */
    hr_buf left_alone;  /* "what (why)" lines for the summary */
    struct plugin_files pf;
    int plugin_needed;
    hr_buf auth_new, config_new;
};

static void plan_free(struct plan *p)
{
    hr_splice_free(p->auth_sp);
    hr_splice_free(p->config_sp);
    hr__patch_auth_edits_free(&p->auth);
    free(p->cfg.base_url_old);
    free(p->model_url);
    hr_buf_free(&p->left_alone);
    hr__patch_plugin_source_free(&p->pf);
    hr_buf_free(&p->auth_new);
    hr_buf_free(&p->config_new);
}

static void note_left_alone(struct plan *p, const char *what, const char *url)
{
    char line[1024];
    snprintf(line, sizeof line, "%s: %s is a gateway of yours, left alone", what, url);
    hr_buf_append(&p->left_alone, line, strlen(line));
    hr_buf_append(&p->left_alone, "\n", 1);
}

static int plan_auth(struct hr__patch_io *io, const struct hr__home *h, const char *proxy, struct plan *p)
{
    for (size_t r = 0; r < p->n_routed; r++) {
        const struct hr__provider *prov = p->routed[r];
        struct hr__pool_entry *v;
        size_t n;
        if (hr__patch_home_pool(io, h, prov, &v, &n)) return -1;
        hr_buf url = {0};
        int rc = hr__provider_proxy_url(prov, proxy, &url) ? -1 : 0;
        for (size_t i = 0; i < n && !rc; i++) {
            hr__url_kind kind = hr__url_classify(prov, proxy, v[i].base_url);
            if (kind == HR_URL_PROXY) continue;
            if (!hr__url_replaceable(kind)) {
                char what[128];
                snprintf(what, sizeof what, "auth.json credential_pool.%s[%zu]", prov->id, i);
                note_left_alone(p, what, v[i].base_url);
                continue;
            }
            if (hr__pool_set_url(h->auth_doc, &v[i], url.data, p->auth_sp) ||
                hr__patch_auth_edits_add(&p->auth, prov, &v[i], url.data))
                rc = -1;
        }
        hr_buf_free(&url);
        hr__pool_entries_free(v, n);
        if (rc) return rc;
    }
    return 0;
}

/* Whether url is a proxy hr wrote in model.base_url: this run's or the one
 * the plugin's block named before, in any provider's form. */
static int is_proxy_url(const struct hr__home *h, const char *proxy, const char *url)
{
    char *before = hr__home_proxy_url(h);
    int found = 0;
    for (size_t i = 0; i < hr__n_providers && !found; i++)
        found = hr__url_classify(&hr__providers[i], proxy, url) == HR_URL_PROXY ||
                (before && hr__url_classify(&hr__providers[i], before, url) == HR_URL_PROXY);
    free(before);
    return found;
}

/* model.base_url points at the proxy only where Hermes reads it for a routed
 * provider: model.provider names one that takes it (openai-api). Anywhere
 * else it does harm (with no model.provider a local URL turns every
 * resolution into a custom endpoint), so a proxy URL an earlier hr wrote
 * there is removed. */
static int plan_model_url(const struct hr__home *h, const char *proxy, struct plan *p)
{
    char *configured = hr__home_model_provider(h);
    const struct hr__provider *prov = hr__provider_find(configured);
    free(configured);
    const struct hr__ynode *cur = hr__yaml_find(&h->yaml, "model.base_url");
    const char *now = cur && cur->kind == HR_Y_SCALAR ? cur->value : NULL;
    if (!prov || !prov->takes_model_url || !hr__routed_has(p->routed, p->n_routed, prov)) {
        p->drop_model_url = now && is_proxy_url(h, proxy, now);
        return 0;
    }
    hr__url_kind kind = hr__url_classify(prov, proxy, now);
    if (kind != HR_URL_PROXY && !hr__url_replaceable(kind)) {
        note_left_alone(p, "config.yaml model.base_url", now);
        return 0;
    }
    hr_buf url = {0};
    if (hr__provider_proxy_url(prov, proxy, &url)) return -1;
    p->model_url = url.data;
    return 0;
}

static int plan_config(struct hr__patch_io *io, const struct hr__home *h, const char *proxy, struct plan *p)
{
    if (plan_model_url(h, proxy, p)) return -1;
    struct hr__config_settings s = {proxy, p->providers, p->model_url, p->drop_model_url};
    char err[256];
    if (hr__config_plan_apply(&h->yaml, &s, p->config_sp, &p->cfg, err, sizeof err)) {
        hr__patch_msg(io, "%s:%s", h->config_path, err);
        return -1;
    }
    return 0;
}

/* Each base_url edit reads back from the edited auth.json: one read of
 * each provider's pool (edits are grouped by provider), whatever its size. */
static int auth_reads_back(const hr_json *doc, const struct auth_edits *e)
{
    int ok = 1;
    for (size_t i = 0; ok && i < e->n;) {
        const struct hr__provider *prov = e->v[i].provider;
        struct hr__pool_entry *v;
        size_t n;
        char err[256];
        if (hr__pool_entries(doc, prov->id, &v, &n, err, sizeof err)) return 0;
        for (; ok && i < e->n && e->v[i].provider == prov; i++) {
            const struct auth_edit *a = &e->v[i];
            ok = a->index < n && v[a->index].base_url && !strcmp(v[a->index].base_url, a->new_url);
        }
        hr__pool_entries_free(v, n);
    }
    return ok;
}

/* config.yaml, edited, enables the plugin, has its block, and model.base_url
 * is what was meant, all as Hermes reads it. */
static int config_reads_back(const struct plan *p)
{
    struct hr__yaml y = {0};
    char err[256];
    int ok = !hr__yaml_scan(&y, p->config_new.data, p->config_new.len, err, sizeof err) &&
             hr__config_plugin_enabled(&y) && hr__yaml_find(&y, "plugins." HR_HERMES_PLUGIN);
    const struct hr__ynode *url = ok ? hr__yaml_find(&y, "model.base_url") : NULL;
    if (ok && p->model_url) ok = url && url->kind == HR_Y_SCALAR && !strcmp(url->value, p->model_url);
    if (ok && p->cfg.base_url_removed) ok = !url;
    hr__yaml_free(&y);
    return ok;
}

/* The edited files must parse and say what was meant, or nothing is
 * written. A miss is hr's own mistake, not the file's. */
static int check_results(struct hr__patch_io *io, const struct hr__home *h, struct plan *p)
{
    if (hr_splice_apply(p->auth_sp, &p->auth_new) || hr_splice_apply(p->config_sp, &p->config_new)) {
        hr__patch_msg(io, "out of memory");
        return -1;
    }
    hr_json *doc = NULL;
    int auth_ok =
        !hr_json_new(&doc) && !hr_json_parse(doc, p->auth_new.data, p->auth_new.len) && auth_reads_back(doc, &p->auth);
    hr_json_free(doc);
    const char *bad = !auth_ok ? h->auth_path : !config_reads_back(p) ? h->config_path : NULL;
    if (bad)
        hr__patch_msg(io, "%s: the edited text does not read back as planned; nothing written (please report this)",
                      bad);
    return bad ? -1 : 0;
}

static int make_plan(struct hr__patch_io *io, const hr_patch_options *o, const struct hr__home *h, const char *proxy,
                     struct plan *p)
{
    if (hr__patch_routed_providers(io, h, o->providers, 0, p->routed, &p->n_routed)) return -1;
    for (size_t i = 0; i < p->n_routed; i++)
        snprintf(p->providers + strlen(p->providers), sizeof p->providers - strlen(p->providers), "%s%s", i ? ", " : "",
                 p->routed[i]->id);
    if (hr_splice_new(h->auth.data, h->auth.len, &p->auth_sp) ||
        hr_splice_new(h->config.data, h->config.len, &p->config_sp) ||
        hr__patch_plugin_source_load(io, &p->pf, o->plugin_source))
        return -1;
    if (plan_auth(io, h, proxy, p) || plan_config(io, h, proxy, p)) return -1;
    p->plugin_needed = !hr__patch_plugin_installed_same(h, &p->pf);
    return check_results(io, h, p);
}

static int changes_anything(struct plan *p)
{
    return hr_splice_count(p->auth_sp) || hr_splice_count(p->config_sp) || p->plugin_needed;
}

static int print_diff(struct hr__patch_io *io, const struct hr__home *h, struct plan *p)
{
    hr_buf out = {0};
    int rc = hr__udiff(h->auth.data, h->auth.len, p->auth_sp, "auth.json", 1, &out) ||
                     hr__udiff(h->config.data, h->config.len, p->config_sp, "config.yaml", 0, &out)
                 ? -1
                 : 0;
    if (!rc && out.len) fwrite(out.data, 1, out.len, io->out);
    if (!rc && p->plugin_needed)
        hr__patch_msg(io, "would install %s/{plugin.yaml,__init__.py} to %s/plugins/%s/", p->pf.dir, h->dir,
                      HR_HERMES_PLUGIN);
    hr_buf_free(&out);
    return rc;
}

/* ---- backup ------------------------------------------------------------------ */

/* A backup being made: its folder, the folders made for it, its manifest. */
struct backup {
    char *dir, *top, *all;  /* backups/hr-patch-auth/<id>, backups, backups/hr-patch-auth */
    int made_top, made_all; /* created by this run */
    char id[64], created[32];
    struct manifest m; /* borrows the plan's fields */
};

static int make_private_dir(struct hr__patch_io *io, const char *path, int *made)
{
    if (!mkdir(path, 0700)) {
        *made = 1;
        return 0;
    }
    if (errno == EEXIST) return 0;
    hr__patch_msg(io, "%s: %s", path, strerror(errno));
    return -1;
}

/* backups/hr-patch-auth/<UTC time>[-N]/, created. */
static int new_backup(struct hr__patch_io *io, const struct hr__home *h, struct backup *b)
{
    b->top = hr__path_join(h->dir, "backups");
    b->all = hr__patch_backups_dir(h);
    if (!b->top || !b->all || make_private_dir(io, b->top, &b->made_top) || make_private_dir(io, b->all, &b->made_all))
        return -1;
    time_t now = time(NULL);
    char stamp[32];
    strftime(stamp, sizeof stamp, "%Y%m%dT%H%M%SZ", gmtime(&now));
    strftime(b->created, sizeof b->created, "%Y-%m-%dT%H:%M:%SZ", gmtime(&now));
    for (int k = 1; k < 100; k++) {
        if (k == 1) snprintf(b->id, sizeof b->id, "%s", stamp);
        else snprintf(b->id, sizeof b->id, "%s-%d", stamp, k);
        char *try = hr__path_join(b->all, b->id);
        if (try && !mkdir(try, 0700)) {
            b->dir = try;
            return 0;
        }
        int err = try ? errno : ENOMEM;
        free(try);
        if (err != EEXIST) {
            hr__patch_msg(io, "%s: %s", b->all, strerror(err));
            return -1;
        }
    }
    hr__patch_msg(io, "%s: no free backup id for this second", b->all);
    return -1;
}

static int write_backup_file(struct hr__patch_io *io, const struct backup *b, const char *name, const hr_buf *data)
{
    char *path = hr__path_join(b->dir, name);
    int err = path ? hr__write_file_atomic(path, data->data, data->len, 0600) : ENOMEM;
    if (err) hr__patch_msg(io, "%s: %s", path ? path : b->dir, strerror(err));
    free(path);
    return err ? -1 : 0;
}

static int write_manifest(struct hr__patch_io *io, const struct backup *b)
{
    char *path = hr__path_join(b->dir, "manifest.json");
    int rc = path ? hr__patch_manifest_write(io, path, &b->m) : -1;
    free(path);
    return rc;
}

/* The originals and a manifest that says the apply has not finished. */
static int back_up(struct hr__patch_io *io, const struct hr__home *h, struct plan *p, const char *proxy,
                   struct backup *b)
{
    int rc = new_backup(io, h, b);
    if (!rc)
        rc = write_backup_file(io, b, "auth.json", &h->auth) || write_backup_file(io, b, "config.yaml", &h->config);
    if (rc) return rc;
    b->m = (struct manifest){.id = b->id,
                             .created = b->created,
                             .proxy_url = (char *)proxy,
                             .providers = p->providers,
                             .auth = p->auth,
                             .config = p->cfg,
                             .model_url = p->model_url,
                             .plugin_installed = p->plugin_needed};
    hr__sha256_hex(h->auth.data, h->auth.len, b->m.auth_sha);
    hr__sha256_hex(p->auth_new.data, p->auth_new.len, b->m.auth_sha_after);
    hr__sha256_hex(h->config.data, h->config.len, b->m.config_sha);
    hr__sha256_hex(p->config_new.data, p->config_new.len, b->m.config_sha_after);
    return write_manifest(io, b);
}

/* A backup of an apply that changed nothing in the end: removed, with the
 * folders made for it, so that no rollback finds it. */
static void discard_backup(struct backup *b)
{
    static const char *const files[] = {"auth.json", "config.yaml", "manifest.json"};
    for (size_t i = 0; b->dir && i < 3; i++) {
        char *path = hr__path_join(b->dir, files[i]);
        if (path) unlink(path);
        free(path);
    }
    if (b->dir) rmdir(b->dir);
    if (b->made_all) rmdir(b->all);
    if (b->made_top) rmdir(b->top);
}

static void backup_free(struct backup *b)
{
    free(b->dir);
    free(b->top);
    free(b->all);
}

/* ---- writing, and undoing it ------------------------------------------------- */

/* What this apply has written so far. */
struct written {
    int auth, config, plugin;
    struct plugin_undo plugin_undo;
};

static int write_home_file(struct hr__patch_io *io, const char *target, const hr_buf *data, unsigned mode)
{
    int err = hr__write_file_atomic(target, data->data, data->len, mode);
    if (err) hr__patch_msg(io, "%s: %s", target, strerror(err));
    return err ? -1 : 0;
}

/* The plugin first: a fresh one is not enabled yet, so Hermes does not load
 * it, and a failure there has touched nothing Hermes reads. */
static int write_all(struct hr__patch_io *io, const struct hr__home *h, struct plan *p, struct written *w)
{
    if (p->plugin_needed) {
        w->plugin = 1; /* a half install is undone too */
        if (hr__patch_plugin_install(io, h, &p->pf, &w->plugin_undo)) return -1;
    }
    if (hr_splice_count(p->auth_sp)) {
        if (write_home_file(io, h->auth_target, &p->auth_new, h->auth_mode)) return -1;
        w->auth = 1;
    }
    if (hr_splice_count(p->config_sp)) {
        if (write_home_file(io, h->config_target, &p->config_new, h->config_mode)) return -1;
        w->config = 1;
    }
    return 0;
}

/* Puts back, byte for byte and with their modes, the files written; 0 when
 * all are back. */
static int unwrite(struct hr__patch_io *io, const struct hr__home *h, struct written *w)
{
    int rc = 0;
    if (w->config && write_home_file(io, h->config_target, &h->config, h->config_mode)) rc = -1;
    if (w->auth && write_home_file(io, h->auth_target, &h->auth, h->auth_mode)) rc = -1;
    if (w->plugin && hr__patch_plugin_install_undo(io, h, &w->plugin_undo)) rc = -1;
    return rc;
}

/* Backs up, writes, and marks the backup finished; on a failure, undoes
 * what was written and removes the backup. */
static int apply_plan(struct hr__patch_io *io, const struct hr__home *h, struct plan *p, const char *proxy, char *id,
                      size_t id_len)
{
    struct backup b = {0};
    struct written w = {0};
    int rc = back_up(io, h, p, proxy, &b) || write_all(io, h, p, &w);
    if (!rc) {
        b.m.complete = 1;
        rc = write_manifest(io, &b);
    }
    if (rc && !unwrite(io, h, &w)) discard_backup(&b);
    else if (rc) hr__patch_msg(io, "%s: not all was put back; the next --apply or --rollback undoes the rest", b.dir);
    snprintf(id, id_len, "%s", b.id);
    hr__patch_plugin_undo_free(&w.plugin_undo);
    backup_free(&b);
    return rc;
}

/* An earlier apply killed half-way (its backup not marked finished) left
 * files that are half what it meant: undone before this one starts, so
 * that this one's backup holds what was there before hr touched the home
 * and a single rollback gets back to it. *undone: its id, or "". */
static int undo_interrupted(struct hr__patch_io *io, struct hr__home *h, char *undone, size_t undone_len)
{
    char *id = hr__patch_backup_newest(h);
    int rc = 0;
    *undone = '\0';
    if (id && !hr__patch_backup_complete(io, h, id)) {
        struct undo u;
        char err[700];
        rc = hr__patch_undo_backup(io, h, id, 0, &u);
        hr__patch_undo_free(&u);
        if (!rc && hr__home_reread(h, err, sizeof err)) {
            hr__patch_msg(io, "%s", err);
            rc = -1;
        }
        if (!rc) snprintf(undone, undone_len, "%s", id);
    }
    free(id);
    return rc;
}

/* --dry-run takes no lock and writes nothing: it only says. */
static void note_interrupted(struct hr__patch_io *io, const struct hr__home *h)
{
    char *id = hr__patch_backup_newest(h);
    if (id && !hr__patch_backup_complete(io, h, id))
        hr__patch_msg(io, "--apply would first undo the interrupted apply of backup %s", id);
    free(id);
}

/* ---- report ------------------------------------------------------------------ */

static void report_text(struct hr__patch_io *io, const struct hr__home *h, struct plan *p, const char *proxy,
                        const char *id, int changed, const char *undone)
{
    fprintf(io->out, "hr-patch-auth: %s %s through %s\n", changed ? "routed" : "already routes",
            p->n_routed ? p->providers : "no provider", proxy);
    if (*undone) fprintf(io->out, "  backup %s: an interrupted apply, undone first (marked rolled back)\n", undone);
    for (size_t i = 0; i < p->auth.n; i++) {
        const struct auth_edit *a = &p->auth.v[i];
        fprintf(io->out, "  auth.json credential_pool.%s[%zu]%s%s%s: %s -> %s\n", a->provider->id, a->index,
                *a->id ? " (" : "", a->id, *a->id ? ")" : "", a->old_url ? a->old_url : "(none)", a->new_url);
    }
    if (p->cfg.enabled_added) fprintf(io->out, "  config.yaml: %s added to plugins.enabled\n", HR_HERMES_PLUGIN);
    if (p->cfg.block_added) fprintf(io->out, "  config.yaml: plugins.%s settings added\n", HR_HERMES_PLUGIN);
    if (p->cfg.disabled_removed)
        fprintf(io->out, "  config.yaml: %s taken out of plugins.disabled (it wins over enabled)\n", HR_HERMES_PLUGIN);
    if (p->cfg.base_url_set) fprintf(io->out, "  config.yaml: model.base_url -> %s\n", p->model_url);
    if (p->cfg.base_url_removed)
        fprintf(io->out,
                "  config.yaml: model.base_url %s removed (Hermes does not use it for this provider; with no "
                "model.provider it would make every call a custom endpoint)\n",
                p->cfg.base_url_old);
    if (p->plugin_needed) fprintf(io->out, "  plugin: installed to %s/plugins/%s/\n", h->dir, HR_HERMES_PLUGIN);
    if (p->left_alone.len) fprintf(io->out, "  %s", p->left_alone.data);
    hr__patch_print_not_routed(h, p->routed, p->n_routed, io->out, 0);
    if (!changed) return;
    fprintf(io->out, "  backup: %s/backups/hr-patch-auth/%s (undo: hr-patch-auth --rollback)\n", h->dir, id);
    fprintf(io->out, "  restart Hermes so that it loads the plugin; then check with hr-patch-auth --status\n");
}

static void report_json(struct hr__patch_io *io, const struct hr__home *h, struct plan *p, const char *proxy,
                        const char *id, int changed, const char *undone)
{
    fprintf(io->out, "{\"action\": \"apply\", \"changed\": %s, \"hermes_home\": ", changed ? "true" : "false");
    hr__patch_json_string(io->out, h->dir);
    fprintf(io->out, ", \"proxy_url\": ");
    hr__patch_json_string(io->out, proxy);
    fprintf(io->out, ", \"backup\": ");
    hr__patch_json_string_or_null(io->out, changed ? id : NULL);
    fprintf(io->out, ", \"interrupted_undone\": ");
    hr__patch_json_string_or_null(io->out, *undone ? undone : NULL);
    fprintf(io->out, ", \"routed\": [");
    for (size_t i = 0; i < p->n_routed; i++) fprintf(io->out, "%s\"%s\"", i ? ", " : "", p->routed[i]->id);
    fprintf(io->out, "], \"not_routed\": [");
    hr__patch_print_not_routed(h, p->routed, p->n_routed, io->out, 1);
    fprintf(io->out, "], \"auth_edits\": [");
    for (size_t i = 0; i < p->auth.n; i++) {
        if (i) fprintf(io->out, ", ");
        hr__patch_json_auth_edit(io->out, &p->auth.v[i]);
    }
    fprintf(io->out, "], \"plugin_enabled\": %s, \"block_added\": %s, \"disabled_removed\": %s, \"model_base_url\": ",
            p->cfg.enabled_added ? "true" : "false", p->cfg.block_added ? "true" : "false",
            p->cfg.disabled_removed ? "true" : "false");
    hr__patch_json_string_or_null(io->out, p->cfg.base_url_set ? p->model_url : NULL);
    fprintf(io->out, ", \"model_base_url_removed\": ");
    hr__patch_json_string_or_null(io->out, p->cfg.base_url_removed ? p->cfg.base_url_old : NULL);
    fprintf(io->out, ", \"plugin_installed\": %s}\n", p->plugin_needed ? "true" : "false");
}

int hr__patch_do_apply(struct hr__patch_io *io, const hr_patch_options *o, int dry_run)
{
    const char *proxy = o->proxy_url ? o->proxy_url : HR_HERMES_DEFAULT_PROXY_URL;
    struct hr__home h;
    struct plan p = {0};
    char id[64] = "", undone[64] = "";
    int rc = hr__patch_home_load(io, &h, o, !dry_run);
    if (!rc && dry_run) note_interrupted(io, &h);
    else if (!rc) rc = undo_interrupted(io, &h, undone, sizeof undone);
    if (!rc) rc = make_plan(io, o, &h, proxy, &p);
    int changed = !rc && changes_anything(&p);
    if (!rc && dry_run) rc = print_diff(io, &h, &p);
    else if (!rc && changed) rc = apply_plan(io, &h, &p, proxy, id, sizeof id);
    if (!rc && !dry_run) {
        if (o->json) report_json(io, &h, &p, proxy, id, changed, undone);
        else report_text(io, &h, &p, proxy, id, changed, undone);
    }
    plan_free(&p);
    hr__home_free(&h);
    return rc;
}
