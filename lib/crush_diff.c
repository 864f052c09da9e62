/* Unified diffs: headers, hunk headers and changed lines stay; runs of
 * context lines become a count. Commit messages and other text around the
 * diff stay too, being short and not reconstructible. */
#include "compress_internal.h"

#include <stdlib.h>
#include <string.h>

static int is_context_line(const char *s, size_t n)
{
    return n > 0 && s[0] == ' ';
}

hr_status hr__crush_diff(struct hr_crush_ctx *cx, const char *text, size_t len, hr_buf *out)
{
    (void)cx;
    struct hr_segs segs = {0};
    hr_status st = hr__split_lines(text, len, &segs);
    unsigned char *keep = st ? NULL : calloc(segs.n ? segs.n : 1, 1);
    if (!st && !keep) st = HR_ENOMEM;
    int in_hunk = 0;
    for (size_t i = 0; !st && i < segs.n; i++) {
        const char *s = text + segs.v[i].off;
        size_t k = segs.v[i].len;
        if (k >= 2 && s[0] == '@' && s[1] == '@') in_hunk = 1;
        else if (k >= 5 && !memcmp(s, "diff ", 5)) in_hunk = 0;
        keep[i] = in_hunk && is_context_line(s, k) ? HR_DROP : HR_MUST;
    }
    /* no budget: only context goes, and short gaps stay */
    if (!st) st = hr__select_by_budget(text, segs.v, segs.n, NULL, keep, 0);
    if (!st) st = hr__emit_kept(out, text, segs.v, segs.n, keep, "context line", 0);
    hr__segs_free(&segs);
    free(keep);
    return st;
}
