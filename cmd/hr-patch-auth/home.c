/* The Hermes home as hr-patch-auth reads it: auth.json under Hermes's own
 * lock, config.yaml, and which providers are routed. */
#include "json_internal.h"
#include "patch.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define LOCK_WAIT_MS 10000

char *home_path(const char *dir, const char *name)
{
    size_t n = strlen(dir) + strlen(name) + 2;
    char *p = malloc(n);
    if (p) snprintf(p, n, "%s/%s", dir, name);
    return p;
}

/* Hermes's lock: an exclusive flock on auth.lock beside auth.json. */
static int take_lock(struct home *h)
{
    h->lock_fd = open(h->lock_path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    if (h->lock_fd < 0) {
        fail("%s: %s", h->lock_path, strerror(errno));
        return EXIT_FAIL;
    }
    for (int waited = 0; flock(h->lock_fd, LOCK_EX | LOCK_NB); waited += 50) {
        if (errno != EWOULDBLOCK && errno != EINTR) {
            fail("%s: %s", h->lock_path, strerror(errno));
            return EXIT_FAIL;
        }
        if (waited >= LOCK_WAIT_MS) {
            fail("%s: held by another process (Hermes?) for %d s; try again", h->lock_path, LOCK_WAIT_MS / 1000);
            return EXIT_FAIL;
        }
        nanosleep(&(struct timespec){0, 50 * 1000 * 1000}, NULL);
    }
    return 0;
}

static int read_one(const char *path, hr_buf *buf, unsigned *mode)
{
    struct stat st;
    int err = stat(path, &st) ? errno : 0;
    if (!err && !S_ISREG(st.st_mode)) err = EISDIR;
    if (!err) err = hr__read_file(path, buf);
    if (err) {
        fail("%s: %s", path, strerror(err));
        return EXIT_FAIL;
    }
    *mode = st.st_mode & 07777;
    return 0;
}

int home_parse(struct home *h)
{
    hr__yaml_free(&h->yaml);
    if (hr_json_parse(h->auth_doc, h->auth.data, h->auth.len)) {
        size_t line, col;
        hr_utf8_line_column(h->auth.data, h->auth.len, hr_json_error_offset(h->auth_doc), &line, &col);
        fail("%s:%zu:%zu: %s", h->auth_path, line, col, hr_json_error_reason(h->auth_doc));
        return EXIT_FAIL;
    }
    char err[256];
    if (hr__yaml_scan(&h->yaml, h->config.data, h->config.len, err, sizeof err)) {
        fail("%s:%s", h->config_path, err);
        return EXIT_FAIL;
    }
    return 0;
}

/* A run killed between writing and renaming leaves NAME.hr-XXXXXX behind (a
 * copy of auth.json, secrets and all); with the lock held, none is in use. */
static void remove_stale_temp_files(const struct home *h)
{
    DIR *d = opendir(h->dir);
    for (struct dirent *e; d && (e = readdir(d));) {
        const char *n = e->d_name;
        int ours = (!strncmp(n, "auth.json.hr-", 13) && strlen(n) == 19) ||
                   (!strncmp(n, "config.yaml.hr-", 15) && strlen(n) == 21);
        char *p = ours ? home_path(h->dir, n) : NULL;
        if (p) unlink(p);
        free(p);
    }
    if (d) closedir(d);
}

int home_load(struct home *h, const struct options *o, int lock)
{
    *h = (struct home){.lock_fd = -1};
    h->dir = strdup(o->home);
    h->auth_path = home_path(o->home, "auth.json");
    h->config_path = home_path(o->home, "config.yaml");
    h->lock_path = home_path(o->home, "auth.lock");
    if (!h->dir || !h->auth_path || !h->config_path || !h->lock_path || hr_json_new(&h->auth_doc)) {
        fail("out of memory");
        return EXIT_FAIL;
    }
    struct stat st;
    if (stat(h->dir, &st) || !S_ISDIR(st.st_mode)) {
        fail("%s: %s", h->dir, errno ? strerror(errno) : "not a folder");
        return EXIT_FAIL;
    }
    if (lock && take_lock(h)) return EXIT_FAIL;
    if (lock) remove_stale_temp_files(h);
    if (read_one(h->auth_path, &h->auth, &h->auth_mode) || read_one(h->config_path, &h->config, &h->config_mode))
        return EXIT_FAIL;
    return home_parse(h);
}

void home_free(struct home *h)
{
    if (h->lock_fd >= 0) close(h->lock_fd); /* releases the flock */
    hr_json_free(h->auth_doc);
    hr__yaml_free(&h->yaml);
    hr_buf_free(&h->auth);
    hr_buf_free(&h->config);
    free(h->dir);
    free(h->auth_path);
    free(h->config_path);
    free(h->lock_path);
}

int home_pool(const struct home *h, const struct hr__provider *p, struct hr__pool_entry **v, size_t *n)
{
    char err[256];
    if (!hr__pool_entries(h->auth_doc, p->id, v, n, err, sizeof err)) return 0;
    fail("%s:%s", h->auth_path, err);
    return EXIT_FAIL;
}

char *active_provider(const struct home *h)
{
    const struct hr__ynode *n = hr__yaml_find(&h->yaml, "model.provider");
    if (n && n->kind == HR_Y_SCALAR && *n->value) return strdup(n->value);
    hr_json_node v = hr_json_get(h->auth_doc, hr_json_root(h->auth_doc), "active_provider");
    hr_buf b = {0};
    if (v != HR_JSON_NONE && hr_json_type_of(h->auth_doc, v) == HR_JSON_STRING &&
        !hr_json_string_decode(h->auth_doc, v, &b) && b.data)
        return b.data;
    hr_buf_free(&b);
    return NULL;
}

int is_routed(const struct hr__provider *const *routed, size_t n, const struct hr__provider *p)
{
    for (size_t i = 0; i < n; i++)
        if (routed[i] == p) return 1;
    return 0;
}

/* Credentials (a pool list or a singleton) or configuration for p. */
static int provider_in_use(const struct home *h, const struct hr__provider *p, const char *active)
{
    hr_json *d = h->auth_doc;
    hr_json_node root = hr_json_root(d);
    hr_json_node pool = hr_json_get(d, root, "credential_pool"), single = hr_json_get(d, root, "providers");
    if (pool != HR_JSON_NONE && hr_json_type_of(d, pool) == HR_JSON_OBJECT) {
        hr_json_node list = hr_json_get(d, pool, p->id);
        if (list != HR_JSON_NONE && hr_json_length(d, list) > 0) return 1;
    }
    if (single != HR_JSON_NONE && hr_json_type_of(d, single) == HR_JSON_OBJECT &&
        hr_json_get(d, single, p->id) != HR_JSON_NONE)
        return 1;
    char path[64];
    snprintf(path, sizeof path, "providers.%s", p->id);
    return (active && !strcmp(active, p->id)) || hr__yaml_find(&h->yaml, path);
}

static int parse_list(const char *list, const char *where, const struct hr__provider *out[MAX_ROUTED], size_t *n)
{
    *n = 0;
    const char *s = list;
    while (*s) {
        s += strspn(s, " ,[]");
        size_t len = strcspn(s, " ,[]");
        if (!len) break;
        char name[64];
        snprintf(name, sizeof name, "%.*s", (int)len, s);
        const struct hr__provider *p = hr__provider_find(name);
        if (!p) {
            fail("%s: unknown provider '%s' (hr routes anthropic, openai-codex, openai-api)", where, name);
            return EXIT_FAIL;
        }
        if (!is_routed(out, *n, p)) out[(*n)++] = p;
        s += len;
    }
    return 0;
}

int routed_providers(const struct home *h, const char *list, int from_block, const struct hr__provider *out[MAX_ROUTED],
                     size_t *n)
{
    if (list) return parse_list(list, "--providers", out, n);
    const struct hr__ynode *b = hr__yaml_find(&h->yaml, "plugins." HR_PLUGIN_NAME ".providers");
    if (from_block && b && (b->kind == HR_Y_FLOW_SEQ || b->kind == HR_Y_BLOCK_SEQ)) {
        hr_buf names = {0};
        for (const struct hr__ynode *it = hr__yaml_find(&h->yaml, "plugins." HR_PLUGIN_NAME ".providers[]"); it;
             it = hr__yaml_find_next(&h->yaml, it, "plugins." HR_PLUGIN_NAME ".providers[]"))
            if (it->kind == HR_Y_SCALAR && (hr_buf_append(&names, it->value, strlen(it->value)) ||
                                           hr_buf_append(&names, ",", 1)))
                break;
        char where[600];
        snprintf(where, sizeof where, "%s:%zu:%zu", h->config_path, b->line + 1, b->column + 1);
        int rc = parse_list(names.data ? names.data : "", where, out, n);
        hr_buf_free(&names);
        return rc;
    }
    char *active = active_provider(h);
    *n = 0;
    for (size_t i = 0; i < hr__n_providers; i++)
        if (provider_in_use(h, &hr__providers[i], active)) out[(*n)++] = &hr__providers[i];
    free(active);
    return 0;
}

/* The providers left alone: the routable ones not chosen, and those in the
 * credential pool hr does not forward. */
void print_not_routed(const struct home *h, const struct hr__provider *const *routed, size_t n, FILE *f, int json)
{
    hr_json_node pool = hr_json_get(h->auth_doc, hr_json_root(h->auth_doc), "credential_pool");
    int first = 1;
    for (size_t i = 0; i < hr__n_providers; i++) {
        if (is_routed(routed, n, &hr__providers[i])) continue;
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
        if (json) fprintf(f, "%s", first ? "" : ", "), json_str(f, name.data);
        else fprintf(f, "%s%s (hr does not forward it)", first ? "  not routed: " : ", ", name.data);
        first = 0;
        hr_buf_free(&name);
    }
    if (!json && !first) fputc('\n', f);
}
