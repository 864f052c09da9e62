/* The witness of each call: the headroom-route plugin's pre_api_request hook
 * appends one JSON line per API call of Hermes's conversation loop to
 * $HERMES_HOME/headroom-route.calls.jsonl, with the provider and the base_url
 * the call used (Hermes's auxiliary client, for titles, summaries and its
 * own context compression, fires no hook and is not recorded). Reading its
 * last lines tells where calls really went, which the files can only
 * promise. */
#include "verify.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The plugin keeps a few hundred lines; more than this at the end of the
 * file is never needed for --calls at its largest. */
#define TAIL_BYTES (1 << 20)

/* One JSON object into c; -1 when it is not a call record. */
static int parse_call(const hr_json *d, hr_json_node root, const char *line, struct call *c)
{
    memset(c, 0, sizeof *c);
    hr__jsonl_string(d, root, "time", c->time, sizeof c->time);
    hr__jsonl_string(d, root, "provider", c->provider, sizeof c->provider);
    hr__jsonl_string(d, root, "base_url", c->base_url, sizeof c->base_url);
    c->pid = (long long)hr__jsonl_number(d, line, root, "pid");
    if ((c->ts_ms = hr__utc_time_ms(c->time)) < 0 || !c->provider[0] || !c->base_url[0]) return -1;
    return 0;
}

struct reading {
    struct witness *w;
    size_t max; /* --calls */
};

/* Each line, newest first, until max calls are read. */
static int read_call(const hr_json *d, hr_json_node root, const char *line, void *ctx)
{
    struct reading *rd = ctx;
    struct witness *w = rd->w;
    if (parse_call(d, root, line, &w->calls[w->n])) w->unparsed++;
    else w->n++;
    return w->n == rd->max;
}

static void read_calls(const hr_buf *text, long n_max, struct witness *w)
{
    struct reading rd = {w, (size_t)n_max};
    w->calls = calloc((size_t)n_max, sizeof *w->calls);
    if (!w->calls || hr__jsonl_each(text, 1, read_call, &rd, &w->unparsed)) w->err = ENOMEM;
}

/* The host (lowercased, an IPv6 literal without its brackets) and port of
 * an http(s) URL, the scheme's port when none is given; -1 when url is not
 * http(s) or its port is not one. */
static int authority(const char *url, char *host, size_t host_len, int *port)
{
    size_t n;
    const char *h = hr__url_host_port(url, &n, port);
    if (!h || *port < 0 || n >= host_len) return -1;
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

void witness_read(const char *home, const char *proxy, const struct hr__provider *const *routed, size_t n_routed,
                  long n_max, long long since_ms, struct witness *w)
{
    memset(w, 0, sizeof *w);
    w->since_ms = since_ms > 0 ? since_ms / 1000 * 1000 : 0; /* the record's times are whole seconds */
    w->path = hr__path_join(home, CALLS_FILE);
    hr_buf text = {0};
    int err = w->path ? hr__jsonl_load(w->path, TAIL_BYTES, &text) : ENOMEM;
    if (err == ENOENT) err = 0;
    else if (!err) {
        w->found = 1;
        read_calls(&text, n_max, w);
    }
    if (!w->err) w->err = err;
    for (size_t i = 0; i < w->n; i++) {
        struct call *c = &w->calls[i];
        c->older = c->ts_ms < w->since_ms;
        c->routed = hr__routed_has(routed, n_routed, hr__provider_find(c->provider));
        c->via_proxy = same_host_port(c->base_url, proxy);
        w->older += c->older;
        if (c->older) continue;
        w->routed += c->routed;
        w->off += c->routed && !c->via_proxy;
    }
    hr_buf_free(&text);
}

void witness_free(struct witness *w)
{
    free(w->path);
    free(w->calls);
    memset(w, 0, sizeof *w);
}
