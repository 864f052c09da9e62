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
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* The plugin keeps a few hundred lines; more than this at the end of the
 * file is never needed for --calls at its largest. */
#define TAIL_BYTES (1 << 20)

/* The file's last TAIL_BYTES bytes, from the start of a line. */
static int read_tail(const char *path, hr_buf *out)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) return errno;
    struct stat sb;
    int err = fstat(fd, &sb) ? errno : 0;
    int cut = !err && sb.st_size > TAIL_BYTES;
    if (cut && lseek(fd, sb.st_size - TAIL_BYTES, SEEK_SET) < 0) err = errno;
    if (!err) err = hr__read_fd(fd, out);
    close(fd);
    if (!err && cut) { /* the first line is a piece of one */
        char *nl = out->data ? memchr(out->data, '\n', out->len) : NULL;
        size_t drop = nl ? (size_t)(nl - out->data) + 1 : out->len;
        memmove(out->data, out->data + drop, out->len - drop);
        out->len -= drop;
    }
    return err;
}

/* One line into c; -1 when it is not a call record (a half-written line). */
static int parse_call(hr_json *d, const char *line, size_t len, struct call *c)
{
    if (hr_json_parse(d, line, len)) return -1;
    hr_json_node root = hr_json_root(d);
    if (hr_json_type_of(d, root) != HR_JSON_OBJECT) return -1;
    memset(c, 0, sizeof *c);
    json_get_string(d, root, "time", c->time, sizeof c->time);
    json_get_string(d, root, "provider", c->provider, sizeof c->provider);
    json_get_string(d, root, "base_url", c->base_url, sizeof c->base_url);
    c->pid = (long long)json_get_number(d, line, root, "pid");
    if ((c->ts_ms = parse_utc_time(c->time)) < 0 || !c->provider[0] || !c->base_url[0]) return -1;
    return 0;
}

/* The start of each of the text's last lines (empty ones skipped), newest
 * first, at most max of them. */
static size_t last_lines(const hr_buf *text, const char **start, size_t *len, size_t max)
{
    size_t n = 0, end = text->len;
    while (end > 0 && n < max) {
        size_t b = end;
        while (b > 0 && text->data[b - 1] != '\n') b--;
        if (end > b) start[n] = text->data + b, len[n++] = end - b;
        end = b ? b - 1 : 0;
    }
    return n;
}

static void read_calls(const hr_buf *text, long n_max, struct witness *w)
{
    size_t max = (size_t)n_max * 2 + 8; /* room for lines that do not parse */
    const char **start = malloc(max * sizeof *start);
    size_t *len = malloc(max * sizeof *len);
    w->calls = calloc((size_t)n_max, sizeof *w->calls);
    hr_json *d = NULL;
    if (!start || !len || !w->calls || hr_json_new(&d)) {
        w->err = ENOMEM;
    } else {
        size_t lines = last_lines(text, start, len, max);
        for (size_t i = 0; i < lines && w->n < (size_t)n_max; i++) {
            if (parse_call(d, start[i], len[i], &w->calls[w->n])) w->unparsed++;
            else w->n++;
        }
    }
    hr_json_free(d);
    free(start);
    free(len);
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
    int err = w->path ? read_tail(w->path, &text) : ENOMEM;
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
