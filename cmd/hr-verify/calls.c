/* The witness of each call: the headroom-route plugin records each API call
 * of Hermes's conversation loop, with the base_url it used (libhr's
 * hr_hermes_calls reads the record). The last calls, judged against the
 * proxy's host and port, tell where calls really went, which the files can
 * only promise. */
#include "verify.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct reading {
    struct witness *w;
    size_t max; /* --calls */
};

/* Each call, newest first, until max calls are read. */
static int read_call(const hr_hermes_call *c, void *ctx)
{
    struct reading *rd = ctx;
    struct witness *w = rd->w;
    struct call *k = &w->calls[w->n++];
    snprintf(k->time, sizeof k->time, "%s", c->time);
    snprintf(k->provider, sizeof k->provider, "%s", c->provider);
    snprintf(k->base_url, sizeof k->base_url, "%s", c->base_url);
    k->ts_ms = c->time_ms;
    k->pid = c->pid;
    return w->n == rd->max;
}

/* The host (lowercased, an IPv6 literal without its brackets) and port of
 * an http(s) URL, the scheme's port when none is given; -1 when url is not
 * http(s) or its port is not one. */
static int authority(const char *url, char *host, size_t host_len, int *port)
{
    size_t n;
    const char *h;
    if (hr_url_host_port(url, &h, &n, port) || *port < 0 || n >= host_len) return -1;
    for (size_t i = 0; i < n; i++) host[i] = (char)tolower((unsigned char)h[i]);
    host[n] = '\0';
    return 0;
}

int same_host_port(const char *a, const char *b)
{
    char ha[256], hb[256];
    int pa, pb;
    return !authority(a, ha, sizeof ha, &pa) && !authority(b, hb, sizeof hb, &pb) && pa == pb && !strcmp(ha, hb);
}

void host_port(const char *url, char *out, size_t len)
{
    char host[256];
    int port;
    if (authority(url, host, sizeof host, &port)) snprintf(out, len, "%s", url);
    else snprintf(out, len, strchr(host, ':') ? "[%s]:%d" : "%s:%d", host, port);
}

static int routes(const char *const *routed, size_t n, const char *provider)
{
    for (size_t i = 0; i < n; i++)
        if (!strcmp(routed[i], provider)) return 1;
    return 0;
}

void witness_read(const char *home, const char *proxy, const char *const *routed, size_t n_routed, long n_max,
                  long long since_ms, struct witness *w)
{
    memset(w, 0, sizeof *w);
    w->since_ms = since_ms > 0 ? since_ms / 1000 * 1000 : 0; /* the record's times are whole seconds */
    size_t len = strlen(home) + sizeof "/" HR_HERMES_CALLS_FILE;
    w->path = malloc(len);
    w->calls = calloc((size_t)n_max, sizeof *w->calls);
    if (!w->path || !w->calls) {
        snprintf(w->err, sizeof w->err, "%s: %s", w->path ? w->path : HR_HERMES_CALLS_FILE, strerror(ENOMEM));
        return;
    }
    snprintf(w->path, len, "%s/%s", home, HR_HERMES_CALLS_FILE);
    struct reading rd = {w, (size_t)n_max};
    hr_status st = hr_hermes_calls(home, read_call, &rd, &w->unparsed, w->err, sizeof w->err);
    w->found = st == HR_OK;
    if (st == HR_OK || st == HR_ENOTFOUND) w->err[0] = '\0';
    for (size_t i = 0; i < w->n; i++) {
        struct call *c = &w->calls[i];
        c->older = c->ts_ms < w->since_ms;
        c->routed = routes(routed, n_routed, c->provider);
        c->via_proxy = same_host_port(c->base_url, proxy);
        w->older += c->older;
        if (c->older) continue;
        w->routed += c->routed;
        w->off += c->routed && !c->via_proxy;
    }
}

void witness_free(struct witness *w)
{
    free(w->path);
    free(w->calls);
    memset(w, 0, sizeof *w);
}
