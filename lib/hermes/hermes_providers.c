/* The providers hr can route for Hermes, and what a base URL of theirs
 * points at: the proxy, the official host, or something else. */
#include "hermes/hermes.h"

#include <string.h>
#include <strings.h>

/* The proxy's routes: /v1/messages, /responses (ChatGPT Codex), /v1/responses.
 * Hermes ignores model.base_url for anthropic unless its host is Anthropic's
 * or Azure's, and for openai-codex always; openai-api takes it when
 * model.provider names it. */
const struct hr__provider hr__providers[] = {
    {"anthropic", "https://api.anthropic.com", "", 0},
    {"openai-codex", "https://chatgpt.com/backend-api/codex", "", 0},
    {"openai-api", "https://api.openai.com/v1", "/v1", 1},
};
const size_t hr__n_providers = sizeof hr__providers / sizeof hr__providers[0];

const struct hr__provider *hr__provider_find(const char *id)
{
    for (size_t i = 0; id && i < hr__n_providers; i++)
        if (!strcmp(hr__providers[i].id, id)) return &hr__providers[i];
    return NULL;
}

static size_t without_trailing_slashes(const char *s)
{
    size_t n = strlen(s);
    while (n > 0 && s[n - 1] == '/') n--;
    return n;
}

hr_status hr__provider_proxy_url(const struct hr__provider *p, const char *proxy, hr_buf *out)
{
    hr_status st = hr_buf_append(out, proxy, without_trailing_slashes(proxy));
    if (!st) st = hr_buf_append(out, p->proxy_suffix, strlen(p->proxy_suffix));
    return st;
}

const char *hr__url_host_port(const char *url, size_t *len, int *port)
{
    const char *s;
    int tls = 0;
    if (!strncasecmp(url, "http://", 7)) s = url + 7;
    else if (!strncasecmp(url, "https://", 8)) s = url + 8, tls = 1;
    else return NULL;
    const char *end = s + strcspn(s, "/?#");
    const char *at = memchr(s, '@', (size_t)(end - s));
    if (at) s = at + 1;
    const char *host = s, *after;
    if (*s == '[') { /* an IPv6 literal: the address between the brackets */
        const char *close = memchr(s, ']', (size_t)(end - s));
        if (!close) return NULL;
        host = s + 1;
        after = close + 1;
        *len = (size_t)(close - host);
    } else {
        after = s + strcspn(s, ":/?#");
        *len = (size_t)(after - host);
    }
    if (*len == 0) return NULL;
    *port = tls ? 443 : 80;
    if (after < end) { /* ":PORT", else not a port */
        long p = 0;
        const char *d = after + 1;
        if (*after != ':' || d == end) p = -1;
        for (; p >= 0 && d < end; d++) p = *d >= '0' && *d <= '9' && p <= 65535 ? p * 10 + (*d - '0') : -1;
        *port = p >= 1 && p <= 65535 ? (int)p : -1;
    }
    return host;
}

int hr__url_is_http(const char *s)
{
    size_t n;
    int port;
    return s && hr__url_host_port(s, &n, &port) != NULL;
}

static int host_is(const char *host, size_t n, const char *name)
{
    return strlen(name) == n && !strncasecmp(host, name, n);
}

static int official_host(const struct hr__provider *p, const char *host, size_t n)
{
    size_t on;
    int port;
    const char *oh = hr__url_host_port(p->official_url, &on, &port);
    return on == n && !strncasecmp(oh, host, n);
}

static int same_url(const char *a, const char *b)
{
    size_t na = without_trailing_slashes(a), nb = without_trailing_slashes(b);
    return na == nb && !strncasecmp(a, b, na);
}

hr__url_kind hr__url_classify(const struct hr__provider *p, const char *proxy, const char *url)
{
    if (!url || !*url) return HR_URL_NONE;
    hr_buf want = {0};
    int is_proxy = !hr__provider_proxy_url(p, proxy, &want) && same_url(url, want.data);
    hr_buf_free(&want);
    if (is_proxy) return HR_URL_PROXY;
    size_t n;
    int port;
    const char *host = hr__url_host_port(url, &n, &port);
    if (!host) return HR_URL_CUSTOM;
    if (official_host(p, host, n)) return HR_URL_OFFICIAL;
    if (host_is(host, n, "127.0.0.1") || host_is(host, n, "localhost") || host_is(host, n, "::1") ||
        host_is(host, n, "0.0.0.0"))
        return HR_URL_LOOPBACK;
    return HR_URL_CUSTOM;
}

const char *hr__url_kind_name(hr__url_kind kind)
{
    switch (kind) {
    case HR_URL_NONE: return "default";
    case HR_URL_PROXY: return "proxy";
    case HR_URL_OFFICIAL: return "official";
    case HR_URL_LOOPBACK: return "other-local";
    case HR_URL_CUSTOM: return "custom";
    }
    return "?";
}

int hr__url_replaceable(hr__url_kind kind)
{
    return kind == HR_URL_NONE || kind == HR_URL_OFFICIAL || kind == HR_URL_LOOPBACK;
}
