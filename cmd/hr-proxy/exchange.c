/* One exchange, from the request taken over to the answer's end: its log
 * record begun, its body compressed on a worker (or inline, or not at all,
 * failing open), handed to relay.c to go upstream, and its end: the last bytes
 * flushed, an error answer in the provider's format when no answer came, the
 * record logged and the exchange freed. */
#include "proxy.h"

#include <event2/buffer.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

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

void exchange_free(struct exchange *ex)
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

void log_exchange(struct exchange *ex)
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
struct evhttp_request *watch_flush(struct exchange *ex)
{
    struct evhttp_request *req = ex->req;
    ex->p->flushing++;
    evhttp_request_set_on_complete_cb(req, reply_flushed, ex->p);
    evhttp_connection_set_closecb(ex->evcon, reply_lost, ex->p);
    ex->req = NULL;
    return req;
}

/* curl finished: the answer ends, or an error answer goes instead. */
void exchange_finish(struct exchange *ex, CURLcode rc)
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
static void start_record(struct proxy *p, struct evhttp_request *req, const struct route *r, struct hr__log_record *rec)
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
    struct hr__log_record rec;
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
