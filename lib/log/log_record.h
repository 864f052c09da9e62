/* The request log: hr-proxy appends one JSON line per exchange to
 * LOG_DIR/requests.jsonl, hr-verify (and any report) reads it back. The
 * record, the file's name and its rotation are defined here once, with the
 * one writer (log_write.c) and the one reader (log_read.c), and the reading
 * of JSON lines that the plugin's call record shares (jsonl_read.c). */
#ifndef HR_LOG_RECORD_H
#define HR_LOG_RECORD_H

#include "hr.h"

#include <stddef.h>
#include <stdint.h>

/* The file in the log folder is hr.h's HR_LOG_FILE; past the writer's
 * max_bytes it becomes requests.jsonl.1, the older ones move up to
 * .HR__LOG_KEEP, the oldest dropped. */
#define HR__LOG_KEEP 5

/* The name of the log file of age i: 0 the current one, 1 to HR__LOG_KEEP
 * its rotated copies, newest first. */
void hr__log_file_name(int i, char *out, size_t len);

/* The tokens the provider reported billing, normalised: OpenAI's cached
 * tokens are cache reads, its prompt tokens less those the uncached input. */
struct hr__log_usage {
    int have;        /* 0: the answer reported none ("usage": null) */
    const char *api; /* anthropic-messages, openai-chat, openai-responses */
    uint64_t input_uncached, cache_write, cache_read, output;
};

/* One exchange. The writer takes the const char * strings as static or
 * outliving the append (NULL is written as "", scorer and scorer_backend as
 * null); records the reader hands out point them into its own storage,
 * valid until the callback returns: copy what is kept. */
struct hr__log_record {
    char ts[40];     /* RFC 3339, UTC, milliseconds; hr__log_stamp() sets it */
    long long ts_ms; /* the same, in milliseconds since the epoch */
    char id[40];
    const char *method, *provider, *upstream;
    char path[512]; /* without the query string, which may hold a key */
    char model[128];
    int stream, status;
    size_t tokens_before, tokens_after;
    size_t tokens_lossless;              /* after re-encoding alone: the rest of the saving was cut */
    const char *scorer, *scorer_backend; /* NULL when no scorer ran */
    double compress_ms, ttfb_ms, total_ms;
    char error[160]; /* "" when none */
    int observe;     /* the body went as it came; tokens_after is what compression would give */
    struct hr__log_usage usage;
    double billed;                      /* input-token equivalents of what the provider billed */
    double billed_before, billed_after; /* uncompressed and compressed; one of them estimated */
    int has_cost;
    double cost_usd;
};

/* The tokens r saved (0 when it grew), and of them those saved by
 * re-encoding alone (the rest were cut). */
size_t hr__log_saved(const struct hr__log_record *r);
size_t hr__log_saved_lossless(const struct hr__log_record *r);

/* Sets r's ts and ts_ms to now. */
void hr__log_stamp(struct hr__log_record *r);
/* "2026-11-24T10:00:00.123Z", "...+00:00" (the times JSON-line records
 * carry): milliseconds since the epoch, or -1 when s is not such a time. */
long long hr__utc_time_ms(const char *s);

/* ---- writing (log_write.c) ------------------------------------------------- */

/* r as its line in the log, newline included, appended to line. */
hr_status hr__log_format(const struct hr__log_record *r, hr_buf *line);

struct hr__log_writer;
/* The log of folder dir (created, mode 0700, when missing), rotated past
 * max_bytes. NULL only when out of memory; a log that cannot be opened yet
 * says why in hr__log_problem() and is opened again when asked. */
struct hr__log_writer *hr__log_open(const char *dir, size_t max_bytes);
void hr__log_close(struct hr__log_writer *w);
/* Why records cannot be written now ("PATH: reason"), NULL when they can:
 * the folder is not writable, the file cannot be opened, or the last append
 * failed. */
const char *hr__log_problem(struct hr__log_writer *w);
/* Appends r's line with one write(2) to the file opened O_APPEND, after
 * rotating it when it has reached max_bytes. 0, or an errno (ENOSPC, EFBIG,
 * EIO, ...) with hr__log_problem() saying it: the file is then cut back to
 * its size before, so that no half line stays. */
int hr__log_append(struct hr__log_writer *w, const struct hr__log_record *r);

/* ---- reading (log_read.c) -------------------------------------------------- */

/* Calls fn for every record of dir's log, the current file first, then its
 * rotated copies, with ts_ms >= since_ms, and fills scan (hr.h's
 * hr_log_scan); fn returns nonzero to stop. Lines that are not records are
 * counted and skipped.
 * Returns 0, or errno of a file that exists but cannot be read. */
typedef int (*hr__log_fn)(const struct hr__log_record *r, void *ctx);
int hr__log_each(const char *dir, long long since_ms, hr__log_fn fn, void *ctx, hr_log_scan *scan);

/* ---- JSON lines (jsonl_read.c) ---------------------------------------------- */

/* path's text into out: all of it, or when it is longer than tail bytes
 * (0: no limit) its last ones from the start of a line. 0 or an errno. */
int hr__jsonl_load(const char *path, size_t tail, hr_buf *out);
/* Calls fn for each line of text that is a JSON object, oldest first or
 * (newest_first) newest first, with the parsed document and its root; fn
 * returns nonzero to stop. Empty lines are skipped; the others that are
 * not a JSON object (a torn last line, say) are counted in *not_json.
 * Returns HR_OK or HR_ENOMEM. */
typedef int (*hr__jsonl_fn)(const hr_json *doc, hr_json_node obj, const char *line, void *ctx);
hr_status hr__jsonl_each(const hr_buf *text, int newest_first, hr__jsonl_fn fn, void *ctx, size_t *not_json);
/* A member of a JSON object: a string into out ("" when absent or not a
 * string), a number (0 when absent or not a number). line: the parsed text. */
void hr__jsonl_string(const hr_json *doc, hr_json_node obj, const char *key, char *out, size_t len);
double hr__jsonl_number(const hr_json *doc, const char *line, hr_json_node obj, const char *key);

#endif
