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
    [HR_S_MODE] = {"mode", "HEADROOM_MODE", "mode", "cache"},
    /* tools whose results are never cut, added to the defaults ("-name" removes one) */
    [HR_S_EXACT_TOOLS] = {"exact-tools", "HEADROOM_EXACT_TOOLS", "exact_tools", ""},
    [HR_S_LISTEN] = {"listen", "HEADROOM_LISTEN", "listen", "127.0.0.1:8788"},
    [HR_S_ANTHROPIC_URL] = {"anthropic-api-url", "HEADROOM_ANTHROPIC_API_URL", "anthropic_api_url",
                            "https://api.anthropic.com"},
    [HR_S_OPENAI_URL] = {"openai-api-url", "HEADROOM_OPENAI_API_URL", "openai_api_url", "https://api.openai.com"},
    [HR_S_CHATGPT_URL] = {"chatgpt-api-url", "HEADROOM_CHATGPT_API_URL", "chatgpt_api_url",
                          "https://chatgpt.com/backend-api/codex"},
    [HR_S_PROTECT_RECENT] = {"protect-recent", "HEADROOM_PROTECT_RECENT", "protect_recent", "5"},
    [HR_S_MIN_TOKENS] = {"min-tokens", "HEADROOM_MIN_TOKENS_TO_CRUSH", "min_tokens_to_crush", "500"},
    [HR_S_MAX_CONCURRENT] = {"max-concurrent", "HEADROOM_KOMPRESS_MAX_CONCURRENT", "max_concurrent", "1"},
    [HR_S_LOG_DIR] = {"log-dir", "HEADROOM_LOG_DIR", "log_dir", NULL},
    [HR_S_MAX_BODY] = {"max-body-bytes", "HEADROOM_MAX_BODY_BYTES", "max_body_bytes", "33554432"},
    [HR_S_UPSTREAM_TIMEOUT] = {"upstream-timeout", "HEADROOM_UPSTREAM_TIMEOUT", "upstream_timeout", "600"},
    [HR_S_CONNECT_TIMEOUT] = {"connect-timeout", "HEADROOM_CONNECT_TIMEOUT", "connect_timeout", "10"},
    [HR_S_CLIENT_TIMEOUT] = {"client-timeout", "HEADROOM_CLIENT_TIMEOUT", "client_timeout", "120"},
    [HR_S_COMPRESS_TIMEOUT] = {"compress-timeout-ms", "HEADROOM_COMPRESS_TIMEOUT_MS", "compress_timeout_ms", "1000"},
    [HR_S_SHUTDOWN_WAIT] = {"shutdown-wait", "HEADROOM_SHUTDOWN_WAIT", "shutdown_wait", "30"},
    [HR_S_LOG_MAX] = {"log-max-bytes", "HEADROOM_LOG_MAX_BYTES", "log_max_bytes", "67108864"},
    [HR_S_SCORER] = {"scorer", "HEADROOM_SCORER", "scorer", "auto"},
    /* "": libhr's default folder (hr__kompress_default_dir) */
    [HR_S_KOMPRESS_MODEL] = {"kompress-model", "HEADROOM_KOMPRESS_MODEL", "kompress_model", ""},
    [HR_S_KOMPRESS_BACKEND] = {"kompress-backend", "HEADROOM_KOMPRESS_BACKEND", "kompress_backend", "auto"},
    /* hr-proxy: send every body as it came, log what compression would do */
    [HR_S_OBSERVE] = {"observe", "HEADROOM_OBSERVE", "observe", "false"},
    /* the providers' cache multipliers, relative to uncached input */
    [HR_S_PRICE_ANTHROPIC_CACHE_WRITE] = {"price-anthropic-cache-write", "HEADROOM_PRICE_ANTHROPIC_CACHE_WRITE",
                                          "prices.anthropic.cache_write", "1.25"},
    [HR_S_PRICE_ANTHROPIC_CACHE_READ] = {"price-anthropic-cache-read", "HEADROOM_PRICE_ANTHROPIC_CACHE_READ",
                                         "prices.anthropic.cache_read", "0.1"},
    [HR_S_PRICE_OPENAI_CACHED] = {"price-openai-cached", "HEADROOM_PRICE_OPENAI_CACHED", "prices.openai.cached", "0.1"},
    /* re-encode only, never cut */
    [HR_S_LOSSLESS] = {"lossless", "HEADROOM_LOSSLESS", "lossless", "false"},
};

const struct hr__setting_spec *hr__setting_spec(enum hr__setting id)
{
    return &specs[id];
}

/* A process with neither $HEADROOM_HOME nor $HOME (a bare service) still
 * gets a home, relative to where it runs. */
static char *find_home(const char *given)
{
    if (given && *given) return strdup(given);
    char *home = hr__user_dir("HEADROOM_HOME", ".headroom");
    return home ? home : strdup("./.headroom");
}

hr_status hr__settings_open(struct hr__settings *s, const char *home, const char *config, char *err, size_t err_len)
{
    memset(s, 0, sizeof *s);
    if (err_len) err[0] = '\0';
    s->home = find_home(home);
    s->log_dir = s->home ? hr__path_join(s->home, "logs") : NULL;
    s->config_path = config ? strdup(config) : s->home ? hr__path_join(s->home, "route.yaml") : NULL;
    if (!s->home || !s->log_dir || !s->config_path) {
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
    memset(s, 0, sizeof *s);
}

const char *hr__settings_get(const struct hr__settings *s, enum hr__setting id, const char *flag_value, char *from)
{
    char where;
    const char *v = hr_setting(flag_value, specs[id].env, s->cfg, specs[id].key, &where);
    if (!v) v = id == HR_S_LOG_DIR ? s->log_dir : specs[id].fallback;
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
