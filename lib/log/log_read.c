/* The one reader of the request log: requests.jsonl and its rotated copies,
 * each line back into the record log_write.c wrote it from. A line that is
 * not a record (a foreign one, or one torn by a crash of an older writer) is
 * counted and skipped. */
#include "log/log_record.h"
#include "util/file_io.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Where the strings of the record being handed out live. */
struct strings {
    char method[16], provider[40], upstream[256], scorer[32], scorer_backend[32], api[32];
};

struct reading {
    long long since_ms;
    hr__log_fn fn;
    void *ctx;
    hr_log_scan *scan;
    struct strings s;
    int stopped; /* fn asked to stop */
};

/* A string member into buf; NULL when it is null or absent and nullable. */
static const char *text_of(const hr_json *d, hr_json_node obj, const char *key, char *buf, size_t len, int nullable)
{
    hr_json_node v = hr_json_get(d, obj, key);
    if (nullable && (v == HR_JSON_NONE || hr_json_type_of(d, v) != HR_JSON_STRING)) return NULL;
    hr__jsonl_string(d, obj, key, buf, len);
    return buf;
}

/* A count: a whole number, 0 when absent or negative. */
static uint64_t count_of(const hr_json *d, const char *line, hr_json_node obj, const char *key)
{
    hr_json_node v = hr_json_get(d, obj, key);
    int64_t n;
    if (v == HR_JSON_NONE || hr_json_type_of(d, v) != HR_JSON_NUMBER) return 0;
    if (!hr_json_int64(d, v, &n)) return n > 0 ? (uint64_t)n : 0;
    double x = hr__jsonl_number(d, line, obj, key);
    return x > 0 && x < 1.8e19 ? (uint64_t)x : 0;
}

static int is_true(const hr_json *d, hr_json_node obj, const char *key)
{
    hr_json_node v = hr_json_get(d, obj, key);
    return v != HR_JSON_NONE && hr_json_type_of(d, v) == HR_JSON_TRUE;
}

/* "usage" and the bill read from it; in observe mode billed_units_after
 * is what compression would have billed, else what was billed. */
static void read_bill(const hr_json *d, const char *line, hr_json_node root, struct hr__log_record *r,
                      struct strings *s)
{
    hr_json_node u = hr_json_get(d, root, "usage");
    r->observe = is_true(d, root, "observe");
    if (u == HR_JSON_NONE || hr_json_type_of(d, u) != HR_JSON_OBJECT) return;
    r->usage.have = 1;
    r->usage.api = text_of(d, u, "api", s->api, sizeof s->api, 0);
    r->usage.input_uncached = count_of(d, line, u, "input_uncached");
    r->usage.cache_write = count_of(d, line, u, "cache_write");
    r->usage.cache_read = count_of(d, line, u, "cache_read");
    r->usage.output = count_of(d, line, u, "output");
    r->billed = hr__jsonl_number(d, line, root, "billed_units");
    r->billed_before = hr__jsonl_number(d, line, root, "billed_units_before");
    r->billed_after = r->observe ? hr__jsonl_number(d, line, root, "billed_units_after") : r->billed;
    hr_json_node cost = hr_json_get(d, root, "cost_usd");
    r->has_cost = cost != HR_JSON_NONE && hr_json_type_of(d, cost) == HR_JSON_NUMBER;
    r->cost_usd = hr__jsonl_number(d, line, root, "cost_usd");
}

/* The tokens: the file holds the saving's split, the record what re-encoding
 * alone left. */
static void read_tokens(const hr_json *d, const char *line, hr_json_node root, struct hr__log_record *r)
{
    r->tokens_before = (size_t)count_of(d, line, root, "tokens_before");
    r->tokens_after = (size_t)count_of(d, line, root, "tokens_after");
    size_t lossless = (size_t)count_of(d, line, root, "saved_lossless");
    r->tokens_lossless = r->tokens_before - (lossless < r->tokens_before ? lossless : r->tokens_before);
}

/* -1 when the object is not a record (no time in ts). */
static int parse_record(const hr_json *d, hr_json_node root, const char *line, struct hr__log_record *r,
                        struct strings *s)
{
    memset(r, 0, sizeof *r);
    hr__jsonl_string(d, root, "ts", r->ts, sizeof r->ts);
    if ((r->ts_ms = hr__utc_time_ms(r->ts)) < 0) return -1;
    hr__jsonl_string(d, root, "id", r->id, sizeof r->id);
    r->method = text_of(d, root, "method", s->method, sizeof s->method, 0);
    hr__jsonl_string(d, root, "path", r->path, sizeof r->path);
    r->provider = text_of(d, root, "provider", s->provider, sizeof s->provider, 0);
    r->upstream = text_of(d, root, "upstream", s->upstream, sizeof s->upstream, 0);
    hr__jsonl_string(d, root, "model", r->model, sizeof r->model);
    r->stream = is_true(d, root, "stream");
    r->status = (int)hr__jsonl_number(d, line, root, "status");
    read_tokens(d, line, root, r);
    r->compress_ms = hr__jsonl_number(d, line, root, "compress_ms");
    r->ttfb_ms = hr__jsonl_number(d, line, root, "ttfb_ms");
    r->total_ms = hr__jsonl_number(d, line, root, "total_ms");
    r->scorer = text_of(d, root, "scorer", s->scorer, sizeof s->scorer, 1);
    r->scorer_backend = text_of(d, root, "scorer_backend", s->scorer_backend, sizeof s->scorer_backend, 1);
    hr__jsonl_string(d, root, "error", r->error, sizeof r->error);
    read_bill(d, line, root, r, s);
    return 0;
}

static int each_line(const hr_json *d, hr_json_node root, const char *line, void *ctx)
{
    struct reading *rd = ctx;
    struct hr__log_record r;
    if (parse_record(d, root, line, &r, &rd->s)) {
        rd->scan->bad_lines++;
        return 0;
    }
    rd->scan->records++;
    if (r.ts_ms > rd->scan->newest_ms) rd->scan->newest_ms = r.ts_ms;
    if (r.ts_ms >= rd->since_ms && rd->fn(&r, rd->ctx)) rd->stopped = 1;
    return rd->stopped;
}

int hr__log_each(const char *dir, long long since_ms, hr__log_fn fn, void *ctx, hr_log_scan *scan)
{
    struct reading rd = {.since_ms = since_ms, .fn = fn, .ctx = ctx, .scan = scan};
    int err = 0;
    memset(scan, 0, sizeof *scan);
    for (int i = 0; i <= HR__LOG_KEEP && !err && !rd.stopped; i++) {
        char name[64];
        hr__log_file_name(i, name, sizeof name);
        char *path = hr__path_join(dir, name);
        hr_buf text = HR_BUF_INIT;
        int e = path ? hr__jsonl_load(path, 0, &text) : ENOMEM;
        if (!e) {
            scan->files++;
            if (hr__jsonl_each(&text, 0, each_line, &rd, &scan->bad_lines)) err = ENOMEM;
        } else if (e != ENOENT) err = e;
        hr_buf_free(&text);
        free(path);
    }
    return err;
}
