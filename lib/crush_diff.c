/* Diffs, unified and combined: headers, hunk headers and changed lines stay;
 * runs of context lines become a count. Commit messages and other text
 * around the diff stay too, being short and not reconstructible.
 *
 * A combined diff of a merge (git diff --cc, git show -c / --cc) has hunk
 * headers "@@@ -a,b -c,d +e,f @@@", one '@' more per parent past the first,
 * and each line of its hunks starts with one column per parent (' ', '+' or
 * '-'). A unified diff is the case of one parent. */
#include "compress_internal.h"

#include <stdlib.h>
#include <string.h>

size_t hr__hunk_parents(const char *s, size_t n)
{
    size_t k = 0;
    while (k < n && s[k] == '@') k++;
    return k >= 2 && n >= k + 2 && s[k] == ' ' && s[k + 1] == '-' ? k - 1 : 0;
}

/* How many lines of the result a hunk holds: the count of its "+c,d" range
 * (1 when ",d" is left out); SIZE_MAX when the header does not say. */
static size_t hunk_result_lines(const char *s, size_t n)
{
    for (size_t i = 0; i + 1 < n; i++) {
        if (s[i] != ' ' || s[i + 1] != '+') continue;
        size_t k = i + 2;
        while (k < n && s[k] >= '0' && s[k] <= '9') k++;
        if (k == i + 2) return SIZE_MAX;
        if (k >= n || s[k] != ',') return 1;
        size_t d = 0;
        for (k++; k < n && s[k] >= '0' && s[k] <= '9'; k++) d = d * 10 + (size_t)(s[k] - '0');
        return d;
    }
    return SIZE_MAX;
}

/* Whether a hunk line holds a '-' in a parent's column: a line only a parent
 * had, no line of the result. */
static int removed_line(const char *s, size_t n, size_t parents)
{
    for (size_t k = 0; k < parents && k < n; k++)
        if (s[k] == '-') return 1;
    return 0;
}

/* Where a line is: in a hunk of `parents` parents (0: outside every hunk),
 * `left` lines of the result still to come in it. A hunk ends once those
 * are read and no removed line follows, so that the indented message of
 * the next commit in git log -p is not read as its context. */
struct hunk_walk {
    size_t parents, left;
};

static void walk_line(struct hunk_walk *w, const char *s, size_t k)
{
    size_t hunk = hr__hunk_parents(s, k);
    if (hunk) {
        w->parents = hunk;
        w->left = hunk_result_lines(s, k);
        return;
    }
    if (k >= 5 && !memcmp(s, "diff ", 5)) w->parents = 0;
    if (!w->parents || (k && s[0] == '\\')) return; /* "\ No newline at end of file" */
    if (removed_line(s, k, w->parents)) return;
    if (!w->left) w->parents = 0; /* past the hunk's last line */
    else if (w->left != SIZE_MAX) w->left--;
}

/* Context: in the file and in the result on every side, so all the parent
 * columns are blank. A line with a '+' or '-' in any column is a change; a
 * line too short to hold the columns is kept, being no context either. */
static int is_context_line(const char *s, size_t n, size_t parents)
{
    if (!parents || n < parents) return 0;
    for (size_t k = 0; k < parents; k++)
        if (s[k] != ' ') return 0;
    return 1;
}

hr_status hr__crush_diff(struct hr_crush_ctx *cx, const char *text, size_t len, hr_buf *out)
{
    (void)cx;
    struct hr_segs segs = {0};
    hr_status st = hr__split_lines(text, len, &segs);
    unsigned char *keep = st ? NULL : calloc(segs.n ? segs.n : 1, 1);
    if (!st && !keep) st = HR_ENOMEM;
    struct hunk_walk w = {0, 0};
    for (size_t i = 0; !st && i < segs.n; i++) {
        const char *s = text + segs.v[i].off;
        size_t k = segs.v[i].len;
        walk_line(&w, s, k);
        keep[i] = !hr__hunk_parents(s, k) && is_context_line(s, k, w.parents) ? HR_DROP : HR_MUST;
    }
    /* no budget: only context goes, and short gaps stay */
    if (!st) st = hr__select_by_budget(text, segs.v, segs.n, NULL, keep, 0);
    if (!st) st = hr__emit_kept(out, text, segs.v, segs.n, keep, "context line", 0);
    hr__segs_free(&segs);
    free(keep);
    return st;
}
