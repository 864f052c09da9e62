/* hr_compress() on the scenarios in testdata/hr-compress/scenarios (real
 * tool output: dpkg's log, dpkg-query as JSON, grep -rn, git diff, the GPL,
 * ls -la, with planted facts) and on small inputs for each compressor. */
#include "compress/compress_internal.h"
#include "hr.h"
#include "unit.h"

#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#define SCENARIOS "testdata/hr-compress/scenarios/"

static hr_compressor *comp;
static int quiet; /* set while a check is expected to fail */

static hr_status compress(const hr_compress_options *opt, const hr_buf *in, hr_buf *out)
{
    out->len = 0;
    return hr_compress(comp, opt, in->data, in->len, out);
}

/* ---- checks on a compressed request ---------------------------------------------- */

/* Walks a and b in parallel; records the spans of strings that differ. */
struct walk {
    const hr_json *da, *db;
    const char *a, *b;
    size_t pa, pb; /* copied up to here */
    hr_buf ra, rb; /* a and b without the strings that differ */
    size_t changed;
    size_t *offsets, cap;
    hr_buf *before, *after; /* decoded texts of the first cap changed strings */
    int same_shape;
};

static void walk(struct walk *w, hr_json_node na, hr_json_node nb)
{
    hr_json_type t = hr_json_type_of(w->da, na);
    if (!w->same_shape || t != hr_json_type_of(w->db, nb) || hr_json_length(w->da, na) != hr_json_length(w->db, nb)) {
        w->same_shape = 0;
        return;
    }
    if (t == HR_JSON_STRING) {
        size_t sa = hr_json_start(w->da, na), ea = hr_json_end(w->da, na);
        size_t sb = hr_json_start(w->db, nb), eb = hr_json_end(w->db, nb);
        if (ea - sa == eb - sb && !memcmp(w->a + sa, w->b + sb, ea - sa)) return;
        hr_buf_append(&w->ra, w->a + w->pa, sa - w->pa);
        hr_buf_append(&w->rb, w->b + w->pb, sb - w->pb);
        w->pa = ea;
        w->pb = eb;
        if (w->changed < w->cap) {
            w->offsets[w->changed] = sa;
            if (w->before) hr_json_string_decode(w->da, na, &w->before[w->changed]);
            if (w->after) hr_json_string_decode(w->db, nb, &w->after[w->changed]);
        }
        w->changed++;
        return;
    }
    if (t != HR_JSON_ARRAY && t != HR_JSON_OBJECT) return;
    hr_json_node ea = hr_json_first(w->da, na), eb = hr_json_first(w->db, nb);
    for (; ea != HR_JSON_NONE && eb != HR_JSON_NONE; ea = hr_json_next(w->da, ea), eb = hr_json_next(w->db, eb)) {
        if (t == HR_JSON_OBJECT) { /* keys never change */
            size_t ka = hr_json_start(w->da, ea), kb = hr_json_start(w->db, eb);
            size_t la = hr_json_end(w->da, ea) - ka, lb = hr_json_end(w->db, eb) - kb;
            if (la != lb || memcmp(w->a + ka, w->b + kb, la)) w->same_shape = 0;
            walk(w, hr_json_value(w->da, ea), hr_json_value(w->db, eb));
        } else {
            walk(w, ea, eb);
        }
    }
}

/* Everything outside the strings that changed is byte-identical: same
 * structure and keys, and with the changed strings cut out of both, the
 * remaining bytes (whitespace, numbers, escapes, order) are equal. Returns
 * how many strings changed, or -1. */
static int changed_strings(const hr_buf *a, const hr_buf *b, size_t *offsets, size_t cap, hr_buf *before, hr_buf *after)
{
    hr_json *da = NULL, *db = NULL;
    hr_json_new(&da);
    hr_json_new(&db);
    int changed = -1;
    if (!hr_json_parse(da, a->data, a->len) && !hr_json_parse(db, b->data, b->len)) {
        struct walk w = {da, db, a->data, b->data, 0, 0, HR_BUF_INIT, HR_BUF_INIT, 0, offsets, cap, before, after, 1};
        walk(&w, hr_json_root(da), hr_json_root(db));
        hr_buf_append(&w.ra, a->data + w.pa, a->len - w.pa);
        hr_buf_append(&w.rb, b->data + w.pb, b->len - w.pb);
        if (!w.same_shape) {
            if (!quiet) printf("  the structure changed\n");
        } else if (w.ra.len != w.rb.len || memcmp(w.ra.data, w.rb.data, w.ra.len)) {
            if (!quiet) printf("  bytes outside the compressed strings differ\n");
        } else {
            changed = (int)w.changed;
        }
        hr_buf_free(&w.ra);
        hr_buf_free(&w.rb);
    } else {
        printf("  output is not valid JSON: %s\n", hr_json_errmsg(db));
    }
    hr_json_free(da);
    hr_json_free(db);
    return changed;
}

/* ---- the scenarios ------------------------------------------------------------------ */

struct scenario {
    const char *file;
    double min_saved, max_saved; /* fraction of tokens_before */
    int facts;                   /* check long.facts */
    const char *kinds;           /* the compressors used, in order */
};

static const struct scenario scenarios[] = {
    /* the tail of dpkg.log and the read_file of the license are file reads: exact */
    {"long-anthropic.json", 0.35, 1.0, 1, "json search diff log"},
    {"long-chat.json", 0.35, 1.0, 1, "json search diff log"},
    {"long-responses.json", 0.35, 1.0, 1, "json search diff log"},
    {"short-anthropic.json", 0.0, 0.0, 0, ""},
    {"tools-anthropic.json", 0.0, 0.0, 0, ""},
};

/* Where the message list starts and where its last from_end messages start. */
static void message_span(const hr_buf *body, size_t from_end, size_t *list_start, size_t *protected_start)
{
    hr_json *doc = NULL;
    hr_json_new(&doc);
    hr_json_parse(doc, body->data, body->len);
    hr_json_node root = hr_json_root(doc), list = hr_json_get(doc, root, "messages");
    if (list == HR_JSON_NONE) list = hr_json_get(doc, root, "input");
    size_t n = hr_json_length(doc, list), i = 0;
    *list_start = hr_json_start(doc, list);
    *protected_start = hr_json_end(doc, list);
    for (hr_json_node m = hr_json_first(doc, list); m != HR_JSON_NONE; m = hr_json_next(doc, m), i++)
        if (i + from_end == n) *protected_start = hr_json_start(doc, m);
    hr_json_free(doc);
}

static size_t independent_count(const hr_buf *body)
{
    hr_json *doc = NULL;
    hr_tokenizer *tok = NULL;
    hr_request_counts *rc = NULL;
    hr_buf model = HR_BUF_INIT;
    size_t total = 0;
    hr_json_new(&doc);
    if (!hr_json_parse(doc, body->data, body->len) && !hr_request_model(doc, &model)) {
        hr_model_encoding me;
        hr_model_lookup(model.len ? model.data : "gpt-4o", &me);
        hr_tokenizer_new(me.encoding, &tok);
        if (!hr_request_count(tok, doc, hr_request_detect(doc), &rc)) {
            total = hr_request_counts_total(rc);
            if (me.is_estimate) total = (size_t)ceil((double)total * me.estimate_factor);
        }
    }
    hr_request_counts_free(rc);
    hr_tokenizer_free(tok);
    hr_buf_free(&model);
    hr_json_free(doc);
    return total;
}

static void check_facts(const hr_buf *out)
{
    hr_buf facts = unit_read_file(SCENARIOS "long.facts");
    CHECK(facts.len > 0);
    for (char *line = facts.data, *nl; line && *line; line = nl ? nl + 1 : NULL) {
        nl = strchr(line, '\n');
        if (nl) *nl = '\0';
        if (!*line) continue;
        int found = out->len && strstr(out->data, line) != NULL;
        if (!found) printf("  planted fact lost: %s\n", line);
        CHECK(found);
    }
    hr_buf_free(&facts);
}

static void check_scenario(const struct scenario *sc)
{
    char path[256];
    snprintf(path, sizeof path, SCENARIOS "%s", sc->file);
    hr_buf in = unit_read_file(path), out = HR_BUF_INIT, again = HR_BUF_INIT, fresh = HR_BUF_INIT;
    hr_compress_options opt;
    hr_compress_options_init(&opt);
    opt.mode = HR_MODE_TOKEN; /* the rolling window these cases are about */
    printf("  %s\n", sc->file);
    CHECK_EQ_U(compress(&opt, &in, &out), HR_OK);
    hr_compress_stats st;
    hr_compressor_stats(comp, &st);

    /* savings as promised, and counted right */
    double saved = st.tokens_before ? (double)(st.tokens_before - st.tokens_after) / (double)st.tokens_before : 0;
    printf("  %zu -> %zu tokens, %.1f%% saved\n", st.tokens_before, st.tokens_after, 100 * saved);
    CHECK(saved >= sc->min_saved && saved <= sc->max_saved);
    CHECK_EQ_U(st.tokens_before, independent_count(&in));
    CHECK_EQ_U(st.tokens_after, independent_count(&out));
    if (sc->max_saved == 0.0) CHECK(out.len == in.len && !memcmp(out.data, in.data, in.len));

    /* only unit strings changed, all in older messages, everything else byte for byte */
    size_t offsets[32], list_start, protected_start;
    int changed = changed_strings(&in, &out, offsets, 32, NULL, NULL);
    CHECK(changed >= 0);
    CHECK_EQ_U((size_t)(changed < 0 ? 0 : changed), st.units);
    message_span(&in, opt.protect_recent, &list_start, &protected_start);
    for (int i = 0; i < changed && i < 32; i++) CHECK(offsets[i] > list_start && offsets[i] < protected_start);

    /* the compressors chosen */
    char kinds[128] = "";
    hr_compress_unit u;
    for (size_t i = 0; hr_compressor_unit(comp, i, &u) == HR_OK; i++) {
        if (i) strcat(kinds, " ");
        strncat(kinds, u.kind, sizeof kinds - strlen(kinds) - 1);
        CHECK(u.tokens_after < u.tokens_before);
    }
    CHECK_EQ_S(kinds, sc->kinds);
    if (sc->facts) check_facts(&out);

    /* idempotent and deterministic */
    CHECK_EQ_U(compress(&opt, &out, &again), HR_OK);
    CHECK(again.len == out.len && !memcmp(again.data, out.data, out.len));
    hr_compressor *other = NULL;
    hr_compressor_new(&other);
    CHECK_EQ_U(hr_compress(other, &opt, in.data, in.len, &fresh), HR_OK);
    CHECK(fresh.len == out.len && !memcmp(fresh.data, out.data, out.len));
    hr_compressor_free(other);
    hr_buf_free(&in);
    hr_buf_free(&out);
    hr_buf_free(&again);
    hr_buf_free(&fresh);
}

static void test_scenarios(void)
{
    for (size_t i = 0; i < sizeof scenarios / sizeof scenarios[0]; i++) check_scenario(&scenarios[i]);
}

/* ---- the compressors on the real data of the long scenario ------------------------ */

static int has_line(const hr_buf *text, const char *line, size_t len)
{
    for (const char *p = text->data, *e = text->data + text->len; p && p < e;) {
        const char *nl = memchr(p, '\n', (size_t)(e - p));
        size_t n = nl ? (size_t)(nl - p) : (size_t)(e - p);
        if (n == len && !memcmp(p, line, len)) return 1;
        p = nl ? nl + 1 : NULL;
    }
    return 0;
}

static int contains(const hr_buf *text, const char *s, size_t len)
{
    if (!len) return 1;
    for (size_t i = 0; i + len <= text->len; i++)
        if (text->data[i] == s[0] && !memcmp(text->data + i, s, len)) return 1;
    return 0;
}

/* Calls fn(line, len) for each line of text. */
#define FOR_LINES(text, line, len)                                                                                     \
    for (const char *line = (text)->data, *e_ = (text)->data + (text)->len, *nl_; line && line < e_;                   \
         line = nl_ ? nl_ + 1 : NULL)                                                                                  \
        for (size_t                                                                                                    \
                 len = ((nl_ = memchr(line, '\n', (size_t)(e_ - line))) ? (size_t)(nl_ - line) : (size_t)(e_ - line)), \
                 once_ = 1;                                                                                            \
             once_; once_ = 0)

static int icontains(const char *s, size_t n, const char *word)
{
    size_t k = strlen(word);
    for (size_t i = 0; i + k <= n; i++)
        if (!strncasecmp(s + i, word, k)) return 1;
    return 0;
}

static void check_log_unit(const hr_buf *before, const hr_buf *after)
{
    size_t errors = 0;
    FOR_LINES(before, line, len)
    {
        if (!icontains(line, len, "error")) continue;
        errors++;
        CHECK(has_line(after, line, len));
    }
    CHECK(errors > 0);
    CHECK(contains(after, "\n[hr: ", 6));
    CHECK(contains(after, " lines omitted]\n", 16));
}

/* The packages array comes back as a table (note, header, rows) with the
 * dropped rows said in strings: the must-keep items are rows holding their
 * values as written, and the rows are far fewer. */
static void check_json_unit(const hr_buf *before, const hr_buf *after)
{
    hr_json *a = NULL, *b = NULL;
    hr_json_new(&a);
    hr_json_new(&b);
    CHECK_EQ_U(hr_json_parse(a, before->data, before->len), HR_OK);
    CHECK_EQ_U(hr_json_parse(b, after->data, after->len), HR_OK);
    hr_json_node pa = hr_json_get(a, hr_json_root(a), "packages"), pb = hr_json_get(b, hr_json_root(b), "packages");
    size_t n = hr_json_length(a, pa), i = 0, markers = 0, rows = 0;
    hr_json_node note = hr_json_first(b, pb);
    hr_buf m = HR_BUF_INIT;
    CHECK(hr_json_string_decode(b, note, &m) == HR_OK && !strncmp(m.data, "[hr: table", 10));
    for (hr_json_node e = hr_json_next(b, hr_json_next(b, note)); e != HR_JSON_NONE; e = hr_json_next(b, e)) {
        if (hr_json_type_of(b, e) == HR_JSON_ARRAY || hr_json_type_of(b, e) == HR_JSON_OBJECT) {
            rows++; /* a row, or an item of other keys */
            continue;
        }
        m.len = 0;
        CHECK(hr_json_string_decode(b, e, &m) == HR_OK && !strncmp(m.data, "[hr: ", 5) && strstr(m.data, " omitted]"));
        markers++;
    }
    CHECK(rows < n / 3);
    CHECK(markers > 0);
    for (hr_json_node e = hr_json_first(a, pa); e != HR_JSON_NONE; e = hr_json_next(a, e), i++) {
        int must = i < 3 || i + 2 >= n || hr_json_get(a, e, "error") != HR_JSON_NONE;
        if (!must) continue;
        hr_json_node name = hr_json_get(a, e, "name"), size = hr_json_get(a, e, "installed_size_kb");
        size_t ns = hr_json_start(a, name), ss = hr_json_start(a, size);
        m.len = 0; /* the row or the object: its name, then its values as written */
        hr_buf_append(&m, "[", 1);
        hr_buf_append(&m, before->data + ns, hr_json_end(a, name) - ns);
        int as_row = contains(after, m.data, m.len);
        m.len = 0;
        hr_buf_append(&m, "{\"name\":", 8);
        hr_buf_append(&m, before->data + ns, hr_json_end(a, name) - ns);
        CHECK(as_row || contains(after, m.data, m.len));
        CHECK(contains(after, before->data + ss, hr_json_end(a, size) - ss));
    }
    hr_buf_free(&m);
    hr_json_free(a);
    hr_json_free(b);
}

/* Matches come back grouped under their path: every path is a line of its
 * own, no file is lost. */
static void check_search_unit(const hr_buf *before, const hr_buf *after)
{
    FOR_LINES(before, line, len)
    {
        const char *colon = memchr(line, ':', len);
        if (colon) CHECK(has_line(after, line, (size_t)(colon - line)));
    }
    CHECK(contains(after, " matches omitted]", 17));
}

static void check_diff_unit(const hr_buf *before, const hr_buf *after)
{
    size_t context = 0;
    FOR_LINES(before, line, len)
    {
        if (len && line[0] == ' ') {
            context++;
            continue;
        }
        CHECK(has_line(after, line, len)); /* headers, hunk headers, changes */
    }
    CHECK(context > 0);
    CHECK(contains(after, " context lines omitted]", 23));
}

static void check_text_unit(const hr_buf *before, const hr_buf *after)
{
    for (size_t i = 0; i < before->len; i++) { /* every number stays */
        if (before->data[i] < '0' || before->data[i] > '9' ||
            (i && before->data[i - 1] >= '0' && before->data[i - 1] <= '9'))
            continue;
        size_t j = i;
        while (j < before->len && before->data[j] >= '0' && before->data[j] <= '9') j++;
        CHECK(contains(after, before->data + (i ? i - 1 : i), j - i + (i ? 1 : 0)));
    }
    CHECK(contains(after, " sentences omitted]", 19));
}

/* The scenario's "tail -n 320 /var/log/dpkg.log" as a command of the same
 * length that prints the same lines without being a file read. */
static void unshell_tail(hr_buf *in)
{
    const char *from = "tail -n 320 /var/log/dpkg.log", *to = "grep -h sta /var/log/dpkg.log";
    for (size_t i = 0; i + strlen(from) <= in->len; i++)
        if (!memcmp(in->data + i, from, strlen(from))) memcpy(in->data + i, to, strlen(to));
}

static void test_compressors_on_real_data(void)
{
    hr_buf in = unit_read_file(SCENARIOS "long-anthropic.json"), out = HR_BUF_INIT;
    hr_buf before[8], after[8];
    memset(before, 0, sizeof before);
    memset(after, 0, sizeof after);
    hr_compress_options opt;
    hr_compress_options_init(&opt);
    opt.mode = HR_MODE_TOKEN; /* the rolling window these cases are about */
    /* The log and text compressors on real data: the tail of dpkg.log and the
     * read_file of the license are file reads, which stay exact; told apart
     * from file reads here they are cut as a log and as text. */
    opt.exact_tools = "-read_file";
    unshell_tail(&in);
    CHECK_EQ_U(compress(&opt, &in, &out), HR_OK);
    size_t offsets[8];
    CHECK_EQ_U(changed_strings(&in, &out, offsets, 8, before, after), 6);
    check_log_unit(&before[0], &after[0]);
    check_json_unit(&before[1], &after[1]);
    check_search_unit(&before[2], &after[2]);
    check_diff_unit(&before[3], &after[3]);
    check_text_unit(&before[4], &after[4]);
    for (int i = 0; i < 8; i++) {
        hr_buf_free(&before[i]);
        hr_buf_free(&after[i]);
    }
    hr_buf_free(&in);
    hr_buf_free(&out);
}

/* The checker above must itself catch a changed byte outside the units. */
static void test_faithfulness_check_can_fail(void)
{
    hr_buf in = unit_read_file(SCENARIOS "long-anthropic.json"), out = HR_BUF_INIT;
    hr_compress_options opt;
    hr_compress_options_init(&opt);
    opt.mode = HR_MODE_TOKEN; /* the rolling window these cases are about */
    CHECK_EQ_U(compress(&opt, &in, &out), HR_OK);
    char *big = strstr(out.data, "12345678901234567890");
    CHECK(big != NULL);
    if (big) big[19] = '1';
    quiet = 1;
    CHECK(changed_strings(&in, &out, NULL, 0, NULL, NULL) == -1);
    quiet = 0;
    hr_buf_free(&in);
    hr_buf_free(&out);
}

/* ---- each compressor's rules, on small inputs ------------------------------------------ */

/* An Anthropic request whose old tool result is text; the last two messages
 * are protected. */
static void tool_request(hr_buf *req, const char *text, const char *question)
{
    req->len = 0;
    const char *head =
        "{\"model\":\"claude-sonnet-4-5\",\"system\":\"sys\",\"messages\":["
        "{\"role\":\"user\",\"content\":\"start\"},"
        "{\"role\":\"assistant\",\"content\":[{\"type\":\"tool_use\",\"id\":\"t1\",\"name\":\"bash\",\"input\":{}}]},"
        "{\"role\":\"user\",\"content\":[{\"type\":\"tool_result\",\"tool_use_id\":\"t1\",\"content\":";
    hr_buf_append(req, head, strlen(head));
    hr_json_encode_string(req, text, strlen(text));
    const char *mid = "}]},{\"role\":\"assistant\",\"content\":\"ok\"},{\"role\":\"user\",\"content\":";
    hr_buf_append(req, mid, strlen(mid));
    hr_json_encode_string(req, question, strlen(question));
    hr_buf_append(req, "}]}", 3);
}

/* The tool result of a tool_request() as opt compresses it. */
static void tool_result_of(const hr_compress_options *opt, const char *text, const char *question, hr_buf *result)
{
    hr_buf req = HR_BUF_INIT, out = HR_BUF_INIT;
    tool_request(&req, text, question);
    CHECK_EQ_U(compress(opt, &req, &out), HR_OK);
    hr_json *doc = NULL;
    hr_json_new(&doc);
    result->len = 0;
    if (hr_json_parse(doc, out.data, out.len) == HR_OK) {
        hr_json_node m = hr_json_get(doc, hr_json_root(doc), "messages");
        hr_json_node third = hr_json_next(doc, hr_json_next(doc, hr_json_first(doc, m)));
        hr_json_node block = hr_json_first(doc, hr_json_get(doc, third, "content"));
        hr_json_string_decode(doc, hr_json_get(doc, block, "content"), result);
    }
    hr_json_free(doc);
    hr_buf_free(&req);
    hr_buf_free(&out);
}

/* The compressed tool result of a tool_request(). */
static void compressed_result(const char *text, const char *question, hr_buf *result)
{
    hr_compress_options opt;
    hr_compress_options_init(&opt);
    opt.mode = HR_MODE_TOKEN; /* the rolling window these cases are about */
    opt.protect_recent = 2;
    opt.min_tokens = 50;
    tool_result_of(&opt, text, question, result);
}

static void test_log_folds_repeats_and_keeps_traces(void)
{
    hr_buf log = HR_BUF_INIT, got = HR_BUF_INIT;
    char line[160];
    for (int i = 1; i <= 40; i++) {
        snprintf(line, sizeof line, "Get:%d http://deb.debian.org/debian bookworm/main amd64 libpkg%d 1.%d-1 [%d kB]\n",
                 i, i % 7, i, 100 + i * 13);
        hr_buf_append(&log, line, strlen(line));
    }
    const char *trace = "Traceback (most recent call last):\n"
                        "  File \"/usr/lib/apt/apt-helper.py\", line 88, in <module>\n"
                        "    main()\n"
                        "  File \"/usr/lib/apt/apt-helper.py\", line 71, in main\n"
                        "    fetch(url)\n"
                        "ConnectionResetError: [Errno 104] Connection reset by peer\n";
    hr_buf_append(&log, trace, strlen(trace));
    for (int i = 41; i <= 70; i++) {
        snprintf(line, sizeof line, "Get:%d http://deb.debian.org/debian bookworm/main amd64 libpkg%d 1.%d-1 [%d kB]\n",
                 i, i % 7, i, 100 + i * 13);
        hr_buf_append(&log, line, strlen(line));
    }
    hr_buf_append(&log, "Fetched 31.2 MB in 4s (7,411 kB/s)\n", 35);
    compressed_result(log.data, "why did the download stop?", &got);
    CHECK(contains(&got, "Get:1 http://deb.debian.org/", 28)); /* the head */
    CHECK(contains(&got, trace, strlen(trace)));               /* the trace, whole */
    CHECK(contains(&got, "Fetched 31.2 MB in 4s", 21));        /* the tail */
    CHECK(contains(&got, "similar lines omitted]\n", 23));     /* the fold */
    CHECK(got.len < log.len / 3);
    hr_buf_free(&log);
    hr_buf_free(&got);
}

/* n items of one shape: item 17 failed, item 33 an outlier, items 50-54
 * copies of item 49. */
static void metrics_json(hr_buf *json, int n)
{
    char item[200];
    hr_buf_append(json, "[", 1);
    for (int i = 0; i < n; i++) {
        int dup = i >= 50 && i < 55;
        int k = dup ? 49 : i;
        snprintf(item, sizeof item, "%s{\"id\":%d,\"host\":\"web-%02d\",\"latency_ms\":%d,\"state\":\"%s\"}",
                 i ? "," : "", k, k, i == 33 ? 9800 : 40 + k % 9, i == 17 ? "failed" : "ok");
        hr_buf_append(json, item, strlen(item));
    }
    hr_buf_append(json, "]", 1);
}

static int has(const hr_buf *text, const char *s)
{
    return contains(text, s, strlen(s));
}

/* Too big even as a table: rows are cut, and what must stay stays. */
static void test_json_keeps_errors_outliers_and_task_items(void)
{
    hr_buf json = HR_BUF_INIT, got = HR_BUF_INIT;
    metrics_json(&json, 400);
    compressed_result(json.data, "what is wrong with web-41 ?", &got);
    hr_json *doc = NULL;
    hr_json_new(&doc);
    CHECK_EQ_U(hr_json_parse(doc, got.data, got.len), HR_OK);
    CHECK(has(&got, "[\"[hr: table: "));
    CHECK(has(&got, "[\"id\",\"host\",\"latency_ms\",\"state\"]"));
    CHECK(has(&got, "\n[0,\"web-00\",") && has(&got, "\n[399,\"web-399\",")); /* first, last */
    CHECK(has(&got, ",\"failed\"]"));                                         /* the failure */
    CHECK(has(&got, ",9800,"));                                               /* the outlier */
    CHECK(has(&got, "[41,\"web-41\","));                                      /* the task's item */
    CHECK(has(&got, " duplicates]"));
    CHECK(got.len < json.len / 4);
    hr_json_free(doc);
    hr_buf_free(&json);
    hr_buf_free(&got);
}

/* Small enough as a table: nothing is cut, every value stays as written. */
static void test_json_said_losslessly_when_small_enough(void)
{
    hr_buf json = HR_BUF_INIT, got = HR_BUF_INIT, pretty = HR_BUF_INIT;
    metrics_json(&json, 60);
    for (size_t i = 0; i < json.len; i++) { /* as APIs print it: an item per line, indented */
        const char *add = json.data[i] == '{'   ? "\n  {\n    "
                          : json.data[i] == ',' ? ",\n    "
                          : json.data[i] == '}' ? "\n  }"
                                                : NULL;
        if (add) hr_buf_append(&pretty, add, strlen(add));
        else hr_buf_append(&pretty, json.data + i, 1);
    }
    hr_buf_append(&pretty, "", 0);
    compressed_result(pretty.data, "what is wrong with web-41 ?", &got);
    CHECK(!has(&got, " omitted"));
    char row[64];
    for (int i = 0; i < 60; i++) {
        int k = i >= 50 && i < 55 ? 49 : i;
        snprintf(row, sizeof row, "\n[%d,\"web-%02d\",%d,\"%s\"]", k, k, i == 33 ? 9800 : 40 + k % 9,
                 i == 17 ? "failed" : "ok");
        CHECK(contains(&got, row, strlen(row)));
    }
    CHECK(got.len < pretty.len / 2);
    hr_buf_free(&json);
    hr_buf_free(&pretty);
    hr_buf_free(&got);
}

/* The tool result of a tool_request() compressed with opt's lossless_only
 * and min_tokens. */
static void result_with(const char *text, int lossless_only, size_t min_tokens, hr_buf *result)
{
    hr_compress_options opt;
    hr_compress_options_init(&opt);
    opt.lossless_only = lossless_only;
    opt.min_tokens = min_tokens;
    tool_result_of(&opt, text, "list the open issues", result);
}

/* A JSON result whose strings are long prose with trailing blanks and
 * blank lines: said losslessly, each string is still exactly its value,
 * whitespace and all; only the JSON around them is compact. */
static void test_lossless_json_strings_stay_exact(void)
{
    hr_buf json = HR_BUF_INIT, body = HR_BUF_INIT, got = HR_BUF_INIT, value = HR_BUF_INIT;
    const char *line = "The build fails on arm64 when the cache is cold.  \n", *end = "\n\n\n\nSteps to reproduce:\t\n";
    for (int i = 0; i < 40; i++) hr_buf_append(&body, line, strlen(line));
    hr_buf_append(&body, end, strlen(end));
    hr_buf_append(&json, "[\n", strlen("[\n"));
    for (int i = 0; i < 3; i++) {
        char head[64];
        snprintf(head, sizeof head, "%s  {\n    \"id\": %d,\n    \"body\": ", i ? ",\n" : "", i + 1);
        hr_buf_append(&json, head, strlen(head));
        hr_json_encode_string(&json, body.data, body.len);
        hr_buf_append(&json, "\n  }", strlen("\n  }"));
    }
    hr_buf_append(&json, "\n]", strlen("\n]"));
    result_with(json.data, 1, 0, &got);
    hr_json *doc = NULL;
    hr_json_new(&doc);
    CHECK_EQ_U(hr_json_parse(doc, got.data, got.len), HR_OK);
    CHECK(got.len < json.len);
    size_t bodies = 0;
    for (hr_json_node e = hr_json_first(doc, hr_json_root(doc)); e != HR_JSON_NONE; e = hr_json_next(doc, e)) {
        hr_json_node b = hr_json_get(doc, e, "body");
        if (b == HR_JSON_NONE) continue;
        value.len = 0;
        hr_json_string_decode(doc, b, &value);
        CHECK(value.len == body.len && !memcmp(value.data, body.data, body.len));
        bodies++;
    }
    CHECK_EQ_U(bodies, 3);
    hr_json_free(doc);
    hr_buf_free(&json);
    hr_buf_free(&body);
    hr_buf_free(&got);
    hr_buf_free(&value);
}

/* A Hermes envelope whose output cannot be made shorter stays byte for
 * byte: saving the spaces after its separators is not worth a change. */
static void test_envelope_kept_when_saving_is_tiny(void)
{
    hr_buf env = HR_BUF_INIT, got = HR_BUF_INIT, diff = HR_BUF_INIT;
    for (int i = 0; i < 120; i++) {
        char line[96];
        snprintf(line, sizeof line, "+static int handler_%d(struct request *r) { return route(r, %d); }\n", i, i * 7);
        hr_buf_append(&diff, line, strlen(line));
    }
    const char *head = "diff --git a/src/h.c b/src/h.c\n--- a/src/h.c\n+++ b/src/h.c\n@@ -0,0 +1,120 @@\n";
    hr_buf_append(&env, "{\"output\": ", strlen("{\"output\": "));
    hr_buf text = HR_BUF_INIT;
    hr_buf_append(&text, head, strlen(head));
    hr_buf_append(&text, diff.data, diff.len);
    hr_json_encode_string(&env, text.data, text.len);
    const char *tail = ", \"exit_code\": 0, \"error\": null}";
    hr_buf_append(&env, tail, strlen(tail));
    result_with(env.data, 0, 0, &got);
    CHECK(got.len == env.len && !memcmp(got.data, env.data, env.len));
    hr_buf_free(&env);
    hr_buf_free(&got);
    hr_buf_free(&diff);
    hr_buf_free(&text);
}

static void test_thresholds_and_protection(void)
{
    hr_buf in = unit_read_file(SCENARIOS "long-chat.json"), out = HR_BUF_INIT;
    hr_compress_options opt;
    hr_compress_options_init(&opt);
    opt.mode = HR_MODE_TOKEN; /* the rolling window these cases are about */
    opt.min_tokens = 20000;   /* every unit is smaller */
    CHECK_EQ_U(compress(&opt, &in, &out), HR_OK);
    CHECK(out.len == in.len && !memcmp(out.data, in.data, in.len));
    hr_compress_options_init(&opt);
    opt.mode = HR_MODE_TOKEN; /* the rolling window these cases are about */
    opt.protect_recent = 100; /* every message protected */
    CHECK_EQ_U(compress(&opt, &in, &out), HR_OK);
    CHECK(out.len == in.len && !memcmp(out.data, in.data, in.len));
    hr_buf_free(&in);
    hr_buf_free(&out);
}

/* The message the task is read from is never cut, even when old and long. */
static void test_task_message_kept(void)
{
    hr_buf req = HR_BUF_INIT, out = HR_BUF_INIT, text = HR_BUF_INIT;
    for (int i = 0; i < 300; i++) hr_buf_append(&text, "Please refactor module number 7 carefully. ", 43);
    const char *head = "{\"model\":\"gpt-4o\",\"messages\":[{\"role\":\"user\",\"content\":";
    const char *tail = "},{\"role\":\"assistant\",\"content\":\"ok\"}]}";
    hr_buf_append(&req, head, strlen(head));
    hr_json_encode_string(&req, text.data, text.len);
    hr_buf_append(&req, tail, strlen(tail));
    hr_compress_options opt;
    hr_compress_options_init(&opt);
    opt.mode = HR_MODE_TOKEN; /* the rolling window these cases are about */
    opt.protect_recent = 0;
    CHECK_EQ_U(compress(&opt, &req, &out), HR_OK);
    CHECK(out.len == req.len && !memcmp(out.data, req.data, req.len));
    hr_buf_free(&req);
    hr_buf_free(&out);
    hr_buf_free(&text);
}

/* Long text a user pasted into an older message is compressed too; the
 * latest user message (the task) is not. */
static void test_user_pasted_text(void)
{
    hr_buf log = unit_read_file(SCENARIOS "long-chat.json"), req = HR_BUF_INIT, out = HR_BUF_INIT, paste = HR_BUF_INIT;
    char line[96];
    for (int i = 0; i < 400; i++) {
        snprintf(line, sizeof line, "2026-11-20 10:%02d:%02d INFO worker-%d heartbeat ok queue=%d\n", i / 60, i % 60,
                 i % 4, i * 7 % 31);
        hr_buf_append(&paste, line, strlen(line));
    }
    hr_buf_append(&paste, "2026-11-20 10:07:00 ERROR worker-2 lost lease L-9917\n", 53);
    const char *head = "{\"model\":\"gpt-4o\",\"messages\":[{\"role\":\"user\",\"content\":";
    hr_buf_append(&req, head, strlen(head));
    hr_json_encode_string(&req, paste.data, paste.len);
    const char *tail =
        "},{\"role\":\"assistant\",\"content\":\"Noted.\"},{\"role\":\"user\",\"content\":\"Which lease was lost?\"}]}";
    hr_buf_append(&req, tail, strlen(tail));
    hr_compress_options opt;
    hr_compress_options_init(&opt);
    opt.mode = HR_MODE_TOKEN; /* the rolling window these cases are about */
    opt.protect_recent = 2;
    CHECK_EQ_U(compress(&opt, &req, &out), HR_OK);
    hr_compress_unit u;
    CHECK_EQ_U(hr_compressor_unit(comp, 0, &u), HR_OK);
    CHECK_EQ_S(u.where, "messages[0].content");
    CHECK_EQ_S(u.kind, "log");
    CHECK(u.tokens_after * 4 < u.tokens_before);
    const char *fact = "ERROR worker-2 lost lease L-9917", *task = "\"content\":\"Which lease was lost?\"}]}";
    CHECK(contains(&out, fact, strlen(fact)));
    CHECK(contains(&out, task, strlen(task)));
    hr_buf_free(&log);
    hr_buf_free(&req);
    hr_buf_free(&out);
    hr_buf_free(&paste);
}

static void expect_error(const char *body, const hr_compress_options *opt, hr_status want, size_t offset,
                         const char *msg)
{
    hr_buf in = HR_BUF_INIT, out = HR_BUF_INIT;
    hr_buf_append(&in, body, strlen(body));
    CHECK_EQ_U(compress(opt, &in, &out), want);
    CHECK_EQ_U(out.len, 0);
    CHECK_EQ_U(hr_compressor_error_offset(comp), offset);
    CHECK_EQ_S(hr_compressor_errmsg(comp), msg);
    hr_buf_free(&in);
    hr_buf_free(&out);
}

static void test_bad_input(void)
{
    hr_compress_options opt;
    hr_compress_options_init(&opt);
    opt.mode = HR_MODE_TOKEN; /* the rolling window these cases are about */
    expect_error("{\"model\":\"gpt-4o\",\"messages\":[{\"role\":\"user\",\"content\":\"hi}]}", &opt, HR_ETRUNCATED, 55,
                 "unterminated string");
    expect_error("", &opt, HR_ETRUNCATED, 0, "empty request");
    expect_error("[1,2]", &opt, HR_ENOTREQUEST, 0, "a request must be a JSON object");
    expect_error("{\"model\":\"x\"}", &opt, HR_ENOTREQUEST, 0,
                 "not a request of a known API shape: no \"messages\" or \"input\"");
    opt.format = HR_FORMAT_ANTHROPIC;
    expect_error("{\"input\":\"hi\"}", &opt, HR_ENOTREQUEST, 0,
                 "not a request of a known API shape: no \"messages\" array");
    hr_compress_options_init(&opt);
    opt.mode = HR_MODE_TOKEN; /* the rolling window these cases are about */
    opt.max_bytes = 10;
    expect_error("{\"messages\":[]}", &opt, HR_ETOOBIG, SIZE_MAX, "request of 15 bytes is over the limit of 10 bytes");
    hr_compress_options_init(&opt);
    opt.mode = HR_MODE_TOKEN; /* the rolling window these cases are about */
    opt.scorer = "neural";
    expect_error("{\"messages\":[]}", &opt, HR_ENOTFOUND, SIZE_MAX,
                 "unknown scorer 'neural' (known: auto, lexical, kompress)");
}

/* ---- the must-keep rules and the task's words ---------------------------------------- */

static void test_features(void)
{
    struct {
        const char *text;
        unsigned want;
    } cases[] = {
        {"request 3f0c9a52-8d1e-4b7a-9c3e-5a2f1d7e6b90 done", HR_F_UUID},
        {"commit 4ed62b7 landed", HR_F_HASH},
        {"see https://example.org/x?y=1", HR_F_URL},
        {"edit lib/compress.c now", HR_F_PATH},
        {"open config.yaml", HR_F_PATH},
        {"run with --protect-recent", HR_F_FLAG},
        {"rm -rf", HR_F_FLAG},
        {"failed with ENOENT", HR_F_ERRCODE},
        {"rustc E0308 mismatched", HR_F_ERRCODE},
        {"ERR_SSL_PROTOCOL here", HR_F_ERRCODE},
        {"call parse_config first", HR_F_IDENT},
        {"the HttpClient class", HR_F_IDENT},
        {"ValueError: bad", HR_F_SEVERITY},
        {"3 tests FAILED", HR_F_SEVERITY},
        {"port 8443", HR_F_NUMBER},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        unsigned got = hr__features(cases[i].text, strlen(cases[i].text));
        if (!(got & cases[i].want)) printf("  \"%s\": features 0x%x lack 0x%x\n", cases[i].text, got, cases[i].want);
        CHECK(got & cases[i].want);
    }
    const char *plain = "the quick brown fox jumps over the lazy dog";
    CHECK_EQ_U(hr__features(plain, strlen(plain)), 0);
}

static void test_task_words(void)
{
    static const char *const stop[] = {"about", "the", "which", "yours", "please", "between", "would", "after"};
    for (size_t i = 0; i < sizeof stop / sizeof stop[0]; i++) CHECK(hr__is_stopword(stop[i], strlen(stop[i])));
    CHECK(!hr__is_stopword("malloc", 6));
    CHECK(!hr__is_stopword("41", 2));
    struct hr_query q;
    const char *task = "Why does parse_config fail on web-41 with the HttpClient?";
    CHECK_EQ_U(hr__query_build(&q, task, strlen(task)), HR_OK);
    CHECK(hr__query_has_term(&q, hr__hash_lower("PARSE_CONFIG", 12)));
    CHECK(hr__query_has_term(&q, hr__hash_lower("41", 2)));
    CHECK(!hr__query_has_term(&q, hr__hash_lower("the", 3)));
    CHECK(hr__query_has_ident(&q, hr__hash("HttpClient", 10)));
    CHECK(!hr__query_has_ident(&q, hr__hash("httpclient", 10)));
    hr__query_free(&q);
}

/* Odd content of every kind through every compressor: no crash (the tests
 * also run under ASan/UBSan), valid JSON out, idempotent. */
/* Which tool results stay exact: file reads and edits by tool name (the
 * defaults, what exact_tools adds or removes), shell commands that print a
 * file, in each API's form of the arguments. */
static void test_exact_tools(void)
{
    static const struct {
        const char *call, *exact_tools;
        int exact;
    } cases[] = {
        {"{\"name\": \"read_file\", \"args\": {\"path\": \"a.c\"}}", NULL, 1},
        {"{\"name\": \"Read\", \"args\": {\"file_path\": \"a.c\"}}", NULL, 1},
        {"{\"name\": \"read_file\", \"args\": {}}", "x, -read_file", 0},
        {"{\"name\": \"fetch\", \"args\": {}}", "+fetch", 1},
        {"{\"name\": \"web_search\", \"args\": {\"query\": \"cat\"}}", NULL, 0},
        {"{\"name\": \"terminal\", \"args\": {\"command\": \"cat lib/a.c\"}}", NULL, 1},
        {"{\"name\": \"Bash\", \"args\": {\"command\": \"cd /x && sed -n '10,80p' a.c\"}}", NULL, 1},
        {"{\"name\": \"shell\", \"args\": {\"command\": [\"bash\", \"-lc\", \"nl -ba a.c | head -50\"]}}", NULL, 1},
        {"{\"name\": \"terminal\", \"args\": \"{\\\"command\\\": \\\"tail -n 200 x.log\\\"}\"}", NULL, 1},
        {"{\"name\": \"terminal\", \"args\": {\"command\": \"grep -rn foo . | head\"}}", NULL, 0},
        {"{\"name\": \"terminal\", \"args\": {\"command\": \"sed -i s/a/b/ a.c\"}}", NULL, 0},
        {"{\"name\": \"terminal\", \"args\": {\"command\": \"make && /bin/cat out.txt\"}}", NULL, 1},
        {"{\"name\": \"terminal\", \"args\": {\"command\": \"dpkg -l\"}}", NULL, 0},
    };
    hr_json *doc = NULL;
    CHECK_EQ_U(hr_json_new(&doc), HR_OK);
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        CHECK_EQ_U(hr_json_parse(doc, cases[i].call, strlen(cases[i].call)), HR_OK);
        hr_json_node root = hr_json_root(doc);
        int got = hr__tool_is_exact(doc, hr_json_get(doc, root, "name"), hr_json_get(doc, root, "args"),
                                    cases[i].exact_tools);
        if (got != cases[i].exact) printf("  %s (%s): %d\n", cases[i].call, cases[i].exact_tools, got);
        CHECK_EQ_U(got, cases[i].exact);
    }
    hr_json_free(doc);
}

/* The memory of what was sent: the first value wins, the least recently
 * used goes past the bound, "as it came" is remembered too. */
static void test_sent_memory(void)
{
    hr_sent *s = NULL;
    CHECK_EQ_U(hr_sent_new(600, &s), HR_OK);
    unsigned char k1[32], k2[32], k3[32];
    hr__sent_key("\"a\"", 3, k1);
    hr__sent_key("\"b\"", 3, k2);
    hr__sent_key("\"c\"", 3, k3);
    hr_buf got = HR_BUF_INIT;
    int raw = -1;
    CHECK_EQ_U(hr__sent_get(s, k1, &got, &raw), 0);
    CHECK_EQ_U(hr__sent_put(s, k1, "\"A\"", 3, &got, &raw), HR_OK);
    CHECK(!raw && got.len == 3 && !memcmp(got.data, "\"A\"", 3));
    got.len = 0;
    CHECK_EQ_U(hr__sent_put(s, k1, NULL, 0, &got, &raw), HR_OK); /* later: the first stays */
    CHECK(!raw && got.len == 3);
    got.len = 0;
    CHECK_EQ_U(hr__sent_put(s, k2, NULL, 0, &got, &raw), HR_OK);
    CHECK(raw && got.len == 0);
    CHECK_EQ_U(hr__sent_get(s, k2, &got, &raw), 1);
    CHECK(raw);
    CHECK_EQ_U(hr__sent_get(s, k1, &got, &raw), 1); /* k1 now the most recent */
    for (int i = 0; i < 8; i++) {                   /* past 600 bytes: k2 goes before k1 */
        unsigned char k[32];
        char text[16];
        snprintf(text, sizeof text, "\"x%d\"", i);
        hr__sent_key(text, strlen(text), k);
        got.len = 0;
        CHECK_EQ_U(hr__sent_put(s, k, text, strlen(text), &got, &raw), HR_OK);
        if (i == 0) CHECK_EQ_U(hr__sent_get(s, k1, &got, &raw), 1);
    }
    CHECK(hr_sent_count(s) < 10);
    CHECK_EQ_U(hr__sent_get(s, k2, &got, &raw), 0);
    CHECK_EQ_U(hr__sent_get(s, k3, &got, &raw), 0);
    hr_buf_free(&got);
    hr_sent_free(s);

    /* the index on disk: hashes only, read again by the next run; a record
     * cut short by a crash is left out */
    char dir[] = "/tmp/hr-test-sent-XXXXXX", path[64];
    CHECK(mkdtemp(dir) != NULL);
    snprintf(path, sizeof path, "%s/sent-index", dir);
    CHECK_EQ_U(hr_sent_new(0, &s), HR_OK);
    CHECK_EQ_U(hr_sent_open_index(s, path), HR_OK);
    CHECK_EQ_U(hr__sent_put(s, k1, "\"A\"", 3, &got, &raw), HR_OK);
    CHECK_EQ_U(hr__sent_put(s, k2, NULL, 0, &got, &raw), HR_OK);
    hr_sent_free(s);
    FILE *f = fopen(path, "ab");
    fwrite("partial", 1, 7, f);
    fclose(f);
    CHECK_EQ_U(hr_sent_new(0, &s), HR_OK);
    CHECK_EQ_U(hr_sent_open_index(s, path), HR_OK);
    unsigned char hash[32], want[32];
    hr__sent_key("\"A\"", 3, want);
    CHECK_EQ_U(hr__sent_get(s, k1, &got, &raw), 0); /* the strings are not on disk */
    CHECK(hr__sent_recall(s, k1, hash, &raw) == 1 && !raw && !memcmp(hash, want, 32));
    CHECK(hr__sent_recall(s, k2, hash, &raw) == 1 && raw);
    CHECK(hr__sent_recall(s, k3, hash, &raw) == 0);
    CHECK_EQ_U(hr__sent_put(s, k3, NULL, 0, &got, &raw), HR_OK); /* after the cut record */
    hr_sent_free(s);
    CHECK_EQ_U(hr_sent_new(0, &s), HR_OK);
    CHECK_EQ_U(hr_sent_open_index(s, path), HR_OK);
    CHECK(hr__sent_recall(s, k3, hash, &raw) == 1 && raw);
    CHECK(hr__sent_recall(s, k1, hash, &raw) == 1 && !raw);
    hr_sent_free(s);
    hr_buf_free(&got);
    unlink(path);
    rmdir(dir);
}

static void test_odd_content(void)
{
    static const char alphabet[] = "ab  Z9_-./:{}[]\",\n\n\t@+ 0x1f ERROR diff --git @@ -1 +1 @@\n a.c:12:x\n";
    unsigned seed = 12345;
    hr_buf text = HR_BUF_INIT, req = HR_BUF_INIT, out = HR_BUF_INIT, again = HR_BUF_INIT;
    hr_compress_options opt;
    hr_compress_options_init(&opt);
    opt.mode = HR_MODE_TOKEN; /* the rolling window these cases are about */
    opt.protect_recent = 2;
    opt.min_tokens = 1;
    for (int round = 0; round < 300; round++) {
        text.len = 0;
        size_t n = 1 + (size_t)(round * 37 % 3000);
        if (round % 3 == 0) hr_buf_append(&text, "[", 1);
        for (size_t i = 0; i < n; i++) {
            seed = seed * 1103515245u + 12345u;
            size_t k = (seed >> 16) % (sizeof alphabet - 1);
            if (round % 3 == 0 && alphabet[k] == '"') continue;
            hr_buf_append(&text, alphabet + k, 1);
        }
        if (round % 3 == 0) { /* a JSON array of small objects, maybe broken */
            text.len = 1;
            for (int j = 0; j < 40 + round; j++) {
                char item[64];
                snprintf(item, sizeof item, "%s{\"k\":%d,\"v\":\"%c\"}", j ? "," : "", j % 7, 'a' + j % 26);
                hr_buf_append(&text, item, strlen(item));
            }
            hr_buf_append(&text, round % 2 ? "]" : "", round % 2);
        }
        hr_buf_append(&text, "", 0);
        tool_request(&req, text.data, "check k 3");
        CHECK_EQ_U(compress(&opt, &req, &out), HR_OK);
        CHECK(changed_strings(&req, &out, NULL, 0, NULL, NULL) >= 0);
        CHECK_EQ_U(compress(&opt, &out, &again), HR_OK);
        CHECK(again.len == out.len && !memcmp(again.data, out.data, out.len));
    }
    hr_buf_free(&text);
    hr_buf_free(&req);
    hr_buf_free(&out);
    hr_buf_free(&again);
}

/* hr_splice_replace() refuses exactly the edits that clash with one taken
 * before (ranges that share a byte; insertions at one point), in order or
 * not: checked against every earlier edit, in a model of its own. */
struct span {
    size_t start, end;
};

static int clash(struct span a, struct span b)
{
    if (a.start == a.end || b.start == b.end) {
        if (a.start == b.start) return 1;
        struct span range = a.start == a.end ? b : a, point = a.start == a.end ? a : b;
        return point.start > range.start && point.start < range.end;
    }
    return a.start < b.end && b.start < a.end;
}

static void test_splice_overlaps(void)
{
    static char orig[4096];
    memset(orig, 'x', sizeof orig);
    unsigned r = 99;
    for (int round = 0; round < 200; round++) {
        hr_splice *sp = NULL;
        CHECK_EQ_U(hr_splice_new(orig, sizeof orig, &sp), HR_OK);
        struct span taken[300];
        size_t n = 0, at = 0;
        for (int k = 0; k < 300; k++) {
            r = r * 1103515245u + 12345u;
            struct span e;
            if ((r >> 8) % 5) { /* mostly onward, as a walk of a document goes */
                e.start = at + (r >> 12) % 20;
                e.end = e.start + (r >> 20) % 12;
            } else { /* anywhere */
                e.start = (r >> 10) % sizeof orig;
                e.end = e.start + (r >> 22) % 40;
            }
            if (e.end > sizeof orig) continue;
            int want_ok = 1;
            for (size_t i = 0; i < n; i++)
                if (clash(taken[i], e)) want_ok = 0;
            hr_status st = hr_splice_replace(sp, e.start, e.end, "y", 1);
            CHECK_EQ_U(st, want_ok ? HR_OK : HR_EINVAL);
            if (st == HR_OK) {
                taken[n++] = e;
                if (e.end > at) at = e.end;
            }
        }
        hr_splice_free(sp);
    }
}

struct cancel_run {
    hr_compressor *c;
    const hr_buf *req;
    hr_buf out;
    hr_status st;
};

static void *run_compress(void *arg)
{
    struct cancel_run *r = arg;
    hr_compress_options opt;
    hr_compress_options_init(&opt);
    r->st = hr_compress(r->c, &opt, r->req->data, r->req->len, &r->out);
    return NULL;
}

/* hr_compressor_cancel(): before a call, and from another thread during one
 * that has megabytes of one word to count; nothing is appended, and the
 * handle works again once the flag is cleared. */
static void test_cancel(void)
{
    hr_compressor *c;
    CHECK_EQ_U(hr_compressor_new(&c), HR_OK);
    hr_buf word = HR_BUF_INIT, req = HR_BUF_INIT, out = HR_BUF_INIT;
    unsigned r = 7;
    while (word.len < (12u << 20)) {
        r = r * 1103515245u + 12345u;
        char ch = (char)('a' + (r >> 16) % 26);
        hr_buf_append(&word, &ch, 1);
    }
    hr_buf_append(&word, "", 0);
    tool_request(&req, word.data, "what does it say?");
    hr_compress_options opt;
    hr_compress_options_init(&opt);
    hr_buf_append(&out, "kept", 4);
    hr_compressor_cancel(c, 1);
    CHECK_EQ_U(hr_compress(c, &opt, req.data, req.len, &out), HR_ECANCELED);
    CHECK_EQ_U(out.len, 4);
    CHECK_EQ_S(hr_compressor_errmsg(c), "cancelled");

    struct cancel_run run = {c, &req, HR_BUF_INIT, HR_OK};
    hr_compressor_cancel(c, 0);
    pthread_t th;
    CHECK(pthread_create(&th, NULL, run_compress, &run) == 0);
    usleep(50 * 1000);
    hr_compressor_cancel(c, 1);
    pthread_join(th, NULL);
    CHECK_EQ_U(run.st, HR_ECANCELED);
    CHECK_EQ_U(run.out.len, 0);

    hr_compressor_cancel(c, 0);
    const char *small = "{\"model\":\"gpt-4o\",\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}";
    out.len = 0;
    CHECK_EQ_U(hr_compress(c, &opt, small, strlen(small), &out), HR_OK);
    CHECK(out.len == strlen(small) && !memcmp(out.data, small, out.len));
    hr_buf_free(&run.out);
    hr_buf_free(&word);
    hr_buf_free(&req);
    hr_buf_free(&out);
    hr_compressor_free(c);
}

int main(void)
{
    if (hr_compressor_new(&comp)) return 1;
    RUN(test_features);
    RUN(test_task_words);
    RUN(test_scenarios);
    RUN(test_compressors_on_real_data);
    RUN(test_faithfulness_check_can_fail);
    RUN(test_log_folds_repeats_and_keeps_traces);
    RUN(test_json_keeps_errors_outliers_and_task_items);
    RUN(test_json_said_losslessly_when_small_enough);
    RUN(test_lossless_json_strings_stay_exact);
    RUN(test_envelope_kept_when_saving_is_tiny);
    RUN(test_thresholds_and_protection);
    RUN(test_task_message_kept);
    RUN(test_user_pasted_text);
    RUN(test_bad_input);
    RUN(test_odd_content);
    RUN(test_exact_tools);
    RUN(test_sent_memory);
    RUN(test_cancel);
    RUN(test_splice_overlaps);
    hr_compressor_free(comp);
    return unit_any_failed;
}
