/* How the connection filter (body_limit.c) frames a client's requests,
 * on bytes alone: no libevent here, so that it can be tested and fuzzed
 * byte by byte (fuzz/fuzz_http.c). */
#ifndef HR_PROXY_FRAMING_H
#define HR_PROXY_FRAMING_H

#include <stddef.h>
#include <stdint.h>

/* The marker of a request whose body was over max_body_bytes and was dropped;
 * its value is the announced length. */
#define TOO_LARGE_HEADER "X-Hr-Body-Too-Large"
/* on a head whose body length is ambiguous: why, for a 400 */
#define BAD_FRAMING_HEADER "X-Hr-Bad-Framing"
/* on a head over the header limits: why, for a 431 */
#define HEADERS_TOO_LARGE_HEADER "X-Hr-Headers-Too-Large"
#define MAX_HEADERS 200            /* header lines of a request */
#define MAX_HEAD_BYTES (64 * 1024) /* its request line and headers */

enum framing {
    READ_HEAD, /* the next bytes start a request head */
    PASS_BODY, /* `remaining` bytes of a body that goes to libevent */
    DROP_BODY, /* `remaining` bytes of a body too large: dropped */
    DROP_ALL,  /* the connection closes after the marked head: drop everything */
    PASS_ALL,  /* libevent alone: a chunked body, after which the connection
                * closes, or no request line, which libevent answers with 400 */
};

/* One connection's position in its stream of requests. The limits are
 * fields so that a test can reach them with small inputs; the proxy uses
 * max_body_bytes, MAX_HEAD_BYTES and MAX_HEADERS. */
struct framer {
    enum framing state;
    uint64_t remaining;
    uint64_t max_body;
    size_t head_max, max_headers;
};

/* What the filter does with the bytes at the front of its input. */
enum frame_op {
    FRAME_WAIT, /* nothing until more bytes come */
    FRAME_PASS, /* n bytes go to libevent as they are */
    FRAME_DROP, /* n bytes are dropped */
};

struct frame_step {
    enum frame_op op;
    size_t n;
};

/* Where a rewritten head goes, before the step that consumes the original. */
typedef void (*frame_emit)(void *ctx, const char *bytes, size_t n);

/* How many of the avail waiting bytes framer_next must see: the start of a
 * head, up to head_max; 0 in a body or once framing is over. */
size_t framer_look(const struct framer *f, size_t avail);

/* The next step for the avail bytes waiting, of which buf holds the first
 * framer_look(f, avail). A head that is refused or whose body is dropped is
 * first written again, marked for on_request, through emit. */
struct frame_step framer_next(struct framer *f, const char *buf, size_t avail, frame_emit emit, void *ctx);

/* The length of the head at the start of buf (up to and including the blank
 * line), or 0 when it is not all there yet. */
size_t http_head_length(const char *buf, size_t n);

/* What framing needs of a complete head: the method and the body's length. */
struct http_head {
    size_t len;           /* bytes, blank line included */
    const char *line_end; /* end of the request line */
    int has_body;         /* a method libevent reads a body for */
    int content_lengths, bad_length, conflicting, chunked, expect;
    uint64_t content_length;
    size_t headers; /* header lines */
};

/* buf[0..len) is a whole head, as http_head_length found it. */
void http_head_read(const char *buf, size_t len, struct http_head *h);

#endif
