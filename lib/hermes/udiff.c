/* A unified diff of the splices recorded on a text: the lines they touch,
 * with three lines of context, as diff -u prints them. Built from the edits
 * themselves, so no general diff algorithm is needed. */
#include "hermes/hermes.h"
#include "util/grow.h"

#include <strings.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define CONTEXT 3

struct lines {
    const char *text;
    size_t len;
    size_t *start; /* start[i]: offset of line i; start[n] = len */
    size_t n;
};

static hr_status split_lines(const char *text, size_t len, struct lines *l)
{
    size_t count = 1;
    for (size_t i = 0; i < len; i++) count += text[i] == '\n';
    *l = (struct lines){text, len, malloc((count + 1) * sizeof(size_t)), 0};
    if (!l->start) return HR_ENOMEM;
    l->start[0] = 0;
    for (size_t i = 0; i < len; i++)
        if (text[i] == '\n') l->start[++l->n] = i + 1;
    if (len && text[len - 1] != '\n') l->n++; /* a last line without newline */
    l->start[l->n] = len;
    return HR_OK;
}

/* The line holding byte at; the end of the text belongs to a last line
 * without a newline, else it is the line count. */
static size_t line_of(const struct lines *l, size_t at)
{
    if (at >= l->len) return l->len && l->text[l->len - 1] != '\n' ? l->n - 1 : l->n;
    size_t lo = 0, hi = l->n - 1;
    while (lo < hi) {
        size_t mid = (lo + hi + 1) / 2;
        if (l->start[mid] <= at) lo = mid;
        else hi = mid - 1;
    }
    return lo;
}

/* How many lines start before offset at, a line start or the end. */
static size_t lines_before(const struct lines *l, size_t at)
{
    return at >= l->len ? l->n : line_of(l, at);
}

static int same_line(const struct lines *a, size_t i, const struct lines *b, size_t j)
{
    size_t na = a->start[i + 1] - a->start[i], nb = b->start[j + 1] - b->start[j];
    return na == nb && !memcmp(a->text + a->start[i], b->text + b->start[j], na);
}

/* A change: old lines [o, o + on) became new lines [n, n + nn). */
struct change {
    size_t o, on, n, nn;
};

struct changes {
    struct change *v;
    size_t count, cap;
};

static hr_status add_change(struct changes *c, const struct lines *a, const struct lines *b, size_t o0, size_t o1,
                            size_t n0, size_t n1)
{
    while (o0 < o1 && n0 < n1 && same_line(a, o0, b, n0)) o0++, n0++;
    while (o1 > o0 && n1 > n0 && same_line(a, o1 - 1, b, n1 - 1)) o1--, n1--;
    if (o0 == o1 && n0 == n1) return HR_OK;
    void *p = hr_grow(c->v, &c->cap, c->count + 1, sizeof *c->v);
    if (!p) return HR_ENOMEM;
    c->v = p;
    c->v[c->count++] = (struct change){o0, o1 - o0, n0, n1 - n0};
    return HR_OK;
}

static size_t edit_at(hr_splice *sp, size_t i, size_t *s, size_t *e)
{
    size_t n;
    const char *bytes;
    hr_splice_edit(sp, i, s, e, &bytes, &n);
    return n;
}

/* Groups the edits by the lines they touch and turns each group into a
 * change. A group starts on a line after the last one the previous group
 * touched, so the bytes before it are where they were, shifted by delta. */
static hr_status find_changes(hr_splice *sp, const struct lines *a, const struct lines *b, struct changes *c)
{
    size_t count = hr_splice_count(sp);
    long long delta = 0;
    for (size_t i = 0; i < count;) {
        size_t s, e, n = edit_at(sp, i++, &s, &e);
        long long before = delta;
        size_t first = line_of(a, s), last_end = e;
        delta += (long long)n - (long long)(e - s);
        while (i < count) {
            size_t s2, e2, n2 = edit_at(sp, i, &s2, &e2);
            if (line_of(a, s2) > line_of(a, last_end)) break;
            last_end = e2;
            delta += (long long)n2 - (long long)(e2 - s2);
            i++;
        }
        size_t o1 = line_of(a, last_end) + 1;
        if (o1 > a->n) o1 = a->n;
        size_t n0 = lines_before(b, (size_t)((long long)a->start[first] + before));
        size_t n1 = lines_before(b, (size_t)((long long)a->start[o1] + delta));
        hr_status st = add_change(c, a, b, first, o1, n0, n1);
        if (st) return st;
    }
    return HR_OK;
}

static int secret_name(const char *name, size_t n)
{
    static const char *const words[] = {"token", "key", "secret", "password"};
    for (size_t w = 0; w < sizeof words / sizeof *words; w++) {
        size_t k = strlen(words[w]);
        for (size_t i = 0; i + k <= n; i++)
            if (!strncasecmp(name + i, words[w], k)) return 1;
    }
    return 0;
}

/* End of the JSON string starting at p[0] == '"', one past its closing quote. */
static size_t string_end(const char *p, size_t n)
{
    size_t i = 1;
    while (i < n && p[i] != '"') i += p[i] == '\\' ? 2 : 1;
    return i < n ? i + 1 : n;
}

/* A line with the string values of secret-named members replaced. */
static hr_status put_redacted(hr_buf *out, const char *p, size_t n)
{
    size_t i = 0, copied = 0;
    hr_status st = HR_OK;
    while (i < n && !st) {
        if (p[i] != '"') {
            i++;
            continue;
        }
        size_t k = string_end(p + i, n - i), j = i + k;
        while (j < n && (p[j] == ' ' || p[j] == '\t')) j++;
        if (j < n && p[j] == ':') {
            j++;
            while (j < n && (p[j] == ' ' || p[j] == '\t')) j++;
            if (j < n && p[j] == '"' && secret_name(p + i + 1, k - 2)) {
                size_t v = string_end(p + j, n - j);
                st = hr_buf_append(out, p + copied, j - copied);
                if (!st) st = hr_buf_append(out, "\"<redacted>\"", 12);
                copied = i = j + v;
                continue;
            }
        }
        i += k;
    }
    return st ? st : hr_buf_append(out, p + copied, n - copied);
}

static hr_status put_line(hr_buf *out, char mark, const struct lines *l, size_t i, int redact)
{
    const char *p = l->text + l->start[i];
    size_t n = l->start[i + 1] - l->start[i];
    int newline = n > 0 && p[n - 1] == '\n';
    hr_status st = hr_buf_append(out, &mark, 1);
    if (!st) st = redact ? put_redacted(out, p, n - newline) : hr_buf_append(out, p, n - newline);
    if (!st) st = hr_buf_append(out, "\n", 1);
    if (!st && !newline) st = hr_buf_append(out, "\\ No newline at end of file\n", 28);
    return st;
}

static hr_status put_hunk(hr_buf *out, const struct lines *a, const struct lines *b, const struct change *c, size_t k,
                          int redact)
{
    size_t os = c[0].o > CONTEXT ? c[0].o - CONTEXT : 0;
    size_t oe = c[k - 1].o + c[k - 1].on + CONTEXT;
    if (oe > a->n) oe = a->n;
    size_t ns = os + c[0].n - c[0].o, ne = oe + c[k - 1].n + c[k - 1].nn - c[k - 1].o - c[k - 1].on;
    char head[96];
    snprintf(head, sizeof head, "@@ -%zu,%zu +%zu,%zu @@\n", oe > os ? os + 1 : os, oe - os, ne > ns ? ns + 1 : ns,
             ne - ns);
    hr_status st = hr_buf_append(out, head, strlen(head));
    size_t o = os;
    for (size_t j = 0; j < k && !st; j++) {
        for (; o < c[j].o && !st; o++) st = put_line(out, ' ', a, o, redact);
        for (size_t x = 0; x < c[j].on && !st; x++) st = put_line(out, '-', a, c[j].o + x, redact);
        for (size_t x = 0; x < c[j].nn && !st; x++) st = put_line(out, '+', b, c[j].n + x, redact);
        o = c[j].o + c[j].on;
    }
    for (; o < oe && !st; o++) st = put_line(out, ' ', a, o, redact);
    return st;
}

hr_status hr__udiff(const char *orig, size_t len, hr_splice *sp, const char *label, int redact, hr_buf *out)
{
    hr_buf edited = {0};
    struct lines a = {0}, b = {0};
    struct changes c = {0};
    hr_status st = hr_splice_apply(sp, &edited);
    if (!st) st = split_lines(orig, len, &a);
    if (!st) st = split_lines(edited.data ? edited.data : "", edited.len, &b);
    if (!st) st = find_changes(sp, &a, &b, &c);
    if (!st && c.count) {
        char head[600];
        snprintf(head, sizeof head, "--- a/%s\n+++ b/%s\n", label, label);
        st = hr_buf_append(out, head, strlen(head));
    }
    for (size_t i = 0; i < c.count && !st;) {
        size_t k = 1; /* changes closer than twice the context share a hunk */
        while (i + k < c.count && c.v[i + k].o <= c.v[i + k - 1].o + c.v[i + k - 1].on + 2 * CONTEXT) k++;
        st = put_hunk(out, &a, &b, c.v + i, k, redact);
        i += k;
    }
    free(a.start);
    free(b.start);
    free(c.v);
    hr_buf_free(&edited);
    return st;
}
