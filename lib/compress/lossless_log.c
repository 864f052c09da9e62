/* Logs and command output, re-encoded without loss: a log (most lines
 * begin with a time, a date or a level) is first blank-normalized
 * (lossless_blank.c), other command output is not, then
 *  - a run of 3+ equal lines is written as its first line and the line
 *      [hr: the line above repeats N more times]
 *  - a run of 4+ lines equal but for one field (a counter, a timestamp, an
 *    id) is written as
 *      [hr: K lines of the form below, {} being A to B in turn]
 *    when the values are the integers A, A+1, ..., B, else as
 *      [hr: K lines of the form below, {} being in turn: v1, v2, ..., vK]
 *    followed by the template: the line with the field written "{}".
 * Either is used only where it is shorter than the lines it stands for; an
 * equal run is preferred to a template run.
 *
 * A line is its text and its ending: "\n", "\r\n", or nothing for a last
 * line without "\n". Lines of a run have the same ending, except that the
 * run's last line may be the text's last line without one. Decoding, line
 * by line, a marker being a line whose text is exactly one of the forms
 * above:
 *  - a repeat marker after a line stands for N copies of the line decoded
 *    just before it: all but the last end as that line does, the last as
 *    the marker line does (so without "\n" when the run ended the text
 *    without one);
 *  - a template marker with K values (B - A + 1 = K for a range) followed
 *    by a line holding "{}" stands, with that line, for K lines: the
 *    template with its first "{}" replaced by each value in turn; all but
 *    the last end as the marker line does, the last as the template line;
 *  - any other line, "[hr: ...]" markers of a lossy stage included, is
 *    itself.
 *
 * A field is where the lines differ, widened to whole letters and digits
 * ("line 7:" varies in "7", "10:00:07" in "07"): bytes of [0-9A-Za-z._:/+-]
 * holding a digit; the lines of a template run share the bytes before and
 * after it. Lines holding
 * "{}" or "[hr:" never join a template run. Lines that start with "[hr:"
 * are copied and end runs, as is the line after one that holds "{}" (the
 * template of a marker already in the text), so text that was re-encoded
 * before decodes as it did. */
#include "compress/compress_internal.h"
#include "util/grow.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MIN_REPEAT_RUN 3
#define MIN_TEMPLATE_RUN 4

static const char REPEAT_HEAD[] = "[hr: the line above repeats ";
static const char REPEAT_TAIL[] = " more times]";
static const char TEMPLATE_HEAD[] = "[hr: ";
static const char TEMPLATE_FORM[] = " lines of the form below, {} being ";
static const char RANGE_TO[] = " to ";
static const char RANGE_TAIL[] = " in turn]";
static const char LIST_HEAD[] = "in turn: ";

enum {
    LINE_FREE = 1,     /* may be part of a run */
    LINE_TEMPLATE = 2, /* may be part of a template run: no "{}", no "[hr:" */
};

struct line {
    size_t off, len;     /* its text, without the ending */
    unsigned char eol;   /* bytes of its ending: 1 "\n", 2 "\r\n", 0 none (the last line) */
    unsigned char flags; /* LINE_* */
    size_t same;         /* lines from this one on that equal it, itself included */
};

static const char *eol_text(unsigned char eol)
{
    return eol == 2 ? "\r\n" : eol == 1 ? "\n" : "";
}

static int starts_with(const char *s, size_t n, const char *prefix, size_t k)
{
    return n >= k && !memcmp(s, prefix, k);
}

/* Whether s[0..n) holds the k bytes of what. */
static int holds(const char *s, size_t n, const char *what, size_t k)
{
    for (const char *p = s, *end = s + n; (size_t)(end - p) >= k; p++) {
        p = memchr(p, what[0], (size_t)(end - p) - k + 1);
        if (!p) return 0;
        if (!memcmp(p, what, k)) return 1;
    }
    return 0;
}

/* [0-9A-Za-z._:/+-] as bit sets of the bytes 0-63 and 64-127: this test
 * runs on most bytes of the text. */
#define FIELD_LOW ((1ull << '+') | (1ull << '-') | (1ull << '.') | (1ull << '/') | (0x3ffull << '0') | (1ull << ':'))
#define FIELD_HIGH ((0x3ffffffull << ('A' - 64)) | (1ull << ('_' - 64)) | (0x3ffffffull << ('a' - 64)))

static int is_field_byte(unsigned char c)
{
    return c < 64 ? (int)((FIELD_LOW >> c) & 1) : c < 128 ? (int)((FIELD_HIGH >> (c - 64)) & 1) : 0;
}

static int is_alnum(unsigned char c)
{
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

/* Whether s[0..n) is a field's bytes: non-empty, field bytes only, a digit. */
static int is_value(const char *s, size_t n)
{
    int digit = 0;
    for (size_t i = 0; i < n; i++) {
        if (!is_field_byte((unsigned char)s[i])) return 0;
        digit |= s[i] >= '0' && s[i] <= '9';
    }
    return digit;
}

static size_t decimal_digits(size_t v)
{
    size_t d = 1;
    while (v >= 10) v /= 10, d++;
    return d;
}

/* ---- lines ------------------------------------------------------------------- */

/* The lines of s, each with the runs it may join. */
static hr_status split(const char *s, size_t len, struct line **out, size_t *n_out)
{
    size_t n = 0, cap = 0, start = 0;
    struct line *v = NULL;
    int template_marker_before = 0; /* the line before holds "{}" and starts with "[hr:" */
    while (start < len) {
        void *grown = hr_grow(v, &cap, n + 1, sizeof *v);
        if (!grown) {
            free(v);
            return HR_ENOMEM;
        }
        v = grown;
        const char *nl = memchr(s + start, '\n', len - start);
        size_t end = nl ? (size_t)(nl - s) : len;
        struct line *l = &v[n++];
        l->eol = nl ? 1 : 0;
        if (nl && end > start && s[end - 1] == '\r') end--, l->eol = 2;
        l->off = start;
        l->len = end - start;
        const char *t = s + start;
        int marker = starts_with(t, l->len, "[hr:", 4), braces = holds(t, l->len, "{}", 2);
        l->flags = 0;
        if (!marker && !template_marker_before) l->flags |= LINE_FREE;
        if (!braces && !holds(t, l->len, "[hr:", 4)) l->flags |= LINE_TEMPLATE;
        template_marker_before = marker && braces;
        start = end + l->eol;
    }
    *out = v;
    *n_out = n;
    return HR_OK;
}

/* Whether line b may follow line a in a run: the same ending, or none when b
 * is the last line. */
static int endings_join(const struct line *a, const struct line *b)
{
    return b->eol == a->eol || b->eol == 0;
}

/* Sets each line's `same`, from the last line back. */
static void count_same(const char *s, struct line *v, size_t n)
{
    for (size_t i = n; i-- > 0;) {
        const struct line *a = &v[i], *b = &v[i + 1];
        int join = i + 1 < n && (a->flags & LINE_FREE) && (b->flags & LINE_FREE) && a->len == b->len &&
                   endings_join(a, b) && !memcmp(s + a->off, s + b->off, a->len);
        v[i].same = join ? v[i + 1].same + 1 : 1;
    }
}

/* ---- runs of equal lines ------------------------------------------------------- */

static size_t repeat_marker_len(size_t more, unsigned char eol)
{
    return sizeof REPEAT_HEAD - 1 + decimal_digits(more) + sizeof REPEAT_TAIL - 1 + eol;
}

/* Whether the equal lines from i on are written as one line and a marker:
 * enough of them, and the marker shorter than the copies it stands for. */
static int repeat_pays(const struct line *v, size_t i)
{
    size_t k = v[i].same;
    if (k < MIN_REPEAT_RUN) return 0;
    unsigned char last_eol = v[i + k - 1].eol;
    size_t copies = (k - 2) * (v[i].len + v[i].eol) + v[i].len + last_eol;
    return repeat_marker_len(k - 1, last_eol) < copies;
}

static hr_status put_repeat(const char *s, const struct line *v, size_t i, hr_buf *out)
{
    size_t k = v[i].same;
    char num[32];
    int w = snprintf(num, sizeof num, "%zu", k - 1);
    const char *end = eol_text(v[i + k - 1].eol);
    if (hr_buf_append(out, s + v[i].off, v[i].len + v[i].eol) ||
        hr_buf_append(out, REPEAT_HEAD, sizeof REPEAT_HEAD - 1) || hr_buf_append(out, num, (size_t)w) ||
        hr_buf_append(out, REPEAT_TAIL, sizeof REPEAT_TAIL - 1) || hr_buf_append(out, end, strlen(end)))
        return HR_ENOMEM;
    return HR_OK;
}

/* ---- template runs --------------------------------------------------------------- */

/* Where the varying field sits in the run's first line f: after its first
 * `head` bytes, before its last `tail`. */
struct field {
    size_t head, tail;
};

/* The one field in which f and l differ: their common prefix and suffix,
 * widened to the field's bounds. 0 when they differ elsewhere too. */
static int find_field(const char *f, size_t fn, const char *l, size_t ln, struct field *out)
{
    size_t m = fn < ln ? fn : ln, p = 0, q = 0;
    while (p < m && f[p] == l[p]) p++;
    while (q < m - p && f[fn - 1 - q] == l[ln - 1 - q]) q++;
    /* widened over letters and digits only, so that "line 7:" varies in 7
     * and "10:00:07" in 07: counters count, and a colon stays in the line */
    while (p > 0 && is_alnum((unsigned char)f[p - 1])) p--;
    while (q > 0 && is_alnum((unsigned char)f[fn - q])) q--;
    if (!is_value(f + p, fn - q - p) || !is_value(l + p, ln - q - p)) return 0;
    *out = (struct field){p, q};
    return 1;
}

/* Whether l is f with another value in the field. */
static int fits(const char *f, size_t fn, const char *l, size_t ln, const struct field *fd)
{
    return ln >= fd->head + fd->tail && !memcmp(l, f, fd->head) &&
           !memcmp(l + ln - fd->tail, f + fn - fd->tail, fd->tail) && is_value(l + fd->head, ln - fd->head - fd->tail);
}

/* The end of the template run that starts at i, its field in *fd; i + 1
 * when no line after i differs from it in one field. The run stops before
 * a line that starts a run of equal lines worth folding. */
static size_t template_run(const char *s, const struct line *v, size_t n, size_t i, struct field *fd)
{
    const char *f = s + v[i].off;
    size_t fn = v[i].len, j = i + 1;
    int found = 0; /* *fd is known: a line differed from f */
    for (; j < n; j++) {
        const struct line *l = &v[j];
        const char *t = s + l->off;
        if (!(l->flags & LINE_FREE) || !(l->flags & LINE_TEMPLATE) || !endings_join(&v[i], l) || repeat_pays(v, j))
            break;
        if (found) {
            if (!fits(f, fn, t, l->len, fd)) break;
        } else if (l->len != fn || memcmp(t, f, fn)) {
            if (!find_field(f, fn, t, l->len, fd)) break;
            found = 1;
        }
    }
    return found ? j : i + 1;
}

/* The value of line l in the field. */
static const char *value_of(const char *s, const struct line *l, const struct field *fd, size_t *len)
{
    *len = l->len - fd->head - fd->tail;
    return s + l->off + fd->head;
}

/* A decimal integer as written without leading zeros, below 10^19. */
static int plain_integer(const char *s, size_t n, uint64_t *v)
{
    if (n == 0 || n > 19 || (n > 1 && s[0] == '0')) return 0;
    *v = 0;
    for (size_t i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9') return 0;
        *v = *v * 10 + (uint64_t)(s[i] - '0');
    }
    return 1;
}

/* The end of the values from line i on (before j) that count up by one
 * from an integer; i + 1 when the value of i is not one. */
static size_t count_end(const char *s, const struct line *v, size_t i, size_t j, const struct field *fd)
{
    uint64_t prev = 0, x;
    size_t k = i;
    for (; k < j; k++) {
        size_t n;
        const char *t = value_of(s, &v[k], fd, &n);
        if (!plain_integer(t, n, &x) || (k > i && x != prev + 1)) break;
        prev = x;
    }
    return k > i ? k : i + 1;
}

/* Whether the values of lines [i, j) are A, A+1, ..., B. */
static int counts_up(const char *s, const struct line *v, size_t i, size_t j, const struct field *fd)
{
    return count_end(s, v, i, j, fd) == j;
}

/* The template marker line of lines [i, j), with its ending. */
static hr_status template_marker(const char *s, const struct line *v, size_t i, size_t j, const struct field *fd,
                                 hr_buf *out)
{
    char num[32];
    int w = snprintf(num, sizeof num, "%zu", j - i);
    if (hr_buf_append(out, TEMPLATE_HEAD, sizeof TEMPLATE_HEAD - 1) || hr_buf_append(out, num, (size_t)w) ||
        hr_buf_append(out, TEMPLATE_FORM, sizeof TEMPLATE_FORM - 1))
        return HR_ENOMEM;
    size_t n_first, n_last;
    const char *first = value_of(s, &v[i], fd, &n_first), *last = value_of(s, &v[j - 1], fd, &n_last);
    if (counts_up(s, v, i, j, fd)) {
        if (hr_buf_append(out, first, n_first) || hr_buf_append(out, RANGE_TO, sizeof RANGE_TO - 1) ||
            hr_buf_append(out, last, n_last) || hr_buf_append(out, RANGE_TAIL, sizeof RANGE_TAIL - 1))
            return HR_ENOMEM;
    } else {
        if (hr_buf_append(out, LIST_HEAD, sizeof LIST_HEAD - 1)) return HR_ENOMEM;
        for (size_t k = i; k < j; k++) {
            size_t n;
            const char *t = value_of(s, &v[k], fd, &n);
            if ((k > i && hr_buf_append(out, ", ", 2)) || hr_buf_append(out, t, n)) return HR_ENOMEM;
        }
        if (hr_buf_append(out, "]", 1)) return HR_ENOMEM;
    }
    const char *end = eol_text(v[i].eol);
    return hr_buf_append(out, end, strlen(end));
}

/* The marker and the template of lines [i, j). */
static hr_status put_template(const char *s, const struct line *v, size_t i, size_t j, const struct field *fd,
                              hr_buf *out)
{
    const char *f = s + v[i].off;
    const char *end = eol_text(v[j - 1].eol);
    if (template_marker(s, v, i, j, fd, out) || hr_buf_append(out, f, fd->head) || hr_buf_append(out, "{}", 2) ||
        hr_buf_append(out, f + v[i].len - fd->tail, fd->tail) || hr_buf_append(out, end, strlen(end)))
        return HR_ENOMEM;
    return HR_OK;
}

/* Bytes put_template would write for lines [i, j). */
static size_t template_size(const char *s, const struct line *v, size_t i, size_t j, const struct field *fd)
{
    size_t size = sizeof TEMPLATE_HEAD - 1 + decimal_digits(j - i) + sizeof TEMPLATE_FORM - 1 + v[i].eol;
    size_t n_first, n_last;
    value_of(s, &v[i], fd, &n_first);
    value_of(s, &v[j - 1], fd, &n_last);
    if (counts_up(s, v, i, j, fd)) {
        size += n_first + sizeof RANGE_TO - 1 + n_last + sizeof RANGE_TAIL - 1;
    } else {
        size += sizeof LIST_HEAD - 1 + 1 + 2 * (j - i - 1);
        for (size_t k = i; k < j; k++) size += v[k].len - fd->head - fd->tail;
    }
    return size + fd->head + 2 + fd->tail + v[j - 1].eol;
}

/* Bytes of lines [i, j), i < j: they lie end to end. */
static size_t lines_size(const struct line *v, size_t i, size_t j)
{
    return v[j - 1].off + v[j - 1].len + v[j - 1].eol - v[i].off;
}

/* Whether lines [i, j) are written shorter as a template. */
static int template_pays(const char *s, const struct line *v, size_t i, size_t j, const struct field *fd)
{
    return j - i >= MIN_TEMPLATE_RUN && template_size(s, v, i, j, fd) < lines_size(v, i, j);
}

/* Lines the encoder leaves are copied in spans: lines [from, i) are the
 * ones not written yet. */
struct writer {
    const char *s;
    const struct line *v;
    size_t from;
    hr_buf *out;
};

/* Copies the lines before i that are not written yet. */
static hr_status flush(struct writer *w, size_t i)
{
    size_t from = w->from;
    w->from = i;
    return from < i ? hr_buf_append(w->out, w->s + w->v[from].off, lines_size(w->v, from, i)) : HR_OK;
}

/* Lines [i, j) that differ in one field: a template where that pays. When
 * the run as a whole does not, its counting pieces may: a piece of a value
 * list saves per line what the whole list does, so it would not pay either.
 * Each line is looked at a bounded number of times. */
static hr_status put_field_run(struct writer *w, size_t i, size_t j, const struct field *fd)
{
    const char *s = w->s;
    const struct line *v = w->v;
    if (template_pays(s, v, i, j, fd)) {
        if (flush(w, i) || put_template(s, v, i, j, fd, w->out)) return HR_ENOMEM;
        w->from = j;
        return HR_OK;
    }
    while (i < j) {
        size_t e = count_end(s, v, i, j, fd);
        if (template_pays(s, v, i, e, fd)) {
            if (flush(w, i) || put_template(s, v, i, e, fd, w->out)) return HR_ENOMEM;
            w->from = e;
        }
        i = e;
    }
    return HR_OK;
}

static hr_status encode(const char *s, const struct line *v, size_t n, hr_buf *out)
{
    struct writer w = {s, v, 0, out};
    size_t i = 0;
    while (i < n) {
        struct field fd = {0, 0};
        size_t j = i + 1;
        if ((v[i].flags & LINE_FREE) && repeat_pays(v, i)) {
            if (flush(&w, i) || put_repeat(s, v, i, out)) return HR_ENOMEM;
            i += v[i].same;
            w.from = i;
            continue;
        }
        if ((v[i].flags & LINE_FREE) && (v[i].flags & LINE_TEMPLATE)) j = template_run(s, v, n, i, &fd);
        if (j - i < MIN_TEMPLATE_RUN) {
            i++; /* copied later, with its neighbours */
            continue;
        }
        if (put_field_run(&w, i, j, &fd)) return HR_ENOMEM;
        i = j;
    }
    return flush(&w, n);
}

/* ---- whether blanks carry nothing ------------------------------------------------ */

#define SAMPLE_LINES 200
#define STAMP_WITHIN 40

static int is_digit(char c)
{
    return c >= '0' && c <= '9';
}

/* A time ("12:34"), a date ("2025-06-24", "2025/06/24") or a level word
 * near the start of line s[0..n): what a log line begins with. */
static int stamped(const char *s, size_t n)
{
    static const char *const levels[] = {"INFO", "WARN", "ERROR", "DEBUG", "TRACE", "FATAL", "NOTICE", "CRIT", NULL};
    size_t m = n < STAMP_WITHIN ? n : STAMP_WITHIN;
    for (size_t i = 0; i + 5 <= m; i++) {
        if (is_digit(s[i]) && is_digit(s[i + 1]) && s[i + 2] == ':' && is_digit(s[i + 3]) && is_digit(s[i + 4]))
            return 1;
        if (i + 8 <= m && is_digit(s[i]) && is_digit(s[i + 3]) && (s[i + 4] == '-' || s[i + 4] == '/') &&
            is_digit(s[i + 5]) && is_digit(s[i + 6]) && s[i + 7] == s[i + 4])
            return 1;
    }
    for (const char *const *l = levels; *l; l++) {
        size_t k = strlen(*l);
        for (size_t i = 0; i + k <= m; i++)
            if (!memcmp(s + i, *l, k)) return 1;
    }
    return 0;
}

/* Whether text is a log: most of its lines (of the first SAMPLE_LINES that
 * are not blank) stamped. Only then are its blanks cut: in code, a Markdown
 * or YAML text, a string literal's trailing blanks and blank lines are its
 * value. */
static int looks_like_log(const char *text, size_t len)
{
    size_t lines = 0, with_stamp = 0;
    for (size_t at = 0; at < len && lines < SAMPLE_LINES;) {
        const char *nl = memchr(text + at, '\n', len - at);
        size_t end = nl ? (size_t)(nl - text) : len;
        size_t k = at;
        while (k < end && (text[k] == ' ' || text[k] == '\t' || text[k] == '\r')) k++;
        if (k < end) {
            lines++;
            with_stamp += stamped(text + at, end - at);
        }
        at = end + 1;
    }
    return lines && with_stamp * 2 >= lines;
}

hr_status hr__lossless_log(const char *text, size_t len, hr_buf *out)
{
    hr_buf blank = HR_BUF_INIT;
    struct line *v = NULL;
    size_t n = 0;
    hr_status st = looks_like_log(text, len) ? hr__lossless_blank(text, len, &blank) : hr_buf_append(&blank, text, len);
    if (!st) st = split(blank.data, blank.len, &v, &n);
    if (!st) {
        count_same(blank.data, v, n);
        st = encode(blank.data, v, n, out);
    }
    free(v);
    hr_buf_free(&blank);
    return st;
}
