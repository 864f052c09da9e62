/* The router and the compressors of one kind each, called directly:
 * combined diffs of merges (git show --cc / -c, git diff during a merge; the
 * fixtures in testdata/diffs) go to the diff compressor and keep every
 * header and changed line; unified diffs are cut as they always were; prose
 * whose every sentence holds a number keeps the numbers, not all the words
 * around them; grep output grouped under its paths is still search output. */
#include "compress/compress_internal.h"
#include "hr.h"
#include "unit.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define DIFFS "testdata/diffs/"

static struct hr_scorer *scorer;
static hr_json *scratch;
static struct hr_query no_task;

/* A context as hr_compress makes one, the unit's tokens estimated. */
static struct hr_crush_ctx ctx_for(const char *text, size_t len)
{
    struct hr_crush_ctx cx = {
        .query = &no_task, .scorer = scorer, .doc = scratch, .tokens = hr__approx_tokens(text, len)};
    return cx;
}

/* ---- lines ---------------------------------------------------------------------- */

struct lines {
    const char **at;
    size_t *len;
    size_t n;
};

static struct lines split(const hr_buf *b)
{
    struct lines l = {NULL, NULL, 0};
    size_t cap = 1;
    for (size_t i = 0; i < b->len; i++) cap += b->data[i] == '\n';
    l.at = malloc(cap * sizeof *l.at);
    l.len = malloc(cap * sizeof *l.len);
    for (size_t i = 0; l.at && l.len && i < b->len;) {
        const char *nl = memchr(b->data + i, '\n', b->len - i);
        size_t end = nl ? (size_t)(nl - b->data) : b->len;
        l.at[l.n] = b->data + i;
        l.len[l.n++] = end - i;
        i = end + 1;
    }
    return l;
}

static void lines_free(struct lines *l)
{
    free(l->at);
    free(l->len);
}

static int same(const struct lines *a, size_t i, const struct lines *b, size_t j)
{
    return a->len[i] == b->len[j] && !memcmp(a->at[i], b->at[j], a->len[i]);
}

static int is_marker_line(const char *s, size_t n)
{
    return n > 5 && !memcmp(s, "[hr: ", 5) && s[n - 1] == ']';
}

/* ---- combined diffs ------------------------------------------------------------------ */

/* must[i]: line i of a diff is a header or a change. A hunk header's '@'s
 * less one are its parents, one column each; a line of the hunk is context
 * only when all those columns are spaces. */
static unsigned char *diff_must_lines(const struct lines *l, size_t *changes)
{
    unsigned char *must = malloc(l->n ? l->n : 1);
    size_t parents = 0;
    *changes = 0;
    for (size_t i = 0; must && i < l->n; i++) {
        const char *s = l->at[i];
        size_t n = l->len[i], k = 0;
        if (n >= 5 && !memcmp(s, "diff ", 5)) parents = 0;
        if (n >= 2 && s[0] == '@' && s[1] == '@') {
            while (k < n && s[k] == '@') k++;
            parents = k - 1;
            must[i] = 1;
            continue;
        }
        int context = parents > 0 && n >= parents;
        for (k = 0; context && k < parents; k++) context = s[k] == ' ';
        must[i] = !context;
        if (parents && n >= parents)
            for (k = 0; k < parents; k++)
                if (s[k] == '+' || s[k] == '-') {
                    (*changes)++;
                    break;
                }
    }
    return must;
}

/* Every header and changed line of in is in out, in order; out holds
 * nothing but lines of in (in order) and markers; out is smaller. */
static void check_diff_cut(const char *name, const hr_buf *in, const hr_buf *out)
{
    struct lines a = split(in), b = split(out);
    size_t changes = 0, lost = 0, j = 0, markers = 0;
    unsigned char *must = diff_must_lines(&a, &changes);
    CHECK(must != NULL && changes > 0);
    for (size_t i = 0; must && i < a.n; i++) {
        if (!must[i]) continue;
        size_t k = j;
        while (k < b.n && !same(&a, i, &b, k)) k++;
        if (k == b.n) {
            if (!lost++) printf("  %s: line %zu lost or out of order: %.*s\n", name, i + 1, (int)a.len[i], a.at[i]);
            continue;
        }
        j = k + 1;
    }
    CHECK_EQ_U(lost, 0);
    size_t i = 0;
    for (j = 0; j < b.n; j++) { /* nothing made up */
        if (is_marker_line(b.at[j], b.len[j])) {
            markers++;
            continue;
        }
        while (i < a.n && !same(&a, i, &b, j)) i++;
        if (i == a.n) printf("  %s: output line %zu is not from the input\n", name, j + 1);
        CHECK(i < a.n);
        i += i < a.n;
    }
    CHECK(markers > 0);
    CHECK(out->len < in->len);
    CHECK(hr__approx_tokens(out->data, out->len) < hr__approx_tokens(in->data, in->len));
    free(must);
    lines_free(&a);
    lines_free(&b);
}

static const char *const combined_fixtures[] = {
    "merge-show-cc.diff", "merge-show-c.diff", "merge-diff-cc.diff", "octopus-show-cc.diff", "merge-40-files.diff",
};

static void test_combined_diffs_route_as_diffs(void)
{
    for (size_t f = 0; f < sizeof combined_fixtures / sizeof combined_fixtures[0]; f++) {
        char path[128];
        snprintf(path, sizeof path, DIFFS "%s", combined_fixtures[f]);
        hr_buf in = unit_read_file(path);
        CHECK(in.len > 0);
        struct hr_crush_ctx cx = ctx_for(in.data, in.len);
        enum hr_kind kind = hr__content_kind(&cx, in.data, in.len);
        if (kind != HR_KIND_DIFF) printf("  %s: routed as %s\n", combined_fixtures[f], hr__kind_name(kind));
        CHECK_EQ_U(kind, HR_KIND_DIFF);
        hr_buf_free(&in);
    }
    /* hunk headers without a file header are no diff */
    const char *log = "@@@ -1 started\nbuild 1 done\n@@@ -2 started\nbuild 2 done\n"
                      "@@ -3 started\nbuild 3 done\n@@ -4 started\nbuild 4 done\n";
    struct hr_crush_ctx cx = ctx_for(log, strlen(log));
    CHECK(hr__content_kind(&cx, log, strlen(log)) != HR_KIND_DIFF);
}

/* grep output with one match to most files, grouped under its paths
 * (lossless_search.c), is still search output: the path lines count, or
 * compressing the output again would cut it as a log */
static void test_grouped_search_routes_as_search(void)
{
    hr_buf in = {0}, grouped = {0};
    for (int j = 0; j < 14; j++) {
        char line[160];
        snprintf(line, sizeof line, "src/net/transport/connection_manager.c:%d:    c->buf = malloc(c->len + %d);\n",
                 100 + 9 * j, j);
        hr_buf_append(&in, line, strlen(line));
    }
    for (int i = 0; i < 26; i++) {
        char line[80];
        snprintf(line, sizeof line, "lib/m%d.c:%d:    p = malloc(n);\n", i, 10 + i);
        hr_buf_append(&in, line, strlen(line));
    }
    struct hr_crush_ctx cx = ctx_for(in.data, in.len);
    CHECK_EQ_U(hr__content_kind(&cx, in.data, in.len), HR_KIND_SEARCH);
    CHECK(!hr__lossless_search(in.data, in.len, &grouped) && grouped.len && grouped.len < in.len);
    cx = ctx_for(grouped.data, grouped.len);
    CHECK_EQ_U(hr__content_kind(&cx, grouped.data, grouped.len), HR_KIND_SEARCH);
    hr_buf_free(&in);
    hr_buf_free(&grouped);
}

static void test_combined_diffs_keep_changes(void)
{
    for (size_t f = 0; f < sizeof combined_fixtures / sizeof combined_fixtures[0]; f++) {
        char path[128];
        snprintf(path, sizeof path, DIFFS "%s", combined_fixtures[f]);
        hr_buf in = unit_read_file(path), out = HR_BUF_INIT;
        struct hr_crush_ctx cx = ctx_for(in.data, in.len);
        CHECK_EQ_U(hr__crush_diff(&cx, in.data, in.len, &out), HR_OK);
        check_diff_cut(combined_fixtures[f], &in, &out);
        hr_buf_free(&in);
        hr_buf_free(&out);
    }
}

/* Three parents: "+++" / "---" in the columns are changes, and a context
 * line is three spaces wide. */
static void test_octopus_columns(void)
{
    const char *in = "diff --cc a.txt\n"
                     "index 1,2,3..4\n"
                     "--- a/a.txt\n"
                     "+++ b/a.txt\n"
                     "@@@@ -1,14 -1,14 -1,14 +1,15 @@@@\n"
                     "   one\n   two\n   three\n   four\n   five\n   six\n   seven\n"
                     " - left only\n"
                     "  +from two parents\n"
                     "+++new everywhere\n"
                     "   eight\n   nine\n   ten\n   eleven\n   twelve\n   thirteen\n";
    const char *want = "diff --cc a.txt\n"
                       "index 1,2,3..4\n"
                       "--- a/a.txt\n"
                       "+++ b/a.txt\n"
                       "@@@@ -1,14 -1,14 -1,14 +1,15 @@@@\n"
                       "[hr: 7 context lines omitted]\n"
                       " - left only\n"
                       "  +from two parents\n"
                       "+++new everywhere\n"
                       "[hr: 6 context lines omitted]\n";
    hr_buf out = HR_BUF_INIT;
    struct hr_crush_ctx cx = ctx_for(in, strlen(in));
    CHECK_EQ_U(hr__crush_diff(&cx, in, strlen(in), &out), HR_OK);
    CHECK_EQ_S(out.data, want);
    hr_buf_free(&out);
}

/* A unified diff comes out as it always did: context runs longer than a
 * marker become one, short ones and everything else stay. */
static void test_unified_diff_unchanged(void)
{
    const char *in = "diff --git a/lib/pool.c b/lib/pool.c\n"
                     "index 3f2a1c0..9be41d7 100644\n"
                     "--- a/lib/pool.c\n"
                     "+++ b/lib/pool.c\n"
                     "@@ -10,15 +10,16 @@ struct pool {\n"
                     "     size_t used;\n"
                     "     size_t cap;\n"
                     "     void **items;\n"
                     "     int (*cmp)(const void *, const void *);\n"
                     "     const char *name;\n"
                     " };\n"
                     "-#define POOL_MIN 16\n"
                     "+#define POOL_MIN 64\n"
                     "+#define POOL_MAX 4096\n"
                     " \n"
                     " static int grow(struct pool *p)\n"
                     " {\n"
                     "     size_t cap = p->cap ? p->cap * 2 : POOL_MIN;\n"
                     "     void **items = realloc(p->items, cap * sizeof *items);\n"
                     "     if (!items) return -1;\n"
                     "     p->items = items;\n"
                     "     p->cap = cap;\n"
                     "diff --git a/README b/README\n"
                     "--- a/README\n"
                     "+++ b/README\n"
                     "@@ -1,3 +1,3 @@\n"
                     " pool\n"
                     "-A pool of 16.\n"
                     "+A pool of 64.\n"
                     " end\n";
    const char *want = "diff --git a/lib/pool.c b/lib/pool.c\n"
                       "index 3f2a1c0..9be41d7 100644\n"
                       "--- a/lib/pool.c\n"
                       "+++ b/lib/pool.c\n"
                       "@@ -10,15 +10,16 @@ struct pool {\n"
                       "[hr: 6 context lines omitted]\n"
                       "-#define POOL_MIN 16\n"
                       "+#define POOL_MIN 64\n"
                       "+#define POOL_MAX 4096\n"
                       "[hr: 8 context lines omitted]\n"
                       "diff --git a/README b/README\n"
                       "--- a/README\n"
                       "+++ b/README\n"
                       "@@ -1,3 +1,3 @@\n"
                       " pool\n"
                       "-A pool of 16.\n"
                       "+A pool of 64.\n"
                       " end\n";
    hr_buf out = HR_BUF_INIT;
    struct hr_crush_ctx cx = ctx_for(in, strlen(in));
    CHECK_EQ_U(hr__content_kind(&cx, in, strlen(in)), HR_KIND_DIFF);
    CHECK_EQ_U(hr__crush_diff(&cx, in, strlen(in), &out), HR_OK);
    CHECK_EQ_S(out.data, want);
    hr_buf_free(&out);
}

static int contains(const hr_buf *b, const char *s)
{
    return b->len && strstr(b->data, s) != NULL;
}

/* git log -p: a hunk ends with its last line, so the indented message of
 * the next commit is no context of it and stays. */
static void test_log_p_messages_stay(void)
{
    hr_buf in = HR_BUF_INIT, out = HR_BUF_INIT;
    for (int c = 1; c <= 3; c++) {
        char s[1024];
        snprintf(s, sizeof s,
                 "commit %040d\nAuthor: A U Thor <a@example.org>\nDate:   Mon Mar %d 10:00:00 2025 +0000\n\n"
                 "    Fix overflow in parser number %d\n\n"
                 "diff --git a/p.c b/p.c\nindex 1111111..2222222 100644\n--- a/p.c\n+++ b/p.c\n"
                 "@@ -10,7 +10,7 @@\n a\n b\n c\n-int n = %d;\n+long n = %d;\n d\n e\n f\n",
                 c, c, c, c, c);
        hr_buf_append(&in, s, strlen(s));
    }
    struct hr_crush_ctx cx = ctx_for(in.data, in.len);
    CHECK_EQ_U(hr__crush_diff(&cx, in.data, in.len, &out), HR_OK);
    hr_buf_append(&out, "", 0);
    for (int c = 1; c <= 3; c++) {
        char msg[64];
        snprintf(msg, sizeof msg, "    Fix overflow in parser number %d\n", c);
        CHECK(contains(&out, msg));
    }
    hr_buf_free(&in);
    hr_buf_free(&out);
}

/* ---- prose full of numbers ------------------------------------------------------------- */

/* A weekly status report: every sentence holds a figure; some hold an error
 * word, a path, a URL, a hash, a request id or a flag too. */
static const char *const report[] = {
    "This week's report covers the storage cluster from Monday 4 March to Sunday 10 March. ",
    "Read throughput averaged 1,840 requests per second, up from 1,510 the week before, mostly because the new "
    "index pages now stay in memory. ",
    "Write throughput held at 620 requests per second, which is close to where it has been since the autumn. ",
    "The p99 read latency fell to 38 ms, a drop we had hoped for but did not expect this early. ",
    "We added 6 nodes to the west pool on Tuesday, bringing it to 48, and the rebalance finished overnight "
    "without anyone having to watch it. ",
    "Disk usage across the pool is now 71 percent, comfortably below the level at which we would start "
    "ordering hardware. ",
    "Compaction ran 212 times, which is more than usual, and the longest run took 14 minutes. ",
    "The backup window shrank to 2 hours 40 minutes, largely thanks to the incremental snapshots that went "
    "live last sprint. ",
    "Restores were tested on 3 randomly chosen volumes, and all of them came back identical to the source, "
    "byte for byte. ",
    "The import job failed 3 times on Wednesday, each time while the upstream feed was being rotated.\n\n",
    "Support opened 27 tickets about slow listings, though most of them turned out to be about the browser "
    "extension rather than the service. ",
    "The cache hit rate climbed to 93 percent, and we now think the remaining misses are mostly cold keys "
    "from batch jobs. ",
    "Memory per node settled around 52 GB, leaving enough room for the next index build, which needs "
    "roughly as much again for a short while. ",
    "The new cost dashboard shows 18,400 dollars spent on storage this month, of which about a third goes to "
    "replicas in the second region. ",
    "Most of the 14 new alerts come from config/alerts.yaml, which the platform team still owns and reviews. ",
    "Garbage collection pauses stayed under 120 ms on every node, so nobody needs to tune the heap again for "
    "now. ",
    "We rolled out version 2.14 to the canary hosts on Thursday, and after a quiet day it went to the rest "
    "of the fleet. ",
    "Replication lag peaked at 9 seconds during the rebalance, then returned to well under a second once "
    "the moves were done. ",
    "The 2 regressions found this week are tracked at https://tracker.example.org/PERF-881, where the "
    "profiles are attached. ",
    "Flaky tests in the storage suite dropped from 11 to 4, after the fixtures stopped sharing a temporary "
    "directory. ",
    "The on-call rota had 5 pages this week, all of them outside working hours, which is something we want "
    "to talk about at the retro. ",
    "Two of those pages came from the same disk on node 31, and that disk has since been replaced.\n\n",
    "Build 4ed62b7c, the one that went out on Friday, carried 212 commits from 19 authors. ",
    "CPU use at peak was 64 percent, which leaves room, but the curve is steeper than it was in January. ",
    "The largest tenant now stores 310 TB, roughly twice what it stored a year ago, and its growth shows no "
    "sign of slowing. ",
    "Across all tenants the object count passed 9.2 billion, a number that mostly reflects small thumbnails "
    "rather than real documents. ",
    "Deletes are still slow, at around 45 ms each, because every delete updates three secondary indexes in "
    "turn. ",
    "A batch delete call would cut that to about 6 ms per object, according to the prototype that was "
    "measured on Friday. ",
    "Request 3f0c9a52-8d1e-4b7a-9c3e-5a2f1d7e6b90 took 41 seconds and is the slowest we have on record this "
    "month. ",
    "The bulk loader can now be started with --workers 16, which is the setting we recommend for the "
    "nightly imports. ",
    "Network egress was 7.3 TB, slightly more than usual, since two customers exported their archives for "
    "an audit. ",
    "The second region served 22 percent of reads, as planned, and failover drills there took 4 minutes "
    "from start to finish. ",
    "We closed 37 of the 45 items on the reliability backlog, and the remaining ones are mostly "
    "documentation. ",
    "Our estimate for the index rewrite stays at 6 weeks, assuming the team keeps its current size and "
    "nothing urgent comes up. ",
    "Hiring added 1 engineer to the team, who starts in April and will join the storage rota after a month "
    "of shadowing. ",
    "The quarterly capacity review is set for 21 March, and anyone with concerns should add them to the "
    "agenda beforehand. ",
    "Next week we will upgrade the remaining 12 nodes of the old pool, one rack at a time, starting on "
    "Monday morning. ",
    "Incidents this week: 1 minor, 0 major, and the minor one lasted 8 minutes. ",
    "Cold starts take 2.3 seconds — most of it spent loading the index — which users notice on "
    "their first query. ",
    "Queue depth peaked at 340 on Thursday; nobody was paged, since the alert fires only above 500. ",
    "The slow queries (about 30 of them, all from one dashboard) were rewritten, and the dashboard now "
    "loads faster. ",
    "Our on-call handbook grew by 3 pages, covering the rebalance procedure in the detail that new members "
    "asked for. ",
    "Overall the cluster served 1.1 billion requests this week at 99.97 percent availability.",
};
#define REPORT_N (sizeof report / sizeof report[0])

/* Sentences that must stay whole: the first, the last, and those with an
 * error word, a path, a URL, a hash, a request id or a flag. */
static const char *const whole[] = {
    "This week's report covers the storage cluster from Monday 4 March to Sunday 10 March.",
    "The import job failed 3 times on Wednesday, each time while the upstream feed was being rotated.",
    "Most of the 14 new alerts come from config/alerts.yaml, which the platform team still owns and reviews.",
    "The 2 regressions found this week are tracked at https://tracker.example.org/PERF-881, where the "
    "profiles are attached.",
    "Build 4ed62b7c, the one that went out on Friday, carried 212 commits from 19 authors.",
    "Request 3f0c9a52-8d1e-4b7a-9c3e-5a2f1d7e6b90 took 41 seconds and is the slowest we have on record this "
    "month.",
    "The bulk loader can now be started with --workers 16, which is the setting we recommend for the "
    "nightly imports.",
    "Overall the cluster served 1.1 billion requests this week at 99.97 percent availability.",
};

static int is_digit(char c)
{
    return c >= '0' && c <= '9';
}

/* The numbers of text, markers left out, as one string: each maximal run of
 * digits (with the '.' and ',' between digits) followed by a space. */
static void numbers_of(const char *text, size_t len, hr_buf *out)
{
    for (size_t i = 0; i < len;) {
        if (len - i > 5 && !memcmp(text + i, "[hr: ", 5)) {
            const char *close = memchr(text + i, ']', len - i);
            i = close ? (size_t)(close - text) + 1 : len;
            continue;
        }
        if (!is_digit(text[i])) {
            i++;
            continue;
        }
        size_t j = i;
        while (j < len &&
               (is_digit(text[j]) || ((text[j] == '.' || text[j] == ',') && j + 1 < len && is_digit(text[j + 1]))))
            j++;
        hr_buf_append(out, text + i, j - i);
        hr_buf_append(out, " ", 1);
        i = j;
    }
}

static void test_number_prose_keeps_numbers(void)
{
    hr_buf in = HR_BUF_INIT, out = HR_BUF_INIT, want = HR_BUF_INIT, got = HR_BUF_INIT;
    for (size_t i = 0; i < REPORT_N; i++) hr_buf_append(&in, report[i], strlen(report[i]));
    CHECK(REPORT_N >= 40);
    for (size_t i = 0; i < REPORT_N; i++) CHECK(hr__features(report[i], strlen(report[i])) & HR_F_NUMBER);
    struct hr_crush_ctx cx = ctx_for(in.data, in.len);
    CHECK_EQ_U(hr__crush_text(&cx, in.data, in.len, &out), HR_OK);

    /* every number, in order, and none that was not there */
    numbers_of(in.data, in.len, &want);
    numbers_of(out.data, out.len, &got);
    CHECK(want.len > 0);
    if (got.len != want.len || memcmp(got.data, want.data, want.len))
        printf("  numbers differ:\n  in:  %s\n  out: %s\n", want.data, got.len ? got.data : "");
    CHECK(got.len == want.len && !memcmp(got.data, want.data, want.len));

    /* a quarter of the tokens or more saved */
    size_t before = hr__approx_tokens(in.data, in.len), after = hr__approx_tokens(out.data, out.len);
    if (after * 4 > before * 3) printf("  %zu -> %zu tokens\n", before, after);
    CHECK(after * 4 <= before * 3);

    for (size_t i = 0; i < sizeof whole / sizeof whole[0]; i++) {
        if (!contains(&out, whole[i])) printf("  not whole: %s\n", whole[i]);
        CHECK(contains(&out, whole[i]));
    }
    /* a sentence cut to its clauses with numbers: whole, or those clauses
     * with an ellipsis where the rest was, ending as it did */
    CHECK(contains(&out, "Compaction ran 212 times … and the longest run took 14 minutes. ") ||
          contains(&out, report[6]));
    CHECK(contains(&out, "Read throughput averaged 1,840 requests per second, up from 1,510 the week before. ") ||
          contains(&out, report[1]));
    CHECK(contains(&out, "Disk usage across the pool is now 71 percent. ") || contains(&out, report[5]));
    /* clauses end at " — " and "; " too, never inside brackets */
    CHECK(contains(&out, "Cold starts take 2.3 seconds. ") || contains(&out, report[REPORT_N - 5]));
    CHECK(contains(&out, "Queue depth peaked at 340 on Thursday … since the alert fires only above 500. ") ||
          contains(&out, report[REPORT_N - 4]));
    CHECK(contains(&out, "The slow queries (about 30 of them, all from one dashboard) were rewritten. ") ||
          contains(&out, report[REPORT_N - 3]));
    /* one marker at the end says clauses went, and that the text was cut */
    const char *end = " clauses omitted]";
    CHECK(out.len > strlen(end) && !strcmp(out.data + out.len - strlen(end), end));
    CHECK(hr__has_marker(out.data, out.len));
    /* the paragraphs stay paragraphs */
    CHECK(contains(&out, "being rotated.\n\n"));
    CHECK(contains(&out, "been replaced.\n\n") || contains(&out, "on node 31.\n\n"));
    CHECK(!contains(&out, " sentences omitted]") && !contains(&out, " sentence omitted]"));
    hr_buf_free(&in);
    hr_buf_free(&out);
    hr_buf_free(&want);
    hr_buf_free(&got);
}

/* Sentences without numbers still go as a run behind one marker, between
 * sentences cut to their numbers. */
static void test_number_prose_with_plain_sentences(void)
{
    hr_buf in = HR_BUF_INIT, out = HR_BUF_INIT, want = HR_BUF_INIT, got = HR_BUF_INIT;
    static const char *const plain[] = {
        "The team spent most of the week on routine maintenance and on reviewing the plans for next quarter. ",
        "Nobody reported anything unusual about the dashboards, and the mood on the rota was calm throughout. ",
        "The documentation for the storage service was reorganised so that new engineers find the runbooks "
        "faster. ",
        "We also cleaned up the old wiki pages that described the previous generation of the cluster. ",
    };
    for (size_t i = 0; i < REPORT_N; i++) {
        hr_buf_append(&in, report[i], strlen(report[i]));
        if (i % 8 == 4)
            for (size_t k = 0; k < sizeof plain / sizeof plain[0]; k++) hr_buf_append(&in, plain[k], strlen(plain[k]));
    }
    struct hr_crush_ctx cx = ctx_for(in.data, in.len);
    CHECK_EQ_U(hr__crush_text(&cx, in.data, in.len, &out), HR_OK);
    numbers_of(in.data, in.len, &want);
    numbers_of(out.data, out.len, &got);
    CHECK(got.len == want.len && !memcmp(got.data, want.data, want.len));
    CHECK(contains(&out, " sentences omitted] "));
    CHECK(hr__approx_tokens(out.data, out.len) * 4 <= hr__approx_tokens(in.data, in.len) * 3);
    hr_buf_free(&in);
    hr_buf_free(&out);
    hr_buf_free(&want);
    hr_buf_free(&got);
}

/* Line-shaped text (a list of figures) is cut by lines as before: a line
 * with a number stays whole. */
static void test_number_lines_stay_whole(void)
{
    hr_buf in = HR_BUF_INIT, out = HR_BUF_INIT;
    for (int i = 0; i < 60; i++) {
        char line[128];
        snprintf(line, sizeof line, "shard %d, region west, holds %d objects, replicas healthy\n", i, 1000 + 37 * i);
        hr_buf_append(&in, line, strlen(line));
    }
    struct hr_crush_ctx cx = ctx_for(in.data, in.len);
    CHECK_EQ_U(hr__crush_text(&cx, in.data, in.len, &out), HR_OK);
    CHECK(out.len == in.len && !memcmp(out.data, in.data, in.len));
    hr_buf_free(&in);
    hr_buf_free(&out);
}

/* Sentences of one clause each, every one with numbers: each is cut to its
 * numbers with the word before them and a unit after them; every number
 * stays, in order, and the text is far shorter. A short sentence stays
 * whole. */
static void test_number_words(void)
{
    hr_buf in = HR_BUF_INIT, out = HR_BUF_INIT, want = HR_BUF_INIT, got = HR_BUF_INIT;
    for (int i = 0; i < 40; i++) {
        char s[160];
        snprintf(s, sizeof s, "Sentence number %d describes a distinct topic %d in some detail. ", i, i);
        hr_buf_append(&in, s, strlen(s));
        if (i == 20) hr_buf_append(&in, "Cold starts take 2.3 seconds. ", 30);
        if (i == 25)
            hr_buf_append(&in, "The rebuild of the search index on the old nodes took 41 minutes overall. ", 74);
    }
    struct hr_crush_ctx cx = ctx_for(in.data, in.len);
    CHECK_EQ_U(hr__crush_text(&cx, in.data, in.len, &out), HR_OK);
    numbers_of(in.data, in.len, &want);
    numbers_of(out.data, out.len, &got);
    CHECK(got.len == want.len && !memcmp(got.data, want.data, want.len));
    /* an ellipsis where words went: before, between and after what stays */
    CHECK(contains(
        &out, "topic 6 \xE2\x80\xA6 \xE2\x80\xA6 number 7 \xE2\x80\xA6 topic 7 \xE2\x80\xA6 \xE2\x80\xA6 number 8 "));
    CHECK(contains(&out, "Cold starts take 2.3 seconds. "));
    CHECK(contains(&out, " \xE2\x80\xA6 took 41 minutes \xE2\x80\xA6 ") || contains(&out, "took 41 minutes overall. "));
    CHECK(hr__approx_tokens(out.data, out.len) * 10 < hr__approx_tokens(in.data, in.len) * 7);
    hr_buf_free(&in);
    hr_buf_free(&out);
    hr_buf_free(&want);
    hr_buf_free(&got);
}

/* The one sentence holding the task's words stays, though the others hold
 * numbers and it does not. */
static void test_task_sentence_stays(void)
{
    hr_buf in = HR_BUF_INIT, out = HR_BUF_INIT;
    struct hr_query q;
    const char *task = "how long until the authentication token expires";
    const char *fact = "The authentication token expires after thirty minutes of inactivity. ";
    for (int i = 0; i < 30; i++) {
        char s[128];
        snprintf(s, sizeof s, "Filler line number %d with generic words and padding here. ", i);
        hr_buf_append(&in, s, strlen(s));
        if (i == 14) hr_buf_append(&in, fact, strlen(fact));
    }
    CHECK_EQ_U(hr__query_build(&q, task, strlen(task)), HR_OK);
    struct hr_crush_ctx cx = ctx_for(in.data, in.len);
    cx.query = &q;
    CHECK_EQ_U(hr__crush_text(&cx, in.data, in.len, &out), HR_OK);
    CHECK(contains(&out, fact));
    CHECK(out.len < in.len * 3 / 4);
    hr__query_free(&q);
    hr_buf_free(&in);
    hr_buf_free(&out);
}

int main(void)
{
    if (hr__scorer_lexical_new(&scorer) || hr_json_new(&scratch) || hr__query_build(&no_task, "", 0)) return 1;
    RUN(test_combined_diffs_route_as_diffs);
    RUN(test_grouped_search_routes_as_search);
    RUN(test_combined_diffs_keep_changes);
    RUN(test_octopus_columns);
    RUN(test_unified_diff_unchanged);
    RUN(test_log_p_messages_stay);
    RUN(test_number_prose_keeps_numbers);
    RUN(test_number_prose_with_plain_sentences);
    RUN(test_number_lines_stay_whole);
    RUN(test_number_words);
    RUN(test_task_sentence_stays);
    hr__query_free(&no_task);
    hr_json_free(scratch);
    scorer->destroy(scorer);
    return unit_any_failed;
}
