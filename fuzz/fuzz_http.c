/* hr-proxy's request framing (cmd/hr-proxy/framing.c, which body_limit.c
 * runs on each client connection) on any bytes, with small limits so that
 * small inputs reach them: heads of 1 KiB, bodies of 4 KiB. The input is
 * framed twice, arriving whole and in pieces of sizes taken from its hash,
 * as a socket would deliver it. Beyond not crashing or reading past the
 * bytes it was shown:
 *  - both give libevent the same bytes: framing does not depend on where
 *    reads end;
 *  - a head that reaches libevent as the client sent it is complete and
 *    within the limits, with at most one Content-Length, plain digits, no
 *    Transfer-Encoding, and a body no larger than the limit;
 *  - a head written again is complete, keeps the request line, and frames
 *    unambiguously: one Content-Length of 0 and a marker for a refusal,
 *    or, for a body libevent frames alone, a first Connection header of
 *    "close", after which the filter stops framing. */
#include "fuzz.h"
#include "hr.h"
#include "../cmd/hr-proxy/framing.h"

#include <string.h>
#include <strings.h>

#define HEAD_LIMIT 1024
#define BODY_LIMIT 4096

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    return 0;
}

/* What libevent would get: the bytes passed and the heads written again. */
struct run {
    hr_buf out;
    hr_buf head; /* the head written by the current step */
};

static void emit(void *ctx, const char *bytes, size_t n)
{
    struct run *r = ctx;
    hr_buf_append(&r->out, bytes, n);
    hr_buf_append(&r->head, bytes, n);
}

/* Lines of head named name ("Connection"), and the value of the first. */
static size_t header_count(const char *head, size_t len, const char *name, const char **first, size_t *first_len)
{
    size_t n = strlen(name), count = 0;
    for (const char *line = (const char *)memchr(head, '\n', len) + 1; line < head + len;) {
        const char *end = memchr(line, '\n', (size_t)(head + len - line));
        if ((size_t)(end - line) > n && line[n] == ':' && !strncasecmp(line, name, n)) {
            if (!count++) {
                *first = line + n + 1;
                while (**first == ' ') (*first)++;
                *first_len = (size_t)(end - *first) - (end[-1] == '\r');
            }
        }
        line = end + 1;
    }
    return count;
}

static int has_marker(const char *head, size_t len)
{
    static const char *const markers[] = {TOO_LARGE_HEADER, BAD_FRAMING_HEADER, HEADERS_TOO_LARGE_HEADER};
    size_t total = 0;
    for (size_t i = 0; i < 3; i++) {
        const char *v;
        size_t n;
        total += header_count(head, len, markers[i], &v, &n);
    }
    return (int)total;
}

/* A head written again: complete, with the original's request line (orig:
 * the avail bytes it was written from). */
static void check_written(const struct run *r, const char *orig, size_t avail, enum framing after)
{
    const char *h = r->head.data;
    size_t len = r->head.len;
    FUZZ_CHECK(http_head_length(h, len) == len, "a written head is not one whole head:\n%.*s", (int)len, h);
    const char *nl = memchr(orig, '\n', avail);
    FUZZ_CHECK(nl && !memcmp(h, orig, (size_t)(nl + 1 - orig)), "the request line changed");
    struct http_head hh;
    http_head_read(h, len, &hh);
    const char *v = NULL;
    size_t vn = 0;
    int markers = has_marker(h, len);
    if (after == PASS_ALL) { /* a body libevent frames alone */
        FUZZ_CHECK(header_count(h, len, "Connection", &v, &vn) == 1 && vn == 5 && !strncasecmp(v, "close", 5),
                   "a head passed for libevent to frame does not close the connection:\n%.*s", (int)len, h);
        return;
    }
    /* a client's own marker may stay: it only has its own request refused */
    FUZZ_CHECK(markers >= 1, "no marker:\n%.*s", (int)len, h);
    FUZZ_CHECK(hh.content_lengths == 1 && !hh.content_length && !hh.bad_length && !hh.chunked,
               "a marked head's body is not framed as empty:\n%.*s", (int)len, h);
}

/* A head that reaches libevent as it came: within every limit. */
static void check_passed(const char *head, size_t n, const struct framer *f)
{
    FUZZ_CHECK(http_head_length(head, n) == n, "a head passed on is not one whole head");
    struct http_head h;
    http_head_read(head, n, &h);
    FUZZ_CHECK(h.headers <= MAX_HEADERS, "%zu headers passed on", h.headers);
    FUZZ_CHECK(h.content_lengths <= 1 && !h.bad_length && !h.chunked, "a head of ambiguous length passed on");
    FUZZ_CHECK(!h.has_body || h.content_length <= BODY_LIMIT, "a body of %llu bytes passed on",
               (unsigned long long)h.content_length);
    int body = h.has_body && h.content_length;
    FUZZ_CHECK(body ? f->state == PASS_BODY && f->remaining == h.content_length : f->state == READ_HEAD,
               "state %d after a head with a body of %llu", (int)f->state, (unsigned long long)h.content_length);
}

/* Frames data arriving in pieces: up to cut[i] bytes after the i-th read. */
static void frame(const uint8_t *data, size_t size, const size_t *cut, size_t ncut, struct run *r, size_t *consumed)
{
    struct framer f = {READ_HEAD, 0, BODY_LIMIT, HEAD_LIMIT, MAX_HEADERS};
    const char *in = (const char *)data;
    size_t pos = 0;
    for (size_t i = 0; i < ncut; i++) {
        size_t got = cut[i] < size ? cut[i] : size;
        while (pos < got) {
            size_t avail = got - pos, look = framer_look(&f, avail);
            FUZZ_CHECK(look <= avail && look <= HEAD_LIMIT, "looks at %zu of %zu bytes", look, avail);
            /* a copy of exactly what it may look at: ASan sees any read past it */
            char *buf = look ? malloc(look) : NULL;
            if (look && !buf) abort();
            if (look) memcpy(buf, in + pos, look);
            enum framing before = f.state;
            r->head.len = 0;
            struct frame_step s = framer_next(&f, buf, avail, emit, r);
            free(buf);
            if (s.op == FRAME_WAIT) {
                FUZZ_CHECK(!r->head.len && before == READ_HEAD && look < HEAD_LIMIT, "waits in state %d", (int)before);
                break;
            }
            FUZZ_CHECK(s.n > 0 && s.n <= avail, "a step of %zu of %zu bytes", s.n, avail);
            if (r->head.len) check_written(r, in + pos, avail, f.state);
            if (s.op == FRAME_PASS) {
                FUZZ_CHECK(!r->head.len, "a head written and its original passed too");
                if (before == READ_HEAD && f.state == PASS_ALL) /* not a request line: libevent answers 400 */
                    FUZZ_CHECK(!memchr(in + pos, '\n', s.n), "a head passed unframed");
                else if (before == READ_HEAD) check_passed(in + pos, s.n, &f);
                hr_buf_append(&r->out, in + pos, s.n);
            }
            pos += s.n;
        }
    }
    *consumed = pos;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    size_t whole[] = {size}, cuts[64], ncut = 0, at = 0, c1 = 0, c2 = 0;
    uint32_t h = fuzz_hash(data, size);
    while (at < size && ncut < 63) { /* pieces of 1 to 64 bytes, the rest at once */
        h = h * 1103515245u + 12345u;
        at += 1 + (h >> 16) % 64;
        cuts[ncut++] = at;
    }
    cuts[ncut++] = size;
    struct run one = {0}, pieces = {0};
    frame(data, size, whole, 1, &one, &c1);
    frame(data, size, cuts, ncut, &pieces, &c2);
    FUZZ_CHECK(c1 == c2, "%zu bytes consumed whole, %zu in pieces", c1, c2);
    FUZZ_CHECK(one.out.len == pieces.out.len && (!one.out.len || !memcmp(one.out.data, pieces.out.data, one.out.len)),
               "libevent gets other bytes when the input comes in pieces");
    hr_buf_free(&one.out);
    hr_buf_free(&one.head);
    hr_buf_free(&pieces.out);
    hr_buf_free(&pieces.head);
    return 0;
}
