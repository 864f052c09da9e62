/* --rollback: undo one apply in the files as they are now. A file unchanged
 * since apply gets its backup back byte for byte; a file Hermes rewrote since
 * (a refreshed token, a re-seeded pool) gets only apply's own edits undone,
 * and only where they still hold what apply wrote. */
#include "patch.h"
#include "sha256.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

struct undo {
    hr_buf auth_new, config_new;
    int auth_changed, config_changed;
    int auth_restored, config_restored; /* whole backup put back */
    size_t urls_restored, urls_kept, urls_reset;
};

static int read_backup(const char *dir, const char *name, const char *want_sha, hr_buf *out)
{
    char *p = hr__path_join(dir, name);
    int err = p ? hr__read_file(p, out) : ENOMEM;
    char sha[65] = "";
    if (!err) hr__sha256_hex(out->data, out->len, sha);
    if (err) fail("%s: %s", p ? p : dir, strerror(err));
    else if (strcmp(sha, want_sha)) fail("%s: not the file backed up (sha256 %s, manifest says %s)", p, sha, want_sha);
    free(p);
    return err || strcmp(sha, want_sha) ? EXIT_FAIL : 0;
}

static int unchanged_since_apply(const hr_buf *now, const char *sha_after)
{
    char sha[65];
    hr__sha256_hex(now->data, now->len, sha);
    return !strcmp(sha, sha_after);
}

/* The pool entry an edit was made on: by id when it has one, else by index. */
static struct hr__pool_entry *find_entry(struct hr__pool_entry *v, size_t n, const struct auth_edit *a)
{
    for (size_t i = 0; *a->id && i < n; i++)
        if (!strcmp(v[i].id, a->id)) return &v[i];
    return !*a->id && a->index < n ? &v[a->index] : NULL;
}

static int undo_provider(const struct hr__home *h, const struct manifest *m, const struct hr__provider *prov,
                         hr_splice *sp, struct undo *u)
{
    struct hr__pool_entry *v;
    size_t n;
    if (home_pool(h, prov, &v, &n)) return EXIT_FAIL;
    unsigned char *done = calloc(n ? n : 1, 1);
    int rc = done ? 0 : EXIT_FAIL;
    for (size_t i = 0; i < m->auth.n && !rc; i++) {
        const struct auth_edit *a = &m->auth.v[i];
        struct hr__pool_entry *e = a->provider == prov ? find_entry(v, n, a) : NULL;
        if (!e) continue;
        done[e - v] = 1;
        if (!e->base_url || strcmp(e->base_url, a->new_url)) {
            u->urls_kept++; /* changed since apply: the newer value stays */
            continue;
        }
        rc = (a->old_url ? hr__pool_set_url(h->auth_doc, e, a->old_url, sp) : hr__pool_remove_url(h->auth_doc, e, sp))
                 ? EXIT_FAIL
                 : 0;
        u->urls_restored++;
    }
    /* entries Hermes wrote with the proxy URL the plugin gave them */
    for (size_t i = 0; i < n && !rc; i++) {
        if (done[i] || hr__url_classify(prov, m->proxy_url, v[i].base_url) != HR_URL_PROXY) continue;
        rc = hr__pool_set_url(h->auth_doc, &v[i], prov->official_url, sp) ? EXIT_FAIL : 0;
        u->urls_reset++;
    }
    free(done);
    hr__pool_entries_free(v, n);
    return rc;
}

static int undo_auth(const struct hr__home *h, const struct manifest *m, const char *dir, struct undo *u)
{
    if (unchanged_since_apply(&h->auth, m->auth_sha_after)) {
        if (!strcmp(m->auth_sha, m->auth_sha_after)) return 0; /* apply did not touch it */
        u->auth_restored = u->auth_changed = 1;
        u->urls_restored = m->auth.n;
        return read_backup(dir, "auth.json", m->auth_sha, &u->auth_new);
    }
    hr_splice *sp;
    if (hr_splice_new(h->auth.data, h->auth.len, &sp)) return EXIT_FAIL;
    int rc = 0;
    for (size_t i = 0; i < hr__n_providers && !rc; i++)
        if (strstr(m->providers, hr__providers[i].id)) rc = undo_provider(h, m, &hr__providers[i], sp, u);
    u->auth_changed = hr_splice_count(sp) > 0;
    if (!rc && u->auth_changed && hr_splice_apply(sp, &u->auth_new)) rc = EXIT_FAIL;
    hr_splice_free(sp);
    return rc;
}

static int undo_config(const struct hr__home *h, const struct manifest *m, const char *dir, struct undo *u)
{
    if (unchanged_since_apply(&h->config, m->config_sha_after)) {
        if (!strcmp(m->config_sha, m->config_sha_after)) return 0;
        u->config_restored = u->config_changed = 1;
        return read_backup(dir, "config.yaml", m->config_sha, &u->config_new);
    }
    hr_splice *sp;
    if (hr_splice_new(h->config.data, h->config.len, &sp)) return EXIT_FAIL;
    int rc = hr__config_plan_rollback(&h->yaml, &m->config, m->model_url, sp) ? EXIT_FAIL : 0;
    u->config_changed = hr_splice_count(sp) > 0;
    if (!rc && u->config_changed && hr_splice_apply(sp, &u->config_new)) rc = EXIT_FAIL;
    hr_splice_free(sp);
    return rc;
}

/* The result must parse before it replaces anything. */
static int check_undo(const struct hr__home *h, struct undo *u)
{
    hr_json *doc = NULL;
    struct hr__yaml y = {0};
    char err[256];
    int ok = !hr_json_new(&doc) && (!u->auth_changed || !hr_json_parse(doc, u->auth_new.data, u->auth_new.len)) &&
             (!u->config_changed || !hr__yaml_scan(&y, u->config_new.data, u->config_new.len, err, sizeof err));
    hr_json_free(doc);
    hr__yaml_free(&y);
    if (!ok) fail("%s: the rolled-back files did not check out; nothing written (please report this)", h->dir);
    return ok ? 0 : EXIT_FAIL;
}

static int write_undo(const struct hr__home *h, const char *dir, struct undo *u)
{
    int err = u->auth_changed ? hr__write_file_atomic(h->auth_path, u->auth_new.data, u->auth_new.len, h->auth_mode) : 0;
    const char *which = h->auth_path;
    if (!err && u->config_changed) {
        which = h->config_path;
        err = hr__write_file_atomic(h->config_path, u->config_new.data, u->config_new.len, h->config_mode);
    }
    if (err) {
        fail("%s: %s", which, strerror(err));
        return EXIT_FAIL;
    }
    char *mark = hr__path_join(dir, "rolled-back");
    time_t now = time(NULL);
    char when[40];
    strftime(when, sizeof when, "%Y-%m-%dT%H:%M:%SZ\n", gmtime(&now));
    err = mark ? hr__write_file_atomic(mark, when, strlen(when), 0600) : ENOMEM;
    free(mark);
    return err ? EXIT_FAIL : 0;
}

/* The backup to undo: the one named, else the newest not yet rolled back. */
static char *pick_backup(const struct hr__home *h, const char *want)
{
    char **ids;
    size_t n;
    backups_list(h, &ids, &n);
    char *id = NULL;
    for (size_t i = n; i-- > 0 && !id;)
        if (want ? !strcmp(ids[i], want) : !backup_rolled_back(h, ids[i])) id = strdup(ids[i]);
    backups_free(ids, n);
    if (!id) {
        char *dir = backups_dir(h);
        if (want) fail("%s/%s: no such backup (hr-patch-auth --status lists them)", dir ? dir : h->dir, want);
        else fail("%s: no backup to roll back", dir ? dir : h->dir);
        free(dir);
    }
    return id;
}

static void report(const struct hr__home *h, const char *id, const struct undo *u, int removed, int json)
{
    if (json) {
        printf("{\"action\": \"rollback\", \"backup\": ");
        json_str(stdout, id);
        printf(", \"auth_json\": \"%s\", \"config_yaml\": \"%s\", \"urls_restored\": %zu, \"urls_kept\": %zu, "
               "\"urls_reset\": %zu, \"plugin_removed\": %s}\n",
               u->auth_restored ? "restored" : u->auth_changed ? "edited" : "unchanged",
               u->config_restored ? "restored" : u->config_changed ? "edited" : "unchanged", u->urls_restored,
               u->urls_kept, u->urls_reset, removed ? "true" : "false");
        return;
    }
    printf("hr-patch-auth: rolled back %s\n", id);
    printf("  auth.json: %s\n", u->auth_restored  ? "restored from the backup (unchanged since apply)"
                               : u->auth_changed  ? "apply's base_url edits undone; Hermes's later changes kept"
                                                  : "nothing to undo");
    if (u->urls_kept) printf("  auth.json: %zu base_url changed since apply, left as it is\n", u->urls_kept);
    if (u->urls_reset) printf("  auth.json: %zu entries Hermes saved with the proxy URL set back to the official one\n", u->urls_reset);
    printf("  config.yaml: %s\n", u->config_restored  ? "restored from the backup (unchanged since apply)"
                                 : u->config_changed  ? "apply's edits undone; other changes kept"
                                                      : "nothing to undo");
    if (removed) printf("  plugin: removed from %s/plugins/%s/\n", h->dir, HR_PLUGIN_NAME);
    printf("  restart Hermes so that it drops the plugin\n");
}

int do_rollback(const struct options *o)
{
    struct hr__home h;
    struct manifest m = {0};
    struct undo u = {0};
    char *id = NULL, *bdir = NULL, *sub = NULL, *man = NULL;
    int rc = home_load(&h, o, 1), removed = 0;
    if (!rc) rc = !(id = pick_backup(&h, o->rollback_id));
    if (!rc) {
        bdir = backups_dir(&h);
        sub = bdir ? hr__path_join(bdir, id) : NULL;
        man = sub ? hr__path_join(sub, "manifest.json") : NULL;
        rc = man ? manifest_read(man, &m) : EXIT_FAIL;
    }
    if (!rc) rc = undo_auth(&h, &m, sub, &u) || undo_config(&h, &m, sub, &u) || check_undo(&h, &u);
    if (!rc) rc = write_undo(&h, sub, &u);
    if (!rc && m.plugin_installed && !o->keep_plugin && hr__home_plugin_present(&h)) {
        rc = plugin_remove(&h);
        removed = !rc;
    }
    if (!rc) report(&h, id, &u, removed, o->json);
    hr_buf_free(&u.auth_new);
    hr_buf_free(&u.config_new);
    manifest_free(&m);
    free(id);
    free(bdir);
    free(sub);
    free(man);
    hr__home_free(&h);
    return rc;
}
