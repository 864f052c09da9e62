/* The shared settings: one table of every setting's flag, environment
 * variable, route.yaml key and default, the headroom home and route.yaml
 * found once, and the precedence every program applies to them. */
#include "settings/route_settings.h"

#include "util/file_io.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

static const struct hr__setting_spec specs[HR_S_COUNT] = {
    /* cache: each tool result compressed once, the same in every request;
     * token: the old messages, again at each request (no prompt caching) */
    [HR_S_MODE] = {"mode", "HEADROOM_MODE", "mode", "cache", HR_K_MODE},
    /* tools whose results are never cut, added to the defaults ("-name" removes one) */
    [HR_S_EXACT_TOOLS] = {"exact-tools", "HEADROOM_EXACT_TOOLS", "exact_tools", "", HR_K_TEXT},
    [HR_S_LISTEN] = {"listen", "HEADROOM_LISTEN", "listen", "127.0.0.1:8788", HR_K_LISTEN},
    [HR_S_ANTHROPIC_URL] = {"anthropic-api-url", "HEADROOM_ANTHROPIC_API_URL", "anthropic_api_url",
                            "https://api.anthropic.com", HR_K_URL},
    [HR_S_OPENAI_URL] = {"openai-api-url", "HEADROOM_OPENAI_API_URL", "openai_api_url", "https://api.openai.com",
                         HR_K_URL},
    [HR_S_CHATGPT_URL] = {"chatgpt-api-url", "HEADROOM_CHATGPT_API_URL", "chatgpt_api_url",
                          "https://chatgpt.com/backend-api/codex", HR_K_URL},
    [HR_S_PROTECT_RECENT] = {"protect-recent", "HEADROOM_PROTECT_RECENT", "protect_recent", "5", HR_K_SIZE},
    [HR_S_MIN_TOKENS] = {"min-tokens", "HEADROOM_MIN_TOKENS_TO_CRUSH", "min_tokens_to_crush", "500", HR_K_SIZE},
    [HR_S_MAX_CONCURRENT] = {"max-concurrent", "HEADROOM_KOMPRESS_MAX_CONCURRENT", "max_concurrent", "1",
                             HR_K_POSITIVE},
    [HR_S_LOG_DIR] = {"log-dir", "HEADROOM_LOG_DIR", "log_dir", NULL, HR_K_DIR},
    [HR_S_MAX_BODY] = {"max-body-bytes", "HEADROOM_MAX_BODY_BYTES", "max_body_bytes", "33554432", HR_K_POSITIVE},
    [HR_S_UPSTREAM_TIMEOUT] = {"upstream-timeout", "HEADROOM_UPSTREAM_TIMEOUT", "upstream_timeout", "600",
                               HR_K_POSITIVE},
    [HR_S_CONNECT_TIMEOUT] = {"connect-timeout", "HEADROOM_CONNECT_TIMEOUT", "connect_timeout", "10", HR_K_POSITIVE},
    [HR_S_CLIENT_TIMEOUT] = {"client-timeout", "HEADROOM_CLIENT_TIMEOUT", "client_timeout", "120", HR_K_POSITIVE},
    [HR_S_COMPRESS_TIMEOUT] = {"compress-timeout-ms", "HEADROOM_COMPRESS_TIMEOUT_MS", "compress_timeout_ms", "1000",
                               HR_K_SIZE},
    [HR_S_SHUTDOWN_WAIT] = {"shutdown-wait", "HEADROOM_SHUTDOWN_WAIT", "shutdown_wait", "30", HR_K_SIZE},
    [HR_S_LOG_MAX] = {"log-max-bytes", "HEADROOM_LOG_MAX_BYTES", "log_max_bytes", "67108864", HR_K_POSITIVE},
    [HR_S_SCORER] = {"scorer", "HEADROOM_SCORER", "scorer", "auto", HR_K_SCORER},
    /* NULL: the home's models/kompress-v2-base; "" given means the same */
    [HR_S_KOMPRESS_MODEL] = {"kompress-model", "HEADROOM_KOMPRESS_MODEL", "kompress_model", NULL, HR_K_PATH},
    [HR_S_KOMPRESS_BACKEND] = {"kompress-backend", "HEADROOM_KOMPRESS_BACKEND", "kompress_backend", "auto",
                               HR_K_BACKEND},
    /* hr-proxy: send every body as it came, log what compression would do */
    [HR_S_OBSERVE] = {"observe", "HEADROOM_OBSERVE", "observe", "false", HR_K_BOOL},
    /* the providers' cache multipliers, relative to uncached input */
    [HR_S_PRICE_ANTHROPIC_CACHE_WRITE] = {"price-anthropic-cache-write", "HEADROOM_PRICE_ANTHROPIC_CACHE_WRITE",
                                          "prices.anthropic.cache_write", "1.25", HR_K_RATE},
    [HR_S_PRICE_ANTHROPIC_CACHE_READ] = {"price-anthropic-cache-read", "HEADROOM_PRICE_ANTHROPIC_CACHE_READ",
                                         "prices.anthropic.cache_read", "0.1", HR_K_RATE},
    [HR_S_PRICE_OPENAI_CACHED] = {"price-openai-cached", "HEADROOM_PRICE_OPENAI_CACHED", "prices.openai.cached", "0.1",
                                  HR_K_RATE},
    /* re-encode only, never cut */
    [HR_S_LOSSLESS] = {"lossless", "HEADROOM_LOSSLESS", "lossless", "false", HR_K_BOOL},
};

const struct hr__setting_spec *hr__setting_spec(enum hr__setting id)
{
    return &specs[id];
}

char *hr__headroom_home(const char *given)
{
    if (given && *given) return strdup(given);
    char *home = hr__user_dir("HEADROOM_HOME", ".headroom");
    return home ? home : strdup("./.headroom");
}

/* The folder scripts/fetch-kompress-model fills, under a home. */
static char *kompress_dir_in(const char *home)
{
    return hr__path_join(home, "models/kompress-v2-base");
}

hr_status hr__settings_open(struct hr__settings *s, const char *home, const char *config, char *err, size_t err_len)
{
    memset(s, 0, sizeof *s);
    if (err_len) err[0] = '\0';
    s->home = hr__headroom_home(home);
    s->log_dir = s->home ? hr__path_join(s->home, "logs") : NULL;
    s->kompress_dir = s->home ? kompress_dir_in(s->home) : NULL;
    s->config_path = config ? strdup(config) : s->home ? hr__path_join(s->home, "route.yaml") : NULL;
    if (!s->home || !s->log_dir || !s->kompress_dir || !s->config_path) {
        snprintf(err, err_len, "out of memory");
        return HR_ENOMEM;
    }
    hr_status st = hr_config_load(s->config_path, &s->cfg, err, err_len);
    if (st == HR_ENOTFOUND && !config) { /* no route.yaml: the defaults */
        free(s->config_path);
        s->config_path = NULL;
        err[0] = '\0';
        return HR_OK;
    }
    return st;
}

void hr__settings_close(struct hr__settings *s)
{
    hr_config_free(s->cfg);
    free(s->home);
    free(s->config_path);
    free(s->log_dir);
    free(s->kompress_dir);
    memset(s, 0, sizeof *s);
}

const char *hr__settings_get(const struct hr__settings *s, enum hr__setting id, const char *flag_value, char *from)
{
    char where;
    const char *v = hr_setting(flag_value, specs[id].env, s->cfg, specs[id].key, &where);
    if (!v) v = id == HR_S_LOG_DIR ? s->log_dir : id == HR_S_KOMPRESS_MODEL ? s->kompress_dir : specs[id].fallback;
    if (from) *from = where;
    return v;
}

void hr__settings_where(const struct hr__settings *s, enum hr__setting id, char from, char *out, size_t len)
{
    if (from == 'f') snprintf(out, len, "--%s", specs[id].flag);
    else if (from == 'e') snprintf(out, len, "%s", specs[id].env);
    else if (from == 'c') snprintf(out, len, "%s: %s", s->config_path ? s->config_path : "route.yaml", specs[id].key);
    else snprintf(out, len, "default %s", specs[id].key);
}

/* Why a value is refused, worded around it, after a space: "unknown mode
 * 'x' (cache, token)". */
struct refusal {
    const char *before, *after;
};

static void refuse(const struct hr__settings *s, enum hr__setting id, const struct hr__setting_value *v,
                   struct refusal why, char *err, size_t err_len)
{
    char where[4200];
    hr__settings_where(s, id, v->from, where, sizeof where);
    snprintf(err, err_len, "%s: %s'%s' %s", where, why.before, v->text, why.after);
}

void hr__settings_refuse(const struct hr__settings *s, enum hr__setting id, const struct hr__setting_value *v,
                         const char *why, char *err, size_t err_len)
{
    refuse(s, id, v, (struct refusal){"", why}, err, err_len);
}

static int is_url(const char *v)
{
    return !strncmp(v, "http://", 7) || !strncmp(v, "https://", 8);
}

static int is_scorer(const char *v)
{
    return !strcmp(v, "auto") || !strcmp(v, "lexical") || !strcmp(v, "kompress");
}

/* v read as kind says into *out: 0, or -1 with why it is refused. */
static int read_kind(enum hr__setting_kind kind, const char *v, struct hr__setting_value *out, struct refusal *why)
{
    static const struct refusal size = {"", "is not a whole number"}, positive = {"", "is not a positive whole number"},
                                boolean = {"", "is not true or false"},
                                listen = {"", "is not a listen address (HOST:PORT)"},
                                url = {"", "is not an http:// or https:// URL"}, dir = {"", "is not a folder"},
                                scorer = {"unknown scorer ", "(auto, lexical, kompress)"},
                                backend = {"unknown Kompress backend ", "(" HR_KOMPRESS_BACKENDS ")"},
                                mode = {"unknown mode ", "(cache, token)"};
    int bad = 0;
    switch (kind) {
    case HR_K_SIZE: bad = hr__parse_size(v, &out->n), *why = size; break;
    case HR_K_POSITIVE: bad = hr__parse_size(v, &out->n) || !out->n, *why = positive; break;
    case HR_K_BOOL: bad = hr__parse_bool(v, &out->on), *why = boolean; break;
    case HR_K_LISTEN: bad = hr__parse_listen(v, out->host, sizeof out->host, &out->port), *why = listen; break;
    case HR_K_URL: bad = !is_url(v), *why = url; break;
    case HR_K_DIR: bad = !*v, *why = dir; break;
    case HR_K_SCORER: bad = !is_scorer(v), *why = scorer; break;
    case HR_K_BACKEND: bad = !hr__kompress_backend_known(v), *why = backend; break;
    case HR_K_MODE: bad = hr_mode_parse(v, &out->mode) != HR_OK, *why = mode; break;
    case HR_K_PATH:
    case HR_K_TEXT:
    case HR_K_RATE: break;
    }
    return bad ? -1 : 0;
}

int hr__settings_read(const struct hr__settings *s, enum hr__setting id, const char *flag_value,
                      struct hr__setting_value *v, char *err, size_t err_len)
{
    memset(v, 0, sizeof *v);
    v->text = hr__settings_get(s, id, flag_value, &v->from);
    if (id == HR_S_KOMPRESS_MODEL && !*v->text) v->text = s->kompress_dir; /* "": the default folder */
    struct refusal why;
    if (!read_kind(specs[id].kind, v->text, v, &why)) return 0;
    refuse(s, id, v, why, err, err_len);
    return -1;
}

const char *hr__setting_env(enum hr__setting id)
{
    const char *v = getenv(specs[id].env);
    return v && *v ? v : NULL;
}

char *hr__kompress_default_dir(void)
{
    const char *env = hr__setting_env(HR_S_KOMPRESS_MODEL);
    if (env) return strdup(env);
    char *home = hr__headroom_home(NULL);
    char *dir = home ? kompress_dir_in(home) : NULL;
    free(home);
    return dir;
}

int hr__parse_bool(const char *v, int *out)
{
    static const char *const yes[] = {"true", "1", "yes", "on", NULL}, *const no[] = {"false", "0", "no", "off", NULL};
    for (int k = 0; yes[k]; k++) {
        if (!strcasecmp(v, yes[k])) return *out = 1, 0;
        if (!strcasecmp(v, no[k])) return *out = 0, 0;
    }
    return -1;
}

int hr__parse_size(const char *v, size_t *out)
{
    if (!v || *v < '0' || *v > '9') return -1;
    errno = 0;
    char *end;
    unsigned long long x = strtoull(v, &end, 10);
    if (errno || *end) return -1;
    *out = (size_t)x;
    return 0;
}

int hr__parse_listen(const char *v, char *host, size_t host_len, int *port)
{
    const char *colon = strrchr(v, ':');
    if (!colon || colon == v) return -1;
    size_t n = (size_t)(colon - v);
    if (v[0] == '[' && n >= 2 && v[n - 1] == ']') { /* [::1]:8788 */
        v++;
        n -= 2;
    }
    if (n == 0 || n >= host_len) return -1;
    char *end;
    long p = strtol(colon + 1, &end, 10);
    if (colon[1] < '0' || colon[1] > '9' || *end || p < 1 || p > 65535) return -1;
    memcpy(host, v, n);
    host[n] = '\0';
    *port = (int)p;
    return 0;
}

char *hr__listen_url(const char *v)
{
    char host[256];
    int port;
    if (!v || hr__parse_listen(v, host, sizeof host, &port)) return NULL;
    /* a proxy listening on every address is reached on loopback */
    const char *h = !strcmp(host, "0.0.0.0") ? "127.0.0.1" : !strcmp(host, "::") ? "::1" : host;
    int v6 = strchr(h, ':') != NULL;
    size_t n = strlen(h) + 32;
    char *url = malloc(n);
    if (url) snprintf(url, n, "http://%s%s%s:%d", v6 ? "[" : "", h, v6 ? "]" : "", port);
    return url;
}
