/* The headroom-route plugin's files: read from the copy make install ships,
 * installed into $HERMES_HOME/plugins/headroom-route/ (and taken out again
 * when the rest of an apply fails), removed on rollback. */
#include "patch.h"

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

int plugin_source_load(struct plugin_files *pf, const char *source)
{
    *pf = (struct plugin_files){.dir = strdup(source)};
    for (size_t i = 0; i < 2; i++) {
        char *p = hr__path_join(source, FILES[i]);
        int err = p ? hr__read_file(p, file_buf(pf, i)) : ENOMEM;
        if (err)
            prog_msg("%s: %s (the plugin make install ships; give --plugin-source DIR)", p ? p : source, strerror(err));
        free(p);
        if (err) return -1;
    }
    return 0;
}

void plugin_source_free(struct plugin_files *pf)
{
    free(pf->dir);
    hr_buf_free(&pf->yaml);
    hr_buf_free(&pf->init);
}

static char *plugin_dir(const struct hr__home *h)
{
    return hr__path_join(h->dir, "plugins/" HR_PLUGIN_NAME);
}

static char *plugin_file(const struct hr__home *h, const char *name)
{
    char *dir = plugin_dir(h), *p = dir ? hr__path_join(dir, name) : NULL;
    free(dir);
    return p;
}

int plugin_installed_same(const struct hr__home *h, const struct plugin_files *pf)
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
static int make_dir(const char *path, int *made)
{
    struct stat st;
    if (!mkdir(path, 0755)) {
        *made = 1;
        return 0;
    }
    if (errno == EEXIST && !stat(path, &st) && S_ISDIR(st.st_mode)) return 0;
    if (errno == EEXIST) prog_msg("%s: not a folder", path);
    else prog_msg("%s: %s", path, strerror(errno));
    return -1;
}

/* The file at path before it is replaced, kept in u for plugin_install_undo. */
static void keep_old(const char *path, size_t i, struct plugin_undo *u)
{
    u->had[i] = !hr__read_regular_file(path, &u->old[i], NULL);
    if (!u->had[i]) hr_buf_free(&u->old[i]);
}

int plugin_install(const struct hr__home *h, const struct plugin_files *pf, struct plugin_undo *u)
{
    *u = (struct plugin_undo){0};
    char *plugins = hr__path_join(h->dir, "plugins"), *dir = plugin_dir(h);
    int rc = !plugins || !dir || make_dir(plugins, &u->made_plugins) || make_dir(dir, &u->made_dir) ? -1 : 0;
    for (size_t i = 0; i < 2 && !rc; i++) {
        char *p = hr__path_join(dir, FILES[i]);
        const hr_buf *b = file_buf((struct plugin_files *)pf, i);
        if (p) keep_old(p, i, u);
        int err = p ? hr__write_file_atomic(p, b->data, b->len, 0644) : ENOMEM;
        u->wrote[i] = !err;
        if (err) {
            prog_msg("%s: %s", p ? p : dir, strerror(err));
            rc = -1;
        }
        free(p);
    }
    free(plugins);
    free(dir);
    return rc;
}

int plugin_install_undo(const struct hr__home *h, struct plugin_undo *u)
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
            prog_msg("%s: %s", p ? p : dir, strerror(err));
            rc = -1;
        }
        free(p);
    }
    const char *made[] = {u->made_dir ? dir : NULL, u->made_plugins ? plugins : NULL};
    for (size_t i = 0; i < 2 && !rc; i++)
        if (made[i] && rmdir(made[i])) {
            prog_msg("%s: %s", made[i], strerror(errno));
            rc = -1;
        }
    free(plugins);
    free(dir);
    return rc;
}

void plugin_undo_free(struct plugin_undo *u)
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

int plugin_remove(const struct hr__home *h)
{
    char *dir = plugin_dir(h);
    if (!dir) return -1;
    for (size_t i = 0; i < 2; i++) {
        char *p = hr__path_join(dir, FILES[i]);
        if (p && unlink(p) && errno != ENOENT) prog_msg("%s: %s", p, strerror(errno));
        free(p);
    }
    remove_cache(dir);
    int rc = 0;
    if (rmdir(dir) && errno != ENOENT) {
        say("%s: left in place (%s): it holds files hr-patch-auth did not install", dir, strerror(errno));
        rc = 0;
    }
    free(dir);
    return rc;
}
