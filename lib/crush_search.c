/* Search results, "path:line:text" (grep -n, ripgrep, git grep): grouped by
 * file, each file keeps its first match so no path is lost, matches that
 * hold the task's distinguishing words or error words stay, the rest is
 * chosen by the scorer within the budget. */
#include "compress_internal.h"

#include <stdlib.h>
#include <string.h>

static int has_letter(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if ((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= 'A' && s[i] <= 'Z')) return 1;
    return 0;
}

/* A context line's path must look like one (a '/' or a '.'), so that dates
 * such as 2025-06-24 are not read as "path-N-". */
static int looks_like_path(const char *s, size_t n)
{
    return has_letter(s, n) && (memchr(s, '/', n) || memchr(s, '.', n));
}

size_t hr__search_path_len(const char *s, size_t n)
{
    size_t i = 0;
    while (i < n && s[i] != ':' && s[i] != ' ' && s[i] != '\t' && s[i] != '\n') i++;
    size_t colon = i;
    if (colon == 0 || colon >= n || s[colon] != ':') { /* context line: path-N- */
        for (size_t k = 1; k + 2 < n && k < colon; k++) {
            if (s[k] != '-' || s[k + 1] < '0' || s[k + 1] > '9') continue;
            size_t d = k + 1;
            while (d < n && s[d] >= '0' && s[d] <= '9') d++;
            if (d < n && s[d] == '-' && looks_like_path(s, k)) return k;
        }
        return 0;
    }
    size_t d = colon + 1;
    while (d < n && s[d] >= '0' && s[d] <= '9') d++;
    if (d == colon + 1 || d >= n || s[d] != ':' || !has_letter(s, colon)) return 0;
    return colon;
}

hr_status hr__crush_search(struct hr_crush_ctx *cx, const char *text, size_t len, hr_buf *out)
{
    struct hr_segs segs = {0};
    hr_status st = hr__split_lines(text, len, &segs);
    size_t n = segs.n;
    unsigned char *keep = st ? NULL : calloc(n ? n : 1, 1);
    unsigned char *hits = st ? NULL : malloc(n ? n : 1);
    float *scores = st ? NULL : malloc((n ? n : 1) * sizeof *scores);
    if (!st && (!keep || !hits || !scores)) st = HR_ENOMEM;
    if (!st) st = hr__task_hits(cx->query, text, segs.v, n, hits);
    const char *prev_path = NULL;
    size_t prev_len = 0;
    for (size_t i = 0; !st && i < n; i++) {
        const char *s = text + segs.v[i].off;
        size_t k = segs.v[i].len, p = hr__search_path_len(s, k);
        int new_file = p && (p != prev_len || memcmp(s, prev_path, p));
        if (!p || new_file || hits[i] || hr__has_severity(s + p, k - p))
            keep[i] = HR_MUST;
        if (p) {
            prev_path = s;
            prev_len = p;
        }
    }
    if (!st) st = cx->scorer->score(cx->scorer, cx->query, text, segs.v, n, scores);
    if (!st) st = hr__select_by_budget(text, segs.v, n, scores, keep, hr__budget(cx->tokens));
    if (!st) st = hr__emit_kept(out, text, segs.v, n, keep, "match", 0);
    hr__segs_free(&segs);
    free(keep);
    free(hits);
    free(scores);
    return st;
}
