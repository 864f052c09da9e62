/* The proxy's side of the request log: each finished exchange's record goes
 * to libhr's writer (lib/log/log_write.c: the file, its rotation, whole
 * lines only) and a line for people to stderr. A log that cannot be written
 * never fails a request: the record is dropped, said once on stderr, and
 * /health says unhealthy until an append works again. */
#include "proxy.h"

#include <stdio.h>
#include <stdlib.h>

struct reqlog {
    struct hr__log_writer *w;
    int failing; /* the last append failed, and stderr said so */
};

struct reqlog *reqlog_open(const char *dir, size_t max_bytes, char *err, size_t err_len)
{
    struct reqlog *log = calloc(1, sizeof *log);
    if (!log || !(log->w = hr__log_open(dir, max_bytes))) {
        free(log);
        return NULL;
    }
    const char *problem = hr__log_problem(log->w);
    if (problem) snprintf(err, err_len, "%s", problem);
    return log;
}

void reqlog_close(struct reqlog *log)
{
    if (!log) return;
    hr__log_close(log->w);
    free(log);
}

const char *reqlog_problem(struct reqlog *log)
{
    return hr__log_problem(log->w);
}

/* Once when appends start failing, once when they work again. */
static void say_append(struct reqlog *log, int err)
{
    if (err && !log->failing)
        fprintf(stderr,
                "hr-proxy: warning: %s: records are dropped until the log can be written (/health says "
                "unhealthy)\n",
                hr__log_problem(log->w));
    else if (!err && log->failing) fprintf(stderr, "hr-proxy: the request log is written again\n");
    log->failing = err != 0;
}

void reqlog_write(struct reqlog *log, struct hr__log_record *r)
{
    hr__log_stamp(r);
    say_append(log, hr__log_append(log->w, r));
    size_t saved = hr__log_saved(r);
    char bill[96] = "";
    if (r->usage.have)
        snprintf(bill, sizeof bill, ", billed %.1f units (%.1f %s)", r->billed,
                 r->observe ? r->billed_after : r->billed_before, r->observe ? "compressed" : "uncompressed");
    fprintf(stderr, "%s %s %s %s -> %s %d %s%s%zu -> %zu tokens (-%zu)%s %.1f ms%s%s\n", r->ts, r->id, r->method,
            r->path, r->upstream, r->status, r->stream ? "stream " : "", r->observe ? "observe " : "", r->tokens_before,
            r->tokens_after, saved, bill, r->total_ms, r->error[0] ? " error: " : "", r->error);
}
