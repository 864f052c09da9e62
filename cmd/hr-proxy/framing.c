/* Request framing on bytes alone: heads, then Content-Length bodies for the
 * methods that have one, the way libevent reads them. A head that announces
 * too large a body, one whose body length is ambiguous and one over the
 * header limits are written again as a head with no body and a marker
 * header, which on_request answers (413, 400, 431); one whose body libevent
 * frames alone (chunked) closes the connection after it. body_limit.c runs
 * this on a connection's input; fuzz/fuzz_http.c on any bytes. */
#include "framing.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

size_t http_head_length(const char *buf, size_t n)
{
    /* lines end in LF or CRLF, as libevent accepts them */
    for (size_t i = 0; i + 1 < n; i++) {
        if (buf[i] != '\n') continue;
        if (buf[i + 1] == '\n') return i + 2;
        if (buf[i + 1] == '\r' && i + 2 < n && buf[i + 2] == '\n') return i + 3;
    }
    return 0;
}

static int header_is(const char *line, size_t len, const char *name)
{
    size_t n = strlen(name);
    return len > n && line[n] == ':' && !strncasecmp(line, name, n);
}

static const char *header_value(const char *line, const char *end, const char *name)
{
    const char *v = line + strlen(name) + 1;
    while (v < end && (*v == ' ' || *v == '\t')) v++;
    return v;
}

static int parse_length(const char *v, const char *end, uint64_t *out)
{
    uint64_t n = 0;
    const char *start = v;
    while (v < end && *v >= '0' && *v <= '9') {
        if (n > (UINT64_MAX - 9) / 10) return -1;
        n = n * 10 + (uint64_t)(*v++ - '0');
    }
    while (v < end && (*v == ' ' || *v == '\t' || *v == '\r')) v++;
    if (v == start || v != end) return -1;
    *out = n;
    return 0;
}

void http_head_read(const char *buf, size_t len, struct http_head *h)
{
    memset(h, 0, sizeof *h);
    h->len = len;
    h->line_end = memchr(buf, '\n', len);
    h->has_body = !strncmp(buf, "POST ", 5) || !strncmp(buf, "PUT ", 4) || !strncmp(buf, "PATCH ", 6);
    for (const char *line = h->line_end + 1; line < buf + len;) {
        const char *end = memchr(line, '\n', (size_t)(buf + len - line));
        size_t n = (size_t)(end - line);
        h->headers += n > 1;
        if (header_is(line, n, "Content-Length")) {
            uint64_t v = 0;
            h->bad_length |= parse_length(header_value(line, end, "Content-Length"), end, &v) != 0;
            h->conflicting |= h->content_lengths && v != h->content_length;
            h->content_length = v;
            h->content_lengths++;
        } else if (header_is(line, n, "Transfer-Encoding")) {
            h->chunked = 1;
        } else if (header_is(line, n, "Expect")) {
            h->expect = 1;
        }
        line = end + 1;
    }
}

/* The request line and the header lines of the head, less blank lines and
 * the headers named in drop (NULL-terminated). */
static void copy_head(const char *buf, const struct http_head *h, const char *const *drop, frame_emit emit, void *ctx)
{
    emit(ctx, buf, (size_t)(h->line_end + 1 - buf));
    for (const char *line = h->line_end + 1; line < buf + h->len;) {
        const char *end = memchr(line, '\n', (size_t)(buf + h->len - line));
        size_t n = (size_t)(end - line);
        int keep = !(n == 0 || (n == 1 && line[0] == '\r'));
        for (const char *const *d = drop; keep && *d; d++) keep = !header_is(line, n, *d);
        if (keep) emit(ctx, line, n + 1);
        line = end + 1;
    }
}

/* The marker header and what closes the rewritten head. */
static void emit_marker(frame_emit emit, void *ctx, const char *name, const char *value, int close)
{
    char tail[256];
    int k = snprintf(tail, sizeof tail, "%s: %s\r\nContent-Length: 0\r\n%s\r\n", name, value,
                     close ? "Connection: close\r\n" : "");
    if (k > 0) emit(ctx, tail, (size_t)k < sizeof tail ? (size_t)k : sizeof tail - 1);
}

/* The head with no body and the marker on_request answers with a 413. An
 * Expect: 100-continue client has sent no body yet and waits; it gets the
 * answer on a connection that then closes. */
static void write_marked_head(const char *buf, const struct http_head *h, frame_emit emit, void *ctx)
{
    const char *const drop[] = {"Content-Length", "Expect", TOO_LARGE_HEADER, h->expect ? "Connection" : NULL, NULL};
    char length[24];
    copy_head(buf, h, drop, emit, ctx);
    snprintf(length, sizeof length, "%llu", (unsigned long long)h->content_length);
    emit_marker(emit, ctx, TOO_LARGE_HEADER, length, h->expect);
}

/* Why the body of a head cannot be framed safely, or NULL: a length that is
 * not plain digits ("+2", "1,2"), two lengths that differ, a length beside
 * chunked coding. A server and a proxy that pick different readings of
 * such a head read different requests in the same bytes (smuggling). */
static const char *bad_framing(const struct http_head *h)
{
    if (h->bad_length) return "a Content-Length that is not a number";
    if (h->conflicting) return "two different Content-Length values";
    if (h->chunked && h->content_lengths) return "Content-Length beside Transfer-Encoding";
    return NULL;
}

/* The request line and the marker on_request answers with a 400; the
 * connection closes after it, the bytes after the head being unframed. */
static void write_refused_head(const char *buf, const struct http_head *h, const char *why, frame_emit emit, void *ctx)
{
    static const char *const drop[] = {"Content-Length", "Transfer-Encoding", "Expect", "Connection",
                                       TOO_LARGE_HEADER, BAD_FRAMING_HEADER,  NULL};
    copy_head(buf, h, drop, emit, ctx);
    emit_marker(emit, ctx, BAD_FRAMING_HEADER, why, 1);
}

/* A head whose body libevent frames by itself (chunked coding, the same
 * Content-Length twice): the filter cannot follow that body to the next
 * head, so the connection closes after this request, and no head after it
 * reaches libevent unchecked (over the limits, its length ambiguous).
 * libevent closes on a first Connection header of exactly "close". */
static void write_closing_head(const char *buf, const struct http_head *h, frame_emit emit, void *ctx)
{
    static const char *const drop[] = {"Connection", NULL};
    static const char tail[] = "Connection: close\r\n\r\n";
    copy_head(buf, h, drop, emit, ctx);
    emit(ctx, tail, sizeof tail - 1);
}

/* A head over the limits becomes its request line and the marker
 * on_request answers with a 431; nothing after it is read. n: the bytes
 * of buf looked at. */
static struct frame_step refuse_large_head(struct framer *f, const char *buf, size_t n, const char *why,
                                           frame_emit emit, void *ctx)
{
    const char *nl = memchr(buf, '\n', n);
    if (!nl) { /* not even a request line: libevent answers 400 */
        f->state = PASS_ALL;
        return (struct frame_step){FRAME_PASS, n};
    }
    emit(ctx, buf, (size_t)(nl + 1 - buf));
    emit_marker(emit, ctx, HEADERS_TOO_LARGE_HEADER, why, 1);
    f->state = DROP_ALL;
    return (struct frame_step){FRAME_DROP, n};
}

/* One head at the start of buf: passed on or rewritten, and the state for
 * the bytes after it. */
static struct frame_step take_head(struct framer *f, const char *buf, size_t avail, frame_emit emit, void *ctx)
{
    size_t look = framer_look(f, avail);
    size_t len = http_head_length(buf, look);
    char why[64];
    if (!len) {
        if (look < f->head_max) return (struct frame_step){FRAME_WAIT, 0};
        snprintf(why, sizeof why, "request headers over %zu KiB", f->head_max / 1024);
        return refuse_large_head(f, buf, look, why, emit, ctx);
    }
    struct http_head h;
    http_head_read(buf, len, &h);
    if (h.headers > f->max_headers) {
        snprintf(why, sizeof why, "more than %zu request headers", f->max_headers);
        return refuse_large_head(f, buf, len, why, emit, ctx);
    }
    const char *bad = bad_framing(&h);
    if (bad) {
        write_refused_head(buf, &h, bad, emit, ctx);
        f->state = DROP_ALL;
        return (struct frame_step){FRAME_DROP, len};
    }
    if (h.chunked || h.content_lengths > 1) {
        write_closing_head(buf, &h, emit, ctx);
        f->state = PASS_ALL;
        return (struct frame_step){FRAME_DROP, len};
    } else if (h.has_body && h.content_lengths && h.content_length > f->max_body) {
        write_marked_head(buf, &h, emit, ctx);
        f->state = h.expect ? DROP_ALL : DROP_BODY;
        f->remaining = h.content_length;
        return (struct frame_step){FRAME_DROP, len};
    } else if (h.has_body && h.content_length) {
        f->state = PASS_BODY;
        f->remaining = h.content_length;
    }
    return (struct frame_step){FRAME_PASS, len};
}

size_t framer_look(const struct framer *f, size_t avail)
{
    if (f->state != READ_HEAD) return 0;
    return avail < f->head_max ? avail : f->head_max;
}

struct frame_step framer_next(struct framer *f, const char *buf, size_t avail, frame_emit emit, void *ctx)
{
    if (!avail) return (struct frame_step){FRAME_WAIT, 0};
    size_t n = f->remaining < avail ? (size_t)f->remaining : avail;
    switch (f->state) {
    case PASS_ALL: return (struct frame_step){FRAME_PASS, avail};
    case DROP_ALL: return (struct frame_step){FRAME_DROP, avail};
    case PASS_BODY:
    case DROP_BODY: {
        struct frame_step s = {f->state == PASS_BODY ? FRAME_PASS : FRAME_DROP, n};
        f->remaining -= n;
        if (!f->remaining) f->state = READ_HEAD;
        return s;
    }
    case READ_HEAD: break;
    }
    return take_head(f, buf, avail, emit, ctx);
}
