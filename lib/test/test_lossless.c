/* hr__lossless_blank, hr__lossless_log and hr__lossless_search: exact
 * cases; then decoders written here from the formats the files' headers
 * give check that decoding gives back the text byte for byte, and that the
 * encoded form is never longer, on real command output (testdata/lossless/:
 * dpkg -l, ls -la, ps, find, dpkg's and apt's logs, grep -rn, grep -C2,
 * git grep, date(1) in a loop, seq(1), python -m unittest -v), on lines
 * made like progress, test and timestamped logs, and on random text. Ends
 * with the time each takes on 1 MB. */
#include "compress/compress_internal.h"
#include "hr.h"
#include "unit.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define FIXTURES "testdata/lossless/"

typedef hr_status (*codec_fn)(const char *text, size_t len, hr_buf *out);

static size_t round_trips; /* inputs decoded back and compared */
/* encoded forms holding a repeat, a counting template, a listing one */
static size_t with_repeat, with_range, with_list;

static void append(hr_buf *b, const void *s, size_t n)
{
    if (n && hr_buf_append(b, s, n)) {
        fprintf(stderr, "out of memory\n");
        exit(2);
    }
}

static void append_str(hr_buf *b, const char *s)
{
    append(b, s, strlen(s));
}

/* The output of f on s[0..n), into a fresh buffer. */
static hr_buf run(codec_fn f, const char *s, size_t n)
{
    hr_buf out = HR_BUF_INIT;
    CHECK_EQ_U(f(s, n, &out), HR_OK);
    return out;
}

static const char *data_of(const hr_buf *b)
{
    return b->len ? b->data : "";
}

/* Prints s[0..n) around offset at, escaped. */
static void show(const char *label, const char *s, size_t n, size_t at)
{
    size_t a = at > 60 ? at - 60 : 0, e = at + 60 < n ? at + 60 : n;
    printf("    %s [%zu..%zu): \"", label, a, e);
    for (size_t i = a; i < e; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c == '\n') printf("\\n");
        else if (c == '\r') printf("\\r");
        else if (c == '\t') printf("\\t");
        else if (c < 32 || c >= 127) printf("\\x%02x", c);
        else putchar(c);
    }
    printf("\"\n");
}

/* Whether got equals want; says where they part when not. */
static int same(const char *what, const char *got, size_t got_n, const char *want, size_t want_n)
{
    if (got_n == want_n && !memcmp(got, want, got_n)) return 1;
    size_t i = 0;
    while (i < got_n && i < want_n && got[i] == want[i]) i++;
    printf("  %s: %zu bytes, expected %zu, first difference at byte %zu\n", what, got_n, want_n, i);
    show("got ", got, got_n, i);
    show("want", want, want_n, i);
    return 0;
}

#define CHECK_OUT(fn, in, want)                                                                                        \
    do {                                                                                                               \
        hr_buf o_ = run(fn, in, strlen(in));                                                                           \
        if (!same(#fn "(" #in ")", data_of(&o_), o_.len, want, strlen(want))) unit_failed_checks++;                    \
        hr_buf_free(&o_);                                                                                              \
    } while (0)

/* ---- a decoder of hr__lossless_log's markers ----------------------------------------- */

struct tline {
    const char *s;
    size_t n;   /* text, without its ending */
    size_t eol; /* bytes of its ending, at s + n */
};

static int take_line(const char *t, size_t len, size_t *pos, struct tline *l)
{
    if (*pos >= len) return 0;
    const char *s = t + *pos, *nl = memchr(s, '\n', len - *pos);
    size_t whole = nl ? (size_t)(nl - s) + 1 : len - *pos;
    l->s = s;
    l->n = whole;
    l->eol = 0;
    if (nl) {
        l->n--, l->eol = 1;
        if (l->n && s[l->n - 1] == '\r') l->n--, l->eol = 2;
    }
    *pos += whole;
    return 1;
}

/* Reads the literal lit at s[*i]. */
static int eat(const char *s, size_t n, size_t *i, const char *lit)
{
    size_t k = strlen(lit);
    if (*i + k > n || memcmp(s + *i, lit, k)) return 0;
    *i += k;
    return 1;
}

static int eat_number(const char *s, size_t n, size_t *i, uint64_t *v)
{
    size_t b = *i;
    *v = 0;
    while (*i < n && s[*i] >= '0' && s[*i] <= '9' && *i - b < 19) *v = *v * 10 + (uint64_t)(s[(*i)++] - '0');
    return *i > b;
}

/* "[hr: the line above repeats N more times]" */
static int parse_repeat(const struct tline *l, uint64_t *n)
{
    size_t i = 0;
    return eat(l->s, l->n, &i, "[hr: the line above repeats ") && eat_number(l->s, l->n, &i, n) &&
           eat(l->s, l->n, &i, " more times]") && i == l->n && *n >= 1;
}

/* The values of a template marker: start[k], len[k] into the marker line,
 * or, for "A to B", the numbers themselves. */
struct values {
    size_t k;
    int range;
    uint64_t a;
    const char **start;
    size_t *len;
};

static int parse_template(const struct tline *l, struct values *v)
{
    size_t i = 0, n = l->n;
    const char *s = l->s;
    uint64_t k, b;
    if (!eat(s, n, &i, "[hr: ") || !eat_number(s, n, &i, &k) || !eat(s, n, &i, " lines of the form below, {} being ") ||
        k == 0)
        return 0;
    v->k = (size_t)k;
    if (eat(s, n, &i, "in turn: ")) {
        if (k > n) return 0;
        v->range = 0;
        v->start = malloc(k * sizeof *v->start);
        v->len = malloc(k * sizeof *v->len);
        for (size_t j = 0; j < k; j++) {
            if (j && !eat(s, n, &i, ", ")) break;
            size_t b0 = i;
            while (i < n && s[i] != ',' && s[i] != ']') i++;
            v->start[j] = s + b0;
            v->len[j] = i - b0;
            if (j + 1 == k && eat(s, n, &i, "]") && i == n) return 1;
        }
        free(v->start);
        free(v->len);
        return 0;
    }
    v->range = 1;
    v->start = NULL;
    v->len = NULL;
    return eat_number(s, n, &i, &v->a) && eat(s, n, &i, " to ") && eat_number(s, n, &i, &b) &&
           eat(s, n, &i, " in turn]") && i == n && b >= v->a && b - v->a + 1 == k;
}

static void free_values(struct values *v)
{
    free(v->start);
    free(v->len);
}

/* The text encoded, by the rules in lossless_log.c's header. */
static hr_buf decode_log(const char *t, size_t len)
{
    hr_buf out = HR_BUF_INIT, prev = HR_BUF_INIT; /* prev: the last line decoded, with its ending */
    size_t pos = 0, prev_n = 0;                   /* prev_n: its text's length */
    int have_prev = 0;
    struct tline l, tpl;
    while (take_line(t, len, &pos, &l)) {
        uint64_t n;
        struct values v;
        if (have_prev && parse_repeat(&l, &n)) {
            for (uint64_t k = 0; k < n; k++) {
                append(&out, prev.data, prev_n);
                if (k + 1 < n) append(&out, prev.data + prev_n, prev.len - prev_n);
                else append(&out, l.s + l.n, l.eol);
            }
            prev.len = prev_n;
            append(&prev, l.s + l.n, l.eol);
            continue;
        }
        size_t save = pos;
        const char *brace = NULL;
        if (parse_template(&l, &v)) {
            if (take_line(t, len, &pos, &tpl))
                for (size_t i = 0; i + 2 <= tpl.n && !brace; i++)
                    if (tpl.s[i] == '{' && tpl.s[i + 1] == '}') brace = tpl.s + i;
            if (!brace) {
                pos = save;
                free_values(&v);
            }
        }
        if (!brace) { /* a line as it is */
            prev.len = 0;
            append(&prev, l.s, l.n + l.eol);
            prev_n = l.n;
            append(&out, l.s, l.n + l.eol);
            have_prev = 1;
            continue;
        }
        for (size_t k = 0; k < v.k; k++) {
            char num[32];
            const char *val = num;
            size_t val_n;
            if (v.range) val_n = (size_t)snprintf(num, sizeof num, "%" PRIu64, v.a + k);
            else val = v.start[k], val_n = v.len[k];
            prev.len = 0;
            append(&prev, tpl.s, (size_t)(brace - tpl.s));
            append(&prev, val, val_n);
            append(&prev, brace + 2, (size_t)(tpl.s + tpl.n - brace - 2));
            prev_n = prev.len;
            if (k + 1 < v.k) append(&prev, l.s + l.n, l.eol);
            else append(&prev, tpl.s + tpl.n, tpl.eol);
            append(&out, prev.data, prev.len);
        }
        have_prev = 1;
        free_values(&v);
    }
    hr_buf_free(&prev);
    return out;
}

/* ---- a decoder of hr__lossless_search's grouping ---------------------------------------- */

/* Whether the line is one that plain search output holds. */
static int plain_search_line(const struct tline *l)
{
    if ((l->n == 2 && !memcmp(l->s, "--", 2)) || (l->n >= 4 && !memcmp(l->s, "[hr:", 4))) return 1;
    size_t p = hr__search_path_len(l->s, l->n + l->eol);
    return p > 0;
}

/* The length of "  N: " or "  N- " at the start of the line, else 0. */
static size_t grouped_head(const struct tline *l)
{
    size_t i = 2, n = l->n + l->eol;
    if (n < 5 || l->s[0] != ' ' || l->s[1] != ' ') return 0;
    while (i < n && l->s[i] >= '0' && l->s[i] <= '9') i++;
    if (i == 2 || i + 1 >= n || (l->s[i] != ':' && l->s[i] != '-') || l->s[i + 1] != ' ') return 0;
    return i + 2;
}

static hr_buf decode_search(const char *t, size_t len)
{
    hr_buf out = HR_BUF_INIT;
    size_t pos = 0;
    struct tline l;
    int plain = 1;
    while (plain && take_line(t, len, &pos, &l)) plain = plain_search_line(&l);
    if (plain) {
        append(&out, t, len);
        return out;
    }
    const char *path = "";
    size_t path_n = 0;
    pos = 0;
    while (take_line(t, len, &pos, &l)) {
        size_t h = grouped_head(&l);
        if (h) {
            char sep = l.s[h - 2];
            append(&out, path, path_n);
            append(&out, &sep, 1);
            append(&out, l.s + 2, h - 4);
            append(&out, &sep, 1);
            append(&out, l.s + h, l.n + l.eol - h);
        } else if ((l.n == 2 && !memcmp(l.s, "--", 2)) || (l.n >= 4 && !memcmp(l.s, "[hr:", 4))) {
            append(&out, l.s, l.n + l.eol);
        } else {
            path = l.s;
            path_n = l.n + l.eol - (l.eol ? 1 : 0); /* the path line ends in "\n" alone */
        }
    }
    return out;
}

/* ---- round trips ---------------------------------------------------------------------------- */

/* Decoding gives back x, or hr__lossless_blank(x) for a log (plain: x holds
 * none of the encoder's markers), or else what x's own markers decode to;
 * blank is stable; the encoded form is no longer; a second pass decodes
 * the same. */
static void log_round_trip(const char *name, const char *x, size_t n, int plain)
{
    hr_buf b = run(hr__lossless_blank, x, n);
    hr_buf bb = run(hr__lossless_blank, data_of(&b), b.len);
    hr_buf e = run(hr__lossless_log, x, n);
    hr_buf d = decode_log(data_of(&e), e.len);
    hr_buf db = decode_log(data_of(&b), b.len); /* x's own markers, if any, decoded */
    hr_buf e2 = run(hr__lossless_log, data_of(&e), e.len);
    hr_buf d2 = decode_log(data_of(&e2), e2.len);
    char what[160];
    round_trips++;
    with_repeat += strstr(data_of(&e), " more times]") != NULL;
    with_range += strstr(data_of(&e), " in turn]") != NULL;
    with_list += strstr(data_of(&e), "in turn: ") != NULL;
    hr_buf dx = decode_log(x, n);
    int as_is = d.len == dx.len && !memcmp(data_of(&d), data_of(&dx), d.len); /* no blanks cut: not a log */
    snprintf(what, sizeof what, "%s: decode(log(x)) vs decode(blank(x))", name);
    if (!as_is && !same(what, data_of(&d), d.len, data_of(&db), db.len)) unit_failed_checks++;
    snprintf(what, sizeof what, "%s: decode(log(x)) vs blank(x)", name);
    if (plain && !as_is && !same(what, data_of(&d), d.len, data_of(&b), b.len)) unit_failed_checks++;
    hr_buf_free(&dx);
    snprintf(what, sizeof what, "%s: blank(blank(x)) vs blank(x)", name);
    if (!same(what, data_of(&bb), bb.len, data_of(&b), b.len)) unit_failed_checks++;
    /* a second pass may find a log where the first did not (its markers
     * change what most lines look like) and cut blanks then, nothing else */
    hr_buf bd = run(hr__lossless_blank, data_of(&d), d.len);
    int again = d2.len == d.len && !memcmp(data_of(&d2), data_of(&d), d.len);
    snprintf(what, sizeof what, "%s: decode(log(log(x))) vs decode(log(x)) or its blanks cut", name);
    if (!again && !same(what, data_of(&d2), d2.len, data_of(&bd), bd.len)) unit_failed_checks++;
    hr_buf_free(&bd);
    if (e.len > n) {
        printf("  %s: log(x) is %zu bytes, x %zu\n", name, e.len, n);
        unit_failed_checks++;
    }
    if (b.len > n) {
        printf("  %s: blank(x) is %zu bytes, x %zu\n", name, b.len, n);
        unit_failed_checks++;
    }
    hr_buf_free(&b);
    hr_buf_free(&bb);
    hr_buf_free(&e);
    hr_buf_free(&d);
    hr_buf_free(&db);
    hr_buf_free(&e2);
    hr_buf_free(&d2);
}

/* Either the text stays, or it is grouped, no longer, and decodes back. */
static void search_round_trip(const char *name, const char *x, size_t n, int must_group)
{
    hr_buf e = run(hr__lossless_search, x, n);
    char what[160];
    round_trips++;
    if (e.len == n && !memcmp(data_of(&e), x, n)) {
        if (must_group) {
            printf("  %s: left as it was\n", name);
            unit_failed_checks++;
        }
    } else {
        hr_buf d = decode_search(data_of(&e), e.len);
        snprintf(what, sizeof what, "%s: decode(search(x)) vs x", name);
        if (!same(what, data_of(&d), d.len, x, n)) unit_failed_checks++;
        if (e.len >= n) {
            printf("  %s: grouped into %zu bytes from %zu\n", name, e.len, n);
            unit_failed_checks++;
        }
        hr_buf_free(&d);
    }
    hr_buf_free(&e);
}

/* The forms of a text a tool may give: as it is, without its last "\n",
 * with "\r\n" line ends, with blanks after some lines. */
enum { AS_IS, NO_FINAL_NL, CRLF, TRAILING_BLANKS, N_VARIANTS };

static hr_buf variant(const char *x, size_t n, int which)
{
    hr_buf v = HR_BUF_INIT;
    for (size_t i = 0; i < n; i++) {
        if (x[i] == '\n' && which == CRLF && (i == 0 || x[i - 1] != '\r')) append(&v, "\r", 1);
        if (x[i] == '\n' && which == TRAILING_BLANKS && i % 3 == 0) append(&v, i % 2 ? " \t " : "  ", i % 2 ? 3 : 2);
        append(&v, x + i, 1);
    }
    if (which == NO_FINAL_NL && v.len && v.data[v.len - 1] == '\n') v.data[--v.len] = '\0';
    return v;
}

static const char *const log_fixtures[] = {
    "dpkg-l.txt",          "ls-usr-bin.txt",
    "ps-aux-kernel.txt",   "find-doc.txt",
    "dpkg-log.txt",        "apt-term-log.txt",
    "grep-static.txt",     "grep-C2.txt",
    "git-grep-hr_buf.txt", "grep-return.txt",
    "date-heartbeat.txt",  "seq-chunks.txt",
    "unittest-bisect.txt", NULL,
};

static const char *const search_fixtures[] = {
    "grep-static.txt", "grep-C2.txt", "git-grep-hr_buf.txt", "grep-return.txt", NULL,
};

/* ---- text made like tools' output ------------------------------------------------------------- */

static uint64_t rng_state = 0x9e3779b97f4a7c15ull;

static uint64_t rnd(void)
{
    uint64_t x = rng_state;
    x ^= x << 13, x ^= x >> 7, x ^= x << 17;
    return rng_state = x;
}

static size_t rnd_below(size_t n)
{
    return n ? (size_t)(rnd() % n) : 0;
}

static void appendf(hr_buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void appendf(hr_buf *b, const char *fmt, ...)
{
    char line[512];
    va_list ap;
    va_start(ap, fmt);
    int k = vsnprintf(line, sizeof line, fmt, ap);
    va_end(ap);
    append(b, line, k < 0 ? 0 : (size_t)k < sizeof line ? (size_t)k : sizeof line - 1);
}

/* Progress, test runners, timestamped logs, retries: runs of the kinds the
 * encoder folds, among lines it leaves. */
static hr_buf tool_like_log(void)
{
    hr_buf b = HR_BUF_INIT;
    append_str(&b, "$ ./fetch-model --shards 50\n");
    for (int i = 1; i <= 50; i++) appendf(&b, "Downloading chunk %d/50\n", i);
    for (int i = 1; i <= 12; i++)
        appendf(&b, "Downloading shard %d of 12 from https://mirror.example.org/models/base\n", i);
    append_str(&b, "Get:1 http://deb.debian.org/debian bookworm InRelease [151 kB]\n");
    for (int i = 0; i <= 100; i += 5) appendf(&b, "Progress: [%3d%%] Unpacking libexample-dev\n", i);
    for (int i = 1; i <= 30; i++) appendf(&b, "tests/test_api.py::test_request_%d PASSED\n", i);
    for (int i = 1; i <= 8; i++) appendf(&b, "tests/test_api.py::test_case[%02d] PASSED  [ %d%%]\n", i, i * 12);
    for (int i = 0; i < 40; i++)
        appendf(&b, "2025-06-24T14:%02d:%02d.%03dZ INFO worker-3 heartbeat ok, queue empty\n", 10 + i / 60, i % 60,
                (i * 37) % 1000);
    for (int i = 0; i < 6; i++) append_str(&b, "WARN connection refused (127.0.0.1:5432), retrying in 5s\n");
    append_str(&b, "\n\n\n   \nERROR giving up after 6 attempts\t \n");
    for (int i = 0; i < 5; i++) appendf(&b, "[hr: %d lines omitted]\n", i + 2);
    for (int i = 0; i < 7; i++) appendf(&b, "job %d: template {} stays as text\n", i);
    for (int i = 0; i < 9; i++) appendf(&b, "request id=%08x status=200 bytes=5120\n", (unsigned)(rnd() & 0xffffffffu));
    for (int i = 0; i < 5; i++) append_str(&b, "ok\n");
    return b;
}

/* Random lines from a small vocabulary, so runs come often: counters, equal
 * lines, blank lines, trailing blanks, "\r\n", markers of a lossy stage,
 * "{}", random bytes; with or without a last "\n". marker_forms: also the
 * encoder's own markers, as a text encoded before holds them. */
static hr_buf random_log(int marker_forms)
{
    static const char *const words[] = {
        "ok",
        "GET /api/v1/items",
        "id=",
        "x",
        "{}",
        "[hr:",
        "Downloading",
        ":",
        "-",
        "2025-06-24",
        "chunk",
        " ",
        "\t",
        "v1.2.3",
        "/usr/lib/",
        "a.b",
        "+",
        "ERROR",
        "\xc3\xa9t\xc3\xa9",
        "]",
        "\r",
    };
    hr_buf b = HR_BUF_INIT, line = HR_BUF_INIT;
    size_t lines = rnd_below(40);
    int crlf = rnd_below(4) == 0;
    for (size_t i = 0; i < lines; i++) {
        size_t r = rnd_below(20);
        if (r < 3 && line.len) {        /* the line before, again */
        } else if (r < 6 && line.len) { /* the line before with its counter moved on, or another value */
            for (size_t k = line.len; k-- > 0;)
                if (line.data[k] >= '0' && line.data[k] < '9') {
                    line.data[k] = r == 5 ? (char)('0' + rnd_below(10)) : (char)(line.data[k] + 1);
                    break;
                }
        } else if (r == 6) {
            line.len = 0;
        } else if (r == 7 && marker_forms) {
            line.len = 0;
            appendf(&line, "[hr: the line above repeats %zu more times]", 1 + rnd_below(3));
        } else if (r == 8 && marker_forms) {
            line.len = 0;
            appendf(&line, "[hr: %zu lines of the form below, {} being %s in turn]", rnd_below(2) + 2,
                    rnd_below(2) ? "3 to 4" : "1 to 2");
        } else if (r == 9) {
            line.len = 0;
            appendf(&line, "[hr: %zu lines omitted]", rnd_below(100));
        } else if (r == 10) {
            line.len = 0;
            for (size_t k = rnd_below(12); k > 0; k--) {
                char c = (char)(1 + rnd_below(255));
                append(&line, &c, 1);
            }
            for (size_t k = 0; k < line.len; k++)
                if (line.data[k] == '\n') line.data[k] = ' ';
        } else {
            line.len = 0;
            if (rnd_below(3) == 0) append_str(&line, "a long line, so that listing its values pays: ");
            for (size_t k = 1 + rnd_below(5); k > 0; k--) {
                append_str(&line, words[rnd_below(sizeof words / sizeof *words)]);
                if (rnd_below(2)) appendf(&line, "%zu", rnd_below(rnd_below(2) ? 12 : 100000));
            }
        }
        append(&b, line.data ? line.data : "", line.len);
        if (rnd_below(6) == 0) append(&b, rnd_below(2) ? " " : "\t ", rnd_below(2) ? 1 : 2);
        if (i + 1 < lines || rnd_below(2)) append_str(&b, crlf || rnd_below(30) == 0 ? "\r\n" : "\n");
    }
    hr_buf_free(&line);
    return b;
}

/* Random grep-like lines: a few paths, match and context lines, "--",
 * markers, "\r\n", an odd line now and then. */
static hr_buf random_search(void)
{
    static const char *const paths[] = {"lib/a.c", "lib/b-2.c", "src/x/y.py", "README.md", "t/1-2-3.t", "a.b"};
    static const char *const texts[] = {"",        " static int x;", "a:b:c", "-1-",
                                        "  12: y", "x--y",           "\ttab", "\xe2\x82\xac"};
    hr_buf b = HR_BUF_INIT;
    size_t lines = rnd_below(30);
    for (size_t i = 0; i < lines; i++) {
        size_t r = rnd_below(30);
        if (r == 0) append_str(&b, "--");
        else if (r == 1) appendf(&b, "[hr: %zu matches omitted]", rnd_below(9));
        else if (r == 2) append_str(&b, "plain text");
        else
            appendf(&b, "%s%c%zu%c%s", paths[rnd_below(rnd_below(2) ? 2 : 6)], r % 3 ? ':' : '-', rnd_below(999),
                    r % 3 ? ':' : '-', texts[rnd_below(8)]);
        if (i + 1 < lines || rnd_below(2)) append_str(&b, rnd_below(10) == 0 ? "\r\n" : "\n");
    }
    return b;
}

/* ---- tests ------------------------------------------------------------------------------------ */

/* Blanks are cut only in a log: in code (a string literal's trailing blanks
 * and blank lines are its value) every byte stays. */
static void test_log_blanks_only_in_logs(void)
{
    const char *code = "def greet():\n"
                       "    template = \"\"\"\n"
                       "Dear {name},   \n"
                       "\n"
                       "\n"
                       "Thanks.   \n"
                       "\"\"\"\n"
                       "    return template\n"
                       "\n"
                       "\n"
                       "\n"
                       "print(greet())\n";
    hr_buf e = run(hr__lossless_log, code, strlen(code));
    CHECK(e.len == strlen(code) && !memcmp(e.data, code, e.len));
    hr_buf_free(&e);
    CHECK_OUT(hr__lossless_log,
              "2025-06-24 14:36:25 INFO started   \n\n\n\n2025-06-24 14:36:26 INFO listening on :8080\t\n",
              "2025-06-24 14:36:25 INFO started\n\n2025-06-24 14:36:26 INFO listening on :8080\n");
}

static void test_blank(void)
{
    CHECK_OUT(hr__lossless_blank, "", "");
    CHECK_OUT(hr__lossless_blank, "a  \nb\t\n", "a\nb\n");
    CHECK_OUT(hr__lossless_blank, "a\n\n\n\nb", "a\n\nb");
    CHECK_OUT(hr__lossless_blank, "\n\n\na\n", "\na\n");
    CHECK_OUT(hr__lossless_blank, "a \t\r\n \r\n\r\n\r\nb\t", "a\r\n\r\nb");
    CHECK_OUT(hr__lossless_blank, "a \r \n", "a\r\n");
    CHECK_OUT(hr__lossless_blank, "a\n  ", "a\n");
    CHECK_OUT(hr__lossless_blank, "x \r", "x \r");
    CHECK_OUT(hr__lossless_blank, "a\n\n  \n\t\nb\n\n", "a\n\nb\n\n");
    CHECK_OUT(hr__lossless_blank, "  keep  leading\n", "  keep  leading\n");
}

static void test_log_repeats(void)
{
    /* three short lines: the marker would be longer */
    CHECK_OUT(hr__lossless_log, "ok\nok\nok\n", "ok\nok\nok\n");
    /* a log's trailing blanks go, and the line joins the run */
    CHECK_OUT(hr__lossless_log,
              "WARN connection refused, retrying in 5s\nWARN connection refused, retrying in 5s\n"
              "WARN connection refused, retrying in 5s\nWARN connection refused, retrying in 5s  \nERROR gave up\n",
              "WARN connection refused, retrying in 5s\n[hr: the line above repeats 3 more times]\nERROR gave up\n");
    /* other output keeps them, and the line with them is another line */
    CHECK_OUT(hr__lossless_log,
              "start\nconnection refused, retrying in 5s\nconnection refused, retrying in 5s\n"
              "connection refused, retrying in 5s\nconnection refused, retrying in 5s  \ngave up\n",
              "start\nconnection refused, retrying in 5s\n[hr: the line above repeats 2 more times]\n"
              "connection refused, retrying in 5s  \ngave up\n");
    /* the run ends the text without "\n": so does the marker */
    CHECK_OUT(hr__lossless_log,
              "connection refused, retrying in 5s\nconnection refused, retrying in 5s\n"
              "connection refused, retrying in 5s",
              "connection refused, retrying in 5s\n[hr: the line above repeats 2 more times]");
    CHECK_OUT(hr__lossless_log,
              "connection refused, retrying\r\nconnection refused, retrying\r\nconnection refused, retrying\r\n",
              "connection refused, retrying\r\n[hr: the line above repeats 2 more times]\r\n");
    /* "\n" and "\r\n" lines are not equal */
    CHECK_OUT(hr__lossless_log,
              "connection refused, retrying\r\nconnection refused, retrying\nconnection refused, retrying\r\n",
              "connection refused, retrying\r\nconnection refused, retrying\nconnection refused, retrying\r\n");
    /* a marker already there is copied and breaks the run */
    CHECK_OUT(hr__lossless_log,
              "connection refused, retrying\nconnection refused, retrying\n[hr: 4 lines omitted]\n"
              "connection refused, retrying\n",
              "connection refused, retrying\nconnection refused, retrying\n[hr: 4 lines omitted]\n"
              "connection refused, retrying\n");
}

static void test_log_templates(void)
{
    CHECK_OUT(hr__lossless_log,
              "Downloading shard 7 of 12 from mirror\nDownloading shard 8 of 12 from mirror\n"
              "Downloading shard 9 of 12 from mirror\nDownloading shard 10 of 12 from mirror\n"
              "Downloading shard 11 of 12 from mirror\n",
              "[hr: 5 lines of the form below, {} being 7 to 11 in turn]\nDownloading shard {} of 12 from mirror\n");
    /* not counting by one: the values listed */
    CHECK_OUT(hr__lossless_log,
              "2025-06-24 14:36:25 worker-3 heartbeat ok, queue empty\n"
              "2025-06-24 14:36:30 worker-3 heartbeat ok, queue empty\n"
              "2025-06-24 14:36:35 worker-3 heartbeat ok, queue empty\n"
              "2025-06-24 14:36:40 worker-3 heartbeat ok, queue empty\n",
              "[hr: 4 lines of the form below, {} being in turn: 25, 30, 35, 40]\n"
              "2025-06-24 14:36:{} worker-3 heartbeat ok, queue empty\n");
    /* leading zeros are listed; the field is what changes, "/50" stays */
    CHECK_OUT(hr__lossless_log,
              "Downloading chunk 01/50 from the mirror\nDownloading chunk 02/50 from the mirror\n"
              "Downloading chunk 03/50 from the mirror\nDownloading chunk 04/50 from the mirror",
              "[hr: 4 lines of the form below, {} being in turn: 01, 02, 03, 04]\n"
              "Downloading chunk {}/50 from the mirror");
    /* the last line without "\n", "\r\n" lines */
    CHECK_OUT(hr__lossless_log,
              "step 1 of the migration done\r\nstep 2 of the migration done\r\nstep 3 of the migration done\r\n"
              "step 4 of the migration done",
              "[hr: 4 lines of the form below, {} being 1 to 4 in turn]\r\nstep {} of the migration done");
    /* two fields differ: no template */
    CHECK_OUT(hr__lossless_log,
              "step 1 of 4 done in the migration\nstep 2 of 5 done in the migration\n"
              "step 3 of 6 done in the migration\nstep 4 of 7 done in the migration\n",
              "step 1 of 4 done in the migration\nstep 2 of 5 done in the migration\n"
              "step 3 of 6 done in the migration\nstep 4 of 7 done in the migration\n");
    /* a field without a digit does not count */
    CHECK_OUT(hr__lossless_log,
              "status of the job: alpha pending\nstatus of the job: beta pending\n"
              "status of the job: gamma pending\nstatus of the job: delta pending\n",
              "status of the job: alpha pending\nstatus of the job: beta pending\n"
              "status of the job: gamma pending\nstatus of the job: delta pending\n");
    /* lines with "{}" or "[hr:" are left */
    CHECK_OUT(hr__lossless_log,
              "format {} with item 1 of the list\nformat {} with item 2 of the list\n"
              "format {} with item 3 of the list\nformat {} with item 4 of the list\n",
              "format {} with item 1 of the list\nformat {} with item 2 of the list\n"
              "format {} with item 3 of the list\nformat {} with item 4 of the list\n");
    /* an equal run inside is preferred; what is left of the template run is
     * too short */
    CHECK_OUT(hr__lossless_log,
              "processed batch 1 of the nightly import\nprocessed batch 2 of the nightly import\n"
              "processed batch 3 of the nightly import\nprocessed batch 3 of the nightly import\n"
              "processed batch 3 of the nightly import\nprocessed batch 4 of the nightly import\n",
              "processed batch 1 of the nightly import\nprocessed batch 2 of the nightly import\n"
              "processed batch 3 of the nightly import\n[hr: the line above repeats 2 more times]\n"
              "processed batch 4 of the nightly import\n");
    /* values that are whole lines: a list does not pay, a counting piece does */
    hr_buf x = HR_BUF_INIT;
    append_str(&x, "7\n");
    for (int i = 1; i <= 40; i++) appendf(&x, "%d\n", i);
    hr_buf e = run(hr__lossless_log, x.data, x.len);
    CHECK_EQ_S(data_of(&e), "7\n[hr: 40 lines of the form below, {} being 1 to 40 in turn]\n{}\n");
    hr_buf_free(&e);
    hr_buf_free(&x);
}

/* A text that holds the encoder's markers already (encoded before) stays
 * as it decodes. */
static void test_log_markers_in_text(void)
{
    const char *x = "[hr: 4 lines of the form below, {} being 1 to 4 in turn]\n"
                    "item {} of the work queue\nitem {} of the work queue\nitem {} of the work queue\n"
                    "item {} of the work queue\n"
                    "retry 1 of the queue\nretry 2 of the queue\nretry 3 of the queue\nretry 4 of the queue\n"
                    "[hr: the line above repeats 2 more times]\n";
    hr_buf e = run(hr__lossless_log, x, strlen(x));
    hr_buf d = decode_log(data_of(&e), e.len), want = decode_log(x, strlen(x));
    if (!same("decode(log(x)) vs decode(x)", data_of(&d), d.len, data_of(&want), want.len)) unit_failed_checks++;
    CHECK_EQ_S(data_of(&e), "[hr: 4 lines of the form below, {} being 1 to 4 in turn]\n"
                            "item {} of the work queue\nitem {} of the work queue\n"
                            "[hr: the line above repeats 2 more times]\n"
                            "[hr: 4 lines of the form below, {} being 1 to 4 in turn]\nretry {} of the queue\n"
                            "[hr: the line above repeats 2 more times]\n");
    hr_buf_free(&e);
    hr_buf_free(&d);
    hr_buf_free(&want);
}

static void test_search_cases(void)
{
    CHECK_OUT(hr__lossless_search, "", "");
    CHECK_OUT(hr__lossless_search, "lib/b.c:1:x\nlib/b.c:2:y\n", "lib/b.c\n  1: x\n  2: y\n");
    /* as long grouped as not: left */
    CHECK_OUT(hr__lossless_search, "a/b.c:1:x\na/b.c:2:y\n", "a/b.c:1:x\na/b.c:2:y\n");
    CHECK_OUT(hr__lossless_search, "src/x.c-3-foo\nsrc/x.c:4:bar\nsrc/x.c-5-baz\n--\nsrc/y.c:9:qux",
              "src/x.c\n  3- foo\n  4: bar\n  5- baz\n--\nsrc/y.c\n  9: qux");
    CHECK_OUT(hr__lossless_search, "lib/a.c:10:one\r\nlib/a.c:11:\r\n[hr: 3 matches omitted]\r\nlib/a.c:20:two\r\n",
              "lib/a.c\n  10: one\r\n  11: \r\n[hr: 3 matches omitted]\r\n  20: two\r\n");
    /* a line that is not search output: left */
    CHECK_OUT(hr__lossless_search, "a/b.c:1:x\na/b.c:2:y\nBinary file a/b.o matches\n",
              "a/b.c:1:x\na/b.c:2:y\nBinary file a/b.o matches\n");
    /* no path repeats: grouping would be longer */
    CHECK_OUT(hr__lossless_search, "a/b.c:1:x\na/c.c:2:y\n", "a/b.c:1:x\na/c.c:2:y\n");
    /* one-letter paths save nothing */
    CHECK_OUT(hr__lossless_search, "a:1:x\na:2:y\n", "a:1:x\na:2:y\n");
}

/* Appends, never touching what out holds. */
static void test_appends(void)
{
    codec_fn fns[] = {hr__lossless_blank, hr__lossless_log, hr__lossless_search};
    const char *in = "a/b.c:1:x \na/b.c:2:y\n";
    for (size_t k = 0; k < 3; k++) {
        hr_buf out = HR_BUF_INIT, alone = run(fns[k], in, strlen(in));
        append_str(&out, "held");
        CHECK_EQ_U(fns[k](in, strlen(in), &out), HR_OK);
        CHECK(out.len == 4 + alone.len && !memcmp(out.data, "held", 4) &&
              !memcmp(out.data + 4, data_of(&alone), alone.len));
        hr_buf_free(&out);
        hr_buf_free(&alone);
    }
}

static void test_log_fixtures(void)
{
    for (const char *const *f = log_fixtures; *f; f++) {
        char path[256];
        snprintf(path, sizeof path, FIXTURES "%s", *f);
        hr_buf x = unit_read_file(path);
        for (int k = 0; k < N_VARIANTS; k++) {
            hr_buf v = variant(data_of(&x), x.len, k);
            char name[160];
            snprintf(name, sizeof name, "%s (variant %d)", *f, k);
            log_round_trip(name, data_of(&v), v.len, 1);
            hr_buf_free(&v);
        }
        hr_buf_free(&x);
    }
}

/* Real runs: date(1) in a loop, seq(1) */
static void test_log_real_runs(void)
{
    hr_buf x = unit_read_file(FIXTURES "date-heartbeat.txt"), e = run(hr__lossless_log, data_of(&x), x.len);
    /* the milliseconds listed, a run for each second */
    CHECK(!strncmp(data_of(&e), "[hr: 18 lines of the form below, {} being in turn: 580, 603, ", 61));
    CHECK(strstr(data_of(&e), "]\n2026-12-01T17:10:21.{} INFO worker-1 heartbeat ok, 0 jobs queued\n") != NULL);
    CHECK(e.len * 2 < x.len);
    hr_buf_free(&x);
    hr_buf_free(&e);
    x = unit_read_file(FIXTURES "seq-chunks.txt"), e = run(hr__lossless_log, data_of(&x), x.len);
    CHECK_EQ_S(data_of(&e), "[hr: 50 lines of the form below, {} being 1 to 50 in turn]\n"
                            "Downloading chunk {}/50 of model.safetensors\n");
    hr_buf_free(&x);
    hr_buf_free(&e);
}

static void test_log_tool_like(void)
{
    hr_buf x = tool_like_log();
    for (int k = 0; k < N_VARIANTS; k++) {
        hr_buf v = variant(x.data, x.len, k);
        log_round_trip("tool-like log", v.data, v.len, 1);
        hr_buf_free(&v);
    }
    hr_buf e = run(hr__lossless_log, x.data, x.len);
    /* the runs above fold, to under two thirds */
    CHECK(e.len * 3 < x.len * 2);
    CHECK(strstr(data_of(&e), "[hr: 50 lines of the form below, {} being 1 to 50 in turn]\nDownloading chunk {}/50\n"));
    CHECK(strstr(data_of(&e), "\nDownloading shard {} of 12 from https://mirror.example.org/models/base\n"));
    /* a field is widened over letters and digits only: the counter in a
     * test's name counts, and of a timestamp only what changes is listed */
    CHECK(strstr(data_of(&e), "[hr: 30 lines of the form below, {} being 1 to 30 in turn]\n"
                              "tests/test_api.py::test_request_{} PASSED\n"));
    CHECK(strstr(data_of(&e), ", 01.037Z, 02.074Z, "));
    CHECK(strstr(data_of(&e), "]\n2025-06-24T14:10:{} INFO worker-3 heartbeat ok, queue empty\n"));
    CHECK(strstr(data_of(&e), "[hr: the line above repeats 5 more times]\n"));
    hr_buf_free(&e);
    hr_buf_free(&x);
}

/* n random logs (with the encoder's own markers in them when markers) decode
 * back; a text that holds markers may be read as encoded, so only the
 * round trip of what the encoder writes is asked of it then. */
static void fuzz_logs(int n, int markers, const char *label)
{
    for (int i = 0; i < n; i++) {
        hr_buf x = random_log(markers);
        char name[64];
        snprintf(name, sizeof name, "%s %d", label, i);
        log_round_trip(name, data_of(&x), x.len, !markers);
        hr_buf_free(&x);
        if (unit_failed_checks > 20) break;
    }
}

static void test_log_fuzz(void)
{
    fuzz_logs(30000, 0, "random log");
}

static void test_log_fuzz_markers(void)
{
    fuzz_logs(10000, 1, "random log with markers");
}

static void test_search_fixtures(void)
{
    for (const char *const *f = search_fixtures; *f; f++) {
        char path[256];
        snprintf(path, sizeof path, FIXTURES "%s", *f);
        hr_buf x = unit_read_file(path);
        for (int k = 0; k < N_VARIANTS; k++) {
            if (k == TRAILING_BLANKS) continue; /* blanks are part of a match's text: nothing new */
            hr_buf v = variant(data_of(&x), x.len, k);
            char name[160];
            snprintf(name, sizeof name, "%s (variant %d)", *f, k);
            search_round_trip(name, data_of(&v), v.len, 1);
            hr_buf_free(&v);
        }
        hr_buf_free(&x);
    }
    /* not search output: left as it is */
    hr_buf x = unit_read_file(FIXTURES "dpkg-log.txt"), e = run(hr__lossless_search, data_of(&x), x.len);
    CHECK(e.len == x.len && !memcmp(data_of(&e), data_of(&x), x.len));
    hr_buf_free(&x);
    hr_buf_free(&e);
}

static void test_search_fuzz(void)
{
    for (int i = 0; i < 30000; i++) {
        hr_buf x = random_search();
        char name[64];
        snprintf(name, sizeof name, "random search %d", i);
        search_round_trip(name, data_of(&x), x.len, 0);
        hr_buf_free(&x);
        if (unit_failed_checks > 20) break;
    }
}

/* ---- time on 1 MB (printed, not checked) -------------------------------------------------------- */

static double seconds(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}

/* The fastest of a few runs of f on x, in ms; *out_len: the output's size. */
static double time_ms(codec_fn f, const hr_buf *x, size_t *out_len)
{
    double best = 1e9;
    for (int k = 0; k < 5; k++) {
        hr_buf out = HR_BUF_INIT;
        double t0 = seconds();
        f(x->data, x->len, &out);
        double t = (seconds() - t0) * 1e3;
        if (t < best) best = t;
        *out_len = out.len;
        hr_buf_free(&out);
    }
    return best;
}

static hr_buf megabyte_of(const char *const *names, int tool_like)
{
    hr_buf x = HR_BUF_INIT;
    while (x.len < (1u << 20)) {
        for (const char *const *f = names; *f; f++) {
            char path[256];
            snprintf(path, sizeof path, FIXTURES "%s", *f);
            hr_buf part = unit_read_file(path);
            append(&x, data_of(&part), part.len);
            hr_buf_free(&part);
        }
        if (tool_like) {
            hr_buf part = tool_like_log();
            append(&x, part.data, part.len);
            hr_buf_free(&part);
        }
    }
    return x;
}

static void test_time_1mb(void)
{
    hr_buf logs = megabyte_of(log_fixtures, 1), greps = megabyte_of(search_fixtures, 0);
    size_t n_blank, n_log, n_search;
    double t_blank = time_ms(hr__lossless_blank, &logs, &n_blank);
    double t_log = time_ms(hr__lossless_log, &logs, &n_log);
    double t_search = time_ms(hr__lossless_search, &greps, &n_search);
    printf("time on 1 MB: blank %.2f ms (%zu -> %zu bytes), log %.2f ms (-> %zu), search %.2f ms (%zu -> %zu); "
           "%zu inputs decoded back (logs: %zu with a repeat, %zu a counting template, %zu a listing one)\n",
           t_blank, logs.len, n_blank, t_log, n_log, t_search, greps.len, n_search, round_trips, with_repeat,
           with_range, with_list);
    hr_buf_free(&logs);
    hr_buf_free(&greps);
}

int main(void)
{
    RUN(test_blank);
    RUN(test_log_blanks_only_in_logs);
    RUN(test_log_repeats);
    RUN(test_log_templates);
    RUN(test_log_markers_in_text);
    RUN(test_search_cases);
    RUN(test_appends);
    RUN(test_log_fixtures);
    RUN(test_log_real_runs);
    RUN(test_log_tool_like);
    RUN(test_log_fuzz);
    RUN(test_log_fuzz_markers);
    RUN(test_search_fixtures);
    RUN(test_search_fuzz);
    RUN(test_time_1mb);
    return unit_any_failed;
}
