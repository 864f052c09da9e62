/* A fast stand-in for a model provider, for benchmarking hr-proxy: answers
 * every request at once with a small canned Messages-API answer, or, when the
 * request body asks for "stream":true, with server-sent events. A stream's
 * first event goes at once; an "x-bench-hold: SECONDS" request header keeps
 * the stream open that long (one ping a second) before the last events, which
 * is how the benchmark holds many streams open together.
 *   bench_upstream PORT */
#include <event2/buffer.h>
#include <event2/event.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

static const char ANSWER[] =
    "{\"id\":\"msg_bench\",\"type\":\"message\",\"role\":\"assistant\",\"model\":\"claude-bench\","
    "\"content\":[{\"type\":\"text\",\"text\":\"ok\"}],\"stop_reason\":\"end_turn\","
    "\"usage\":{\"input_tokens\":12,\"output_tokens\":1}}";

static const char FIRST_EVENT[] =
    "event: message_start\ndata: {\"type\":\"message_start\",\"message\":{\"id\":\"msg_bench\",\"type\":\"message\","
    "\"role\":\"assistant\",\"model\":\"claude-bench\",\"content\":[]}}\n\n";
static const char PING[] = "event: ping\ndata: {\"type\":\"ping\"}\n\n";
static const char LAST_EVENTS[] = "event: content_block_delta\ndata: {\"type\":\"content_block_delta\",\"index\":0,"
                                  "\"delta\":{\"type\":\"text_delta\",\"text\":\"ok\"}}\n\n"
                                  "event: message_stop\ndata: {\"type\":\"message_stop\"}\n\n";

struct held {
    struct evhttp_request *req;
    struct event *tick;
    int left;
};

static void send_text(struct evhttp_request *req, const char *text)
{
    struct evbuffer *b = evbuffer_new();
    evbuffer_add(b, text, strlen(text));
    evhttp_send_reply_chunk(req, b);
    evbuffer_free(b);
}

static void on_tick(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    struct held *h = arg;
    if (--h->left > 0) {
        send_text(h->req, PING);
        return;
    }
    send_text(h->req, LAST_EVENTS);
    evhttp_send_reply_end(h->req);
    event_free(h->tick);
    free(h);
}

static int asks_for_stream(struct evhttp_request *req)
{
    struct evbuffer *in = evhttp_request_get_input_buffer(req);
    size_t n = evbuffer_get_length(in);
    const char *body = (const char *)evbuffer_pullup(in, (ev_ssize_t)n);
    return body && n && memmem(body, n, "\"stream\":true", 13) != NULL;
}

static void on_request(struct evhttp_request *req, void *arg)
{
    struct event_base *base = arg;
    struct evkeyvalq *out = evhttp_request_get_output_headers(req);
    if (!asks_for_stream(req)) {
        struct evbuffer *b = evbuffer_new();
        evbuffer_add(b, ANSWER, sizeof ANSWER - 1);
        evhttp_add_header(out, "Content-Type", "application/json");
        evhttp_send_reply(req, 200, "OK", b);
        evbuffer_free(b);
        return;
    }
    evhttp_add_header(out, "Content-Type", "text/event-stream");
    evhttp_add_header(out, "Cache-Control", "no-cache");
    evhttp_send_reply_start(req, 200, "OK");
    send_text(req, FIRST_EVENT);
    const char *hold = evhttp_find_header(evhttp_request_get_input_headers(req), "x-bench-hold");
    int seconds = hold ? atoi(hold) : 0;
    if (seconds <= 0) {
        send_text(req, LAST_EVENTS);
        evhttp_send_reply_end(req);
        return;
    }
    struct held *h = malloc(sizeof *h);
    h->req = req;
    h->left = seconds;
    h->tick = event_new(base, -1, EV_PERSIST, on_tick, h);
    struct timeval second = {1, 0};
    event_add(h->tick, &second);
}

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: bench_upstream PORT\n");
        return 64;
    }
    signal(SIGPIPE, SIG_IGN);
    struct event_base *base = event_base_new();
    struct evhttp *http = evhttp_new(base);
    evhttp_set_gencb(http, on_request, base);
    evhttp_set_allowed_methods(http, EVHTTP_REQ_GET | EVHTTP_REQ_POST);
    /* A deep accept backlog: the benchmark opens a thousand streams at once. */
    struct sockaddr_in addr = {
        .sin_family = AF_INET, .sin_port = htons((uint16_t)atoi(argv[1])), .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    int fd = socket(AF_INET, SOCK_STREAM, 0), one = 1;
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    if (fd < 0 || bind(fd, (struct sockaddr *)&addr, sizeof addr) || listen(fd, 4096) ||
        evutil_make_socket_nonblocking(fd) || evhttp_accept_socket(http, fd)) {
        fprintf(stderr, "bench_upstream: cannot listen on 127.0.0.1:%s\n", argv[1]);
        return 69;
    }
    event_base_dispatch(base);
    return 0;
}
