/* Cutting a unit into segments, choosing which to keep within a token
 * budget, and writing the kept ones with a marker in place of each gap. */
#include "compress/compress_internal.h"
#include "util/grow.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* A marker line costs about this many tokens: a dropped run cheaper than that
 * is kept, since the marker would not make the text shorter. */
#define MARKER_TOKENS 9

hr_status hr__segs_push(struct hr_segs *s, size_t off, size_t len)
{
    void *p = hr_grow(s->v, &s->cap, s->n + 1, sizeof *s->v);
    if (!p) return HR_ENOMEM;
    s->v = p;
    s->v[s->n++] = (struct hr_seg){off, len};
    return HR_OK;
}

void hr__segs_free(struct hr_segs *s)
{
    free(s->v);
    memset(s, 0, sizeof *s);
}

hr_status hr__split_lines(const char *text, size_t len, struct hr_segs *out)
{
    size_t start = 0;
    while (start < len) {
        const char *nl = memchr(text + start, '\n', len - start);
        size_t end = nl ? (size_t)(nl - text) + 1 : len;
        if (hr__segs_push(out, start, end - start)) return HR_ENOMEM;
        start = end;
    }
    return HR_OK;
}

static int is_space(char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

/* Whether the '.' at text[dot] cannot end the sentence begun at start: a
 * list number ("3."), an initial or abbreviation ("e.g.", "U.S.", "Dr."),
 * or too little said yet. */
static int too_short_to_end(const char *text, size_t start, size_t dot)
{
    size_t letters = 0, w = dot;
    for (size_t i = start; i < dot; i++) letters += !is_space(text[i]);
    if (letters < 12) return 1;
    while (w > start && !is_space(text[w - 1])) w--; /* the word before the dot */
    size_t n = dot - w;
    if (n <= 1 || memchr(text + w, '.', n)) return 1;
    static const char *const abbrev[] = {"etc", "vs", "Dr", "Mr", "Mrs", "Ms", "Fig", "No", "approx", "cf", NULL};
    for (const char *const *a = abbrev; *a; a++)
        if (strlen(*a) == n && !memcmp(text + w, *a, n)) return 1;
    return 0;
}

/* A sentence ends at a blank line, or at . ! ? (closing quotes or brackets
 * allowed) followed by whitespace; the whitespace after it belongs to it.
 * A single newline (wrapped prose) does not end one. */
hr_status hr__split_sentences(const char *text, size_t len, struct hr_segs *out)
{
    size_t start = 0, i = 0;
    while (i < len) {
        char c = text[i];
        size_t end = 0;
        if (c == '\n' && i + 1 < len &&
            (text[i + 1] == '\n' || (text[i + 1] == '\r' && i + 2 < len && text[i + 2] == '\n'))) {
            end = i + 1;
        } else if ((c == '.' || c == '!' || c == '?') && !too_short_to_end(text, start, i)) {
            size_t j = i + 1;
            while (j < len && (text[j] == '"' || text[j] == '\'' || text[j] == ')' || text[j] == ']')) j++;
            if (j < len && is_space(text[j])) end = j;
        }
        if (!end) {
            i++;
            continue;
        }
        while (end < len && is_space(text[end])) end++;
        if (hr__segs_push(out, start, end - start)) return HR_ENOMEM;
        start = i = end;
    }
    if (start < len && hr__segs_push(out, start, len - start)) return HR_ENOMEM;
    return HR_OK;
}

size_t hr__approx_tokens(const char *s, size_t n)
{
    size_t tokens = 0, i = 0;
    while (i < n) {
        unsigned char c = (unsigned char)s[i];
        size_t b = i;
        if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c >= 0x80) {
            while (i < n && (((c = (unsigned char)s[i]) >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c >= 0x80))
                i++;
            tokens += (i - b + 3) / 4;
        } else if (c >= '0' && c <= '9') {
            while (i < n && s[i] >= '0' && s[i] <= '9') i++;
            tokens += (i - b + 2) / 3;
        } else if (c == ' ' || c == '\t') {
            i++; /* a space mostly joins the word after it */
        } else {
            i++;
            tokens++;
        }
    }
    return tokens;
}

/* A fifth of a unit, from 120 tokens to 2000: beyond that a longer result
 * holds more of the same, and what must stay (errors, flagged items, every
 * file's first and last match, the task's words) stays beyond the budget. */
#define MIN_BUDGET 120
#define MAX_BUDGET 2000

size_t hr__budget(size_t tokens)
{
    size_t b = tokens / 5;
    return b < MIN_BUDGET ? MIN_BUDGET : b > MAX_BUDGET ? MAX_BUDGET : b;
}

size_t hr__ctx_budget(const struct hr_crush_ctx *cx)
{
    return cx->budget ? cx->budget : hr__budget(cx->tokens);
}

struct ranked {
    float score;
    size_t index;
};

static int by_score_desc(const void *a, const void *b)
{
    const struct ranked *x = a, *y = b;
    if (x->score != y->score) return x->score < y->score ? 1 : -1;
    return (x->index > y->index) - (x->index < y->index); /* ties: earlier first */
}

/* Markers a kept segment i adds (+1 opening a gap in two) or saves (-1
 * closing one). */
static int marker_delta(const unsigned char *keep, size_t n, size_t i)
{
    int left = i > 0 && (keep[i - 1] == HR_DROP || keep[i - 1] == HR_FOLD);
    int right = i + 1 < n && (keep[i + 1] == HR_DROP || keep[i + 1] == HR_FOLD);
    return left && right ? 1 : (!left && !right && i > 0 && i + 1 < n) ? -1 : 0;
}

hr_status hr__select_by_budget(const char *text, const struct hr_seg *segs, size_t n, const float *scores,
                               unsigned char *keep, size_t budget)
{
    size_t spent = 0, m = 0;
    struct ranked *order = malloc((n ? n : 1) * sizeof *order);
    size_t *cost = malloc((n ? n : 1) * sizeof *cost);
    if (!order || !cost) {
        free(order);
        free(cost);
        return HR_ENOMEM;
    }
    for (size_t i = 0; i < n; i++) {
        cost[i] = hr__approx_tokens(text + segs[i].off, segs[i].len);
        if (keep[i] == HR_KEEP || keep[i] == HR_MUST) spent += cost[i];
        else if (keep[i] == HR_DROP) order[m++] = (struct ranked){scores ? scores[i] : 0.0f, i};
    }
    qsort(order, m, sizeof *order, by_score_desc);
    for (size_t k = 0; k < m && spent < budget; k++) {
        size_t i = order[k].index;
        int delta = marker_delta(keep, n, i);
        size_t c = cost[i] + (delta > 0 ? MARKER_TOKENS : 0);
        if (spent + c > budget) continue;
        keep[i] = HR_KEEP;
        spent += c;
        if (delta < 0) spent = spent > MARKER_TOKENS ? spent - MARKER_TOKENS : 0;
    }
    free(order);
    for (size_t i = 0; i < n;) { /* gaps a marker would not shorten */
        if (keep[i] != HR_DROP) {
            i++;
            continue;
        }
        size_t j = i, c = 0;
        while (j < n && keep[j] == HR_DROP) c += cost[j++];
        if (c <= MARKER_TOKENS)
            for (size_t k = i; k < j; k++) keep[k] = HR_KEEP;
        i = j;
    }
    free(cost);
    return HR_OK;
}

/* English plural of the nouns markers use: line, item, match, sentence. */
static const char *plural_suffix(const char *noun, size_t count)
{
    size_t n = strlen(noun);
    if (count == 1) return "";
    if (n >= 2 && (!strcmp(noun + n - 2, "ch") || !strcmp(noun + n - 2, "sh"))) return "es";
    if (n >= 1 && (noun[n - 1] == 's' || noun[n - 1] == 'x')) return "es";
    return "s";
}

hr_status hr__marker(hr_buf *out, size_t count, const char *noun, const char *detail)
{
    char head[96];
    int k = snprintf(head, sizeof head, "[hr: %zu %s%s omitted", count, noun, plural_suffix(noun, count));
    if (k < 0 || (size_t)k >= sizeof head) return HR_ERANGE;
    if (hr_buf_append(out, head, (size_t)k)) return HR_ENOMEM;
    if (detail && *detail && (hr_buf_append(out, "; ", 2) || hr_buf_append(out, detail, strlen(detail))))
        return HR_ENOMEM;
    return hr_buf_append(out, "]", 1);
}

hr_status hr__emit_kept(hr_buf *out, const char *text, const struct hr_seg *segs, size_t n, const unsigned char *keep,
                        const char *noun, int inline_marker)
{
    for (size_t i = 0; i < n;) {
        if (keep[i] == HR_KEEP || keep[i] == HR_MUST) {
            if (hr_buf_append(out, text + segs[i].off, segs[i].len)) return HR_ENOMEM;
            i++;
            continue;
        }
        size_t j = i;
        int all_folded = 1;
        for (; j < n && (keep[j] == HR_DROP || keep[j] == HR_FOLD); j++) all_folded &= keep[j] == HR_FOLD;
        char what[48];
        snprintf(what, sizeof what, "%s%s", all_folded ? "similar " : "", noun);
        if (hr__marker(out, j - i, what, NULL)) return HR_ENOMEM;
        /* the separator the last dropped segment ended with */
        const struct hr_seg *last = &segs[j - 1];
        char end = last->len ? text[last->off + last->len - 1] : '\0';
        if (!inline_marker && (end == '\n' || j < n) && hr_buf_append(out, "\n", 1)) return HR_ENOMEM;
        if (inline_marker && (is_space(end) || j < n) && hr_buf_append(out, end == '\n' ? "\n" : " ", 1))
            return HR_ENOMEM;
        i = j;
    }
    return HR_OK;
}

int hr__has_marker(const char *text, size_t len)
{
    for (const char *p = text, *e = text + len; p + 5 <= e; p++) {
        p = memchr(p, '[', (size_t)(e - p));
        if (!p || p + 5 > e) return 0;
        if (!memcmp(p, "[hr: ", 5)) return 1;
    }
    return 0;
}
