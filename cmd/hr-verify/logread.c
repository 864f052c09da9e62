/* Reading hr-proxy's request log: requests.jsonl, one JSON object per
 * request, and its rotated copies requests.jsonl.1 .. .5 (older first
 * renamed). Read with libhr's own scanner: the records are small and
 * hr-proxy writes them, so a jq dependency would buy nothing here. */
#include "verify.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define KEEP_ROTATED 5

void json_get_string(const hr_json *d, hr_json_node obj, const char *key, char *out, size_t len)
{
    hr_json_node v = hr_json_get(d, obj, key);
    hr_buf b = {0};
    out[0] = '\0';
    if (v != HR_JSON_NONE && hr_json_type_of(d, v) == HR_JSON_STRING && !hr_json_string_decode(d, v, &b) && b.data)
        snprintf(out, len, "%s", b.data);
    hr_buf_free(&b);
}

double json_get_number(const hr_json *d, const char *text, hr_json_node obj, const char *key)
{
    hr_json_node v = hr_json_get(d, obj, key);
    if (v == HR_JSON_NONE || hr_json_type_of(d, v) != HR_JSON_NUMBER) return 0;
    return strtod(text + hr_json_start(d, v), NULL);
}

/* The bill hr-proxy logs when the answer reported usage: billed_units
 * (what the provider billed) and billed_units_before (uncompressed); in
 * observe mode billed_units_after (what compression would have billed). */
static void read_bill(const hr_json *d, const char *line, hr_json_node root, struct log_record *r)
{
    hr_json_node billed = hr_json_get(d, root, "billed_units"), obs = hr_json_get(d, root, "observe");
    r->observe = obs != HR_JSON_NONE && hr_json_type_of(d, obs) == HR_JSON_TRUE;
    if (billed == HR_JSON_NONE || hr_json_type_of(d, billed) != HR_JSON_NUMBER) return;
    r->has_bill = 1;
    r->billed_before = json_get_number(d, line, root, "billed_units_before");
    r->billed_after = json_get_number(d, line, root, r->observe ? "billed_units_after" : "billed_units");
}

/* One line into r; -1 when it is not a record (no parsable ts). */
static int parse_record(hr_json *d, const char *line, size_t len, struct log_record *r)
{
    if (hr_json_parse(d, line, len)) return -1;
    hr_json_node root = hr_json_root(d);
    if (hr_json_type_of(d, root) != HR_JSON_OBJECT) return -1;
    memset(r, 0, sizeof *r);
    json_get_string(d, root, "ts", r->ts, sizeof r->ts);
    if ((r->ts_ms = parse_utc_time(r->ts)) < 0) return -1;
    json_get_string(d, root, "model", r->model, sizeof r->model);
    json_get_string(d, root, "provider", r->provider, sizeof r->provider);
    json_get_string(d, root, "method", r->method, sizeof r->method);
    json_get_string(d, root, "path", r->path, sizeof r->path);
    json_get_string(d, root, "error", r->error, sizeof r->error);
    r->status = (int)json_get_number(d, line, root, "status");
    r->before = (unsigned long long)json_get_number(d, line, root, "tokens_before");
    r->after = (unsigned long long)json_get_number(d, line, root, "tokens_after");
    r->saved = (unsigned long long)json_get_number(d, line, root, "tokens_saved");
    r->compress_ms = json_get_number(d, line, root, "compress_ms");
    r->total_ms = json_get_number(d, line, root, "total_ms");
    read_bill(d, line, root, r);
    return 0;
}

/* Returns 1 when fn asked to stop. */
static int scan_text(hr_json *d, const hr_buf *text, long long since_ms, log_fn fn, void *ctx, struct log_scan *scan)
{
    const char *p = text->data, *end = text->data + text->len;
    while (p && p < end) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        size_t len = (size_t)((nl ? nl : end) - p);
        struct log_record r;
        if (len && parse_record(d, p, len, &r)) scan->bad_lines++;
        else if (len) {
            scan->records++;
            if (r.ts_ms > scan->newest_ms) scan->newest_ms = r.ts_ms;
            if (r.ts_ms >= since_ms && fn(&r, ctx)) return 1;
        }
        p = nl ? nl + 1 : end;
    }
    return 0;
}

int log_each(const char *dir, long long since_ms, log_fn fn, void *ctx, struct log_scan *scan)
{
    memset(scan, 0, sizeof *scan);
    hr_json *d;
    if (hr_json_new(&d)) return ENOMEM;
    int err = 0, stop = 0;
    for (int i = 0; i <= KEEP_ROTATED && !err && !stop; i++) {
        char name[32];
        snprintf(name, sizeof name, i ? "requests.jsonl.%d" : "requests.jsonl", i);
        char *path = hr__path_join(dir, name);
        hr_buf text = {0};
        int e = path ? hr__read_file(path, &text) : ENOMEM;
        if (!e) {
            scan->files++;
            stop = scan_text(d, &text, since_ms, fn, ctx, scan);
        } else if (e != ENOENT) err = e;
        hr_buf_free(&text);
        free(path);
    }
    hr_json_free(d);
    return err;
}
