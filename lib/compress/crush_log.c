/* Logs and command output: fold runs of lines that differ only in numbers,
 * keep every error, warning and failure line with its neighbours, stack
 * traces whole, the head and the tail, commit lines of git log, lines
 * holding the task's rarer words, then the best-scored lines that fit
 * the budget. */
#include "compress/compress_internal.h"

#include <stdlib.h>
#include <string.h>

#define HEAD_LINES 3
#define TAIL_LINES 5
#define FOLD_MIN_RUN 3
/* Occurrences of one line shape kept as errors before the rest only score. */
#define SEVERE_REPEATS 8

/* A line's shape: its words with every word holding a digit replaced by '#',
 * whitespace runs collapsed. Lines that differ in counters, times and ids
 * share a shape. */
static uint64_t line_shape(const char *s, size_t n)
{
    uint64_t h = 14695981039346656037ull;
    size_t i = 0;
    while (i < n) {
        unsigned char c = (unsigned char)s[i];
        int word = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_';
        if (word) {
            size_t b = i;
            int digit = 0;
            for (; i < n; i++) {
                c = (unsigned char)s[i];
                if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_')) break;
                digit |= c >= '0' && c <= '9';
            }
            if (digit) h = (h ^ '#') * 1099511628211ull;
            else
                for (size_t k = b; k < i; k++) h = (h ^ (unsigned char)s[k]) * 1099511628211ull;
        } else if (c == ' ' || c == '\t' || c == '\r' || c == '\n') {
            while (i < n && (s[i] == ' ' || s[i] == '\t' || s[i] == '\r' || s[i] == '\n')) i++;
            h = (h ^ ' ') * 1099511628211ull;
        } else {
            h = (h ^ c) * 1099511628211ull;
            i++;
        }
    }
    return h;
}

static size_t skip_indent(const char *s, size_t n)
{
    size_t i = 0;
    while (i < n && (s[i] == ' ' || s[i] == '\t')) i++;
    return i;
}

static int starts(const char *s, size_t n, const char *prefix)
{
    size_t k = strlen(prefix);
    return n >= k && !memcmp(s, prefix, k);
}

/* A line that opens a stack trace (Python, Java, Go, Rust, Node). */
static int opens_trace(const char *s, size_t n)
{
    size_t i = skip_indent(s, n);
    return starts(s + i, n - i, "Traceback (most recent call last)") || starts(s + i, n - i, "Exception in thread") ||
           starts(s + i, n - i, "Caused by:") || starts(s + i, n - i, "goroutine ") || starts(s + i, n - i, "panic:") ||
           starts(s + i, n - i, "stack backtrace:") || starts(s + i, n - i, "thread '");
}

/* A line inside a trace: indented, or a frame ("at f (x.js:1:2)"). */
static int continues_trace(const char *s, size_t n)
{
    size_t i = skip_indent(s, n);
    if (i == n || s[i] == '\n' || s[i] == '\r') return 0;
    return i > 0 || starts(s, n, "at ") || starts(s, n, "...");
}

/* A line that heads a record of its own: "commit <hash>" in git log. */
static int opens_record(const char *s, size_t n)
{
    if (!starts(s, n, "commit ")) return 0;
    size_t i = 7, hex = 0;
    while (i < n && ((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f'))) i++, hex++;
    return hex >= 7;
}

/* Lines holding the task's identifiers, or a word of the task found in few
 * lines (a path, a package, a pod it names). */
static void keep_task_lines(const unsigned char *hits, size_t n, unsigned char *keep)
{
    for (size_t i = 0; i < n; i++)
        if (hits[i] & (HR_HIT_IDENT | HR_HIT_RARE)) keep[i] = HR_MUST;
}

/* Stack traces are kept whole, with the line after them (the exception). */
static void keep_traces(const char *text, const struct hr_seg *segs, size_t n, unsigned char *keep)
{
    for (size_t i = 0; i < n; i++) {
        if (!opens_trace(text + segs[i].off, segs[i].len)) continue;
        size_t j = i + 1;
        while (j < n &&
               (continues_trace(text + segs[j].off, segs[j].len) || opens_trace(text + segs[j].off, segs[j].len)))
            j++;
        if (j < n) j++;
        for (size_t k = i; k < j; k++) keep[k] = HR_MUST;
        i = j - 1;
    }
}

/* Error lines and their neighbours, for the first occurrences of each shape. */
static hr_status keep_severe(const char *text, const struct hr_seg *segs, size_t n, const uint64_t *shapes,
                             unsigned char *keep)
{
    struct hr_termtab seen = {0};
    for (size_t i = 0; i < n; i++) {
        if (!hr__has_severity(text + segs[i].off, segs[i].len)) continue;
        if (hr__termtab_add(&seen, shapes[i], (uint32_t)i)) {
            hr__termtab_free(&seen);
            return HR_ENOMEM;
        }
        if (hr__termtab_df(&seen, shapes[i]) > SEVERE_REPEATS) continue;
        keep[i] = HR_MUST;
        if (i > 0 && keep[i - 1] == HR_DROP) keep[i - 1] = HR_MUST;
        if (i + 1 < n && keep[i + 1] == HR_DROP) keep[i + 1] = HR_MUST;
    }
    hr__termtab_free(&seen);
    return HR_OK;
}

/* Runs of 3+ consecutive lines of one shape: the first and last stay, the
 * middle folds into a count unless a line is needed for another reason. */
static void fold_runs(const uint64_t *shapes, size_t n, unsigned char *keep)
{
    for (size_t i = 0; i < n;) {
        size_t j = i + 1;
        while (j < n && shapes[j] == shapes[i]) j++;
        if (j - i >= FOLD_MIN_RUN)
            for (size_t k = i + 1; k + 1 < j; k++)
                if (keep[k] != HR_MUST) keep[k] = HR_FOLD;
        i = j;
    }
}

hr_status hr__crush_log(struct hr_crush_ctx *cx, const char *text, size_t len, hr_buf *out)
{
    struct hr_segs segs = {0};
    uint64_t *shapes = NULL;
    unsigned char *keep = NULL;
    unsigned char *hits = NULL;
    float *scores = NULL;
    hr_status st = hr__split_lines(text, len, &segs);
    size_t n = segs.n;
    if (!st) {
        shapes = malloc((n ? n : 1) * sizeof *shapes);
        keep = calloc(n ? n : 1, 1);
        hits = malloc(n ? n : 1);
        scores = malloc((n ? n : 1) * sizeof *scores);
        if (!shapes || !keep || !hits || !scores) st = HR_ENOMEM;
    }
    if (!st) st = hr__task_hits(cx->query, text, segs.v, n, hits);
    if (!st) {
        for (size_t i = 0; i < n; i++) shapes[i] = line_shape(text + segs.v[i].off, segs.v[i].len);
        for (size_t i = 0; i < n; i++)
            if (i < HEAD_LINES || i + TAIL_LINES >= n || opens_record(text + segs.v[i].off, segs.v[i].len))
                keep[i] = HR_MUST;
        keep_task_lines(hits, n, keep);
        keep_traces(text, segs.v, n, keep);
        st = keep_severe(text, segs.v, n, shapes, keep);
    }
    if (!st) {
        fold_runs(shapes, n, keep);
        st = cx->scorer->score(cx->scorer, cx->query, text, segs.v, n, scores);
    }
    if (!st) st = hr__select_by_budget(text, segs.v, n, scores, keep, hr__ctx_budget(cx));
    if (!st) st = hr__emit_kept(out, text, segs.v, n, keep, "line", 0);
    hr__segs_free(&segs);
    free(shapes);
    free(keep);
    free(hits);
    free(scores);
    return st;
}
