/* Which compressor suits a unit: its content kind (JSON, diff, search
 * results, log, text), judged from the content alone. */
#include "compress/compress_internal.h"

#include <string.h>

const char *hr__kind_name(enum hr_kind kind)
{
    switch (kind) {
    case HR_KIND_JSON: return "json";
    case HR_KIND_DIFF: return "diff";
    case HR_KIND_SEARCH: return "search";
    case HR_KIND_LOG: return "log";
    case HR_KIND_TEXT: break;
    }
    return "text";
}

static int starts(const char *s, size_t n, const char *prefix)
{
    size_t k = strlen(prefix);
    return n >= k && !memcmp(s, prefix, k);
}

/* A file's header line: "diff --git", git's "diff --cc" / "diff --combined"
 * of a merge, or the "+++ " of any unified diff. */
static int is_diff_header(const char *s, size_t n)
{
    return starts(s, n, "diff --git ") || starts(s, n, "diff --cc ") || starts(s, n, "diff --combined ") ||
           starts(s, n, "+++ ");
}

#define SAMPLE_LINES 400
#define LONG_LINE 200
#define SAMPLE_BYTES 65536

int hr__ends_sentence(const char *s, size_t n)
{
    while (n > 0 && (s[n - 1] == ' ' || s[n - 1] == '\r')) n--;
    if (n >= 3 && !memcmp(s + n - 3, "...", 3)) return 0;
    return n > 0 && (s[n - 1] == '.' || s[n - 1] == '!' || s[n - 1] == '?');
}

int hr__is_prose(const char *text, size_t len)
{
    size_t n = len < SAMPLE_BYTES ? len : SAMPLE_BYTES, words = 0;
    for (size_t i = 0; i < n; i++) {
        char c = text[i];
        words += (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == ' ' || c == '\n' || c == ',' || c == '.';
    }
    return n && words * 100 >= n * 92;
}

enum hr_kind hr__content_kind(struct hr_crush_ctx *cx, const char *text, size_t len)
{
    size_t i = 0;
    while (i < len && (text[i] == ' ' || text[i] == '\n' || text[i] == '\r' || text[i] == '\t')) i++;
    if (i < len && (text[i] == '{' || text[i] == '[') && hr_json_parse(cx->doc, text, len) == HR_OK)
        return HR_KIND_JSON;

    size_t lines = 0, search = 0, sentence_ends = 0, short_lines = 0;
    int diff_header = 0, hunk = 0, path_line = 0;
    for (size_t at = 0; at < len && lines < SAMPLE_LINES;) {
        const char *nl = memchr(text + at, '\n', len - at);
        size_t end = nl ? (size_t)(nl - text) : len, n = end - at;
        const char *s = text + at;
        if (n) {
            lines++;
            short_lines += n < LONG_LINE;
            if (is_diff_header(s, n)) diff_header = 1;
            if (hr__hunk_parents(s, n)) hunk = 1;
            int grouped = hr__grouped_match_len(s, n) != 0, hit = grouped || hr__search_path_len(s, n);
            /* the path line above grouped matches is search output too:
             * uncounted, grouping (lossless_search.c) would turn output
             * with one match to most files into a "log" the next time */
            search += hit + (grouped && path_line);
            path_line = !hit && !memchr(s, ' ', n) && !memchr(s, '\t', n);
            sentence_ends += hr__ends_sentence(s, n);
        }
        at = end + 1;
    }
    if (diff_header && hunk) return HR_KIND_DIFF;
    if (lines >= 4 && search * 10 >= lines * 6) return HR_KIND_SEARCH;
    if (hr__is_prose(text, len)) return HR_KIND_TEXT;
    /* most lines short: one very long line (a minified blob, a stack
     * dump) does not make the rest something else */
    if (lines >= 8 && short_lines * 10 >= lines * 8 && sentence_ends * 2 < lines) return HR_KIND_LOG;
    return HR_KIND_TEXT;
}
