/* The request log (lib/log): the line a record is written as, a round trip
 * of awkward strings through the writer and the one reader, rotation at the
 * size limit, appends that fail for real (RLIMIT_FSIZE, /dev/full) leaving
 * the file as it was, and a reader that skips torn and foreign lines. */
#include "hr_internal.h"
#include "unit.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

static char *temp_dir(void)
{
    char tmpl[] = "/tmp/hr-test-log-XXXXXX";
    char *dir = mkdtemp(tmpl);
    CHECK(dir != NULL);
    return dir ? strdup(dir) : NULL;
}

static void remove_dir(const char *dir)
{
    char name[64], path[4200];
    for (int i = 0; i <= HR__LOG_KEEP + 1; i++) {
        hr__log_file_name(i, name, sizeof name);
        snprintf(path, sizeof path, "%s/%s", dir, name);
        unlink(path);
    }
    rmdir(dir);
}

static hr_buf file_text(const char *dir, int i)
{
    char name[64], path[4200];
    hr_buf b = HR_BUF_INIT;
    hr__log_file_name(i, name, sizeof name);
    snprintf(path, sizeof path, "%s/%s", dir, name);
    if (hr__read_file(path, &b)) hr_buf_free(&b);
    return b;
}

/* A record as hr-proxy fills one. */
static struct hr__log_record sample(void)
{
    struct hr__log_record r;
    memset(&r, 0, sizeof r);
    snprintf(r.ts, sizeof r.ts, "2026-11-24T10:00:00.123Z");
    r.ts_ms = hr__utc_time_ms(r.ts);
    snprintf(r.id, sizeof r.id, "req-1");
    r.method = "POST";
    r.provider = "anthropic";
    r.upstream = "api.anthropic.com:443";
    snprintf(r.path, sizeof r.path, "/v1/messages");
    snprintf(r.model, sizeof r.model, "claude-x");
    r.stream = 1, r.status = 200;
    r.tokens_before = 1000, r.tokens_after = 400, r.tokens_lossless = 700;
    r.scorer = "lexical";
    r.compress_ms = 1.5, r.ttfb_ms = 20.25, r.total_ms = 100.125;
    r.usage = (struct hr__log_usage){1, "anthropic-messages", 10, 20, 30, 40};
    r.billed = 12.5, r.billed_before = 612.5, r.billed_after = 12.5;
    r.has_cost = 1, r.cost_usd = 0.0125;
    return r;
}

/* The line, byte for byte: the proxy, bill and verify tests read these. */
static void test_format(void)
{
    struct hr__log_record r = sample();
    hr_buf line = HR_BUF_INIT;
    CHECK(hr__log_format(&r, &line) == HR_OK);
    CHECK_EQ_S(line.data,
               "{\"ts\":\"2026-11-24T10:00:00.123Z\",\"id\":\"req-1\",\"method\":\"POST\",\"path\":\"/v1/messages\","
               "\"provider\":\"anthropic\",\"upstream\":\"api.anthropic.com:443\",\"model\":\"claude-x\",\"stream\":"
               "true,\"status\":200,\"tokens_before\":1000,\"tokens_after\":400,\"tokens_saved\":600,"
               "\"saved_lossless\":300,\"saved_lossy\":300,\"compress_ms\":1.500,\"ttfb_ms\":20.250,\"total_ms\":"
               "100.125,\"scorer\":\"lexical\",\"scorer_backend\":null,\"error\":null,\"observe\":false,\"usage\":{"
               "\"api\":\"anthropic-messages\",\"input_uncached\":10,\"cache_write\":20,\"cache_read\":30,\"output\":"
               "40},\"billed_units\":12.5,\"billed_units_before\":612.5,\"cost_usd\":0.0125}\n");
    hr_buf_free(&line);
    /* no usage, observe mode, nothing compressed */
    r.usage.have = 0, r.observe = 1, r.scorer = NULL, r.tokens_after = r.tokens_lossless = 1000;
    snprintf(r.error, sizeof r.error, "upstream timed out");
    CHECK(hr__log_format(&r, &line) == HR_OK);
    CHECK(line.data && strstr(line.data, "\"tokens_saved\":0,\"saved_lossless\":0,\"saved_lossy\":0,"));
    CHECK(line.data && strstr(line.data, "\"scorer\":null,\"scorer_backend\":null,\"error\":\"upstream timed out\","
                                         "\"observe\":true,\"usage\":null}\n"));
    hr_buf_free(&line);
}

struct kept {
    size_t n;
    char ids[8][40];
    hr_buf lines; /* each record formatted again */
};

static int keep(const struct hr__log_record *r, void *ctx)
{
    struct kept *k = ctx;
    if (k->n < 8) snprintf(k->ids[k->n], sizeof k->ids[0], "%s", r->id);
    k->n++;
    CHECK(hr__log_format(r, &k->lines) == HR_OK);
    return 0;
}

/* Quotes, backslashes, control bytes and UTF-8 through the writer and back. */
static void test_round_trip(void)
{
    char *dir = temp_dir();
    if (!dir) return;
    struct hr__log_writer *w = hr__log_open(dir, 1 << 20);
    CHECK(w && !hr__log_problem(w));
    struct hr__log_record r = sample();
    snprintf(r.path, sizeof r.path, "/v1/\"q\"\\back\x01\x1f\ttab\nnl caf\xc3\xa9 \xe6\x97\xa5 \xf0\x9f\x98\x80");
    snprintf(r.model, sizeof r.model,
             "m\"o\\d\x7f"
             "el");
    snprintf(r.error, sizeof r.error, "bad \"thing\"\r\n\b\f end");
    r.upstream = "h\xc3\xb6st:8443";
    r.scorer = "kompress", r.scorer_backend = "cuda";
    r.observe = 1, r.billed_after = 2.25;
    CHECK(hr__log_append(w, &r) == 0);
    r.usage.have = 0, r.scorer = NULL, r.error[0] = '\0';
    snprintf(r.id, sizeof r.id, "req-2");
    CHECK(hr__log_append(w, &r) == 0);
    hr__log_close(w);

    hr_buf text = file_text(dir, 0);
    struct kept k = {0};
    hr_log_scan scan;
    CHECK(hr__log_each(dir, 0, keep, &k, &scan) == 0);
    CHECK_EQ_U(scan.files, 1);
    CHECK_EQ_U(scan.records, 2);
    CHECK_EQ_U(scan.bad_lines, 0);
    CHECK_EQ_U(scan.newest_ms, r.ts_ms);
    CHECK_EQ_S(k.ids[0], "req-1");
    CHECK_EQ_S(k.ids[1], "req-2");
    CHECK(text.data && k.lines.data && text.len == k.lines.len && !memcmp(text.data, k.lines.data, text.len));
    size_t newlines = 0;
    for (size_t i = 0; i < text.len; i++) newlines += text.data[i] == '\n';
    CHECK_EQ_U(newlines, 2); /* the strings' own are escaped */
    hr_buf_free(&text);
    hr_buf_free(&k.lines);
    remove_dir(dir);
    free(dir);
}

struct first {
    struct hr__log_record r;
    char path[512], method[16], scorer[32], api[32];
    int n;
};

static int first_record(const struct hr__log_record *r, void *ctx)
{
    struct first *f = ctx;
    f->r = *r;
    snprintf(f->method, sizeof f->method, "%s", r->method);
    snprintf(f->scorer, sizeof f->scorer, "%s", r->scorer ? r->scorer : "(null)");
    snprintf(f->api, sizeof f->api, "%s", r->usage.api ? r->usage.api : "(null)");
    f->n++;
    return 1;
}

/* The fields the reader gives back, one by one. */
static void test_read_fields(void)
{
    char *dir = temp_dir();
    if (!dir) return;
    struct hr__log_writer *w = hr__log_open(dir, 1 << 20);
    struct hr__log_record r = sample();
    snprintf(r.path, sizeof r.path, "/a\"b\x01\xe6\x97\xa5");
    CHECK(w && hr__log_append(w, &r) == 0);
    CHECK(w && hr__log_append(w, &r) == 0);
    hr__log_close(w);
    struct first f = {0};
    hr_log_scan scan;
    CHECK(hr__log_each(dir, 0, first_record, &f, &scan) == 0);
    CHECK_EQ_U(f.n, 1); /* fn stopped the reading */
    CHECK_EQ_S(f.r.path, "/a\"b\x01\xe6\x97\xa5");
    CHECK_EQ_S(f.method, "POST");
    CHECK_EQ_S(f.scorer, "lexical");
    CHECK_EQ_S(f.api, "anthropic-messages");
    CHECK(f.r.scorer_backend == NULL);
    CHECK_EQ_U(f.r.tokens_before, 1000);
    CHECK_EQ_U(f.r.tokens_after, 400);
    CHECK_EQ_U(f.r.tokens_lossless, 700);
    CHECK_EQ_U(f.r.usage.output, 40);
    CHECK(f.r.stream && f.r.status == 200 && f.r.has_cost && f.r.billed_after == 12.5 && f.r.total_ms == 100.125);
    /* since_ms leaves older records aside, but counts them */
    struct kept k = {0};
    CHECK(hr__log_each(dir, r.ts_ms + 1, keep, &k, &scan) == 0);
    CHECK_EQ_U(k.n, 0);
    CHECK_EQ_U(scan.records, 2);
    hr_buf_free(&k.lines);
    remove_dir(dir);
    free(dir);
}

/* Past max_bytes the file becomes .1, the older ones move up, .5 is the
 * last kept; the reader reads them newest first. */
static void test_rotation(void)
{
    char *dir = temp_dir();
    if (!dir) return;
    struct hr__log_record r = sample();
    hr_buf one = HR_BUF_INIT;
    snprintf(r.id, sizeof r.id, "req-00"); /* all of the same length */
    CHECK(hr__log_format(&r, &one) == HR_OK);
    /* two lines fit below the limit: the third append rotates first */
    struct hr__log_writer *w = hr__log_open(dir, 2 * one.len);
    for (int i = 1; i <= 2 * (HR__LOG_KEEP + 2); i++) {
        snprintf(r.id, sizeof r.id, "req-%02d", i);
        CHECK(w && hr__log_append(w, &r) == 0);
    }
    hr__log_close(w);
    for (int i = 0; i <= HR__LOG_KEEP; i++) {
        hr_buf b = file_text(dir, i);
        CHECK_EQ_U(b.len, 2 * one.len); /* whole lines only */
        hr_buf_free(&b);
    }
    hr_buf gone = file_text(dir, HR__LOG_KEEP + 1);
    CHECK(gone.data == NULL);
    struct kept k = {0};
    hr_log_scan scan;
    CHECK(hr__log_each(dir, 0, keep, &k, &scan) == 0);
    CHECK_EQ_U(scan.files, HR__LOG_KEEP + 1);
    CHECK_EQ_U(k.n, 2 * (HR__LOG_KEEP + 1));
    CHECK_EQ_S(k.ids[0], "req-13"); /* the current file first */
    CHECK_EQ_S(k.ids[1], "req-14");
    CHECK_EQ_S(k.ids[2], "req-11");
    CHECK_EQ_S(k.ids[7], "req-08"); /* then .1, .2, .3 */
    hr_buf_free(&k.lines);
    hr_buf_free(&one);
    remove_dir(dir);
    free(dir);
}

/* An append that cannot be whole: RLIMIT_FSIZE lets half the line in, the
 * rest fails with EFBIG; the file must be byte for byte as before. */
static void test_failed_append(void)
{
    char *dir = temp_dir();
    if (!dir) return;
    struct hr__log_writer *w = hr__log_open(dir, 1 << 20);
    struct hr__log_record r = sample();
    CHECK(w && hr__log_append(w, &r) == 0);
    hr_buf before = file_text(dir, 0);
    struct rlimit old, lim;
    getrlimit(RLIMIT_FSIZE, &old);
    lim = old;
    lim.rlim_cur = before.len + before.len / 2;
    void (*was)(int) = signal(SIGXFSZ, SIG_IGN);
    CHECK(setrlimit(RLIMIT_FSIZE, &lim) == 0);
    int err = w ? hr__log_append(w, &r) : -1;
    setrlimit(RLIMIT_FSIZE, &old);
    signal(SIGXFSZ, was);
    CHECK_EQ_U(err, EFBIG);
    hr_buf after = file_text(dir, 0);
    CHECK(after.len == before.len && before.data && after.data && !memcmp(after.data, before.data, before.len));
    const char *why = w ? hr__log_problem(w) : NULL;
    CHECK(why && strstr(why, "requests.jsonl: File too large"));
    /* it works again, and says so */
    CHECK(w && hr__log_append(w, &r) == 0);
    CHECK(w && hr__log_problem(w) == NULL);
    hr_buf_free(&after);
    after = file_text(dir, 0);
    CHECK_EQ_U(after.len, 2 * before.len);
    hr__log_close(w);
    hr_buf_free(&before);
    hr_buf_free(&after);
    remove_dir(dir);
    free(dir);
}

/* A full disk: the log is /dev/full, every write fails with ENOSPC. */
static void test_full_disk(void)
{
    char *dir = temp_dir();
    if (!dir) return;
    char path[4200];
    snprintf(path, sizeof path, "%s/%s", dir, HR_LOG_FILE);
    if (access("/dev/full", W_OK) || symlink("/dev/full", path)) {
        printf("  no /dev/full here\n");
        unit_skipped = 1;
        remove_dir(dir);
        free(dir);
        return;
    }
    struct hr__log_writer *w = hr__log_open(dir, 1 << 20);
    struct hr__log_record r = sample();
    CHECK(w && hr__log_append(w, &r) == ENOSPC);
    const char *why = w ? hr__log_problem(w) : NULL;
    CHECK(why && strstr(why, "No space left on device"));
    hr__log_close(w);
    remove_dir(dir);
    free(dir);
}

/* An older writer's torn last line, a foreign object, text that is no JSON
 * and an empty line: counted, skipped, never fatal. */
static void test_torn_and_foreign(void)
{
    char *dir = temp_dir();
    if (!dir) return;
    struct hr__log_record r = sample();
    hr_buf text = HR_BUF_INIT, line = HR_BUF_INIT;
    CHECK(hr__log_format(&r, &line) == HR_OK);
    hr_buf_append(&text, line.data, line.len);
    hr_buf_append(&text, "{\"hello\":\"world\"}\n\nnot json at all\n", 35);
    hr_buf_append(&text, line.data, line.len);
    hr_buf_append(&text, line.data, line.len / 2); /* the torn one */
    char path[4200];
    snprintf(path, sizeof path, "%s/%s", dir, HR_LOG_FILE);
    CHECK(hr__write_file_atomic(path, text.data, text.len, 0600) == 0);
    struct kept k = {0};
    hr_log_scan scan;
    CHECK(hr__log_each(dir, 0, keep, &k, &scan) == 0);
    CHECK_EQ_U(scan.records, 2);
    CHECK_EQ_U(k.n, 2);
    CHECK_EQ_U(scan.bad_lines, 3);
    /* a writer appending after it starts a line of its own */
    struct hr__log_writer *w = hr__log_open(dir, 1 << 20);
    CHECK(w && hr__log_append(w, &r) == 0);
    hr__log_close(w);
    CHECK(hr__log_each(dir, 0, keep, &k, &scan) == 0);
    CHECK_EQ_U(scan.records, 3);
    CHECK_EQ_U(scan.bad_lines, 3);
    hr_buf_free(&k.lines);
    hr_buf_free(&text);
    hr_buf_free(&line);
    remove_dir(dir);
    free(dir);
}

struct newest {
    char order[8];
    size_t n;
};

static int note_line(const hr_json *d, hr_json_node obj, const char *line, void *ctx)
{
    struct newest *nw = ctx;
    nw->order[nw->n++] = (char)hr__jsonl_number(d, line, obj, "n") + '0';
    return nw->n == 3;
}

/* The tail of a file from a line's start, read newest first. */
static void test_jsonl_tail(void)
{
    char *dir = temp_dir();
    if (!dir) return;
    char *path = hr__path_join(dir, HR_LOG_FILE);
    const char *text = "{\"n\":1}\n{\"n\":2}\n{\"n\":3}\n{\"n\":4}\n{\"n\":5}\n{\"n\":6"; /* 6 torn */
    CHECK(hr__write_file_atomic(path, text, strlen(text), 0600) == 0);
    hr_buf b = HR_BUF_INIT;
    CHECK(hr__jsonl_load(path, 28, &b) == 0); /* from the middle of {"n":3} */
    CHECK_EQ_S(b.data, "{\"n\":4}\n{\"n\":5}\n{\"n\":6");
    hr_buf_free(&b);
    CHECK(hr__jsonl_load(path, 30, &b) == 0); /* from a line's start: kept */
    CHECK_EQ_S(b.data, "{\"n\":3}\n{\"n\":4}\n{\"n\":5}\n{\"n\":6");
    struct newest nw = {{0}, 0};
    size_t bad = 0;
    CHECK(hr__jsonl_each(&b, 1, note_line, &nw, &bad) == HR_OK);
    CHECK_EQ_S(nw.order, "543");
    CHECK_EQ_U(bad, 1);
    hr_buf_free(&b);
    free(path);
    remove_dir(dir);
    free(dir);
}

static void test_times(void)
{
    CHECK(hr__utc_time_ms("1970-01-01T00:00:01.5Z") == 1500);
    CHECK(hr__utc_time_ms("2026-11-24T10:00:00+01:00") == hr__utc_time_ms("2026-11-24T09:00:00Z"));
    CHECK(hr__utc_time_ms("2026-11-24 10:00") == -1);
    struct hr__log_record r;
    hr__log_stamp(&r);
    CHECK(strlen(r.ts) == 24 && r.ts[23] == 'Z' && hr__utc_time_ms(r.ts) == r.ts_ms);
}

int main(void)
{
    RUN(test_format);
    RUN(test_round_trip);
    RUN(test_read_fields);
    RUN(test_rotation);
    RUN(test_failed_append);
    RUN(test_full_disk);
    RUN(test_torn_and_foreign);
    RUN(test_jsonl_tail);
    RUN(test_times);
    return unit_any_failed;
}
