/* The request log: one JSON object per request appended to
 * LOG_DIR/requests.jsonl (O_APPEND, one write per line), rotated by size to
 * requests.jsonl.1 .. .5; a line for people on stderr. Never credentials,
 * headers or bodies. */
#include "proxy.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define KEEP_ROTATED 5

struct reqlog {
    char dir[4096], path[4200];
    size_t max_bytes;
    int fd;
    char problem[8600];
};

static int make_dirs(const char *dir)
{
    char tmp[4096];
    snprintf(tmp, sizeof tmp, "%s", dir);
    for (char *p = tmp + 1; *p; p++) {
        if (*p != '/') continue;
        *p = '\0';
        if (mkdir(tmp, 0700) && errno != EEXIST) return -1;
        *p = '/';
    }
    return mkdir(tmp, 0700) && errno != EEXIST ? -1 : 0;
}

static void open_file(struct reqlog *log)
{
    if (log->fd >= 0) close(log->fd);
    log->fd = open(log->path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
    if (log->fd < 0) snprintf(log->problem, sizeof log->problem, "%s: %s", log->path, strerror(errno));
    else log->problem[0] = '\0';
}

struct reqlog *reqlog_open(const char *dir, size_t max_bytes, char *err, size_t err_len)
{
    struct reqlog *log = calloc(1, sizeof *log);
    if (!log) return NULL;
    snprintf(log->dir, sizeof log->dir, "%s", dir);
    snprintf(log->path, sizeof log->path, "%s/requests.jsonl", dir);
    log->max_bytes = max_bytes;
    log->fd = -1;
    if (make_dirs(dir)) snprintf(log->problem, sizeof log->problem, "%s: %s", dir, strerror(errno));
    else open_file(log);
    if (log->problem[0]) snprintf(err, err_len, "%s", log->problem);
    return log;
}

void reqlog_close(struct reqlog *log)
{
    if (!log) return;
    if (log->fd >= 0) close(log->fd);
    free(log);
}

const char *reqlog_problem(struct reqlog *log)
{
    if (access(log->dir, W_OK)) {
        snprintf(log->problem, sizeof log->problem, "log folder %s is not writable: %s", log->dir, strerror(errno));
        return log->problem;
    }
    if (log->fd < 0) open_file(log);
    return log->problem[0] ? log->problem : NULL;
}

static void rotate_if_big(struct reqlog *log)
{
    struct stat st;
    if (log->fd < 0 || fstat(log->fd, &st) || (size_t)st.st_size < log->max_bytes) return;
    char from[4300], to[4300];
    for (int i = KEEP_ROTATED - 1; i >= 1; i--) {
        snprintf(from, sizeof from, "%s.%d", log->path, i);
        snprintf(to, sizeof to, "%s.%d", log->path, i + 1);
        rename(from, to);
    }
    snprintf(to, sizeof to, "%s.1", log->path);
    rename(log->path, to);
    open_file(log);
}

static void put_string(hr_buf *b, const char *s)
{
    hr_json_encode_string(b, s ? s : "", s ? strlen(s) : 0);
}

static void put(hr_buf *b, const char *s)
{
    hr_buf_append(b, s, strlen(s));
}

/* A number of units or dollars: at most 6 decimals, no trailing zeros
 * (1.25 x 3 = 3.75, not 3.750000). */
static void put_number(hr_buf *b, double x)
{
    char num[64];
    int n = snprintf(num, sizeof num, "%.6f", x);
    while (n > 1 && num[n - 1] == '0') n--;
    if (n > 1 && num[n - 1] == '.') n--;
    hr_buf_append(b, num, (size_t)n);
}

/* "usage" (or null), and the bill read from it. */
static void put_bill(hr_buf *b, const struct record *r)
{
    char num[256];
    put(b, r->observe ? ",\"observe\":true,\"usage\":" : ",\"observe\":false,\"usage\":");
    if (!r->usage.have) {
        put(b, "null");
        return;
    }
    const struct usage *u = &r->usage;
    snprintf(num, sizeof num,
             "{\"api\":\"%s\",\"input_uncached\":%llu,\"cache_write\":%llu,\"cache_read\":%llu,\"output\":%llu}",
             api_name(u->api), (unsigned long long)u->input_uncached, (unsigned long long)u->cache_write,
             (unsigned long long)u->cache_read, (unsigned long long)u->output);
    put(b, num);
    put(b, ",\"billed_units\":");
    put_number(b, r->billed);
    put(b, ",\"billed_units_before\":");
    put_number(b, r->billed_before);
    if (r->observe) {
        put(b, ",\"billed_units_after\":");
        put_number(b, r->billed_after);
    }
    if (r->has_cost) {
        put(b, ",\"cost_usd\":");
        put_number(b, r->cost_usd);
    }
}

size_t record_saved_lossless(const struct record *r)
{
    size_t saved = r->tokens_before > r->tokens_after ? r->tokens_before - r->tokens_after : 0;
    size_t lossless = r->tokens_before > r->tokens_lossless ? r->tokens_before - r->tokens_lossless : 0;
    return lossless < saved ? lossless : saved;
}

void reqlog_write(struct reqlog *log, const struct record *r)
{
    char ts[40], num[512];
    struct timespec now;
    struct tm tm;
    clock_gettime(CLOCK_REALTIME, &now);
    gmtime_r(&now.tv_sec, &tm);
    size_t k = strftime(ts, sizeof ts, "%Y-%m-%dT%H:%M:%S", &tm);
    snprintf(ts + k, sizeof ts - k, ".%03ldZ", now.tv_nsec / 1000000);
    size_t saved = r->tokens_before > r->tokens_after ? r->tokens_before - r->tokens_after : 0;
    size_t lossless = record_saved_lossless(r);

    hr_buf b = HR_BUF_INIT;
    put(&b, "{\"ts\":\"");
    put(&b, ts);
    put(&b, "\",\"id\":");
    put_string(&b, r->id);
    put(&b, ",\"method\":");
    put_string(&b, r->method);
    put(&b, ",\"path\":");
    put_string(&b, r->path);
    put(&b, ",\"provider\":");
    put_string(&b, r->provider);
    put(&b, ",\"upstream\":");
    put_string(&b, r->upstream);
    put(&b, ",\"model\":");
    put_string(&b, r->model);
    snprintf(num, sizeof num,
             ",\"stream\":%s,\"status\":%d,\"tokens_before\":%zu,\"tokens_after\":%zu,\"tokens_saved\":%zu,"
             "\"saved_lossless\":%zu,\"saved_lossy\":%zu,\"compress_ms\":%.3f,\"ttfb_ms\":%.3f,\"total_ms\":%.3f,"
             "\"scorer\":",
             r->stream ? "true" : "false", r->status, r->tokens_before, r->tokens_after, saved, lossless,
             saved - lossless, r->compress_ms, r->ttfb_ms, r->total_ms);
    put(&b, num);
    if (r->scorer) put_string(&b, r->scorer);
    else put(&b, "null");
    put(&b, ",\"scorer_backend\":");
    if (r->scorer_backend) put_string(&b, r->scorer_backend);
    else put(&b, "null");
    put(&b, ",\"error\":");
    if (r->error[0]) put_string(&b, r->error);
    else put(&b, "null");
    put_bill(&b, r);
    put(&b, "}\n");
    if (log->fd >= 0 && b.data) {
        rotate_if_big(log);
        if (log->fd >= 0 && write(log->fd, b.data, b.len) < 0)
            snprintf(log->problem, sizeof log->problem, "%s: %s", log->path, strerror(errno));
    }
    hr_buf_free(&b);
    char bill[96] = "";
    if (r->usage.have)
        snprintf(bill, sizeof bill, ", billed %.1f units (%.1f %s)", r->billed,
                 r->observe ? r->billed_after : r->billed_before, r->observe ? "compressed" : "uncompressed");
    fprintf(stderr, "%s %s %s %s -> %s %d %s%s%zu -> %zu tokens (-%zu)%s %.1f ms%s%s\n", ts, r->id, r->method, r->path,
            r->upstream, r->status, r->stream ? "stream " : "", r->observe ? "observe " : "", r->tokens_before,
            r->tokens_after, saved, bill, r->total_ms, r->error[0] ? " error: " : "", r->error);
}
