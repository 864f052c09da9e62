/* The Hermes home as hr-patch-auth uses it: libhr loads and judges it;
 * here are the program's own parts (printing errors, temp-file cleanup under
 * the lock, the list of providers left alone). */
#include "hermes/patch.h"

#include <dirent.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* Removes NAME.hr-XXXXXX, the temporary file of hr__write_file_atomic for
 * dir/NAME, which a run killed between writing and renaming leaves behind
 * (a copy of auth.json, secrets and all); with the lock held, none is in
 * use. */
static void remove_temp_files_of(const char *dir, const char *name)
{
    size_t n = strlen(name);
    DIR *d = opendir(dir);
    for (struct dirent *e; d && (e = readdir(d));) {
        const char *f = e->d_name;
        if (strncmp(f, name, n) || strncmp(f + n, ".hr-", 4) || strlen(f + n) != 10) continue;
        char *p = hr__path_join(dir, f);
        if (p) unlink(p);
        free(p);
    }
    if (d) closedir(d);
}

/* The same for a path: the file's folder and name. */
static void remove_temp_files_for(const char *path)
{
    const char *slash = strrchr(path, '/');
    char *dir = slash ? strndup(path, slash == path ? 1 : (size_t)(slash - path)) : strdup(".");
    if (dir) remove_temp_files_of(dir, slash ? slash + 1 : path);
    free(dir);
}

/* In the home, and beside the target of a symbolic link, where hr writes. */
static void remove_stale_temp_files(const struct hr__home *h)
{
    remove_temp_files_of(h->dir, "auth.json");
    remove_temp_files_of(h->dir, "config.yaml");
    if (strcmp(h->auth_target, h->auth_path)) remove_temp_files_for(h->auth_target);
    if (strcmp(h->config_target, h->config_path)) remove_temp_files_for(h->config_target);
}

int hr__patch_home_load(struct hr__patch_io *io, struct hr__home *h, const hr_patch_options *o, int lock)
{
    char err[700];
    if (hr__home_load(h, o->hermes_home, lock, err, sizeof err)) {
        hr__patch_msg(io, "%s", err);
        return -1;
    }
    if (lock) remove_stale_temp_files(h);
    return 0;
}

int hr__patch_home_pool(struct hr__patch_io *io, const struct hr__home *h, const struct hr__provider *p,
                        struct hr__pool_entry **v, size_t *n)
{
    char err[256];
    if (!hr__pool_entries(h->auth_doc, p->id, v, n, err, sizeof err)) return 0;
    hr__patch_msg(io, "%s:%s", h->auth_path, err);
    return -1;
}

int hr__patch_routed_providers(struct hr__patch_io *io, const struct hr__home *h, const char *list, int from_block,
                               const struct hr__provider *out[HR_MAX_ROUTED], size_t *n)
{
    char err[700];
    hr_status s = list ? hr__routed_parse(list, "--providers", out, n, err, sizeof err)
                       : hr__home_routed(h, from_block, out, n, err, sizeof err);
    if (s) hr__patch_msg(io, "%s", err);
    return s ? -1 : 0;
}

/* The providers left alone: the routable ones not chosen, and those in the
 * credential pool hr does not forward. */
void hr__patch_print_not_routed(const struct hr__home *h, const struct hr__provider *const *routed, size_t n, FILE *f,
                                int json)
{
    hr_json_node pool = hr_json_get(h->auth_doc, hr_json_root(h->auth_doc), "credential_pool");
    int first = 1;
    for (size_t i = 0; i < hr__n_providers; i++) {
        if (hr__routed_has(routed, n, &hr__providers[i])) continue;
        if (json) fprintf(f, "%s\"%s\"", first ? "" : ", ", hr__providers[i].id);
        else fprintf(f, "%s%s (not chosen)", first ? "  not routed: " : ", ", hr__providers[i].id);
        first = 0;
    }
    for (hr_json_node k = pool == HR_JSON_NONE || hr_json_type_of(h->auth_doc, pool) != HR_JSON_OBJECT
                              ? HR_JSON_NONE
                              : hr_json_first(h->auth_doc, pool);
         k != HR_JSON_NONE; k = hr_json_next(h->auth_doc, k)) {
        hr_buf name = {0};
        if (hr_json_string_decode(h->auth_doc, k, &name) || !name.data || hr__provider_find(name.data)) {
            hr_buf_free(&name);
            continue;
        }
        if (json) fprintf(f, "%s", first ? "" : ", "), hr__patch_json_string(f, name.data);
        else fprintf(f, "%s%s (hr does not forward it)", first ? "  not routed: " : ", ", name.data);
        first = 0;
        hr_buf_free(&name);
    }
    if (!json && !first) fputc('\n', f);
}
