/* The Hermes home as hr reads it: auth.json (under Hermes's own lock when
 * hr is about to write), config.yaml, which providers hr routes, and the
 * headroom-route plugin's presence. hr-patch-auth and hr-verify share it so
 * that both judge a home the same way. */
#include "util/errmsg.h"
#include "hermes/hermes.h"
#include "json/json_internal.h"
#include "unicode/unicode.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define LOCK_WAIT_MS 10000

/* Hermes's lock: an exclusive flock on auth.lock beside auth.json. */
static hr_status take_lock(struct hr__home *h, char *err, size_t err_len)
{
    h->lock_fd = open(h->lock_path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    if (h->lock_fd < 0) return hr__errorf(err, err_len, HR_EINVAL, "%s: %s", h->lock_path, strerror(errno));
    for (int waited = 0; flock(h->lock_fd, LOCK_EX | LOCK_NB); waited += 50) {
        if (errno != EWOULDBLOCK && errno != EINTR)
            return hr__errorf(err, err_len, HR_EINVAL, "%s: %s", h->lock_path, strerror(errno));
        if (waited >= LOCK_WAIT_MS)
            return hr__errorf(err, err_len, HR_EINVAL, "%s: held by another process (Hermes?) for %d s; try again",
                              h->lock_path, LOCK_WAIT_MS / 1000);
        nanosleep(&(struct timespec){0, 50 * 1000 * 1000}, NULL);
    }
    return HR_OK;
}

static hr_status read_one(const char *path, hr_buf *buf, unsigned *mode, char *err, size_t err_len)
{
    unsigned st_mode = 0;
    int e = hr__read_regular_file(path, buf, &st_mode);
    if (e)
        return hr__errorf(err, err_len, e == ENOMEM ? HR_ENOMEM : HR_EINVAL, "%s: %s", path,
                          hr__file_error(e, st_mode));
    *mode = st_mode & 07777;
    return HR_OK;
}

/* Where path is written: a symbolic link's target, so that the link (a
 * dotfile manager's, say) stays a link, as Hermes keeps it; else path. */
static char *write_target(const char *path)
{
    struct stat st;
    char *target = !lstat(path, &st) && S_ISLNK(st.st_mode) ? realpath(path, NULL) : NULL;
    return target ? target : strdup(path);
}

static hr_status read_both(struct hr__home *h, char *err, size_t err_len)
{
    free(h->auth_target);
    free(h->config_target);
    hr_buf_free(&h->auth);
    hr_buf_free(&h->config);
    h->auth = h->config = (hr_buf){0};
    h->auth_target = write_target(h->auth_path);
    h->config_target = write_target(h->config_path);
    if (!h->auth_target || !h->config_target) return hr__errorf(err, err_len, HR_ENOMEM, "out of memory");
    hr_status s = read_one(h->auth_path, &h->auth, &h->auth_mode, err, err_len);
    return s ? s : read_one(h->config_path, &h->config, &h->config_mode, err, err_len);
}

/* Python's json.loads, which Hermes reads auth.json with, refuses a text
 * that starts with a byte order mark; Hermes then starts from an empty
 * store and keeps the file aside as auth.json.corrupt. */
static int starts_with_bom(const hr_buf *b)
{
    return b->len >= 3 && !memcmp(b->data, "\xef\xbb\xbf", 3);
}

hr_status hr__home_parse(struct hr__home *h, char *err, size_t err_len)
{
    hr__yaml_free(&h->yaml);
    h->yaml = (struct hr__yaml){0};
    if (starts_with_bom(&h->auth))
        return hr__errorf(err, err_len, HR_ESYNTAX,
                          "%s:1:1: a UTF-8 byte order mark, which Hermes's JSON reader refuses (it would start "
                          "from an empty store); remove the first 3 bytes",
                          h->auth_path);
    if (hr_json_parse(h->auth_doc, h->auth.data, h->auth.len)) {
        size_t line, col;
        hr__utf8_line_column(h->auth.data, h->auth.len, hr_json_error_offset(h->auth_doc), &line, &col);
        return hr__errorf(err, err_len, HR_ESYNTAX, "%s:%zu:%zu: %s", h->auth_path, line, col,
                          hr_json_error_reason(h->auth_doc));
    }
    char why[512];
    hr_status s = hr__json_check_unique_keys(h->auth_doc, why, sizeof why);
    if (s)
        return s == HR_ESYNTAX ? hr__errorf(err, err_len, s, "%s:%s", h->auth_path, why)
                               : hr__errorf(err, err_len, s, "out of memory");
    if (hr__yaml_scan(&h->yaml, h->config.data, h->config.len, why, sizeof why))
        return hr__errorf(err, err_len, HR_ESYNTAX, "%s:%s", h->config_path, why);
    return HR_OK;
}

hr_status hr__home_reread(struct hr__home *h, char *err, size_t err_len)
{
    hr_status s = read_both(h, err, err_len);
    return s ? s : hr__home_parse(h, err, err_len);
}

hr_status hr__home_load(struct hr__home *h, const char *dir, int lock, char *err, size_t err_len)
{
    *h = (struct hr__home){.lock_fd = -1};
    h->dir = strdup(dir);
    h->auth_path = hr__path_join(dir, "auth.json");
    h->config_path = hr__path_join(dir, "config.yaml");
    h->lock_path = hr__path_join(dir, "auth.lock");
    if (!h->dir || !h->auth_path || !h->config_path || !h->lock_path || hr_json_new(&h->auth_doc))
        return hr__errorf(err, err_len, HR_ENOMEM, "out of memory");
    struct stat st;
    if (stat(h->dir, &st) || !S_ISDIR(st.st_mode))
        return hr__errorf(err, err_len, HR_EINVAL, "%s: %s", h->dir, errno ? strerror(errno) : "not a folder");
    hr_status s = lock ? take_lock(h, err, err_len) : HR_OK;
    return s ? s : hr__home_reread(h, err, err_len);
}

void hr__home_free(struct hr__home *h)
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
    free(h->auth_target);
    free(h->config_target);
}

char *hr__home_model_provider(const struct hr__home *h)
{
    const struct hr__ynode *n = hr__yaml_find(&h->yaml, "model.provider");
    return n && n->kind == HR_Y_SCALAR && *n->value ? strdup(n->value) : NULL;
}

char *hr__home_active_provider(const struct hr__home *h)
{
    char *configured = hr__home_model_provider(h);
    if (configured) return configured;
    hr_json_node v = hr_json_get(h->auth_doc, hr_json_root(h->auth_doc), "active_provider");
    hr_buf b = {0};
    if (v != HR_JSON_NONE && hr_json_type_of(h->auth_doc, v) == HR_JSON_STRING &&
        !hr_json_string_decode(h->auth_doc, v, &b) && b.data)
        return b.data;
    hr_buf_free(&b);
    return NULL;
}

char *hr__home_proxy_url(const struct hr__home *h)
{
    const struct hr__ynode *u = hr__yaml_find(&h->yaml, "plugins." HR_HERMES_PLUGIN ".proxy_url");
    return strdup(u && u->kind == HR_Y_SCALAR && *u->value ? u->value : HR_HERMES_DEFAULT_PROXY_URL);
}

int hr__routed_has(const struct hr__provider *const *routed, size_t n, const struct hr__provider *p)
{
    for (size_t i = 0; i < n; i++)
        if (routed[i] == p) return 1;
    return 0;
}

/* Credentials (a pool list or a singleton) or configuration for p. */
static int provider_in_use(const struct hr__home *h, const struct hr__provider *p, const char *active)
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

hr_status hr__routed_parse(const char *list, const char *where, const struct hr__provider *out[HR_MAX_ROUTED],
                           size_t *n, char *err, size_t err_len)
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
        if (!p)
            return hr__errorf(err, err_len, HR_ENOTFOUND,
                              "%s: unknown provider '%s' (hr routes anthropic, openai-codex, openai-api)", where, name);
        if (!hr__routed_has(out, *n, p)) out[(*n)++] = p;
        s += len;
    }
    return HR_OK;
}

/* The providers named in the plugin block's providers list. */
static hr_status block_list(const struct hr__home *h, const struct hr__provider *out[HR_MAX_ROUTED], size_t *n,
                            char *err, size_t err_len)
{
    const char *items = "plugins." HR_HERMES_PLUGIN ".providers[]";
    const struct hr__ynode *b = hr__yaml_find(&h->yaml, "plugins." HR_HERMES_PLUGIN ".providers");
    hr_buf names = {0};
    for (const struct hr__ynode *it = hr__yaml_find(&h->yaml, items); it; it = hr__yaml_find_next(&h->yaml, it, items))
        if (it->kind == HR_Y_SCALAR &&
            (hr_buf_append(&names, it->value, strlen(it->value)) || hr_buf_append(&names, ",", 1)))
            break;
    char where[600];
    snprintf(where, sizeof where, "%s:%zu:%zu", h->config_path, b->line + 1, b->column + 1);
    hr_status s = hr__routed_parse(names.data ? names.data : "", where, out, n, err, err_len);
    hr_buf_free(&names);
    return s;
}

hr_status hr__home_routed(const struct hr__home *h, int from_block, const struct hr__provider *out[HR_MAX_ROUTED],
                          size_t *n, char *err, size_t err_len)
{
    const struct hr__ynode *b = hr__yaml_find(&h->yaml, "plugins." HR_HERMES_PLUGIN ".providers");
    if (from_block && b && (b->kind == HR_Y_FLOW_SEQ || b->kind == HR_Y_BLOCK_SEQ))
        return block_list(h, out, n, err, err_len);
    char *active = hr__home_active_provider(h);
    *n = 0;
    for (size_t i = 0; i < hr__n_providers; i++)
        if (provider_in_use(h, &hr__providers[i], active)) out[(*n)++] = &hr__providers[i];
    free(active);
    return HR_OK;
}

int hr__home_plugin_present(const struct hr__home *h)
{
    static const char *const files[] = {"plugins/" HR_HERMES_PLUGIN "/plugin.yaml",
                                        "plugins/" HR_HERMES_PLUGIN "/__init__.py"};
    int n = 0;
    for (size_t i = 0; i < 2; i++) {
        char *p = hr__path_join(h->dir, files[i]);
        struct stat st;
        n += p && !stat(p, &st) && S_ISREG(st.st_mode);
        free(p);
    }
    return n == 2;
}
