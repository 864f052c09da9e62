/* The headroom-route plugin's files: read from the copy make install ships,
 * installed into $HERMES_HOME/plugins/headroom-route/ (and taken out again
 * when the rest of an apply fails), removed on rollback. */
#include "hermes/patch.h"

#include <dirent.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static const char *const FILES[] = {"plugin.yaml", "__init__.py"};

static hr_buf *file_buf(struct plugin_files *pf, size_t i)
{
    return i == 0 ? &pf->yaml : &pf->init;
}

int hr__patch_plugin_source_load(struct hr__patch_io *io, struct plugin_files *pf, const char *source)
{
    *pf = (struct plugin_files){.dir = strdup(source)};
    for (size_t i = 0; i < 2; i++) {
        char *p = hr__path_join(source, FILES[i]);
        int err = p ? hr__read_file(p, file_buf(pf, i)) : ENOMEM;
        if (err)
            hr__patch_msg(io, "%s: %s (the plugin make install ships; give --plugin-source DIR)", p ? p : source,
                          strerror(err));
        free(p);
        if (err) return -1;
    }
    return 0;
}

void hr__patch_plugin_source_free(struct plugin_files *pf)
{
    free(pf->dir);
    hr_buf_free(&pf->yaml);
    hr_buf_free(&pf->init);
}

static char *plugin_dir(const struct hr__home *h)
{
    return hr__path_join(h->dir, "plugins/" HR_HERMES_PLUGIN);
}

static char *plugin_file(const struct hr__home *h, const char *name)
{
    char *dir = plugin_dir(h), *p = dir ? hr__path_join(dir, name) : NULL;
    free(dir);
    return p;
}

int hr__patch_plugin_installed_same(const struct hr__home *h, const struct plugin_files *pf)
{
    int same = 1;
    for (size_t i = 0; i < 2 && same; i++) {
        char *p = plugin_file(h, FILES[i]);
        hr_buf now = {0};
        const hr_buf *want = file_buf((struct plugin_files *)pf, i);
        same = p && !hr__read_regular_file(p, &now, NULL) && now.len == want->len &&
               !memcmp(now.data, want->data, now.len);
        hr_buf_free(&now);
        free(p);
    }
    return same;
}

/* path as a folder: made (*made set), or already one. */
static int make_dir(struct hr__patch_io *io, const char *path, int *made)
{
    struct stat st;
    if (!mkdir(path, 0755)) {
        *made = 1;
        return 0;
    }
    if (errno == EEXIST && !stat(path, &st) && S_ISDIR(st.st_mode)) return 0;
    if (errno == EEXIST) hr__patch_msg(io, "%s: not a folder", path);
    else hr__patch_msg(io, "%s: %s", path, strerror(errno));
    return -1;
}

/* The file at path before it is replaced, kept in u for plugin_install_undo. */
static void keep_old(const char *path, size_t i, struct plugin_undo *u)
{
    u->had[i] = !hr__read_regular_file(path, &u->old[i], NULL);
    if (!u->had[i]) hr_buf_free(&u->old[i]);
}

int hr__patch_plugin_install(struct hr__patch_io *io, const struct hr__home *h, const struct plugin_files *pf,
                             struct plugin_undo *u)
{
    *u = (struct plugin_undo){0};
    char *plugins = hr__path_join(h->dir, "plugins"), *dir = plugin_dir(h);
    int rc = !plugins || !dir || make_dir(io, plugins, &u->made_plugins) || make_dir(io, dir, &u->made_dir) ? -1 : 0;
    for (size_t i = 0; i < 2 && !rc; i++) {
        char *p = hr__path_join(dir, FILES[i]);
        const hr_buf *b = file_buf((struct plugin_files *)pf, i);
        if (p) keep_old(p, i, u);
        int err = p ? hr__write_file_atomic(p, b->data, b->len, 0644) : ENOMEM;
        u->wrote[i] = !err;
        if (err) {
            hr__patch_msg(io, "%s: %s", p ? p : dir, strerror(err));
            rc = -1;
        }
        free(p);
    }
    free(plugins);
    free(dir);
    return rc;
}

int hr__patch_plugin_install_undo(struct hr__patch_io *io, const struct hr__home *h, struct plugin_undo *u)
{
    char *plugins = hr__path_join(h->dir, "plugins"), *dir = plugin_dir(h);
    int rc = plugins && dir ? 0 : -1;
    for (size_t i = 2; i-- > 0 && !rc;) {
        char *p = u->wrote[i] ? hr__path_join(dir, FILES[i]) : NULL;
        int err = !u->wrote[i] ? 0
                  : !p         ? ENOMEM
                  : u->had[i]  ? hr__write_file_atomic(p, u->old[i].data, u->old[i].len, 0644)
                  : unlink(p)  ? errno
                               : 0;
        if (err) {
            hr__patch_msg(io, "%s: %s", p ? p : dir, strerror(err));
            rc = -1;
        }
        free(p);
    }
    const char *made[] = {u->made_dir ? dir : NULL, u->made_plugins ? plugins : NULL};
    for (size_t i = 0; i < 2 && !rc; i++)
        if (made[i] && rmdir(made[i])) {
            hr__patch_msg(io, "%s: %s", made[i], strerror(errno));
            rc = -1;
        }
    free(plugins);
    free(dir);
    return rc;
}

void hr__patch_plugin_undo_free(struct plugin_undo *u)
{
    hr_buf_free(&u->old[0]);
    hr_buf_free(&u->old[1]);
}

/* Python's byte-code cache of the plugin: __pycache__/__init__.*.pyc. */
static void remove_cache(const char *dir)
{
    char *cache = hr__path_join(dir, "__pycache__");
    DIR *d = cache ? opendir(cache) : NULL;
    for (struct dirent *e; d && (e = readdir(d));) {
        if (strncmp(e->d_name, "__init__.", 9) || !strstr(e->d_name, ".pyc")) continue;
        char *p = hr__path_join(cache, e->d_name);
        if (p) unlink(p);
        free(p);
    }
    if (d) closedir(d);
    if (cache) rmdir(cache);
    free(cache);
}

int hr__patch_plugin_remove(struct hr__patch_io *io, const struct hr__home *h)
{
    char *dir = plugin_dir(h);
    if (!dir) return -1;
    for (size_t i = 0; i < 2; i++) {
        char *p = hr__path_join(dir, FILES[i]);
        if (p && unlink(p) && errno != ENOENT) hr__patch_msg(io, "%s: %s", p, strerror(errno));
        free(p);
    }
    remove_cache(dir);
    int rc = 0;
    if (rmdir(dir) && errno != ENOENT) {
        hr__patch_say(io, "%s: left in place (%s): it holds files hr-patch-auth did not install", dir, strerror(errno));
        rc = 0;
    }
    free(dir);
    return rc;
}

/* ---- the copy that came with the program ------------------------------------- */

/* dir/tail when it holds the plugin (its plugin.yaml), with . and ..
 * resolved; else NULL. */
static char *plugin_at(const char *dir, const char *tail)
{
    char *path = hr__path_join(dir, tail), *yaml = path ? hr__path_join(path, "plugin.yaml") : NULL;
    char *found = yaml && !access(yaml, R_OK) ? realpath(path, NULL) : NULL;
    free(path);
    free(yaml);
    return found;
}

#define PLUGIN_UNDER_DATADIR "hr/" HR_HERMES_PLUGIN

hr_status hr_patch_plugin_source(const char *bindir, const char *datadir, hr_buf *out)
{
    char *exe = hr__exe_dir(), *rel = hr__relative_path(bindir, datadir), *found = NULL;
    char *tail = rel ? hr__path_join(rel, PLUGIN_UNDER_DATADIR) : NULL;
    if (exe && tail) found = plugin_at(exe, tail);
    const char *base = exe ? strrchr(exe, '/') : NULL;
    if (!found && exe && base && base != exe) {
        char *parent = strndup(exe, (size_t)(base - exe));
        const char *pbase = parent ? strrchr(parent, '/') : NULL;
        if (pbase && !strcmp(pbase, "/build")) found = plugin_at(exe, "../../scripts/hermes-plugin/" HR_HERMES_PLUGIN);
        free(parent);
    }
    free(exe);
    free(rel);
    free(tail);
    hr_status st = found ? hr_buf_append(out, found, strlen(found)) : hr_buf_append(out, datadir, strlen(datadir));
    if (!found && !st) st = hr_buf_append(out, "/" PLUGIN_UNDER_DATADIR, strlen("/" PLUGIN_UNDER_DATADIR));
    free(found);
    return st;
}
