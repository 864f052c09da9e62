/* Splice edits: the edited copy of a buffer is its original bytes with only
 * the replaced ranges substituted, which keeps everything else identical. */
#include "util/grow.h"
#include "hr.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct edit {
    size_t start, end, off, len; /* off/len: the replacement in sp->repl */
};

struct hr_splice {
    const char *orig;
    size_t len;
    struct edit *edits;
    size_t n, cap;
    int out_of_order; /* an edit came before one added earlier */
    hr_buf repl;
    char errmsg[128];
};

hr_status hr_splice_new(const char *orig, size_t len, hr_splice **out)
{
    if (!out || (!orig && len)) return HR_EINVAL;
    hr_splice *sp = calloc(1, sizeof *sp);
    if (!sp) return HR_ENOMEM;
    sp->orig = orig;
    sp->len = len;
    *out = sp;
    return HR_OK;
}

void hr_splice_free(hr_splice *sp)
{
    if (!sp) return;
    free(sp->edits);
    hr_buf_free(&sp->repl);
    free(sp);
}

const char *hr_splice_errmsg(const hr_splice *sp)
{
    return sp ? sp->errmsg : "";
}

static int overlaps(const struct edit *a, size_t start, size_t end)
{
    if (a->start == a->end || start == end) /* insertions clash only at the same point */
        return a->start == start || (start > a->start && start < a->end) || (a->start > start && a->start < end);
    return start < a->end && a->start < end;
}

hr_status hr_splice_replace(hr_splice *sp, size_t start, size_t end, const char *bytes, size_t n)
{
    if (!sp || (!bytes && n)) return HR_EINVAL;
    if (start > end || end > sp->len) {
        snprintf(sp->errmsg, sizeof sp->errmsg, "range [%zu, %zu) outside the %zu-byte original", start, end, sp->len);
        return HR_EINVAL;
    }
    /* Edits mostly come in order (a walk of the document): then only the
     * last can overlap, and n edits cost n checks, not n squared. */
    const struct edit *last = sp->n ? &sp->edits[sp->n - 1] : NULL;
    int after_last = !last || (start > last->start && start >= last->end);
    size_t from = after_last && !sp->out_of_order && sp->n ? sp->n - 1 : 0;
    for (size_t i = from; i < sp->n; i++) {
        if (overlaps(&sp->edits[i], start, end)) {
            snprintf(sp->errmsg, sizeof sp->errmsg, "range [%zu, %zu) overlaps edit [%zu, %zu)", start, end,
                     sp->edits[i].start, sp->edits[i].end);
            return HR_EINVAL;
        }
    }
    void *p = hr_grow(sp->edits, &sp->cap, sp->n + 1, sizeof *sp->edits);
    if (!p) return HR_ENOMEM;
    sp->edits = p;
    size_t off = sp->repl.len;
    hr_status st = hr_buf_append(&sp->repl, bytes, n);
    if (st) return st;
    sp->edits[sp->n++] = (struct edit){start, end, off, n};
    if (!after_last) sp->out_of_order = 1;
    return HR_OK;
}

static int by_start(const void *a, const void *b)
{
    const struct edit *x = a, *y = b;
    return (x->start > y->start) - (x->start < y->start);
}

static void sort_edits(hr_splice *sp)
{
    if (sp->n) qsort(sp->edits, sp->n, sizeof *sp->edits, by_start);
}

size_t hr_splice_count(const hr_splice *sp)
{
    return sp ? sp->n : 0;
}

hr_status hr_splice_edit(hr_splice *sp, size_t i, size_t *start, size_t *end, const char **bytes, size_t *n)
{
    if (!sp || i >= sp->n) return HR_EINVAL;
    if (i == 0) sort_edits(sp);
    const struct edit *e = &sp->edits[i];
    *start = e->start;
    *end = e->end;
    *bytes = sp->repl.data ? sp->repl.data + e->off : ""; /* removals only: no bytes yet */
    *n = e->len;
    return HR_OK;
}

hr_status hr_splice_apply(hr_splice *sp, hr_buf *out)
{
    if (!sp || !out) return HR_EINVAL;
    sort_edits(sp);
    size_t at = 0;
    hr_status st = HR_OK;
    for (size_t i = 0; i < sp->n && !st; i++) {
        const struct edit *e = &sp->edits[i];
        st = hr_buf_append(out, sp->orig + at, e->start - at);
        if (!st && e->len) st = hr_buf_append(out, sp->repl.data + e->off, e->len);
        at = e->end;
    }
    if (!st) st = hr_buf_append(out, sp->orig + at, sp->len - at);
    return st;
}
