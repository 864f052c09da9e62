/* The one writer of the request log: each record one JSON line appended to
 * DIR/requests.jsonl (mode 0600) with one write(2) to a descriptor opened
 * O_APPEND, so that lines never interleave; a failed append is cut back, so
 * that no half line stays; rotated by size. Never credentials, headers or
 * bodies: the record holds none. */
#include "log/log_record.h"
#include "util/file_io.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

struct hr__log_writer {
    char dir[4096], path[4200];
    size_t max_bytes;
    int fd;
    char problem[8600];    /* why the file could not be opened or the last append failed; "" */
    char unwritable[8600]; /* hr__log_problem's answer for a folder that is not writable */
};

/* ---- the line ----------------------------------------------------------------- */

/* The line being built: appends stop at the first failure, which stays. */
struct line {
    hr_buf *b;
    hr_status st;
};

static void put(struct line *l, const char *s)
{
    if (!l->st) l->st = hr_buf_append(l->b, s, strlen(s));
}

/* A JSON string, "" for NULL, with libhr's one JSON string writer. */
static void put_string(struct line *l, const char *s)
{
    if (!l->st) l->st = hr_json_encode_string(l->b, s ? s : "", s ? strlen(s) : 0);
}

static void put_string_or_null(struct line *l, const char *s)
{
    if (s) put_string(l, s);
    else put(l, "null");
}

/* A number of units or dollars: at most 6 decimals, no trailing zeros
 * (1.25 x 3 = 3.75, not 3.750000). */
static void put_number(struct line *l, double x)
{
    char num[400]; /* DBL_MAX at %.6f takes 316 */
    int n = snprintf(num, sizeof num, "%.6f", x);
    while (n > 1 && num[n - 1] == '0') n--;
    if (n > 1 && num[n - 1] == '.') n--;
    num[n] = '\0';
    put(l, num);
}

/* "usage" (or null), and the bill read from it. */
static void put_bill(struct line *l, const struct hr__log_record *r)
{
    char num[256];
    put(l, r->observe ? ",\"observe\":true,\"usage\":" : ",\"observe\":false,\"usage\":");
    if (!r->usage.have) {
        put(l, "null");
        return;
    }
    const struct hr__log_usage *u = &r->usage;
    put(l, "{\"api\":");
    put_string(l, u->api);
    snprintf(num, sizeof num, ",\"input_uncached\":%llu,\"cache_write\":%llu,\"cache_read\":%llu,\"output\":%llu}",
             (unsigned long long)u->input_uncached, (unsigned long long)u->cache_write,
             (unsigned long long)u->cache_read, (unsigned long long)u->output);
    put(l, num);
    put(l, ",\"billed_units\":");
    put_number(l, r->billed);
    put(l, ",\"billed_units_before\":");
    put_number(l, r->billed_before);
    if (r->observe) {
        put(l, ",\"billed_units_after\":");
        put_number(l, r->billed_after);
    }
    if (r->has_cost) {
        put(l, ",\"cost_usd\":");
        put_number(l, r->cost_usd);
    }
}

hr_status hr__log_format(const struct hr__log_record *r, hr_buf *out)
{
    struct line l = {out, HR_OK};
    char num[512];
    size_t saved = hr__log_saved(r), lossless = hr__log_saved_lossless(r);
    put(&l, "{\"ts\":");
    put_string(&l, r->ts);
    put(&l, ",\"id\":");
    put_string(&l, r->id);
    put(&l, ",\"method\":");
    put_string(&l, r->method);
    put(&l, ",\"path\":");
    put_string(&l, r->path);
    put(&l, ",\"provider\":");
    put_string(&l, r->provider);
    put(&l, ",\"upstream\":");
    put_string(&l, r->upstream);
    put(&l, ",\"model\":");
    put_string(&l, r->model);
    snprintf(num, sizeof num,
             ",\"stream\":%s,\"status\":%d,\"tokens_before\":%zu,\"tokens_after\":%zu,\"tokens_saved\":%zu,"
             "\"saved_lossless\":%zu,\"saved_lossy\":%zu,\"compress_ms\":%.3f,\"ttfb_ms\":%.3f,\"total_ms\":%.3f,"
             "\"scorer\":",
             r->stream ? "true" : "false", r->status, r->tokens_before, r->tokens_after, saved, lossless,
             saved - lossless, r->compress_ms, r->ttfb_ms, r->total_ms);
    put(&l, num);
    put_string_or_null(&l, r->scorer);
    put(&l, ",\"scorer_backend\":");
    put_string_or_null(&l, r->scorer_backend);
    put(&l, ",\"error\":");
    put_string_or_null(&l, r->error[0] ? r->error : NULL);
    put_bill(&l, r);
    put(&l, "}\n");
    return l.st;
}

/* ---- the file ----------------------------------------------------------------- */

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

/* A file that an older writer left with a torn last line gets the newline
 * it lacks, so that the next record starts a line of its own (the reader
 * skips the torn one). */
static void end_torn_line(const char *path, int fd)
{
    struct stat st;
    char last = '\n';
    if (fstat(fd, &st) || !S_ISREG(st.st_mode) || st.st_size == 0) return;
    int rd = open(path, O_RDONLY | O_CLOEXEC);
    if (rd < 0) return;
    if (pread(rd, &last, 1, st.st_size - 1) == 1 && last != '\n' && write(fd, "\n", 1) < 0) {
        /* the next append says why */
    }
    close(rd);
}

static void open_file(struct hr__log_writer *w)
{
    if (w->fd >= 0) close(w->fd);
    w->fd = open(w->path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
    if (w->fd < 0) snprintf(w->problem, sizeof w->problem, "%s: %s", w->path, strerror(errno));
    else w->problem[0] = '\0';
    if (w->fd >= 0) end_torn_line(w->path, w->fd);
}

struct hr__log_writer *hr__log_open(const char *dir, size_t max_bytes)
{
    struct hr__log_writer *w = calloc(1, sizeof *w);
    if (!w) return NULL;
    snprintf(w->dir, sizeof w->dir, "%s", dir);
    char name[64];
    hr__log_file_name(0, name, sizeof name);
    snprintf(w->path, sizeof w->path, "%s/%s", dir, name);
    w->max_bytes = max_bytes;
    w->fd = -1;
    if (make_dirs(dir)) snprintf(w->problem, sizeof w->problem, "%s: %s", dir, strerror(errno));
    else open_file(w);
    return w;
}

void hr__log_close(struct hr__log_writer *w)
{
    if (!w) return;
    if (w->fd >= 0) close(w->fd);
    free(w);
}

const char *hr__log_problem(struct hr__log_writer *w)
{
    if (access(w->dir, W_OK)) {
        snprintf(w->unwritable, sizeof w->unwritable, "log folder %s is not writable: %s", w->dir, strerror(errno));
        return w->unwritable;
    }
    if (w->fd < 0) open_file(w);
    return w->problem[0] ? w->problem : NULL;
}

/* The rotation, decided and done here only: a file that has reached
 * max_bytes becomes requests.jsonl.1, the older copies move up one, the
 * oldest (.HR__LOG_KEEP) is dropped, and a new file is opened. */
static void rotate_if_due(struct hr__log_writer *w)
{
    struct stat st;
    if (w->fd < 0 || fstat(w->fd, &st) || (size_t)st.st_size < w->max_bytes) return;
    char from[4300], to[4300], name[64];
    for (int i = HR__LOG_KEEP; i >= 1; i--) {
        hr__log_file_name(i - 1, name, sizeof name);
        snprintf(from, sizeof from, "%s/%s", w->dir, name);
        hr__log_file_name(i, name, sizeof name);
        snprintf(to, sizeof to, "%s/%s", w->dir, name);
        rename(from, to);
    }
    open_file(w);
}

/* One write(2) of the whole line; a short one (a signal, or the disk or
 * RLIMIT_FSIZE filling) is continued to learn whether the rest fits, and a
 * failure cuts the file back to size, the length it had before, so that no
 * half line stays (hr-proxy is the file's one writer: nobody else's line
 * can have come in between). 0 or an errno; *cut_err: errno of a failed
 * cut. */
static int write_line(int fd, const char *line, size_t len, off_t size, int *cut_err)
{
    size_t done = 0;
    int err = 0;
    while (done < len && !err) {
        ssize_t n = write(fd, line + done, len - done);
        if (n > 0) done += (size_t)n;
        else if (n == 0) err = EIO;
        else if (errno != EINTR) err = errno;
    }
    *cut_err = err && done && ftruncate(fd, size) ? errno : 0;
    return err;
}

int hr__log_append(struct hr__log_writer *w, const struct hr__log_record *r)
{
    hr_buf line = HR_BUF_INIT;
    struct stat st;
    int cut_err = 0, err = hr__log_format(r, &line) ? ENOMEM : 0;
    if (!err) rotate_if_due(w);
    if (!err && w->fd < 0) open_file(w);
    if (!err && w->fd < 0) err = EBADF; /* problem says why */
    else if (!err && fstat(w->fd, &st)) err = errno;
    else if (!err) err = write_line(w->fd, line.data, line.len, st.st_size, &cut_err);
    if (cut_err)
        snprintf(w->problem, sizeof w->problem, "%s: %s; cutting the part written failed: %s", w->path, strerror(err),
                 strerror(cut_err));
    else if (err && err != EBADF) snprintf(w->problem, sizeof w->problem, "%s: %s", w->path, strerror(err));
    else if (!err) w->problem[0] = '\0';
    hr_buf_free(&line);
    return err;
}
