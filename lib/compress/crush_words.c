/* Prose cut word by word: the scorer's model says which words carry the
 * meaning, and words that hold numbers, hex, ALLCAPS, dotted names, paths,
 * extensions, flags, CamelCase or the task's identifiers stay whatever it
 * says. Kept words keep the whitespace between them; a dropped run becomes
 * one space, or one newline where it spanned lines; one marker at the end
 * says how many words went. */
#include "compress/compress_internal.h"
#include "kompress/kompress.h"

#include <stdlib.h>
#include <string.h>

#define WORD_MUST                                                                                                      \
    (HR_F_UUID | HR_F_HASH | HR_F_URL | HR_F_PATH | HR_F_FLAG | HR_F_ERRCODE | HR_F_NUMBER | HR_F_IDENT | HR_F_SEVERITY)

/* ALLCAPS (two letters or more, no lower case) or a dotted name (a.b). */
static int caps_or_dotted(const char *w, size_t n)
{
    size_t upper = 0, lower = 0;
    for (size_t i = 0; i < n; i++) {
        char c = w[i];
        upper += c >= 'A' && c <= 'Z';
        lower += c >= 'a' && c <= 'z';
        if (c == '.' && i > 0 && i + 1 < n && w[i - 1] != '.' &&
            ((w[i + 1] >= 'a' && w[i + 1] <= 'z') || (w[i + 1] >= 'A' && w[i + 1] <= 'Z')))
            return 1;
    }
    return upper >= 2 && !lower;
}

static int must_keep(const char *w, size_t n)
{
    return (hr__features(w, n) & WORD_MUST) || caps_or_dotted(w, n);
}

static int has_newline(const char *s, size_t n)
{
    return memchr(s, '\n', n) != NULL;
}

static hr_status emit(const char *text, size_t len, const struct hr_kword *w, size_t n, size_t dropped, hr_buf *out)
{
    size_t last = SIZE_MAX;                                        /* the last word written */
    if (n && hr_buf_append(out, text, w[0].off)) return HR_ENOMEM; /* leading whitespace */
    for (size_t i = 0; i < n; i++) {
        if (!w[i].keep) continue;
        if (last != SIZE_MAX) {
            size_t gap_start = w[last].off + w[last].len;
            if (last + 1 == i) {
                if (hr_buf_append(out, text + gap_start, w[i].off - gap_start)) return HR_ENOMEM;
            } else if (hr_buf_append(out, has_newline(text + gap_start, w[i].off - gap_start) ? "\n" : " ", 1)) {
                return HR_ENOMEM;
            }
        }
        if (hr_buf_append(out, text + w[i].off, w[i].len)) return HR_ENOMEM;
        last = i;
    }
    size_t tail = n ? w[n - 1].off + w[n - 1].len : 0;
    if (hr_buf_append(out, " ", 1)) return HR_ENOMEM;
    if (hr__marker(out, dropped, "word", "kompress scorer")) return HR_ENOMEM;
    return hr_buf_append(out, text + tail, len - tail) ? HR_ENOMEM : HR_OK;
}

hr_status hr__crush_words(struct hr_crush_ctx *cx, const char *text, size_t len, hr_buf *out)
{
    struct hr_kword *w = NULL;
    size_t n = 0;
    hr_status st = cx->scorer->prose_words(cx->scorer, text, len, &w, &n);
    struct hr_seg *segs = st ? NULL : malloc((n ? n : 1) * sizeof *segs);
    unsigned char *hits = st ? NULL : malloc(n ? n : 1);
    if (!st && (!segs || !hits)) st = HR_ENOMEM;
    for (size_t i = 0; !st && i < n; i++) segs[i] = (struct hr_seg){w[i].off, w[i].len};
    if (!st) st = hr__task_hits(cx->query, text, segs, n, hits);
    size_t dropped = 0;
    for (size_t i = 0; !st && i < n; i++) {
        if (!w[i].keep && ((hits[i] & HR_HIT_IDENT) || must_keep(text + w[i].off, w[i].len))) w[i].keep = 1;
        dropped += !w[i].keep;
    }
    if (!st && dropped) st = emit(text, len, w, n, dropped, out);
    else if (!st && hr_buf_append(out, text, len)) st = HR_ENOMEM;
    free(w);
    free(segs);
    free(hits);
    return st;
}
