/* Forwarding one request: compress its body on a worker (or not), send it
 * upstream with libcurl's multi interface on the proxy's event loop, and
 * relay the answer as it arrives: status and headers as they are, the body
 * chunk by chunk, pausing the upstream while the client's socket is full. */
#include "proxy.h"

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/keyvalq_struct.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

/* Client output above this pauses the upstream transfer. */
#define CLIENT_HIGH_WATER (256 * 1024)

struct exchange {
    struct proxy *p;
    struct evhttp_request *req; /* NULL once answered or the client is gone */
    struct evhttp_connection *evcon;
    struct route route;
    char *body;
    size_t body_len;
    hr_buf compressed;
    struct job *job;
    struct event *job_timer;
    CURL *easy;
    struct curl_slist *headers;
    struct record rec;
    double t0, t_forward;
    int status, replying, paused, stream, abort_pending, finished;
    char reason[64];
    char encoding[32];          /* the answer's Content-Encoding */
    struct usage_reader *usage; /* reads the answer's usage as it passes */
    int usage_started;
    struct event *silence; /* fires when the upstream has sent nothing for upstream_timeout */
};

double now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

/* ---- error answers in each provider's format --------------------------------------- */

void send_error(struct evhttp_request *req, enum provider p, int status, const char *type, const char *message)
{
    struct evbuffer *b = evbuffer_new();
    hr_buf msg = HR_BUF_INIT;
    hr_json_encode_string(&msg, message, strlen(message));
    if (p == PROVIDER_ANTHROPIC)
        evbuffer_add_printf(b, "{\"type\":\"error\",\"error\":{\"type\":\"%s\",\"message\":%.*s}}", type, (int)msg.len,
                            msg.data);
    else
        evbuffer_add_printf(b, "{\"error\":{\"message\":%.*s,\"type\":\"%s\",\"param\":null,\"code\":\"%s\"}}",
                            (int)msg.len, msg.data, type, type);
    hr_buf_free(&msg);
    struct evkeyvalq *h = evhttp_request_get_output_headers(req);
    evhttp_add_header(h, "Content-Type", "application/json");
    evhttp_send_reply(req, status, NULL, b);
    evbuffer_free(b);
}

/* ---- the end of an exchange ----------------------------------------------------- */

static void exchange_free(struct exchange *ex)
{
    if (ex->job) pool_abandon(ex->job);
    if (ex->job_timer) event_free(ex->job_timer);
    if (ex->silence) event_free(ex->silence);
    if (ex->easy) {
        curl_multi_remove_handle(ex->p->multi, ex->easy);
        curl_easy_cleanup(ex->easy);
    }
    curl_slist_free_all(ex->headers);
    if (ex->req && ex->evcon) evhttp_connection_set_closecb(ex->evcon, NULL, NULL);
    if (ex->body_len + ex->compressed.cap >= LARGE_EXCHANGE) memory_return_later(ex->p->base);
    free(ex->body);
    hr_buf_free(&ex->compressed);
    usage_reader_free(ex->usage);
    ex->p->in_flight--;
    free(ex);
}

static void log_exchange(struct exchange *ex)
{
    ex->rec.total_ms = now_ms() - ex->t0;
    ex->rec.status = ex->status;
    ex->rec.stream = ex->stream;
    bill_record(&ex->p->set.prices, &ex->rec);
    reqlog_write(ex->p->log, &ex->rec);
    totals_add(&ex->p->totals, &ex->rec, ex->route.provider);
}

__attribute__((format(printf, 2, 3))) static void note_error(struct exchange *ex, const char *fmt, ...);
static void note_error(struct exchange *ex, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    if (!ex->rec.error[0]) vsnprintf(ex->rec.error, sizeof ex->rec.error, fmt, ap);
    va_end(ap);
}

/* The client went away: stop the upstream transfer soon, outside any curl
 * callback that may be running now. */
static void abort_later(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    struct exchange *ex = arg;
    if (!ex->finished) {
        note_error(ex, "%s", "client disconnected");
        log_exchange(ex);
    }
    exchange_free(ex);
}

static void on_client_close(struct evhttp_connection *evcon, void *arg)
{
    (void)evcon;
    struct exchange *ex = arg;
    /* libevent hands a request it had not answered yet back to us when its
     * connection fails, detached from it: ours to free, or it leaks with
     * every client that hangs up mid-answer */
    if (ex->req && !evhttp_request_get_connection(ex->req)) evhttp_request_free(ex->req);
    ex->req = NULL;
    if (ex->abort_pending) return;
    ex->abort_pending = 1;
    struct timeval now = {0, 0};
    event_base_once(ex->p->base, -1, EV_TIMEOUT, abort_later, ex, &now);
}

/* The last bytes of an answer may still wait in the connection's buffer
 * when the exchange ends; a graceful stop waits for them (p->flushing).
 * Either the reply completes or the connection closes, never both. */
static void reply_flushed(struct evhttp_request *req, void *arg)
{
    struct proxy *p = arg;
    p->flushing--;
    evhttp_connection_set_closecb(evhttp_request_get_connection(req), NULL, NULL);
}

static void reply_lost(struct evhttp_connection *evcon, void *arg)
{
    (void)evcon;
    struct proxy *p = arg;
    p->flushing--;
}

/* Hands the client connection over from the exchange to the flush watch. */
static struct evhttp_request *watch_flush(struct exchange *ex)
{
    struct evhttp_request *req = ex->req;
    ex->p->flushing++;
    evhttp_request_set_on_complete_cb(req, reply_flushed, ex->p);
    evhttp_connection_set_closecb(ex->evcon, reply_lost, ex->p);
    ex->req = NULL;
    return req;
}

/* curl finished: the answer ends, or an error answer goes instead. */
static void finish(struct exchange *ex, CURLcode rc)
{
    long code = 0;
    curl_easy_getinfo(ex->easy, CURLINFO_RESPONSE_CODE, &code);
    if (rc != CURLE_OK) {
        int timeout = rc == CURLE_OPERATION_TIMEDOUT;
        note_error(ex, "upstream: %s", curl_easy_strerror(rc));
        if (ex->req && !ex->replying) {
            ex->status = timeout ? 504 : 502;
            char msg[300];
            snprintf(msg, sizeof msg, "hr-proxy: upstream %s: %s", ex->route.host, curl_easy_strerror(rc));
            send_error(watch_flush(ex), ex->route.provider, ex->status,
                       timeout ? "upstream_timeout" : "upstream_unreachable", msg);
        }
    }
    if (ex->req && ex->replying && rc != CURLE_OK) {
        /* The upstream broke off mid-answer: the client must see a broken
         * transfer too, not a clean end of a truncated stream. */
        evhttp_connection_set_closecb(ex->evcon, NULL, NULL);
        evhttp_connection_free(ex->evcon);
        ex->req = NULL;
    } else if (ex->req && ex->replying) {
        evhttp_send_reply_end(watch_flush(ex));
    } else if (ex->req && rc == CURLE_OK) { /* an answer without a body */
        ex->status = (int)code;
        evhttp_send_reply(watch_flush(ex), (int)code, ex->reason[0] ? ex->reason : NULL, NULL);
    }
    /* only a whole answer's usage: a broken one's bill is not known */
    if (rc == CURLE_OK) usage_reader_finish(ex->usage, &ex->rec.usage);
    log_exchange(ex);
    ex->finished = 1;
    if (!ex->abort_pending) exchange_free(ex);
}

void forward_check_done(struct proxy *p);
void forward_check_done(struct proxy *p)
{
    CURLMsg *m;
    int left;
    while ((m = curl_multi_info_read(p->multi, &left))) {
        if (m->msg != CURLMSG_DONE) continue;
        struct exchange *ex = NULL;
        curl_easy_getinfo(m->easy_handle, CURLINFO_PRIVATE, (char **)&ex);
        if (ex && !ex->finished) finish(ex, m->data.result);
    }
}

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
    finish(ex, CURLE_OPERATION_TIMEDOUT);
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

static void send_upstream(struct exchange *ex, const char *body, size_t len)
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

/* ---- compression first ------------------------------------------------------------ */

static void forward_body(struct exchange *ex)
{
    if (ex->compressed.len) send_upstream(ex, ex->compressed.data, ex->compressed.len);
    else send_upstream(ex, ex->body, ex->body_len);
}

static void fail_open_body(struct exchange *ex);

/* What compression gave, from a worker or inline: the compressed body when
 * something was compressed, the original otherwise (fail open). */
static void take_result(struct exchange *ex, hr_status status, const hr_buf *out, const hr_compress_stats *st,
                        const char *error)
{
    ex->rec.compress_ms = now_ms() - ex->t0;
    if (status == HR_OK) {
        ex->rec.scorer = st->scorer;
        ex->rec.scorer_backend = st->scorer_backend;
        ex->rec.tokens_before = st->tokens_before;
        ex->rec.tokens_after = st->tokens_after;
        ex->rec.tokens_lossless = st->tokens_lossless;
        if (st->units) { /* observe mode: counted, logged, not sent */
            if (!ex->rec.observe) hr_buf_append(&ex->compressed, out->data, out->len);
            ex->p->totals.compressed++;
        }
    } else {
        note_error(ex, "compression failed, sent uncompressed: %s", error);
        ex->p->totals.fail_open++;
        fail_open_body(ex);
    }
}

static void on_compressed(struct job *job, void *arg)
{
    struct exchange *ex = arg;
    ex->job = NULL;
    if (ex->job_timer) event_del(ex->job_timer);
    take_result(ex, job_status(job), job_output(job), job_stats(job), job_error(job));
    job_free(job);
    if (!ex->req) { /* gone while we compressed */
        log_exchange(ex);
        exchange_free(ex);
        return;
    }
    forward_body(ex);
}

void compress_options(const struct proxy *p, hr_compress_options *opt)
{
    hr_compress_options_init(opt);
    opt->mode = p->set.mode;
    opt->exact_tools = p->set.exact_tools;
    opt->lossless_only = p->set.lossless;
    opt->protect_recent = p->set.protect_recent;
    opt->min_tokens = p->set.min_tokens;
    opt->max_bytes = p->set.max_body;
    opt->scorer = p->set.scorer;
    opt->model_dir = p->set.kompress_model[0] ? p->set.kompress_model : NULL;
    opt->kompress_backend = p->set.kompress_backend;
    opt->kompress_max_concurrent = p->set.max_concurrent;
    if (p->set.mode == HR_MODE_CACHE && !p->set.observe) opt->sent = p->sent;
}

/* Failing open in cache mode: the tool results sent before go as they went
 * then and the new ones as they came (and are remembered so), not the whole
 * body as it came, which would change what earlier requests sent. Nothing
 * is compressed here: only what is remembered is looked up, on the loop. */
static void fail_open_body(struct exchange *ex)
{
    struct proxy *p = ex->p;
    hr_compress_options opt;
    compress_options(p, &opt);
    if (!opt.sent || ex->rec.observe) return;
    opt.sent_only = 1;
    opt.scorer = "lexical";
    p->inline_out.len = 0;
    hr_compress_stats stats;
    if (hr_compress(p->inline_comp, &opt, ex->body, ex->body_len, &p->inline_out) == HR_OK &&
        (hr_compressor_stats(p->inline_comp, &stats), stats.units)) {
        ex->compressed.len = 0;
        hr_buf_append(&ex->compressed, p->inline_out.data, p->inline_out.len);
    }
    if (p->inline_out.cap >= LARGE_EXCHANGE) hr_buf_free(&p->inline_out); /* not kept for good */
}

/* A body shorter than min_tokens_to_crush bytes cannot hold a unit that
 * long (a token spans at least one byte), so nothing in it will be
 * compressed: it is counted for the log right here, which costs microseconds,
 * instead of a trip to a worker and back. */
static void count_inline(struct exchange *ex)
{
    struct proxy *p = ex->p;
    hr_compress_options opt;
    compress_options(p, &opt);
    opt.scorer = "lexical"; /* nothing here is long enough to score: no model on the loop */
    hr_compress_stats stats;
    p->inline_out.len = 0; /* hr_compress() appends */
    hr_status st = hr_compress(p->inline_comp, &opt, ex->body, ex->body_len, &p->inline_out);
    if (st == HR_OK) hr_compressor_stats(p->inline_comp, &stats);
    take_result(ex, st, &p->inline_out, &stats, hr_compressor_errmsg(p->inline_comp));
    ex->rec.scorer = ex->rec.scorer_backend = NULL; /* no scorer ran */
}

static void on_compress_timeout(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    struct exchange *ex = arg;
    if (!ex->job) return;
    pool_abandon(ex->job);
    ex->job = NULL;
    ex->rec.compress_ms = now_ms() - ex->t0;
    note_error(ex, "%s", "compression timed out, sent uncompressed");
    ex->p->totals.fail_open++;
    fail_open_body(ex);
    forward_body(ex);
}

/* The "model" of a JSON body, for the log: the first "model": "..." pair. */
static void find_model(const char *body, size_t len, char *out, size_t cap)
{
    out[0] = '\0';
    for (size_t i = 0; i + 8 < len && i < 1 << 20; i++) {
        if (body[i] != '"' || memcmp(body + i, "\"model\"", 7)) continue;
        size_t j = i + 7;
        while (j < len && (body[j] == ' ' || body[j] == ':' || body[j] == '\n' || body[j] == '\t' || body[j] == '\r'))
            j++;
        if (j >= len || body[j] != '"') continue;
        size_t k = ++j;
        while (k < len && body[k] != '"' && body[k] != '\\' && k - j < cap - 1) k++;
        snprintf(out, cap, "%.*s", (int)(k - j), body + j);
        return;
    }
}

/* The log record's fields known from the request line. */
static void start_record(struct proxy *p, struct evhttp_request *req, const struct route *r, struct record *rec)
{
    snprintf(rec->id, sizeof rec->id, "req-%llu", (unsigned long long)++p->next_id);
    enum evhttp_cmd_type m = evhttp_request_get_command(req);
    rec->method = m == EVHTTP_REQ_GET ? "GET" : m == EVHTTP_REQ_POST ? "POST" : "OTHER";
    const char *uri = evhttp_request_get_uri(req); /* freed with the request: copied */
    snprintf(rec->path, sizeof rec->path, "%.*s", (int)strcspn(uri, "?"), uri);
    rec->provider = provider_name(r->provider);
    rec->upstream = r->host; /* r outlives the record's use */
}

void refuse_request(struct proxy *p, struct evhttp_request *req, const struct route *r, int status, const char *type,
                    const char *message)
{
    struct record rec;
    memset(&rec, 0, sizeof rec);
    start_record(p, req, r, &rec);
    rec.status = status;
    snprintf(rec.error, sizeof rec.error, "%s", message);
    send_error(req, r->provider, status, type, message);
    reqlog_write(p->log, &rec);
    totals_add(&p->totals, &rec, r->provider);
}

void forward_request(struct proxy *p, struct evhttp_request *req, const struct route *r)
{
    struct exchange *ex = calloc(1, sizeof *ex);
    if (!ex) {
        send_error(req, r->provider, 500, "api_error", "hr-proxy: out of memory");
        return;
    }
    p->in_flight++;
    ex->p = p;
    ex->req = req;
    ex->evcon = evhttp_request_get_connection(req);
    ex->route = *r;
    ex->t0 = now_ms();
    ex->status = 502;
    start_record(p, req, &ex->route, &ex->rec);
    ex->rec.observe = p->set.observe; /* as at its start, whatever a SIGHUP changes */
    struct evbuffer *in = evhttp_request_get_input_buffer(req);
    ex->body_len = evbuffer_get_length(in);
    ex->body = malloc(ex->body_len ? ex->body_len : 1);
    if (!ex->body) {
        send_error(req, r->provider, 500, "api_error", "hr-proxy: out of memory");
        p->in_flight--;
        free(ex);
        return;
    }
    evbuffer_copyout(in, ex->body, ex->body_len);
    find_model(ex->body, ex->body_len, ex->rec.model, sizeof ex->rec.model);
    evhttp_connection_set_closecb(ex->evcon, on_client_close, ex);

    if (r->compress && ex->body_len && ex->body_len < p->set.min_tokens && p->inline_comp) {
        count_inline(ex);
        forward_body(ex);
        return;
    }
    if (r->compress && ex->body_len) {
        hr_compress_options opt;
        compress_options(p, &opt);
        ex->job = pool_submit(p->pool, &opt, ex->body, ex->body_len, on_compressed, ex);
        if (ex->job) {
            struct timeval tv = {p->set.compress_timeout_ms / 1000, (p->set.compress_timeout_ms % 1000) * 1000};
            ex->job_timer = evtimer_new(p->base, on_compress_timeout, ex);
            evtimer_add(ex->job_timer, &tv);
            return;
        }
        note_error(ex, "%s", "every compression worker busy (max_concurrent), sent uncompressed");
        fail_open_body(ex);
    }
    p->totals.passed_through++;
    forward_body(ex);
}

/* ---- libcurl on the event loop ------------------------------------------------------ */

struct sock {
    struct event *ev;
};

static void on_socket(evutil_socket_t fd, short what, void *arg)
{
    struct proxy *p = arg;
    int flags = (what & EV_READ ? CURL_CSELECT_IN : 0) | (what & EV_WRITE ? CURL_CSELECT_OUT : 0);
    int running;
    curl_multi_socket_action(p->multi, fd, flags, &running);
    forward_check_done(p);
}

static int socket_cb(CURL *e, curl_socket_t s, int what, void *userp, void *socketp)
{
    (void)e;
    struct proxy *p = userp;
    struct sock *sk = socketp;
    if (what == CURL_POLL_REMOVE) {
        if (sk) {
            event_free(sk->ev);
            free(sk);
        }
        curl_multi_assign(p->multi, s, NULL);
        return 0;
    }
    if (!sk) {
        sk = calloc(1, sizeof *sk);
        if (!sk) return -1;
        curl_multi_assign(p->multi, s, sk);
    } else {
        event_free(sk->ev);
    }
    short kind = (short)((what & CURL_POLL_IN ? EV_READ : 0) | (what & CURL_POLL_OUT ? EV_WRITE : 0) | EV_PERSIST);
    sk->ev = event_new(p->base, s, kind, on_socket, p);
    event_add(sk->ev, NULL);
    return 0;
}

static void on_timer(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    struct proxy *p = arg;
    int running;
    curl_multi_socket_action(p->multi, CURL_SOCKET_TIMEOUT, 0, &running);
    forward_check_done(p);
}

static int timer_cb(CURLM *multi, long timeout_ms, void *userp)
{
    (void)multi;
    struct proxy *p = userp;
    if (timeout_ms < 0) {
        evtimer_del(p->curl_timer);
        return 0;
    }
    struct timeval tv = {timeout_ms / 1000, (timeout_ms % 1000) * 1000};
    evtimer_add(p->curl_timer, &tv);
    return 0;
}

int forward_init(struct proxy *p)
{
    if (curl_global_init(CURL_GLOBAL_DEFAULT)) return -1;
    p->multi = curl_multi_init();
    p->curl_timer = evtimer_new(p->base, on_timer, p);
    if (!p->multi || !p->curl_timer) return -1;
    curl_multi_setopt(p->multi, CURLMOPT_SOCKETFUNCTION, socket_cb);
    curl_multi_setopt(p->multi, CURLMOPT_SOCKETDATA, p);
    curl_multi_setopt(p->multi, CURLMOPT_TIMERFUNCTION, timer_cb);
    curl_multi_setopt(p->multi, CURLMOPT_TIMERDATA, p);
    curl_multi_setopt(p->multi, CURLMOPT_MAX_HOST_CONNECTIONS, 0L);
    return hr_compressor_new(&p->inline_comp) || hr_sent_new(0, &p->sent) ? -1 : 0;
}

void forward_cleanup(struct proxy *p)
{
    if (p->multi) curl_multi_cleanup(p->multi);
    if (p->curl_timer) event_free(p->curl_timer);
    hr_compressor_free(p->inline_comp);
    hr_sent_free(p->sent);
    hr_buf_free(&p->inline_out);
    curl_global_cleanup();
}
