/* libcurl's multi interface on the proxy's libevent loop: each socket curl
 * watches becomes an event, its timeout a timer, and every transfer that ends
 * goes to forward_check_done. forward_init also makes the loop thread's own
 * compressor and the cache-mode memory of what was sent. */
#include "proxy.h"

#include <stdlib.h>

static void forward_check_done(struct proxy *p)
{
    CURLMsg *m;
    int left;
    while ((m = curl_multi_info_read(p->multi, &left))) {
        if (m->msg != CURLMSG_DONE) continue;
        struct exchange *ex = NULL;
        curl_easy_getinfo(m->easy_handle, CURLINFO_PRIVATE, (char **)&ex);
        if (ex && !ex->finished) exchange_finish(ex, m->data.result);
    }
}

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
