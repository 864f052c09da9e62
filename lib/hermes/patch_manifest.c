/* The backup manifest: what apply changed, enough for rollback to undo just
 * that in files Hermes may have rewritten since. JSON, no secrets: URLs,
 * entry ids and checksums only. */
#include "hermes/patch.h"

#include <dirent.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

int hr__patch_auth_edits_add(struct auth_edits *e, const struct hr__provider *p, const struct hr__pool_entry *entry,
                             const char *new_url)
{
    void *v = hr_grow(e->v, &e->cap, e->n + 1, sizeof *e->v);
    if (!v) return -1;
    e->v = v;
    struct auth_edit *a = &e->v[e->n];
    *a = (struct auth_edit){p, entry->index, strdup(entry->id), entry->base_url ? strdup(entry->base_url) : NULL,
                            strdup(new_url)};
    if (!a->id || !a->new_url || (entry->base_url && !a->old_url)) return -1;
    e->n++;
    return 0;
}

void hr__patch_auth_edits_free(struct auth_edits *e)
{
    for (size_t i = 0; i < e->n; i++) {
        free(e->v[i].id);
        free(e->v[i].old_url);
        free(e->v[i].new_url);
    }
    free(e->v);
    *e = (struct auth_edits){0};
}

void hr__patch_manifest_free(struct manifest *m)
{
    free(m->id);
    free(m->created);
    free(m->proxy_url);
    free(m->providers);
    free(m->model_url);
    free(m->config.base_url_old);
    hr__patch_auth_edits_free(&m->auth);
}

/* What comes before a member's value (comma, name, colon), then the value
 * as a JSON string, or null. */
static void member(FILE *f, const char *before, const char *value)
{
    fputs(before, f);
    hr__patch_json_string_or_null(f, value);
}

void hr__patch_json_auth_edit(FILE *f, const struct auth_edit *a)
{
    member(f, "{\"provider\": ", a->provider->id);
    fprintf(f, ", \"index\": %zu", a->index);
    member(f, ", \"id\": ", a->id);
    member(f, ", \"old\": ", a->old_url);
    member(f, ", \"new\": ", a->new_url);
    fputs("}", f);
}

int hr__patch_manifest_write(struct hr__patch_io *io, const char *path, const struct manifest *m)
{
    char *text = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&text, &len);
    if (!f) return -1;
    member(f, "{\n  \"format\": 1,\n  \"tool\": \"hr-patch-auth " HR_VERSION "\",\n  \"id\": ", m->id);
    member(f, ",\n  \"created\": ", m->created);
    member(f, ",\n  \"proxy_url\": ", m->proxy_url);
    member(f, ",\n  \"providers\": ", m->providers);
    fprintf(f,
            ",\n  \"files\": {\n    \"auth.json\": {\"sha256\": \"%s\", \"sha256_after\": \"%s\"},\n"
            "    \"config.yaml\": {\"sha256\": \"%s\", \"sha256_after\": \"%s\"}\n  },\n  \"auth_edits\": [",
            m->auth_sha, m->auth_sha_after, m->config_sha, m->config_sha_after);
    for (size_t i = 0; i < m->auth.n; i++) {
        fputs(i ? ",\n    " : "\n    ", f);
        hr__patch_json_auth_edit(f, &m->auth.v[i]);
    }
    fprintf(f,
            "%s],\n  \"config_edits\": {\"enabled_added\": %s, \"block_added\": %s, \"base_url_set\": %s, "
            "\"base_url_old\": ",
            m->auth.n ? "\n  " : "", m->config.enabled_added ? "true" : "false",
            m->config.block_added ? "true" : "false", m->config.base_url_set ? "true" : "false");
    hr__patch_json_string_or_null(f, m->config.base_url_old);
    member(f, ", \"base_url_new\": ", m->model_url);
    fprintf(f, ", \"base_url_removed\": %s, \"disabled_removed\": %s", m->config.base_url_removed ? "true" : "false",
            m->config.disabled_removed ? "true" : "false");
    fprintf(f, "},\n  \"plugin_installed\": %s,\n  \"complete\": %s\n}\n", m->plugin_installed ? "true" : "false",
            m->complete ? "true" : "false");
    int bad = ferror(f);
    fclose(f);
    int err = bad ? EIO : hr__write_file_atomic(path, text, len, 0600);
    free(text);
    if (err) hr__patch_msg(io, "%s: %s", path, strerror(err));
    return err ? -1 : 0;
}

/* ---- reading ------------------------------------------------------------ */

static char *get_text(hr_json *d, hr_json_node obj, const char *key)
{
    hr_json_node v = hr_json_get(d, obj, key);
    if (v == HR_JSON_NONE || hr_json_type_of(d, v) != HR_JSON_STRING) return NULL;
    hr_buf b = {0};
    if (hr_json_string_decode(d, v, &b) || hr_buf_append(&b, "", 0)) {
        hr_buf_free(&b);
        return NULL;
    }
    return b.data;
}

static int get_bool(hr_json *d, hr_json_node obj, const char *key)
{
    hr_json_node v = hr_json_get(d, obj, key);
    return v != HR_JSON_NONE && hr_json_type_of(d, v) == HR_JSON_TRUE;
}

static void get_sha(hr_json *d, hr_json_node files, const char *name, char *before, char *after)
{
    hr_json_node f = hr_json_get(d, files, name);
    char *b = f == HR_JSON_NONE ? NULL : get_text(d, f, "sha256");
    char *a = f == HR_JSON_NONE ? NULL : get_text(d, f, "sha256_after");
    snprintf(before, 65, "%s", b ? b : "");
    snprintf(after, 65, "%s", a ? a : "");
    free(b);
    free(a);
}

static int read_edits(hr_json *d, hr_json_node list, struct manifest *m)
{
    for (hr_json_node x = hr_json_first(d, list); x != HR_JSON_NONE; x = hr_json_next(d, x)) {
        char *prov = get_text(d, x, "provider");
        const struct hr__provider *p = hr__provider_find(prov);
        free(prov);
        int64_t index = -1;
        hr_json_node iv = hr_json_get(d, x, "index");
        if (!p || iv == HR_JSON_NONE || hr_json_int64(d, iv, &index) || index < 0) return -1;
        char *id = get_text(d, x, "id"), *old = get_text(d, x, "old"), *neu = get_text(d, x, "new");
        struct hr__pool_entry e = {.index = (size_t)index, .id = id, .base_url = old};
        int rc = id && neu ? hr__patch_auth_edits_add(&m->auth, p, &e, neu) : -1;
        free(id);
        free(old);
        free(neu);
        if (rc) return rc;
    }
    return 0;
}

int hr__patch_manifest_read(struct hr__patch_io *io, const char *path, struct manifest *m)
{
    *m = (struct manifest){0};
    hr_buf text = {0};
    hr_json *d = NULL;
    int err = hr__read_file(path, &text);
    if (err) {
        hr__patch_msg(io, "%s: %s", path, strerror(err));
        return -1;
    }
    int rc = -1;
    if (hr_json_new(&d) || hr_json_parse(d, text.data, text.len)) {
        hr__patch_msg(io, "%s: %s", path, d ? hr_json_errmsg(d) : "out of memory");
        goto out;
    }
    hr_json_node root = hr_json_root(d), files = hr_json_get(d, root, "files");
    hr_json_node cfg = hr_json_get(d, root, "config_edits"), edits = hr_json_get(d, root, "auth_edits");
    m->id = get_text(d, root, "id");
    m->created = get_text(d, root, "created");
    m->proxy_url = get_text(d, root, "proxy_url");
    m->providers = get_text(d, root, "providers");
    if (!m->id || !m->proxy_url || !m->providers || files == HR_JSON_NONE || cfg == HR_JSON_NONE ||
        edits == HR_JSON_NONE || hr_json_type_of(d, edits) != HR_JSON_ARRAY || read_edits(d, edits, m)) {
        hr__patch_msg(io, "%s: not a manifest written by hr-patch-auth", path);
        goto out;
    }
    get_sha(d, files, "auth.json", m->auth_sha, m->auth_sha_after);
    get_sha(d, files, "config.yaml", m->config_sha, m->config_sha_after);
    m->config.enabled_added = get_bool(d, cfg, "enabled_added");
    m->config.block_added = get_bool(d, cfg, "block_added");
    m->config.base_url_set = get_bool(d, cfg, "base_url_set");
    m->config.base_url_removed = get_bool(d, cfg, "base_url_removed");
    m->config.disabled_removed = get_bool(d, cfg, "disabled_removed");
    m->config.base_url_old = get_text(d, cfg, "base_url_old");
    m->model_url = get_text(d, cfg, "base_url_new");
    m->plugin_installed = get_bool(d, root, "plugin_installed");
    m->complete = hr_json_get(d, root, "complete") == HR_JSON_NONE || get_bool(d, root, "complete");
    rc = 0;
out:
    hr_json_free(d);
    hr_buf_free(&text);
    return rc;
}

/* ---- the backups folder --------------------------------------------------- */

char *hr__patch_backups_dir(const struct hr__home *h)
{
    return hr__path_join(h->dir, "backups/hr-patch-auth");
}

static int by_name(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

int hr__patch_backups_list(const struct hr__home *h, char ***ids, size_t *n)
{
    *ids = NULL;
    *n = 0;
    char *dir = hr__patch_backups_dir(h);
    DIR *d = dir ? opendir(dir) : NULL;
    if (!d) {
        free(dir);
        return 0;
    }
    size_t cap = 0;
    for (struct dirent *e; (e = readdir(d));) {
        if (e->d_name[0] == '.') continue;
        char *sub = hr__path_join(dir, e->d_name), *man = sub ? hr__path_join(sub, "manifest.json") : NULL;
        struct stat st;
        int ok = man && !stat(man, &st);
        free(sub);
        free(man);
        void *p = ok ? hr_grow(*ids, &cap, *n + 1, sizeof **ids) : NULL;
        if (!p) continue;
        *ids = p;
        if (((*ids)[*n] = strdup(e->d_name))) (*n)++;
    }
    closedir(d);
    free(dir);
    if (*n) qsort(*ids, *n, sizeof **ids, by_name);
    return 0;
}

void hr__patch_backups_free(char **ids, size_t n)
{
    for (size_t i = 0; i < n; i++) free(ids[i]);
    free(ids);
}

int hr__patch_backup_rolled_back(const struct hr__home *h, const char *id)
{
    char *dir = hr__patch_backups_dir(h), *sub = dir ? hr__path_join(dir, id) : NULL;
    char *mark = sub ? hr__path_join(sub, "rolled-back") : NULL;
    struct stat st;
    int yes = mark && !stat(mark, &st);
    free(dir);
    free(sub);
    free(mark);
    return yes;
}

char *hr__patch_backup_newest(const struct hr__home *h)
{
    char **ids;
    size_t n;
    hr__patch_backups_list(h, &ids, &n);
    char *id = NULL;
    for (size_t i = n; i-- > 0 && !id;)
        if (!hr__patch_backup_rolled_back(h, ids[i])) id = strdup(ids[i]);
    hr__patch_backups_free(ids, n);
    return id;
}

int hr__patch_backup_complete(struct hr__patch_io *io, const struct hr__home *h, const char *id)
{
    char *dir = hr__patch_backups_dir(h), *sub = dir ? hr__path_join(dir, id) : NULL;
    char *man = sub ? hr__path_join(sub, "manifest.json") : NULL;
    struct manifest m;
    int complete = !man || hr__patch_manifest_read(io, man, &m) || m.complete; /* unreadable: not one to undo */
    if (man) hr__patch_manifest_free(&m);
    free(dir);
    free(sub);
    free(man);
    return complete;
}
