/* The listening socket, opened here rather than by evhttp so that a failure
 * says why (address not found, in use, not allowed) and the accept backlog
 * is large enough for many agents opening streams at once. */
#include "prog.h"
#include "proxy.h"

#include <errno.h>
#include <event2/event.h>
#include <event2/http.h>
#include <event2/listener.h>
#include <event2/util.h>
#include <arpa/inet.h>
#include <netdb.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

enum { BACKLOG = 4096 }; /* the kernel caps it at net.core.somaxconn */

/* 127.0.0.0/8, ::1, or 127.x mapped into IPv6. */
static int loopback_address(const struct sockaddr *a)
{
    if (a->sa_family == AF_INET) {
        const unsigned char *b = (const unsigned char *)&((const struct sockaddr_in *)(const void *)a)->sin_addr;
        return b[0] == 127;
    }
    if (a->sa_family == AF_INET6) {
        const struct in6_addr *b = &((const struct sockaddr_in6 *)(const void *)a)->sin6_addr;
        if (IN6_IS_ADDR_LOOPBACK(b)) return 1;
        return IN6_IS_ADDR_V4MAPPED(b) && b->s6_addr[12] == 127;
    }
    return 0;
}

static void name_address(const struct sockaddr *a, char *out, size_t cap)
{
    const void *bytes = a->sa_family == AF_INET6
                            ? (const void *)&((const struct sockaddr_in6 *)(const void *)a)->sin6_addr
                            : (const void *)&((const struct sockaddr_in *)(const void *)a)->sin_addr;
    if (!inet_ntop(a->sa_family, bytes, out, (socklen_t)cap)) snprintf(out, cap, "?");
}

/* The host is checked as resolved, not as written: a name that begins with
 * "127." or reads "localhost" may resolve to any address, 0.0.0.0 included,
 * which would open the proxy, and the credentials it relays, to the network. */
int listen_socket(const char *host, int port, int allow_remote, char *err, size_t err_len)
{
    struct addrinfo hints, *res = NULL;
    char service[16];
    memset(&hints, 0, sizeof hints);
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
    snprintf(service, sizeof service, "%d", port);
    int gai = getaddrinfo(host, service, &hints, &res);
    if (gai) {
        snprintf(err, err_len, "%s", gai_strerror(gai));
        return LISTEN_FAILED;
    }
    for (struct addrinfo *a = res; a && !allow_remote; a = a->ai_next) {
        if (loopback_address(a->ai_addr)) continue;
        char addr[INET6_ADDRSTRLEN];
        name_address(a->ai_addr, addr, sizeof addr);
        snprintf(err, err_len, "which resolves to %s, not a loopback address (--allow-remote to allow)", addr);
        freeaddrinfo(res);
        return LISTEN_REFUSED;
    }
    int fd = -1, saved = 0;
    for (struct addrinfo *a = res; a; a = a->ai_next) {
        fd = socket(a->ai_family, a->ai_socktype | SOCK_CLOEXEC, a->ai_protocol);
        if (fd < 0) {
            saved = errno;
            continue;
        }
        int one = 1;
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
        if (!bind(fd, a->ai_addr, a->ai_addrlen) && !listen(fd, BACKLOG) && !evutil_make_socket_nonblocking(fd)) break;
        saved = errno;
        close(fd);
        fd = -1;
    }
    freeaddrinfo(res);
    if (fd < 0) snprintf(err, err_len, "%s", strerror(saved));
    return fd < 0 ? LISTEN_FAILED : fd;
}

/* ---- out of file descriptors ---------------------------------------------------- */

/* With no descriptor left, accept() fails at once and the listening socket
 * stays readable: left alone the loop would retry it at full speed and
 * write each failure out. Instead accepting stops, is tried again after a
 * pause that doubles up to ACCEPT_PAUSE_MAX_MS, and the log says so once
 * when it stops and once when it works again. */
#define ACCEPT_PAUSE_MIN_MS 50
#define ACCEPT_PAUSE_MAX_MS 1000

struct accept_guard {
    struct evconnlistener *lev;
    struct event *resume;
    long pause_ms;
    int paused;
};

static struct accept_guard guard;

static void resume_accepting(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    (void)arg;
    if (guard.lev) evconnlistener_enable(guard.lev);
}

static void on_accept_error(struct evconnlistener *lev, void *arg)
{
    (void)arg;
    int e = EVUTIL_SOCKET_ERROR();
    if (e != EMFILE && e != ENFILE && e != ENOBUFS && e != ENOMEM) {
        if (e != EAGAIN && e != EINTR && e != ECONNABORTED) prog_msg("accept: %s", evutil_socket_error_to_string(e));
        return;
    }
    if (!guard.paused)
        prog_msg("out of file descriptors (%s): not accepting connections for now", evutil_socket_error_to_string(e));
    guard.paused = 1;
    guard.pause_ms = guard.pause_ms ? guard.pause_ms * 2 : ACCEPT_PAUSE_MIN_MS;
    if (guard.pause_ms > ACCEPT_PAUSE_MAX_MS) guard.pause_ms = ACCEPT_PAUSE_MAX_MS;
    evconnlistener_disable(lev);
    struct timeval tv = {guard.pause_ms / 1000, (guard.pause_ms % 1000) * 1000};
    evtimer_add(guard.resume, &tv);
}

int listen_guard(struct event_base *base, struct evhttp_bound_socket *bound)
{
    guard.lev = evhttp_bound_socket_get_listener(bound);
    guard.resume = evtimer_new(base, resume_accepting, NULL);
    if (!guard.lev || !guard.resume) return -1;
    evconnlistener_set_error_cb(guard.lev, on_accept_error);
    return 0;
}

void listen_accepted(void)
{
    if (!guard.paused) return;
    guard.paused = 0;
    guard.pause_ms = 0;
    prog_msg("accepting connections again");
}

void listen_guard_free(void)
{
    if (guard.resume) event_free(guard.resume);
    guard.resume = NULL;
    guard.lev = NULL;
}
