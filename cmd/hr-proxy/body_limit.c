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
 * check: the filter cannot know their size from the head, and closes their
 * connection after them, so that every head libevent reads has passed it.
 * The framing itself is framing.c's, on bytes alone; here it meets libevent.
 *
 * The filter also writes the connection's output to the socket itself; see
 * filter_output for why. */
#include "proxy.h"

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <errno.h>
#include <stdlib.h>

struct body_limit {
    const struct proxy *p;
    struct bufferevent *filter, *sock;
    struct event *writable; /* the socket takes more output again */
    struct event *kick;     /* output was added: write it on the next loop turn */
    struct framer framer;
    int writing; /* inside on_writable */
};

static void add_to_evbuffer(void *ctx, const char *bytes, size_t n)
{
    evbuffer_add(ctx, bytes, n);
}

static void on_writable(evutil_socket_t fd, short what, void *arg);

static enum bufferevent_filter_result filter_input(struct evbuffer *src, struct evbuffer *dst, ev_ssize_t limit,
                                                   enum bufferevent_flush_mode mode, void *arg)
{
    (void)limit; /* libevent's HTTP server sets no read watermark */
    (void)mode;
    struct body_limit *bl = arg;
    size_t before = evbuffer_get_length(dst), avail;
    bl->framer.max_body = bl->p->set.max_body; /* as now, after any SIGHUP */
    while ((avail = evbuffer_get_length(src))) {
        size_t look = framer_look(&bl->framer, avail);
        const char *buf = look ? (const char *)evbuffer_pullup(src, (ev_ssize_t)look) : NULL;
        if (look && !buf) break; /* out of memory: try again with the next bytes */
        struct frame_step step = framer_next(&bl->framer, buf, avail, add_to_evbuffer, dst);
        if (step.op == FRAME_WAIT) break;
        if (step.op == FRAME_PASS) evbuffer_remove_buffer(src, dst, step.n);
        else evbuffer_drain(src, step.n);
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
    bl->framer = (struct framer){.state = READ_HEAD, .head_max = MAX_HEAD_BYTES, .max_headers = MAX_HEADERS};
    bl->kick = event_new(base, -1, 0, on_writable, bl);
    bl->sock = bl->kick ? bufferevent_socket_new(base, -1, BEV_OPT_CLOSE_ON_FREE) : NULL;
    if (bl->sock)
        bl->filter =
            bufferevent_filter_new(bl->sock, filter_input, filter_output, BEV_OPT_CLOSE_ON_FREE, body_limit_free, bl);
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
