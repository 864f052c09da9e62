/* Diffs, unified and combined: headers, hunk headers and changed lines stay;
 * runs of context lines become a count. Commit messages and other text
 * around the diff stay too, being short and not reconstructible.
 *
 * A combined diff of a merge (git diff --cc, git show -c / --cc) has hunk
 * headers "@@@ -a,b -c,d +e,f @@@", one '@' more per parent past the first,
 * and each line of its hunks starts with one column per parent (' ', '+' or
 * '-'). A unified diff is the case of one parent. */
#include "compress/compress_internal.h"

#include <stdlib.h>
#include <string.h>

size_t hr__hunk_parents(const char *s, size_t n)
{
    size_t k = 0;
    while (k < n && s[k] == '@') k++;
    return k >= 2 && n >= k + 2 && s[k] == ' ' && s[k + 1] == '-' ? k - 1 : 0;
}

/* Whether a line can be part of a hunk: it starts with a column mark (' ',
 * '+', '-'), or is "\ No newline at end of file", or is empty (a blank
 * context line some tools strip). Any other line ends the hunk: "diff",
 * the "commit <hash>" and "Author:" of the next commit in git log -p, whose
 * indented message is then no context. Line counts in hunk headers are not
 * trusted: hand-made diffs get them wrong. */
static int in_hunk_line(const char *s, size_t n)
{
    return !n || s[0] == ' ' || s[0] == '+' || s[0] == '-' || s[0] == '\\' || s[0] == '\r' || s[0] == '\n';
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
    size_t parents = 0; /* of the hunk the line is in; 0 outside hunks */
    for (size_t i = 0; !st && i < segs.n; i++) {
        const char *s = text + segs.v[i].off;
        size_t k = segs.v[i].len, hunk = hr__hunk_parents(s, k);
        if (hunk) parents = hunk;
        else if (!in_hunk_line(s, k)) parents = 0;
        keep[i] = !hunk && is_context_line(s, k, parents) ? HR_DROP : HR_MUST;
    }
    /* no budget: only context goes, and short gaps stay */
    if (!st) st = hr__select_by_budget(text, segs.v, segs.n, NULL, keep, 0);
    if (!st) st = hr__emit_kept(out, text, segs.v, segs.n, keep, "context line", 0);
    hr__segs_free(&segs);
    free(keep);
    return st;
}
