/* --rollback: undo one apply in the files as they are now. A file unchanged
 * since apply gets its backup back byte for byte; a file Hermes rewrote since
 * (a refreshed token, a re-seeded pool) gets only apply's own edits undone,
 * and only where they still hold what apply wrote. */
#include "hermes/patch.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static int read_backup(struct hr__patch_io *io, const char *dir, const char *name, const char *want_sha, hr_buf *out)
{
    char *p = hr__path_join(dir, name);
    int err = p ? hr__read_file(p, out) : ENOMEM;
    char sha[65] = "";
    if (!err) hr__sha256_hex(out->data, out->len, sha);
    if (err) hr__patch_msg(io, "%s: %s", p ? p : dir, strerror(err));
    else if (strcmp(sha, want_sha))
        hr__patch_msg(io, "%s: not the file backed up (sha256 %s, manifest says %s)", p, sha, want_sha);
    free(p);
    return err || strcmp(sha, want_sha) ? -1 : 0;
}

static int same_sha(const hr_buf *now, const char *sha_want)
{
    char sha[65];
    hr__sha256_hex(now->data, now->len, sha);
    return !strcmp(sha, sha_want);
}

/* The pool's entries by id (then place), to find each edit's entry in
 * n log n however large the pool. */
static int by_id(const void *a, const void *b)
{
    const struct hr__pool_entry *x = *(struct hr__pool_entry *const *)a, *y = *(struct hr__pool_entry *const *)b;
    int c = strcmp(x->id, y->id);
    return c ? c : (x->index > y->index) - (x->index < y->index);
}

static struct hr__pool_entry **index_by_id(struct hr__pool_entry *v, size_t n)
{
    struct hr__pool_entry **ix = malloc((n ? n : 1) * sizeof *ix);
    for (size_t i = 0; ix && i < n; i++) ix[i] = &v[i];
    if (ix && n > 1) qsort(ix, n, sizeof *ix, by_id);
    return ix;
}

/* The pool entry an edit was made on: by id when it has one (the first
 * entry with that id), else by index. */
static struct hr__pool_entry *find_entry(struct hr__pool_entry *v, struct hr__pool_entry **ix, size_t n,
                                         const struct auth_edit *a)
{
    if (!*a->id) return a->index < n ? &v[a->index] : NULL;
    size_t lo = 0, hi = n;
    while (lo < hi) { /* the first place whose id is not below a->id */
        size_t mid = lo + (hi - lo) / 2;
        if (strcmp(ix[mid]->id, a->id) < 0) lo = mid + 1;
        else hi = mid;
    }
    return lo < n && !strcmp(ix[lo]->id, a->id) ? ix[lo] : NULL;
}

static int undo_provider(struct hr__patch_io *io, const struct hr__home *h, const struct manifest *m,
                         const struct hr__provider *prov, hr_splice *sp, struct undo *u)
{
    struct hr__pool_entry *v;
    size_t n;
    if (hr__patch_home_pool(io, h, prov, &v, &n)) return -1;
    unsigned char *done = calloc(n ? n : 1, 1);
    struct hr__pool_entry **ix = index_by_id(v, n);
    int rc = done && ix ? 0 : -1;
    for (size_t i = 0; i < m->auth.n && !rc; i++) {
        const struct auth_edit *a = &m->auth.v[i];
        struct hr__pool_entry *e = a->provider == prov ? find_entry(v, ix, n, a) : NULL;
        if (!e) continue;
        done[e - v] = 1;
        if (!e->base_url || strcmp(e->base_url, a->new_url)) {
            u->urls_kept++; /* changed since apply: the newer value stays */
            continue;
        }
        rc = (a->old_url ? hr__pool_set_url(h->auth_doc, e, a->old_url, sp) : hr__pool_remove_url(h->auth_doc, e, sp))
                 ? -1
                 : 0;
        u->urls_restored++;
    }
    /* entries Hermes wrote with the proxy URL the plugin gave them */
    for (size_t i = 0; i < n && !rc; i++) {
        if (done[i] || hr__url_classify(prov, m->proxy_url, v[i].base_url) != HR_URL_PROXY) continue;
        rc = hr__pool_set_url(h->auth_doc, &v[i], prov->official_url, sp) ? -1 : 0;
        u->urls_reset++;
    }
    free(done);
    free(ix);
    hr__pool_entries_free(v, n);
    return rc;
}

static int undo_auth(struct hr__patch_io *io, const struct hr__home *h, const struct manifest *m, const char *dir,
                     struct undo *u)
{
    /* as before apply: it did not touch the file, or did not get to (killed
     * first), or the file was put back since */
    if (same_sha(&h->auth, m->auth_sha)) return 0;
    if (same_sha(&h->auth, m->auth_sha_after)) {
        u->auth_restored = u->auth_changed = 1;
        u->urls_restored = m->auth.n;
        return read_backup(io, dir, "auth.json", m->auth_sha, &u->auth_new);
    }
    hr_splice *sp;
    if (hr_splice_new(h->auth.data, h->auth.len, &sp)) return -1;
    int rc = 0;
    for (size_t i = 0; i < hr__n_providers && !rc; i++)
        if (strstr(m->providers, hr__providers[i].id)) rc = undo_provider(io, h, m, &hr__providers[i], sp, u);
    u->auth_changed = hr_splice_count(sp) > 0;
    if (!rc && u->auth_changed && hr_splice_apply(sp, &u->auth_new)) rc = -1;
    hr_splice_free(sp);
    return rc;
}

static int undo_config(struct hr__patch_io *io, const struct hr__home *h, const struct manifest *m, const char *dir,
                       struct undo *u)
{
    if (same_sha(&h->config, m->config_sha)) return 0;
    if (same_sha(&h->config, m->config_sha_after)) {
        u->config_restored = u->config_changed = 1;
        return read_backup(io, dir, "config.yaml", m->config_sha, &u->config_new);
    }
    hr_splice *sp;
    if (hr_splice_new(h->config.data, h->config.len, &sp)) return -1;
    int rc = hr__config_plan_rollback(&h->yaml, &m->config, m->model_url, sp) ? -1 : 0;
    u->config_changed = hr_splice_count(sp) > 0;
    if (!rc && u->config_changed && hr_splice_apply(sp, &u->config_new)) rc = -1;
    hr_splice_free(sp);
    return rc;
}

/* The result must parse before it replaces anything. */
static int check_undo(struct hr__patch_io *io, const struct hr__home *h, struct undo *u)
{
    hr_json *doc = NULL;
    struct hr__yaml y = {0};
    char err[256];
    int ok = !hr_json_new(&doc) && (!u->auth_changed || !hr_json_parse(doc, u->auth_new.data, u->auth_new.len)) &&
             (!u->config_changed || !hr__yaml_scan(&y, u->config_new.data, u->config_new.len, err, sizeof err));
    hr_json_free(doc);
    hr__yaml_free(&y);
    if (!ok)
        hr__patch_msg(io, "%s: the rolled-back files did not check out; nothing written (please report this)", h->dir);
    return ok ? 0 : -1;
}

static int write_undo(struct hr__patch_io *io, const struct hr__home *h, const char *dir, struct undo *u)
{
    int err =
        u->auth_changed ? hr__write_file_atomic(h->auth_target, u->auth_new.data, u->auth_new.len, h->auth_mode) : 0;
    const char *which = h->auth_target;
    if (!err && u->config_changed) {
        which = h->config_target;
        err = hr__write_file_atomic(h->config_target, u->config_new.data, u->config_new.len, h->config_mode);
    }
    if (err) {
        hr__patch_msg(io, "%s: %s", which, strerror(err));
        return -1;
    }
    char *mark = hr__path_join(dir, "rolled-back");
    time_t now = time(NULL);
    char when[40];
    strftime(when, sizeof when, "%Y-%m-%dT%H:%M:%SZ\n", gmtime(&now));
    err = mark ? hr__write_file_atomic(mark, when, strlen(when), 0600) : ENOMEM;
    free(mark);
    return err ? -1 : 0;
}

/* The backup to undo: the one named, else the newest not yet rolled back. */
static char *pick_backup(struct hr__patch_io *io, const struct hr__home *h, const char *want)
{
    char **ids;
    size_t n;
    hr__patch_backups_list(h, &ids, &n);
    char *id = NULL;
    for (size_t i = n; want && i-- > 0 && !id;)
        if (!strcmp(ids[i], want)) id = strdup(ids[i]);
    hr__patch_backups_free(ids, n);
    if (!want) id = hr__patch_backup_newest(h);
    if (!id) {
        char *dir = hr__patch_backups_dir(h);
        if (want)
            hr__patch_msg(io, "%s/%s: no such backup (hr-patch-auth --status lists them)", dir ? dir : h->dir, want);
        else hr__patch_msg(io, "%s: no backup to roll back", dir ? dir : h->dir);
        free(dir);
    }
    return id;
}

static void report(struct hr__patch_io *io, const struct hr__home *h, const char *id, const struct undo *u, int json)
{
    int removed = u->plugin_removed;
    if (json) {
        fprintf(io->out, "{\"action\": \"rollback\", \"backup\": ");
        hr__patch_json_string(io->out, id);
        fprintf(io->out,
                ", \"auth_json\": \"%s\", \"config_yaml\": \"%s\", \"urls_restored\": %zu, \"urls_kept\": %zu, "
                "\"urls_reset\": %zu, \"plugin_removed\": %s}\n",
                u->auth_restored  ? "restored"
                : u->auth_changed ? "edited"
                                  : "unchanged",
                u->config_restored  ? "restored"
                : u->config_changed ? "edited"
                                    : "unchanged",
                u->urls_restored, u->urls_kept, u->urls_reset, removed ? "true" : "false");
        return;
    }
    fprintf(io->out, "hr-patch-auth: rolled back %s\n", id);
    fprintf(io->out, "  auth.json: %s\n",
            u->auth_restored  ? "restored from the backup (unchanged since apply)"
            : u->auth_changed ? "apply's base_url edits undone; Hermes's later changes kept"
                              : "nothing to undo");
    if (u->urls_kept) fprintf(io->out, "  auth.json: %zu base_url changed since apply, left as it is\n", u->urls_kept);
    if (u->urls_reset)
        fprintf(io->out, "  auth.json: %zu entries Hermes saved with the proxy URL set back to the official one\n",
                u->urls_reset);
    fprintf(io->out, "  config.yaml: %s\n",
            u->config_restored  ? "restored from the backup (unchanged since apply)"
            : u->config_changed ? "apply's edits undone; other changes kept"
                                : "nothing to undo");
    if (removed) fprintf(io->out, "  plugin: removed from %s/plugins/%s/\n", h->dir, HR_HERMES_PLUGIN);
    fprintf(io->out, "  restart Hermes so that it drops the plugin\n");
}

int hr__patch_undo_backup(struct hr__patch_io *io, const struct hr__home *h, const char *id, int keep_plugin,
                          struct undo *u)
{
    struct manifest m = {0};
    char *bdir = hr__patch_backups_dir(h), *sub = bdir ? hr__path_join(bdir, id) : NULL;
    char *man = sub ? hr__path_join(sub, "manifest.json") : NULL;
    *u = (struct undo){0};
    int rc = man ? hr__patch_manifest_read(io, man, &m) : -1;
    if (!rc) rc = undo_auth(io, h, &m, sub, u) || undo_config(io, h, &m, sub, u) || check_undo(io, h, u);
    if (!rc) rc = write_undo(io, h, sub, u);
    if (!rc && m.plugin_installed && !keep_plugin && hr__home_plugin_present(h)) {
        rc = hr__patch_plugin_remove(io, h);
        u->plugin_removed = !rc;
    }
    hr__patch_manifest_free(&m);
    free(bdir);
    free(sub);
    free(man);
    return rc;
}

void hr__patch_undo_free(struct undo *u)
{
    hr_buf_free(&u->auth_new);
    hr_buf_free(&u->config_new);
}

int hr__patch_do_rollback(struct hr__patch_io *io, const hr_patch_options *o)
{
    struct hr__home h;
    struct undo u = {0};
    char *id = NULL;
    int rc = hr__patch_home_load(io, &h, o, 1);
    if (!rc) rc = !(id = pick_backup(io, &h, o->backup_id));
    if (!rc) rc = hr__patch_undo_backup(io, &h, id, o->keep_plugin, &u);
    if (!rc) report(io, &h, id, &u, o->json);
    hr__patch_undo_free(&u);
    free(id);
    hr__home_free(&h);
    return rc;
}
