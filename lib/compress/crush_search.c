/* Search results, "path:line:text" (grep -n, ripgrep, git grep) or already
 * grouped under each path ("path" then "  12: text", as Hermes's
 * search_files and ripgrep's --heading print them): every path stays with
 * its first and last match so no file is lost, matches that hold the task's
 * distinguishing words or error words stay, the rest is chosen by the
 * scorer within the budget. */
#include "compress/compress_internal.h"

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

size_t hr__grouped_match_len(const char *s, size_t n)
{
    size_t i = 0;
    while (i < n && (s[i] == ' ' || s[i] == '\t')) i++;
    size_t d = i;
    while (d < n && s[d] >= '0' && s[d] <= '9') d++;
    if (i == 0 || d == i || d + 1 >= n || (s[d] != ':' && s[d] != '-') || s[d + 1] != ' ') return 0;
    return d + 2;
}

/* Whether line i must stay, and the state that says which path it is under. */
struct search_walk {
    const char *prev_path;
    size_t prev_len;
    int group_has_match; /* grouped output: a match kept under the current path */
    size_t last_match;   /* the line of the last match seen, SIZE_MAX: none */
    int file_ended;      /* the line just read starts another file: last_match ended one */
};

static int must_keep(struct search_walk *w, const char *s, size_t k, unsigned char hit)
{
    size_t p = hr__search_path_len(s, k), g = p ? 0 : hr__grouped_match_len(s, k);
    w->file_ended = 0;
    if (g) { /* "  12: text" under a path line */
        int first = !w->group_has_match;
        w->group_has_match = 1;
        return first || hit || hr__has_severity(s + g, k - g);
    }
    if (!p) { /* a path line of grouped output, or other text */
        w->file_ended = w->group_has_match;
        w->group_has_match = 0;
        return 1;
    }
    int new_file = p != w->prev_len || memcmp(s, w->prev_path, p);
    w->file_ended = new_file;
    w->prev_path = s;
    w->prev_len = p;
    return new_file || hit || hr__has_severity(s + p, k - p);
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
    struct search_walk w = {NULL, 0, 0, SIZE_MAX, 0};
    for (size_t i = 0; !st && i < n; i++) {
        const char *s = text + segs.v[i].off;
        size_t k = segs.v[i].len;
        if (must_keep(&w, s, k, hits[i])) keep[i] = HR_MUST;
        if (w.file_ended && w.last_match != SIZE_MAX) keep[w.last_match] = HR_MUST; /* a file's last match */
        if (hr__search_path_len(s, k) || hr__grouped_match_len(s, k)) w.last_match = i;
    }
    if (!st && w.last_match != SIZE_MAX) keep[w.last_match] = HR_MUST;
    if (!st) st = cx->scorer->score(cx->scorer, cx->query, text, segs.v, n, scores);
    if (!st) st = hr__select_by_budget(text, segs.v, n, scores, keep, hr__ctx_budget(cx));
    if (!st) st = hr__emit_kept(out, text, segs.v, n, keep, "match", 0);
    hr__segs_free(&segs);
    free(keep);
    free(hits);
    free(scores);
    return st;
}
