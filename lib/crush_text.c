/* Plain text: prose is cut into sentences (wrapped lines joined), line-shaped
 * text (code, lists, tables) into lines. What holds numbers, ids, hashes, paths, URLs, flags,
 * error codes, error words or the task's identifiers stays; so do the first
 * and the last piece; the rest is chosen by the scorer within the budget.
 * A scorer with a model (kompress) cuts prose word by word instead. */
#include "compress_internal.h"

#include <stdlib.h>
#include <string.h>

#define MUST_FEATURES                                                                           \
    (HR_F_SEVERITY | HR_F_UUID | HR_F_HASH | HR_F_URL | HR_F_PATH | HR_F_FLAG | HR_F_ERRCODE | \
     HR_F_NUMBER)

/* Line-shaped: most lines are short and few end like sentences. */
static int is_line_shaped(const char *text, size_t len)
{
    size_t lines = 0, sentence_ends = 0;
    for (size_t i = 0; i < len; i++) {
        if (text[i] != '\n') continue;
        lines++;
        size_t k = i;
        while (k > 0 && (text[k - 1] == ' ' || text[k - 1] == '\r')) k--;
        if (k > 0 && (text[k - 1] == '.' || text[k - 1] == '!' || text[k - 1] == '?')) sentence_ends++;
    }
    return lines >= 8 && len / (lines + 1) < 100 && sentence_ends * 2 < lines;
}

hr_status hr__crush_text(struct hr_crush_ctx *cx, const char *text, size_t len, hr_buf *out)
{
    struct hr_segs segs = {0};
    int lines = !hr__is_prose(text, len) && is_line_shaped(text, len);
    if (!lines && cx->scorer->prose_words) return hr__crush_words(cx, text, len, out);
    hr_status st = lines ? hr__split_lines(text, len, &segs) : hr__split_sentences(text, len, &segs);
    size_t n = segs.n;
    unsigned char *keep = NULL, *hits = NULL;
    float *scores = NULL;
    if (!st) {
        keep = calloc(n ? n : 1, 1);
        hits = malloc(n ? n : 1);
        scores = malloc((n ? n : 1) * sizeof *scores);
        if (!keep || !hits || !scores) st = HR_ENOMEM;
    }
    if (!st) st = hr__task_hits(cx->query, text, segs.v, n, hits);
    for (size_t i = 0; !st && i < n; i++) {
        const char *s = text + segs.v[i].off;
        size_t k = segs.v[i].len;
        if (i == 0 || i + 1 == n || (hits[i] & HR_HIT_IDENT) || (hr__features(s, k) & MUST_FEATURES))
            keep[i] = HR_MUST;
    }
    if (!st) st = cx->scorer->score(cx->scorer, cx->query, text, segs.v, n, scores);
    if (!st) st = hr__select_by_budget(text, segs.v, n, scores, keep, hr__budget(cx->tokens));
    if (!st) st = hr__emit_kept(out, text, segs.v, n, keep, lines ? "line" : "sentence", !lines);
    hr__segs_free(&segs);
    free(keep);
    free(hits);
    free(scores);
    return st;
}
