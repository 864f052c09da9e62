/* The upstream leg of an exchange: its body sent upstream on curl with the
 * client's end-to-end headers, and the answer relayed as it arrives: status
 * and headers as they are, the body chunk by chunk, pausing the upstream while
 * the client's socket is full, its usage read on the way; an upstream silent
 * for upstream_timeout ends the exchange. */
#include "proxy.h"

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/keyvalq_struct.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* Client output above this pauses the upstream transfer. */
#define CLIENT_HIGH_WATER (256 * 1024)

/* ---- the upstream's answer ----------------------------------------------------------- */

static int is_hop_by_hop(const char *name, size_t n)
{
    static const char *const hop[] = {"connection",
                                      "keep-alive",
                                      "proxy-authenticate",
                                      "proxy-authorization",
                                      "te",
                                      "trailer",
                                      "trailers",
                                      "transfer-encoding",
                                      "upgrade",
                                      "proxy-connection",
                                      NULL};
    for (const char *const *h = hop; *h; h++)
        if (strlen(*h) == n && !strncasecmp(name, *h, n)) return 1;
    return 0;
}

static void start_reply(struct exchange *ex)
{
    if (ex->replying || !ex->req) return;
    ex->replying = 1;
    ex->rec.ttfb_ms = now_ms() - ex->t0;
    evhttp_send_reply_start(ex->req, ex->status, ex->reason[0] ? ex->reason : NULL);
}

static void upstream_spoke(struct exchange *ex);

static size_t on_header(char *line, size_t size, size_t n, void *arg)
{
    struct exchange *ex = arg;
    size_t len = size * n;
    if (!ex->req) return 0;
    upstream_spoke(ex);
    if (len >= 5 && !strncmp(line, "HTTP/", 5)) { /* a status line: a new response */
        size_t i = 5;
        while (i < len && line[i] != ' ') i++;
        ex->status = i < len ? atoi(line + i + 1) : 502;
        i++;
        while (i < len && line[i] >= '0' && line[i] <= '9') i++;
        while (i < len && line[i] == ' ') i++;
        size_t e = len;
        while (e > i && (line[e - 1] == '\r' || line[e - 1] == '\n')) e--;
        snprintf(ex->reason, sizeof ex->reason, "%.*s", (int)(e - i), line + i);
        ex->encoding[0] = '\0';
        evhttp_clear_headers(evhttp_request_get_output_headers(ex->req));
        return len;
    }
    const char *colon = memchr(line, ':', len);
    if (!colon) return len; /* the blank line after the headers */
    size_t nlen = (size_t)(colon - line);
    if (ex->status >= 100 && ex->status < 200) return len; /* 100 Continue and friends */
    if (is_hop_by_hop(line, nlen)) return len;
    const char *v = colon + 1;
    size_t vlen = len - nlen - 1;
    while (vlen && (*v == ' ' || *v == '\t')) v++, vlen--;
    while (vlen && (v[vlen - 1] == '\r' || v[vlen - 1] == '\n' || v[vlen - 1] == ' ')) vlen--;
    char name[256], value[8192];
    if (nlen >= sizeof name || vlen >= sizeof value) return len;
    memcpy(name, line, nlen);
    name[nlen] = '\0';
    memcpy(value, v, vlen);
    value[vlen] = '\0';
    if (!strcasecmp(name, "Content-Type") && !strncasecmp(value, "text/event-stream", 17)) ex->stream = 1;
    if (!strcasecmp(name, "Content-Encoding")) { /* one too long to hold is none usage.c can read */
        if (vlen < sizeof ex->encoding) memcpy(ex->encoding, value, vlen + 1);
        else memcpy(ex->encoding, "unknown", 8);
    }
    evhttp_add_header(evhttp_request_get_output_headers(ex->req), name, value);
    return len;
}

/* The upstream said something (or the proxy reads again): the silence that
 * times it out starts over. */
static void upstream_spoke(struct exchange *ex)
{
    struct timeval tv = {ex->p->set.upstream_timeout_s, 0};
    if (ex->silence) evtimer_add(ex->silence, &tv);
}

/* upstream_timeout seconds without a byte from the upstream: a 504, or a
 * broken answer when one has begun. Not while the proxy holds the upstream
 * back for a slow client: then the silence is its own. Curl's low-speed
 * check, which this replaces, fired seconds late. */
static void on_upstream_silent(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    struct exchange *ex = arg;
    if (ex->finished) return;
    if (ex->paused) {
        upstream_spoke(ex);
        return;
    }
    exchange_finish(ex, CURLE_OPERATION_TIMEDOUT);
}

static void on_client_drained(struct evhttp_connection *evcon, void *arg)
{
    (void)evcon;
    struct exchange *ex = arg;
    if (ex->paused && ex->req && !ex->finished) {
        ex->paused = 0;
        upstream_spoke(ex);
        curl_easy_pause(ex->easy, CURLPAUSE_CONT);
    }
}

static size_t client_backlog(struct exchange *ex)
{
    struct bufferevent *bev = evhttp_connection_get_bufferevent(ex->evcon);
    return bev ? evbuffer_get_length(bufferevent_get_output(bev)) : 0;
}

static size_t on_body(char *data, size_t size, size_t n, void *arg)
{
    struct exchange *ex = arg;
    size_t len = size * n;
    if (!ex->req) return 0; /* the client is gone: abort */
    upstream_spoke(ex);
    start_reply(ex);
    if (client_backlog(ex) > CLIENT_HIGH_WATER) { /* a slow client: hold the upstream */
        ex->paused = 1;
        return CURL_WRITEFUNC_PAUSE;
    }
    struct evbuffer *chunk = evbuffer_new();
    evbuffer_add(chunk, data, len);
    evhttp_send_reply_chunk_with_cb(ex->req, chunk, on_client_drained, ex);
    evbuffer_free(chunk);
    /* the chunk is on its way; reading its usage holds nothing back */
    if (!ex->usage_started) {
        ex->usage_started = 1;
        if (ex->status >= 200 && ex->status < 300)
            ex->usage = usage_reader_new(ex->route.api, ex->stream, ex->encoding);
    }
    usage_reader_feed(ex->usage, data, len);
    return len;
}

/* ---- sending it upstream ----------------------------------------------------------- */

static int connection_lists(const char *connection, const char *name)
{
    if (!connection) return 0;
    size_t n = strlen(name);
    for (const char *p = connection; *p;) {
        while (*p == ' ' || *p == ',') p++;
        size_t k = strcspn(p, ", ");
        if (k == n && !strncasecmp(p, name, n)) return 1;
        p += k;
    }
    return 0;
}

/* Every end-to-end header as the client sent it; hop-by-hop ones, Host and
 * Content-Length are left to curl. */
static struct curl_slist *upstream_headers(struct evhttp_request *req)
{
    struct evkeyvalq *in = evhttp_request_get_input_headers(req);
    const char *connection = evhttp_find_header(in, "Connection");
    struct curl_slist *list = NULL;
    int accept = 0;
    for (struct evkeyval *h = in->tqh_first; h; h = h->next.tqe_next) {
        if (is_hop_by_hop(h->key, strlen(h->key)) || !strcasecmp(h->key, "Host") ||
            !strcasecmp(h->key, "Content-Length") || !strcasecmp(h->key, "Expect") ||
            connection_lists(connection, h->key))
            continue;
        accept |= !strcasecmp(h->key, "Accept");
        size_t n = strlen(h->key) + strlen(h->value) + 3;
        char *line = malloc(n);
        if (!line) continue;
        if (*h->value) snprintf(line, n, "%s: %s", h->key, h->value);
        else snprintf(line, n, "%s;", h->key); /* curl's way to send an empty header */
        list = curl_slist_append(list, line);
        free(line);
    }
    list = curl_slist_append(list, "Expect:");              /* no 100-continue round trip */
    if (!accept) list = curl_slist_append(list, "Accept:"); /* add none the client did not send */
    return list;
}

void send_upstream(struct exchange *ex, const char *body, size_t len)
{
    struct proxy *p = ex->p;
    const struct settings *s = &p->set;
    ex->t_forward = now_ms();
    ex->easy = curl_easy_init();
    if (!ex->easy) {
        send_error(watch_flush(ex), ex->route.provider, 500, "api_error", "hr-proxy: out of memory");
        ex->status = 500;
        log_exchange(ex);
        exchange_free(ex);
        return;
    }
    ex->headers = upstream_headers(ex->req);
    CURL *e = ex->easy;
    curl_easy_setopt(e, CURLOPT_URL, ex->route.url);
    curl_easy_setopt(e, CURLOPT_PRIVATE, ex);
    curl_easy_setopt(e, CURLOPT_HTTPHEADER, ex->headers);
    curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT, s->connect_timeout_s);
    curl_easy_setopt(e, CURLOPT_HEADERFUNCTION, on_header);
    curl_easy_setopt(e, CURLOPT_HEADERDATA, ex);
    curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(e, CURLOPT_WRITEDATA, ex);
    curl_easy_setopt(e, CURLOPT_TCP_KEEPALIVE, 1L);
    enum evhttp_cmd_type m = evhttp_request_get_command(ex->req);
    const char *method = m == EVHTTP_REQ_GET       ? "GET"
                         : m == EVHTTP_REQ_POST    ? "POST"
                         : m == EVHTTP_REQ_PUT     ? "PUT"
                         : m == EVHTTP_REQ_DELETE  ? "DELETE"
                         : m == EVHTTP_REQ_PATCH   ? "PATCH"
                         : m == EVHTTP_REQ_HEAD    ? "HEAD"
                         : m == EVHTTP_REQ_OPTIONS ? "OPTIONS"
                                                   : "POST";
    if (m == EVHTTP_REQ_HEAD) curl_easy_setopt(e, CURLOPT_NOBODY, 1L);
    else if (m != EVHTTP_REQ_GET || len) {
        curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)len);
        curl_easy_setopt(e, CURLOPT_POSTFIELDS, len ? body : "");
        if (m != EVHTTP_REQ_POST) curl_easy_setopt(e, CURLOPT_CUSTOMREQUEST, method);
    }
    ex->silence = evtimer_new(p->base, on_upstream_silent, ex);
    upstream_spoke(ex);
    curl_multi_add_handle(p->multi, e);
}
