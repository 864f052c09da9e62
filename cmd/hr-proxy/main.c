/* hr-proxy: the compressing reverse proxy. Settings, the listening socket,
 * the routes it answers itself (/health, /stats, /metrics), signals, and a
 * graceful stop; an exchange is exchange.c's, its upstream leg relay.c's. */
#include "hr_internal.h"
#include "prog.h"
#include "proxy.h"

#include <errno.h>
#include <event2/buffer.h>
#include <event2/keyvalq_struct.h>
#include <signal.h>
#include <sys/resource.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static void reply(struct evhttp_request *req, int status, struct evbuffer *body, const char *type)
{
    evhttp_add_header(evhttp_request_get_output_headers(req), "Content-Type", type);
    evhttp_send_reply(req, status, NULL, body);
}

static void serve_health(struct proxy *p, struct evhttp_request *req)
{
    struct evbuffer *b = evbuffer_new();
    const char *problem = p->stopping ? "shutting down" : reqlog_problem(p->log);
    if (!problem) {
        evbuffer_add_printf(b, "{\"status\":\"healthy\"}");
        reply(req, 200, b, "application/json");
    } else {
        hr_buf why = HR_BUF_INIT;
        hr_json_encode_string(&why, problem, strlen(problem));
        evbuffer_add_printf(b, "{\"status\":\"unhealthy\",\"reason\":%.*s}", (int)why.len, why.data);
        hr_buf_free(&why);
        reply(req, 503, b, "application/json");
    }
    evbuffer_free(b);
}

/* The routes the proxy answers itself; 0 when uri is none of them. */
static int serve_own_route(struct proxy *p, struct evhttp_request *req, const char *uri)
{
    void (*render)(const struct totals *, struct evbuffer *);
    const char *type;
    if (!strcmp(uri, "/health")) {
        serve_health(p, req);
        return 1;
    }
    if (!strcmp(uri, "/stats")) {
        render = totals_json;
        type = "application/json";
    } else if (!strcmp(uri, "/metrics")) {
        render = totals_prometheus;
        type = "text/plain; version=0.0.4";
    } else {
        return 0;
    }
    struct evbuffer *b = evbuffer_new();
    p->totals.observe = p->set.observe; /* as now, after any SIGHUP */
    render(&p->totals, b);
    reply(req, 200, b, type);
    evbuffer_free(b);
    return 1;
}

/* A head the connection filter (body_limit.c) marked as one to refuse:
 * answered here, in the provider's format, and 1. */
static int refuse_marked(struct proxy *p, struct evhttp_request *req, const struct route *r)
{
    static const struct {
        const char *header;
        int status;
        const char *type;
    } marks[] = {
        {HEADERS_TOO_LARGE_HEADER, 431, "invalid_request_error"},
        {BAD_FRAMING_HEADER, 400, "invalid_request_error"},
        {TOO_LARGE_HEADER, 413, "request_too_large"},
    };
    for (size_t i = 0; i < sizeof marks / sizeof marks[0]; i++) {
        const char *v = evhttp_find_header(evhttp_request_get_input_headers(req), marks[i].header);
        if (!v) continue;
        char why[160];
        if (marks[i].status == 413)
            snprintf(why, sizeof why, "hr-proxy: request body of %.20s bytes is over max_body_bytes (%zu)", v,
                     p->set.max_body);
        else snprintf(why, sizeof why, "hr-proxy: request refused: %.100s", v);
        refuse_request(p, req, r, marks[i].status, marks[i].type, why);
        return 1;
    }
    return 0;
}

static void on_request(struct evhttp_request *req, void *arg)
{
    struct proxy *p = arg;
    const char *uri = evhttp_request_get_uri(req);
    enum evhttp_cmd_type m = evhttp_request_get_command(req);
    if (m == EVHTTP_REQ_GET && serve_own_route(p, req, uri)) return;
    struct route r;
    route_request(&p->set, m, uri, evhttp_request_get_input_headers(req), &r);
    if (refuse_marked(p, req, &r)) return;
    if (p->stopping) {
        refuse_request(p, req, &r, 503, "overloaded_error", "hr-proxy is shutting down");
        return;
    }
    forward_request(p, req, &r);
}

/* ---- signals ------------------------------------------------------------------------ */

static void check_drained(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    struct proxy *p = arg;
    static int waited_ms;
    if ((p->in_flight <= 0 && p->flushing <= 0) || waited_ms >= p->set.shutdown_wait_s * 1000) {
        if (p->in_flight + p->flushing > 0)
            prog_msg("stopping with %d requests unfinished", p->in_flight + p->flushing);
        event_base_loopbreak(p->base);
        return;
    }
    waited_ms += 100;
    struct timeval tv = {0, 100000};
    event_base_once(p->base, -1, EV_TIMEOUT, check_drained, p, &tv);
}

static void on_stop(evutil_socket_t sig, short what, void *arg)
{
    (void)what;
    struct proxy *p = arg;
    if (p->stopping) return;
    p->stopping = 1;
    prog_msg("%s: no new connections; waiting up to %lds for %d requests in flight",
             sig == SIGINT ? "SIGINT" : "SIGTERM", p->set.shutdown_wait_s, p->in_flight);
    if (p->listener) {
        listen_guard_free();
        evhttp_del_accept_socket(p->http, p->listener);
        p->listener = NULL;
    }
    check_drained(-1, 0, p);
}

/* SIGHUP: read the settings again; a bad file keeps the old ones. What
 * needs a restart (listen address, workers) is said so. */
static void on_reload(evutil_socket_t sig, short what, void *arg)
{
    (void)sig;
    (void)what;
    struct proxy *p = arg;
    struct settings s;
    char err[512];
    if (settings_load(&p->cli, &s, err, sizeof err)) {
        hr__printable(err, sizeof err);
        prog_msg("SIGHUP: keeping the old settings: %s", err);
        return;
    }
    if (strcmp(s.listen_host, p->set.listen_host) || s.listen_port != p->set.listen_port)
        prog_msg("SIGHUP: a new listen address takes a restart");
    if (s.max_concurrent != p->set.max_concurrent) prog_msg("SIGHUP: a new max_concurrent takes a restart");
    if (strcmp(s.log_dir, p->set.log_dir) || s.log_max_bytes != p->set.log_max_bytes) {
        struct reqlog *log = reqlog_open(s.log_dir, s.log_max_bytes, err, sizeof err);
        if (log) {
            reqlog_close(p->log);
            p->log = log;
        }
    }
    s.listen_port = p->set.listen_port;
    s.max_concurrent = p->set.max_concurrent;
    snprintf(s.listen_host, sizeof s.listen_host, "%s", p->set.listen_host);
    p->set = s;
    evhttp_set_max_body_size(p->http, (ev_ssize_t)s.max_body);
    evhttp_set_timeout(p->http, (int)s.client_timeout_s);
    prog_msg("SIGHUP: settings read again%s%s", s.config_path[0] ? " from " : "", s.config_path);
}

static int write_pidfile(const char *path)
{
    char tmp[4200];
    snprintf(tmp, sizeof tmp, "%s.tmp", path);
    FILE *f = fopen(tmp, "w");
    if (!f) return -1;
    fprintf(f, "%ld\n", (long)getpid());
    if (fclose(f) || rename(tmp, path)) return -1;
    return 0;
}

static void free_proxy(struct proxy *p)
{
    listen_guard_free();
    if (p->http) evhttp_free(p->http);
    if (p->pool) pool_free(p->pool);
    forward_cleanup(p);
    reqlog_close(p->log);
    if (p->base) event_base_free(p->base);
}

/* Each stream holds two sockets (client and upstream); systemd's default soft
 * limit of 1024 descriptors would cap the proxy near 500 streams, so the
 * soft limit goes up to the hard one, as far as 65536. */
static void raise_fd_limit(void)
{
    struct rlimit r;
    if (getrlimit(RLIMIT_NOFILE, &r)) return;
    rlim_t want = r.rlim_max == RLIM_INFINITY || r.rlim_max > 65536 ? 65536 : r.rlim_max;
    if (r.rlim_cur == RLIM_INFINITY || r.rlim_cur >= want) return;
    r.rlim_cur = want;
    setrlimit(RLIMIT_NOFILE, &r);
}

/* libevent's own warnings, in hr-proxy's voice; its debug chatter is dropped. */
static void on_libevent_log(int severity, const char *msg)
{
    if (severity >= EVENT_LOG_WARN) prog_msg("libevent: %s", msg);
}

/* The first lines at start: where it listens, then how to route Hermes
 * through it and how to check, with the proxy URL when it is not the one
 * hr-patch-auth assumes. */
static void say_started(const struct settings *s)
{
    char listen[300];
    snprintf(listen, sizeof listen, strchr(s->listen_host, ':') ? "[%s]:%d" : "%s:%d", s->listen_host, s->listen_port);
    char *url = hr__listen_url(listen), *usual = hr__listen_url(hr__setting_spec(HR_S_LISTEN)->fallback);
    int other = url && usual && strcmp(url, usual);
    fprintf(stderr, "hr-proxy %s: listening on %s; anthropic %s, openai %s, chatgpt %s; logs in %s\n", hr_version(),
            listen, s->anthropic_url, s->openai_url, s->chatgpt_url, s->log_dir);
    prog_msg("route Hermes through it: hr-patch-auth --apply%s%s, then restart Hermes", other ? " --proxy-url " : "",
             other ? url : "");
    prog_msg("check the route: hr-verify");
    free(url);
    free(usual);
}

/* What went of each tool result, as hashes, in the log folder: after a
 * restart results go again as they went. Without it only this run knows. */
static void open_sent_index(struct proxy *p)
{
    char *path = hr__path_join(p->set.log_dir, "sent-index");
    if (!path || hr_sent_open_index(p->sent, path))
        prog_msg("warning: %s: cannot keep what was sent across restarts", path ? path : "sent-index");
    free(path);
}

int main(int argc, char **argv)
{
    struct proxy p;
    char err[512];
    memset(&p, 0, sizeof p);
    prog_init("hr-proxy");
    int rc = cli_parse(&p.cli, argc, argv, err, sizeof err);
    if (rc == CLI_HELP) {
        usage(stdout);
        return EX_OK;
    }
    if (rc == CLI_VERSION) {
        prog_version();
        return EX_OK;
    }
    if (rc) {
        hr__printable(err, sizeof err);
        prog_msg("%s", err);
        fputs("Try 'hr-proxy --help'.\n", stderr);
        return EX_USAGE;
    }
    if (settings_load(&p.cli, &p.set, err, sizeof err)) {
        hr__printable(err, sizeof err);
        return prog_fail(EX_CONFIG, "%s", err);
    }
    signal(SIGPIPE, SIG_IGN);
    memory_setup();
    raise_fd_limit();
    event_set_log_callback(on_libevent_log);
    p.totals.started = now_ms();
    p.base = event_base_new();
    p.http = p.base ? evhttp_new(p.base) : NULL;
    hr_compress_options warm;
    compress_options(&p, &warm);
    if (!p.http || forward_init(&p) || !(p.pool = pool_new(p.base, p.set.max_concurrent, &warm))) {
        free_proxy(&p);
        return prog_fail(EX_SOFTWARE, "cannot start: out of memory");
    }
    p.log = reqlog_open(p.set.log_dir, p.set.log_max_bytes, err, sizeof err);
    if (p.log && reqlog_problem(p.log)) prog_msg("warning: %s (/health says unhealthy)", err);
    open_sent_index(&p);
    evhttp_set_gencb(p.http, on_request, &p);
    evhttp_set_bevcb(p.http, body_limit_bufferevent, &p);
    evhttp_set_max_body_size(p.http, (ev_ssize_t)p.set.max_body);
    /* the framing filter answers a head over MAX_HEAD_BYTES once its lines
     * end; a line that never ends reaches libevent, which must not hold it */
    evhttp_set_max_headers_size(p.http, (ev_ssize_t)MAX_HEAD_BYTES + 4096);
    evhttp_set_timeout(p.http, (int)p.set.client_timeout_s);
    evhttp_set_allowed_methods(p.http, EVHTTP_REQ_GET | EVHTTP_REQ_POST | EVHTTP_REQ_PUT | EVHTTP_REQ_DELETE |
                                           EVHTTP_REQ_PATCH | EVHTTP_REQ_HEAD | EVHTTP_REQ_OPTIONS);
    int fd = listen_socket(p.set.listen_host, p.set.listen_port, p.set.allow_remote, err, sizeof err);
    if (fd == LISTEN_REFUSED) {
        hr__printable(err, sizeof err);
        prog_msg("refusing to listen on %s, %s", p.set.listen_host, err);
        free_proxy(&p);
        return EX_CONFIG;
    }
    p.listener = fd < 0 ? NULL : evhttp_accept_socket_with_handle(p.http, fd);
    if (p.listener && listen_guard(p.base, p.listener)) {
        evhttp_del_accept_socket(p.http, p.listener);
        p.listener = NULL;
        fd = -1;
    }
    if (!p.listener) {
        hr__printable(err, sizeof err);
        prog_msg("cannot listen on %s:%d: %s", p.set.listen_host, p.set.listen_port, fd < 0 ? err : "out of memory");
        if (fd >= 0) close(fd);
        free_proxy(&p);
        return EX_UNAVAILABLE;
    }
    if (p.set.pidfile[0] && write_pidfile(p.set.pidfile)) {
        prog_msg("%s: %s", p.set.pidfile, strerror(errno));
        free_proxy(&p);
        return EX_CONFIG;
    }
    struct event *sigterm = evsignal_new(p.base, SIGTERM, on_stop, &p);
    struct event *sigint = evsignal_new(p.base, SIGINT, on_stop, &p);
    struct event *sighup = evsignal_new(p.base, SIGHUP, on_reload, &p);
    event_add(sigterm, NULL);
    event_add(sigint, NULL);
    event_add(sighup, NULL);
    say_started(&p.set);
    event_base_dispatch(p.base);
    if (p.set.pidfile[0]) unlink(p.set.pidfile);
    event_free(sigterm);
    event_free(sigint);
    event_free(sighup);
    free_proxy(&p);
    prog_msg("stopped");
    return EX_OK;
}
