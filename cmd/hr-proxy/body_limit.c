/* The body limit, answered in the provider's format.
 *
 * libevent 2.1 refuses a Content-Length over its max_body_size itself, with
 * an HTML page, before any callback of ours runs, and offers no hook to
 * change that. So each client connection reads through a filter that frames
 * requests the way libevent does (heads, then Content-Length bodies for the
 * methods that have one) and turns a head that announces too large a body
 * into the same head with no body and a marker header; on_request answers
 * that with a 413 in the JSON format of the provider. The body is read and
 * dropped as it arrives, so the connection stays usable and the client
 * sees the answer instead of a reset. Chunked bodies keep libevent's own
 * check: the filter cannot know their size from the head.
 *
 * The filter also writes the connection's output to the socket itself; see
 * filter_output for why. */
#include "proxy.h"

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* A head longer than this, or of more header lines than MAX_HEADERS, gets
 * a 431 and its connection closes: libevent would hold any size and count,
 * and forwarding them costs time that grows with their square. */
#define HEAD_MAX MAX_HEAD_BYTES

enum framing {
    READ_HEAD,    /* the next bytes start a request head */
    PASS_BODY,    /* `remaining` bytes of a body that goes to libevent */
    DROP_BODY,    /* `remaining` bytes of a body too large: dropped */
    DROP_ALL,     /* the connection closes after the 413: drop everything */
    PASS_ALL,     /* framing unknown (chunked, odd head): libevent alone */
};

struct body_limit {
    const struct proxy *p;
    struct bufferevent *filter, *sock;
    struct event *writable; /* the socket takes more output again */
    struct event *kick;     /* output was added: write it on the next loop turn */
    enum framing state;
    uint64_t remaining;
    int writing; /* inside on_writable */
};

struct head {
    size_t len;                 /* bytes, blank line included */
    const char *line_end;       /* end of the request line */
    int has_body;               /* a method libevent reads a body for */
    int content_lengths, bad_length, conflicting, chunked, expect;
    uint64_t content_length;
    size_t headers; /* header lines */
};

/* The length of the head at the start of buf (up to and including the blank
 * line), or 0 when it is not all there yet. Lines end in LF or CRLF, as
 * libevent accepts them. */
static size_t head_length(const char *buf, size_t n)
{
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

/* What the filter needs of a head: the method and the body's framing. */
static void read_head(const char *buf, size_t len, struct head *h)
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
static void copy_head(const char *buf, const struct head *h, const char *const *drop, struct evbuffer *dst)
{
    evbuffer_add(dst, buf, (size_t)(h->line_end + 1 - buf));
    for (const char *line = h->line_end + 1; line < buf + h->len;) {
        const char *end = memchr(line, '\n', (size_t)(buf + h->len - line));
        size_t n = (size_t)(end - line);
        int keep = !(n == 0 || (n == 1 && line[0] == '\r'));
        for (const char *const *d = drop; keep && *d; d++) keep = !header_is(line, n, *d);
        if (keep) evbuffer_add(dst, line, n + 1);
        line = end + 1;
    }
}

/* The head with no body and the marker on_request answers with a 413. An
 * Expect: 100-continue client has sent no body yet and waits; it gets the
 * answer on a connection that then closes. */
static void write_marked_head(const char *buf, const struct head *h, struct evbuffer *dst)
{
    const char *const drop[] = {"Content-Length", "Expect", TOO_LARGE_HEADER, h->expect ? "Connection" : NULL, NULL};
    copy_head(buf, h, drop, dst);
    evbuffer_add_printf(dst, "%s: %llu\r\nContent-Length: 0\r\n%s\r\n", TOO_LARGE_HEADER,
                        (unsigned long long)h->content_length, h->expect ? "Connection: close\r\n" : "");
}

/* Why the body of a head cannot be framed safely, or NULL: a length that is
 * not plain digits ("+2", "1,2"), two lengths that differ, a length beside
 * chunked coding. A server and a proxy that pick different readings of
 * such a head read different requests in the same bytes (smuggling). */
static const char *bad_framing(const struct head *h)
{
    if (h->bad_length) return "a Content-Length that is not a number";
    if (h->conflicting) return "two different Content-Length values";
    if (h->chunked && h->content_lengths) return "Content-Length beside Transfer-Encoding";
    return NULL;
}

/* The request line and the marker on_request answers with a 400; the
 * connection closes after it, the bytes after the head being unframed. */
static void write_refused_head(const char *buf, const struct head *h, const char *why, struct evbuffer *dst)
{
    static const char *const drop[] = {"Content-Length", "Transfer-Encoding", "Expect", "Connection",
                                       TOO_LARGE_HEADER, BAD_FRAMING_HEADER, NULL};
    copy_head(buf, h, drop, dst);
    evbuffer_add_printf(dst, "%s: %s\r\nContent-Length: 0\r\nConnection: close\r\n\r\n", BAD_FRAMING_HEADER, why);
}

/* A head over the limits becomes its request line and the marker
 * on_request answers with a 431; nothing after it is read. */
static void refuse_large_head(struct body_limit *bl, struct evbuffer *src, struct evbuffer *dst, const char *buf,
                              size_t avail, const char *why)
{
    const char *nl = memchr(buf, '\n', avail);
    if (!nl) { /* not even a request line: libevent answers 400 */
        bl->state = PASS_ALL;
        return;
    }
    evbuffer_add(dst, buf, (size_t)(nl + 1 - buf));
    evbuffer_add_printf(dst, "%s: %s\r\nContent-Length: 0\r\nConnection: close\r\n\r\n", HEADERS_TOO_LARGE_HEADER,
                        why);
    evbuffer_drain(src, avail);
    bl->state = DROP_ALL;
}

/* One head at the start of src: passed on or rewritten, and the state for
 * the bytes after it. 0 when the head is not complete yet. */
static int take_head(struct body_limit *bl, struct evbuffer *src, struct evbuffer *dst)
{
    size_t avail = evbuffer_get_length(src);
    size_t look = avail < HEAD_MAX ? avail : HEAD_MAX;
    const char *buf = (const char *)evbuffer_pullup(src, (ev_ssize_t)look);
    size_t len = head_length(buf, look);
    if (!len) {
        if (look == HEAD_MAX) refuse_large_head(bl, src, dst, buf, look, "request headers over 64 KiB");
        return bl->state == PASS_ALL || bl->state == DROP_ALL;
    }
    struct head h;
    read_head(buf, len, &h);
    bl->state = READ_HEAD;
    if (h.headers > MAX_HEADERS) {
        refuse_large_head(bl, src, dst, buf, len, "more than 200 request headers");
        return 1;
    }
    const char *why = bad_framing(&h);
    if (why) {
        write_refused_head(buf, &h, why, dst);
        evbuffer_drain(src, len);
        bl->state = DROP_ALL;
        return 1;
    }
    if (h.chunked || h.content_lengths > 1) {
        bl->state = PASS_ALL;
    } else if (h.has_body && h.content_lengths && h.content_length > bl->p->set.max_body) {
        write_marked_head(buf, &h, dst);
        evbuffer_drain(src, len);
        bl->state = h.expect ? DROP_ALL : DROP_BODY;
        bl->remaining = h.content_length;
        return 1;
    } else if (h.has_body && h.content_length) {
        bl->state = PASS_BODY;
        bl->remaining = h.content_length;
    }
    evbuffer_remove_buffer(src, dst, len);
    return 1;
}

static void on_writable(evutil_socket_t fd, short what, void *arg);

static enum bufferevent_filter_result filter_input(struct evbuffer *src, struct evbuffer *dst, ev_ssize_t limit,
                                                   enum bufferevent_flush_mode mode, void *arg)
{
    (void)limit; /* libevent's HTTP server sets no read watermark */
    (void)mode;
    struct body_limit *bl = arg;
    size_t before = evbuffer_get_length(dst);
    while (evbuffer_get_length(src)) {
        size_t avail = evbuffer_get_length(src);
        size_t n = bl->remaining < avail ? (size_t)bl->remaining : avail;
        if (bl->state == PASS_ALL) {
            evbuffer_add_buffer(dst, src);
        } else if (bl->state == DROP_ALL) {
            evbuffer_drain(src, avail);
        } else if (bl->state == PASS_BODY || bl->state == DROP_BODY) {
            if (bl->state == PASS_BODY) evbuffer_remove_buffer(src, dst, n);
            else evbuffer_drain(src, n);
            bl->remaining -= n;
            if (!bl->remaining) bl->state = READ_HEAD;
        } else if (!take_head(bl, src, dst)) {
            break;
        }
    }
    return evbuffer_get_length(dst) > before ? BEV_OK : BEV_NEED_MORE;
}

/* Output goes from the filter's buffer straight to the socket. Passed down
 * to the socket bufferevent's buffer instead, it would leave the filter's
 * buffer at once, and libevent's HTTP layer, which takes an empty output
 * buffer for "all sent", would close connections with an answer still
 * unsent, and the forwarder would never see a slow client. */
static enum bufferevent_filter_result filter_output(struct evbuffer *src, struct evbuffer *dst, ev_ssize_t limit,
                                                    enum bufferevent_flush_mode mode, void *arg)
{
    (void)dst;
    (void)limit;
    (void)mode;
    struct body_limit *bl = arg;
    evutil_socket_t fd = bufferevent_getfd(bl->sock);
    if (!bl->writing || fd < 0 || !evbuffer_get_length(src)) return BEV_NEED_MORE;
    int n = evbuffer_write(src, fd);
    if (n > 0) return BEV_OK;
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)) {
        if (!bl->writable) bl->writable = event_new(bufferevent_get_base(bl->sock), fd, EV_WRITE, on_writable, bl);
        if (bl->writable) event_add(bl->writable, NULL);
        return BEV_NEED_MORE;
    }
    /* the client is gone: the HTTP layer hears it as from a socket */
    bufferevent_trigger_event(bl->filter, BEV_EVENT_WRITING | BEV_EVENT_ERROR, BEV_TRIG_DEFER_CALLBACKS);
    return BEV_ERROR;
}

static void on_writable(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    struct body_limit *bl = arg;
    struct bufferevent *filter = bl->filter;
    bufferevent_incref(filter); /* the HTTP layer may free it when all is sent */
    bl->writing = 1;
    bufferevent_flush(filter, EV_WRITE, BEV_NORMAL);
    bl->writing = 0;
    bufferevent_decref(filter);
}

/* Output is written only from here, when the loop comes round after it was
 * added, as a socket bufferevent does it: the HTTP layer adds an answer
 * first and then says what to do once it is sent, and enables EV_WRITE
 * only then, so a write made at once would be over before it listens. */
static void on_output_added(struct evbuffer *out, const struct evbuffer_cb_info *info, void *arg)
{
    (void)out;
    struct body_limit *bl = arg;
    if (info->n_added) event_active(bl->kick, EV_WRITE, 0);
}

static void body_limit_free(void *arg)
{
    struct body_limit *bl = arg;
    if (bl->writable) event_free(bl->writable);
    if (bl->kick) event_free(bl->kick);
    free(bl);
}

struct bufferevent *body_limit_bufferevent(struct event_base *base, void *arg)
{
    listen_accepted(); /* a connection came in: accepting works */
    struct body_limit *bl = calloc(1, sizeof *bl);
    if (!bl) return NULL; /* libevent then makes a plain one */
    bl->p = arg;
    bl->kick = event_new(base, -1, 0, on_writable, bl);
    bl->sock = bl->kick ? bufferevent_socket_new(base, -1, BEV_OPT_CLOSE_ON_FREE) : NULL;
    if (bl->sock)
        bl->filter = bufferevent_filter_new(bl->sock, filter_input, filter_output, BEV_OPT_CLOSE_ON_FREE,
                                            body_limit_free, bl);
    struct bufferevent *filter = bl->filter;
    if (!filter) {
        if (bl->sock) bufferevent_free(bl->sock);
        if (bl->kick) event_free(bl->kick);
        free(bl);
        return NULL;
    }
    evbuffer_add_cb(bufferevent_get_output(filter), on_output_added, bl);
    return filter;
}
