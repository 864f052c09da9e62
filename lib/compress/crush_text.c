/* Plain text: prose is cut into sentences (wrapped lines joined), line-shaped
 * text (code, lists, tables) into lines. What holds numbers, ids, hashes, paths, URLs, flags,
 * error codes, error words or the task's identifiers stays; so do the first
 * and the last piece; the rest is chosen by the scorer within the budget.
 * A scorer with a model (kompress) cuts prose word by word instead.
 *
 * In prose a number alone does not keep its whole sentence: a report or a
 * benchmark write-up has one in nearly every sentence, and keeping them all
 * whole would save nothing. Such a sentence, unless the budget keeps it
 * whole, is cut to its clauses that hold a number, which say the figures
 * and what they measure, and keeps its ending; an ellipsis stands where
 * clauses between them went, and one marker at the end of the text says how
 * many clauses went. */
#include "compress/compress_internal.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define MUST_FEATURES                                                                                                  \
    (HR_F_SEVERITY | HR_F_UUID | HR_F_HASH | HR_F_URL | HR_F_PATH | HR_F_FLAG | HR_F_ERRCODE | HR_F_NUMBER)

/* What stands where clauses were left out of a sentence. */
#define ELLIPSIS " \xE2\x80\xA6 " /* " … " */

/* ---- sentences cut to their numbers --------------------------------------------- */

static int is_space(char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

/* Where the ending of sentence s[0..n) starts: the whitespace after it and
 * the . ! ? and closing quotes or brackets before that, which a cut sentence
 * ends with too. */
static size_t ending_start(const char *s, size_t n)
{
    while (n > 0 && is_space(s[n - 1])) n--;
    while (n > 0 && s[n - 1] && strchr(".!?\"')]", s[n - 1])) n--;
    return n;
}

/* The length of the clause separator at s[i..n): ", ", "; ", ": " or
 * " — "; 0 when there is none. */
static size_t separator_at(const char *s, size_t n, size_t i)
{
    if (i + 2 <= n && (s[i] == ',' || s[i] == ';' || s[i] == ':') && s[i + 1] == ' ') return 2;
    if (i + 5 <= n && !memcmp(s + i, " \xE2\x80\x94 ", 5)) return 5;
    return 0;
}

/* The end of the clause that starts at s[i] (in s[0..n)): the next separator
 * outside brackets, so that a cut never leaves one open; or n. */
static size_t clause_end(const char *s, size_t n, size_t i)
{
    size_t depth = 0;
    for (; i < n; i++) {
        if (s[i] == '(' || s[i] == '[') depth++;
        else if ((s[i] == ')' || s[i] == ']') && depth) depth--;
        else if (!depth && separator_at(s, n, i)) return i;
    }
    return n;
}

/* A sentence cut to its clauses that hold a number: where its text lies in
 * the plan's buffer, and how many clauses it lost. len 0: not cut. */
struct cut {
    size_t off, len, dropped;
};

/* Appends sentence s[0..n) cut to its clauses that hold a number, in their
 * order, and its own ending; *kept and *dropped count the clauses.
 * Neighbouring kept clauses keep the separator between them; where clauses
 * were left out before or between kept ones stands an ellipsis. */
static hr_status append_number_clauses(const char *s, size_t n, hr_buf *out, size_t *kept, size_t *dropped)
{
    size_t body = ending_start(s, n), start = 0, sep = 0; /* the separator before the clause */
    int gap = 0;
    *kept = *dropped = 0;
    for (;;) {
        size_t end = clause_end(s, body, start);
        if (hr__features(s + start, end - start) & HR_F_NUMBER) {
            if (*kept &&
                (gap ? hr_buf_append(out, ELLIPSIS, sizeof ELLIPSIS - 1) : hr_buf_append(out, s + sep, start - sep)))
                return HR_ENOMEM;
            if (!*kept && gap && hr_buf_append(out, &ELLIPSIS[1], sizeof ELLIPSIS - 2)) return HR_ENOMEM;
            if (hr_buf_append(out, s + start, end - start)) return HR_ENOMEM;
            ++*kept;
            gap = 0;
        } else {
            ++*dropped;
            gap = 1;
        }
        if (end == body) break;
        sep = end;
        start = end + separator_at(s, body, end);
    }
    return hr_buf_append(out, s + body, n - body);
}

static int holds_digit(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (s[i] >= '0' && s[i] <= '9') return 1;
    return 0;
}

#define MAX_SENTENCE_WORDS 256
#define MIN_WORDS_TO_CUT 10 /* a shorter sentence is all context */
#define SHORT_UNIT 3        /* "ms", "GB", "rps": a word this short after a number is its unit */

/* The unit a number may have after it ("2.3 seconds", "45 ms", "12
 * requests"): a word of at most SHORT_UNIT letters, or one of the units
 * counted in tool output and reports, plural or not, a comma after it
 * aside. */
static int is_unit_word(const char *s, size_t n)
{
    static const char *const units[] = {
        "second",   "minute",   "hour",     "day",      "week",    "month",  "year",    "percent", "byte",
        "kilobyte", "megabyte", "gigabyte", "terabyte", "request", "call",   "query",   "queries", "user",
        "node",     "host",     "pod",      "file",     "line",    "item",   "row",     "record",  "token",
        "time",     "error",    "failure",  "test",     "point",   "core",   "thread",  "worker",  "connection",
        "page",     "ticket",   "commit",   "author",   "object",  "volume", "replica", "shard",   "dollar",
        "euro",     "engineer", "message",  "event",    "step",    NULL};
    while (n && (s[n - 1] == ',' || s[n - 1] == ';')) n--;
    for (size_t i = 0; i < n; i++)
        if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= 'A' && s[i] <= 'Z') || s[i] == '%')) return 0;
    if (!n) return 0;
    if (n <= SHORT_UNIT) return !hr__is_stopword(s, n);
    for (const char *const *u = units; *u; u++) {
        size_t k = strlen(*u);
        if ((n == k || (n == k + 1 && (s[k] | 0x20) == 's')) && !strncasecmp(s, *u, k)) return 1;
    }
    return 0;
}

/* Appends sentence s[0..n) cut to its words that hold a number, each with
 * the word before it (what the number counts or measures: "topic 7",
 * "grew 12%"; two words before a stop word: "minimum of 10") and its unit
 * after it ("2.3 seconds"): runs of such words as they were written, an
 * ellipsis wherever words went, and the sentence's own ending unless its
 * last words went. For a sentence whose every clause holds a number. *dropped
 * counts the words left out; 0 (and nothing appended) for a sentence too
 * short or too long to cut so. */
static hr_status append_number_words(const char *s, size_t n, hr_buf *out, size_t *dropped)
{
    size_t body = ending_start(s, n), start[MAX_SENTENCE_WORDS], end[MAX_SENTENCE_WORDS], words = 0;
    unsigned char keep[MAX_SENTENCE_WORDS] = {0};
    int any = 0;
    *dropped = 0;
    for (size_t i = 0; i < body; i++) /* a cut would leave a bracket or a quote open */
        if (strchr("()[]{}\"", s[i])) return HR_OK;
    for (size_t i = 0; i < body; words++) {
        while (i < body && is_space(s[i])) i++;
        if (i == body) break;
        if (words == MAX_SENTENCE_WORDS) return HR_OK;
        start[words] = i;
        while (i < body && !is_space(s[i])) i++;
        end[words] = i;
    }
    if (words < MIN_WORDS_TO_CUT) return HR_OK;
    for (size_t k = 0; k < words; k++) {
        if (!holds_digit(s + start[k], end[k] - start[k])) continue;
        keep[k] = 1;
        /* the word before, and the one before a stop word: "minimum of 10" */
        if (k) keep[k - 1] = 1;
        if (k >= 2 && hr__is_stopword(s + start[k - 1], end[k - 1] - start[k - 1])) keep[k - 2] = 1;
    }
    for (size_t k = words - 1; k > 0; k--)
        if (keep[k - 1] && holds_digit(s + start[k - 1], end[k - 1] - start[k - 1]) &&
            is_unit_word(s + start[k], end[k] - start[k]))
            keep[k] = 1;
    /* an ellipsis wherever words went: before, between and after the runs */
    for (size_t k = 0; k < words;) {
        if (!keep[k]) {
            ++*dropped;
            k++;
            continue;
        }
        size_t j = k;
        while (j + 1 < words && keep[j + 1]) j++;
        if (k && hr_buf_append(out, any ? ELLIPSIS : &ELLIPSIS[1], any ? sizeof ELLIPSIS - 1 : sizeof ELLIPSIS - 2))
            return HR_ENOMEM;
        if (hr_buf_append(out, s + start[k], end[j] - start[k])) return HR_ENOMEM;
        any = 1;
        k = j + 1;
    }
    if (keep[words - 1]) return hr_buf_append(out, s + body, n - body);
    size_t blank = n; /* the cut end stands for the ending too; the whitespace after stays */
    while (blank > body && is_space(s[blank - 1])) blank--;
    if (hr_buf_append(out, ELLIPSIS, sizeof ELLIPSIS - 2)) return HR_ENOMEM;
    return hr_buf_append(out, s + blank, n - blank);
}

/* Plans the cut of each sentence held only for its numbers into cut[i] and
 * *cuts: to its clauses that hold a number, or, when each clause holds
 * one, to its words that do; a sentence that would lose nothing that way,
 * or too little to pay for it, becomes HR_MUST instead. *cost: the tokens
 * of all the cut forms and their marker. */
static hr_status plan_cuts(const char *text, const struct hr_seg *segs, size_t n, const unsigned char *number_only,
                           unsigned char *keep, struct cut *cut, hr_buf *cuts, size_t *cost)
{
    *cost = 0;
    for (size_t i = 0; i < n; i++) {
        cut[i] = (struct cut){0, 0, 0};
        if (!number_only[i]) continue;
        size_t from = cuts->len, kept = 0, dropped = 0;
        const char *s = text + segs[i].off;
        if (append_number_clauses(s, segs[i].len, cuts, &kept, &dropped)) return HR_ENOMEM;
        if (kept && !dropped) { /* every clause holds a number: cut to the words that do */
            cuts->len = from;
            if (append_number_words(s, segs[i].len, cuts, &dropped)) return HR_ENOMEM;
            kept = dropped != 0;
            if ((cuts->len - from) * 10 > segs[i].len * 7) dropped = 0; /* saves too little */
        }
        if (!kept || !dropped) {
            cuts->len = from;
            keep[i] = HR_MUST;
            continue;
        }
        cut[i] = (struct cut){from, cuts->len - from, dropped};
        *cost += hr__approx_tokens(cuts->data + from, cuts->len - from);
    }
    static const char marker[] = " [hr: 10 clauses omitted]";
    if (*cost) *cost += hr__approx_tokens(marker, sizeof marker - 1);
    return HR_OK;
}

static int is_cut(const unsigned char *keep, const struct cut *cut, size_t i)
{
    return keep[i] == HR_DROP && cut[i].len;
}

/* Keeps each run of wholly dropped sentences next to a cut one that costs
 * no more than the marker that would replace it; the selection saw the cut
 * sentences as dropped and so counted such runs as longer. */
static void keep_short_runs(const char *text, const struct hr_seg *segs, size_t n, unsigned char *keep,
                            const struct cut *cut)
{
    static const char marker[] = "[hr: 1 sentence omitted] ";
    size_t marker_tokens = hr__approx_tokens(marker, sizeof marker - 1);
    for (size_t i = 0; i < n;) {
        if (keep[i] != HR_DROP || cut[i].len) {
            i++;
            continue;
        }
        size_t j = i, tokens = 0;
        for (; j < n && keep[j] == HR_DROP && !cut[j].len; j++)
            tokens += hr__approx_tokens(text + segs[j].off, segs[j].len);
        if (tokens <= marker_tokens)
            for (size_t k = i; k < j; k++) keep[k] = HR_KEEP;
        i = j;
    }
}

/* Puts "[hr: N clauses omitted]" after the last words of out[from..), before
 * its trailing whitespace: it says the text was cut (so that it is not cut
 * again) where no sentence marker may say so. */
static hr_status append_clause_marker(hr_buf *out, size_t from, size_t clauses)
{
    size_t end = out->len;
    while (end > from && is_space(out->data[end - 1])) end--;
    size_t blank = out->len - end;
    char *tail = malloc(blank ? blank : 1);
    if (!tail) return HR_ENOMEM;
    memcpy(tail, out->data + end, blank);
    out->len = end;
    hr_status st =
        hr_buf_append(out, " ", 1) || hr__marker(out, clauses, "clause", NULL) || hr_buf_append(out, tail, blank)
            ? HR_ENOMEM
            : HR_OK;
    free(tail);
    return st;
}

/* hr__emit_kept, with each cut sentence written in its cut form and, when
 * any was, a clause marker at the end. */
static hr_status emit_with_cuts(hr_buf *out, const char *text, const struct hr_seg *segs, size_t n,
                                const unsigned char *keep, const struct cut *cut, const hr_buf *cuts, const char *noun,
                                int inline_marker)
{
    size_t from = out->len, clauses = 0;
    for (size_t i = 0; i < n;) {
        if (is_cut(keep, cut, i)) {
            if (hr_buf_append(out, cuts->data + cut[i].off, cut[i].len)) return HR_ENOMEM;
            clauses += cut[i++].dropped;
            continue;
        }
        size_t j = i;
        while (j < n && !is_cut(keep, cut, j)) j++;
        hr_status st = hr__emit_kept(out, text, segs + i, j - i, keep + i, noun, inline_marker);
        if (st) return st;
        i = j;
    }
    return clauses ? append_clause_marker(out, from, clauses) : HR_OK;
}

/* ---- the compressor ----------------------------------------------------------------- */

/* keep[i] = HR_MUST for what must stay whole; number_only[i] for a prose
 * sentence held by nothing but its numbers, left to the selection. */
static void mark_must(const char *text, const struct hr_seg *segs, size_t n, const unsigned char *hits, int lines,
                      unsigned char *keep, unsigned char *number_only)
{
    for (size_t i = 0; i < n; i++) {
        unsigned f = hr__features(text + segs[i].off, segs[i].len) & MUST_FEATURES;
        number_only[i] = 0;
        if (i == 0 || i + 1 == n || (hits[i] & (HR_HIT_IDENT | HR_HIT_RARE)) || (f && (lines || f != HR_F_NUMBER)))
            keep[i] = HR_MUST;
        else if (f) number_only[i] = 1;
    }
}

struct text_plan {
    struct hr_segs segs;
    unsigned char *keep, *hits, *number_only;
    float *scores;
    struct cut *cut;
    hr_buf cuts;
};

static void plan_free(struct text_plan *p)
{
    hr__segs_free(&p->segs);
    free(p->keep);
    free(p->hits);
    free(p->number_only);
    free(p->scores);
    free(p->cut);
    hr_buf_free(&p->cuts);
}

static hr_status plan_alloc(struct text_plan *p)
{
    size_t n = p->segs.n ? p->segs.n : 1;
    p->keep = calloc(n, 1);
    p->hits = malloc(n);
    p->number_only = malloc(n);
    p->scores = malloc(n * sizeof *p->scores);
    p->cut = malloc(n * sizeof *p->cut);
    return p->keep && p->hits && p->number_only && p->scores && p->cut ? HR_OK : HR_ENOMEM;
}

hr_status hr__crush_text(struct hr_crush_ctx *cx, const char *text, size_t len, hr_buf *out)
{
    struct text_plan p = {.cuts = HR_BUF_INIT};
    /* only prose is cut inside its lines: other text (code, lists, tables,
     * command output) loses whole lines or nothing */
    int lines = !hr__is_prose(text, len);
    if (!lines && cx->scorer->prose_words) return hr__crush_words(cx, text, len, out);
    hr_status st = lines ? hr__split_lines(text, len, &p.segs) : hr__split_sentences(text, len, &p.segs);
    const struct hr_seg *segs = p.segs.v;
    size_t n = p.segs.n, budget = hr__ctx_budget(cx), cut_cost = 0;
    if (!st) st = plan_alloc(&p);
    if (!st) st = hr__task_hits(cx->query, text, segs, n, p.hits);
    if (!st) mark_must(text, segs, n, p.hits, lines, p.keep, p.number_only);
    if (!st) st = plan_cuts(text, segs, n, p.number_only, p.keep, p.cut, &p.cuts, &cut_cost);
    if (!st) st = cx->scorer->score(cx->scorer, cx->query, text, segs, n, p.scores);
    /* the cut forms are as sure to go out as what must stay: the selection
     * fills what the budget leaves after them */
    if (!st) st = hr__select_by_budget(text, segs, n, p.scores, p.keep, budget > cut_cost ? budget - cut_cost : 0);
    if (!st && cut_cost) keep_short_runs(text, segs, n, p.keep, p.cut);
    if (!st) st = emit_with_cuts(out, text, segs, n, p.keep, p.cut, &p.cuts, lines ? "line" : "sentence", !lines);
    plan_free(&p);
    return st;
}
