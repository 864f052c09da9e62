/* The public API hr-verify and hr-patch-auth are built on, through hr.h
 * alone, as a third party calls it: the settings, the request log, a Hermes
 * home from testdata/hermes-homes/ (opened, judged, patched and rolled
 * back), the plugin's report and call record, URLs. Each test works on a
 * copy in a temporary folder. */
#include "hr.h"
#include "unit.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define FIXTURE "testdata/hermes-homes/codex"
#define PLUGIN "scripts/hermes-plugin/headroom-route"

static char tmp[64];

static char *path_in(const char *dir, const char *name)
{
    static char path[4][512];
    static int k;
    k = (k + 1) % 4;
    snprintf(path[k], sizeof path[k], "%s/%s", dir, name);
    return path[k];
}

static void write_text(const char *path, const char *text)
{
    FILE *f = fopen(path, "wb");
    CHECK(f != NULL);
    if (!f) return;
    fputs(text, f);
    fclose(f);
}

/* A copy of the fixture home at tmp/name (auth.json 0600, as Hermes keeps it). */
static const char *fixture_copy(const char *name)
{
    static char dir[128];
    snprintf(dir, sizeof dir, "%s/%s", tmp, name);
    CHECK(!mkdir(dir, 0700));
    static const char *const files[] = {"auth.json", "config.yaml"};
    for (int i = 0; i < 2; i++) {
        hr_buf b = unit_read_file(path_in(FIXTURE, files[i]));
        write_text(path_in(dir, files[i]), b.data ? b.data : "");
        hr_buf_free(&b);
    }
    chmod(path_in(dir, "auth.json"), 0600);
    return dir;
}

static void remove_tree(const char *dir)
{
    char cmd[256];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    CHECK(system(cmd) == 0);
}

/* ---- URLs, listen addresses, the default home -------------------------------- */

static void test_url_host_port(void)
{
    const char *host;
    size_t len;
    int port;
    CHECK(!hr_url_host_port("http://[::1]:8788/v1", &host, &len, &port));
    CHECK(len == 3 && !strncmp(host, "::1", 3));
    CHECK_EQ_U(port, 8788);
    CHECK(!hr_url_host_port("https://API.example.com/x", &host, &len, &port));
    CHECK(len == 15 && !strncmp(host, "API.example.com", 15));
    CHECK_EQ_U(port, 443);
    CHECK(!hr_url_host_port("http://h:99999", &host, &len, &port) && port == -1);
    CHECK(hr_url_host_port("ftp://h/", &host, &len, &port) == HR_EINVAL);
    CHECK(hr_url_host_port("http://", &host, &len, &port) == HR_EINVAL);

    hr_buf url = HR_BUF_INIT;
    CHECK(!hr_listen_url("0.0.0.0:9999", &url));
    CHECK_EQ_S(url.data, "http://127.0.0.1:9999");
    hr_buf_free(&url);
    CHECK(!hr_listen_url("[::]:8788", &url));
    CHECK_EQ_S(url.data, "http://[::1]:8788");
    hr_buf_free(&url);
    CHECK(hr_listen_url("no port", &url) == HR_EINVAL && url.len == 0);
}

static void test_hermes_default_dir(void)
{
    char *home = getenv("HOME") ? strdup(getenv("HOME")) : NULL,
         *hh = getenv("HERMES_HOME") ? strdup(getenv("HERMES_HOME")) : NULL;
    hr_buf b = HR_BUF_INIT;
    setenv("HERMES_HOME", "/srv/hermes", 1);
    CHECK(!hr_hermes_default_dir(&b));
    CHECK_EQ_S(b.data, "/srv/hermes");
    hr_buf_free(&b);
    unsetenv("HERMES_HOME");
    setenv("HOME", "/home/u", 1);
    CHECK(!hr_hermes_default_dir(&b));
    CHECK_EQ_S(b.data, "/home/u/.hermes");
    hr_buf_free(&b);
    unsetenv("HOME");
    CHECK(hr_hermes_default_dir(&b) == HR_ENOTFOUND);
    if (home) setenv("HOME", home, 1);
    if (hh) setenv("HERMES_HOME", hh, 1);
    free(home);
    free(hh);
}

/* ---- settings ------------------------------------------------------------------ */

static void test_settings(void)
{
    char dir[128], err[512] = "", from = 0;
    const char *v;
    hr_settings *s;
    unsetenv("HEADROOM_LOG_DIR");
    unsetenv("HEADROOM_LISTEN");
    unsetenv("HEADROOM_MODE");
    snprintf(dir, sizeof dir, "%s/headroom", tmp);
    CHECK(!mkdir(dir, 0700));

    /* no route.yaml: the defaults, and no file */
    CHECK(!hr_settings_open(dir, NULL, &s, err, sizeof err));
    CHECK(hr_settings_file(s) == NULL);
    CHECK(!hr_settings_get(s, "log_dir", NULL, &v, &from, err, sizeof err));
    CHECK_EQ_S(v, path_in(dir, "logs"));
    CHECK(from == 'd');
    hr_settings_close(s);

    write_text(path_in(dir, "route.yaml"), "log_dir: /var/log/hr\nlisten: nowhere\nmode: token\n");
    CHECK(!hr_settings_open(dir, NULL, &s, err, sizeof err));
    CHECK_EQ_S(hr_settings_file(s), path_in(dir, "route.yaml"));
    CHECK(!hr_settings_get(s, "log_dir", NULL, &v, &from, err, sizeof err));
    CHECK_EQ_S(v, "/var/log/hr");
    CHECK(from == 'c');
    CHECK(!hr_settings_get(s, "log_dir", "/flag", &v, &from, err, sizeof err));
    CHECK_EQ_S(v, "/flag");
    CHECK(from == 'f');
    setenv("HEADROOM_MODE", "cache", 1);
    CHECK(!hr_settings_get(s, "mode", NULL, &v, &from, err, sizeof err));
    CHECK_EQ_S(v, "cache");
    CHECK(from == 'e');
    unsetenv("HEADROOM_MODE");
    /* a refused value names where it came from */
    CHECK(hr_settings_get(s, "listen", NULL, &v, &from, err, sizeof err) == HR_EINVAL);
    CHECK(v == NULL && from == 'c' && strstr(err, "route.yaml") && strstr(err, "nowhere"));
    CHECK(hr_settings_get(s, "no_such_setting", NULL, &v, NULL, err, sizeof err) == HR_ENOTFOUND);
    hr_settings_close(s);

    /* a given file that is missing is an error; a broken one says where */
    CHECK(hr_settings_open(dir, path_in(dir, "none.yaml"), &s, err, sizeof err) == HR_ENOTFOUND && s == NULL);
    write_text(path_in(dir, "bad.yaml"), "listen: [\n");
    CHECK(hr_settings_open(dir, path_in(dir, "bad.yaml"), &s, err, sizeof err) != HR_OK && s == NULL);
    CHECK(strstr(err, "bad.yaml") != NULL);
    hr_settings_close(NULL);
}

/* ---- the request log ------------------------------------------------------------ */

struct seen {
    size_t n;
    char last_model[64];
    size_t saved;
    int usage, stop_after;
};

static int see(const hr_log_record *r, void *ctx)
{
    struct seen *s = ctx;
    s->n++;
    snprintf(s->last_model, sizeof s->last_model, "%s", r->model);
    s->saved += r->tokens_saved;
    s->usage += r->has_usage;
    CHECK(r->method && r->path && r->provider && r->error && r->id);
    return s->stop_after && (int)s->n == s->stop_after;
}

static void test_log_each(void)
{
    char dir[128], err[256];
    snprintf(dir, sizeof dir, "%s/logs", tmp);
    hr_log_scan scan;
    struct seen s = {0};
    /* no folder: no log, no error */
    CHECK(!hr_log_each(dir, 0, see, &s, &scan, err, sizeof err));
    CHECK(scan.files == 0 && s.n == 0);
    CHECK(!mkdir(dir, 0700));
    write_text(path_in(dir, HR_LOG_FILE),
               "{\"ts\": \"2026-11-24T10:00:00.000Z\", \"method\": \"POST\", \"path\": \"/v1/messages\", \"provider\": "
               "\"anthropic\", \"model\": \"claude-a\", \"status\": 200, \"tokens_before\": 1000, \"tokens_after\": "
               "400, \"usage\": {\"api\": \"anthropic-messages\", \"input_uncached\": 10}}\n"
               "not a record\n"
               "{\"ts\": \"2026-11-24T11:00:00.000Z\", \"method\": \"POST\", \"path\": \"/v1/responses\", \"model\": "
               "\"gpt-b\", \"status\": 401, \"tokens_before\": 50, \"tokens_after\": 60}\n");
    write_text(path_in(dir, HR_LOG_FILE ".1"), "{\"ts\": \"2026-11-23T10:00:00.000Z\", \"model\": \"old\"}\n");
    CHECK(!hr_log_each(dir, 0, see, &s, &scan, err, sizeof err));
    CHECK_EQ_U(scan.files, 2);
    CHECK_EQ_U(scan.records, 3);
    CHECK_EQ_U(scan.bad_lines, 1);
    CHECK_EQ_U(s.n, 3);
    CHECK_EQ_U(s.saved, 600); /* the one that grew saved nothing */
    CHECK_EQ_U(s.usage, 1);
    CHECK_EQ_S(s.last_model, "old"); /* the current file first, then the rotated copies */
    /* since: only the newer ones; a callback that stops */
    s = (struct seen){.stop_after = 1};
    CHECK(!hr_log_each(dir, 1795518000000LL, see, &s, NULL, err, sizeof err)); /* 2026-11-24T11:00:00Z */
    CHECK_EQ_U(s.n, 1);
    CHECK_EQ_S(s.last_model, "gpt-b");
    /* a log that exists but cannot be read */
    if (geteuid() != 0) {
        chmod(path_in(dir, HR_LOG_FILE), 0);
        CHECK(hr_log_each(dir, 0, see, &s, &scan, err, sizeof err) == HR_EIO);
        CHECK(!strncmp(err, dir, strlen(dir)));
    }
}

/* ---- a Hermes home ----------------------------------------------------------------- */

static void test_hermes_open_judge(void)
{
    char err[700];
    hr_hermes *h;
    const char *dir = fixture_copy("judge");
    CHECK(hr_hermes_open(path_in(tmp, "no-such-home"), &h, err, sizeof err) != HR_OK && h == NULL);
    CHECK(strstr(err, "no-such-home") != NULL);
    CHECK(!hr_hermes_open(dir, &h, err, sizeof err));
    if (!h) return;
    CHECK_EQ_S(hr_hermes_dir(h), dir);
    CHECK_EQ_S(hr_hermes_config_get(h, "model.provider"), "openai-codex");
    CHECK(hr_hermes_config_get(h, "plugins." HR_HERMES_PLUGIN ".proxy_url") == NULL);
    CHECK(hr_hermes_config_get(h, "plugins") == NULL); /* not a scalar */

    const char *ids[3];
    size_t n;
    CHECK(!hr_hermes_routed(h, ids, 3, &n, err, sizeof err));
    CHECK_EQ_U(n, 2);
    if (n == 2) {
        CHECK_EQ_S(ids[0], "openai-codex");
        CHECK_EQ_S(ids[1], "openai-api");
    }
    CHECK(hr_hermes_routed(h, ids, 1, &n, err, sizeof err) == HR_ERANGE && n == 2);

    hr_hermes_verdict *v;
    CHECK(!hr_hermes_judge(h, "openai-codex", HR_HERMES_DEFAULT_PROXY_URL, &v));
    if (v) {
        CHECK(!hr_hermes_verdict_via_proxy(v));
        /* the pool entry and model.base_url, which Hermes reads for openai-codex */
        CHECK(hr_hermes_verdict_reasons(v) >= 1);
        CHECK(strstr(hr_hermes_verdict_reason(v, 0), "credential_pool.openai-codex[0]") != NULL);
        CHECK(hr_hermes_verdict_reason(v, hr_hermes_verdict_reasons(v)) == NULL);
    }
    hr_hermes_verdict_free(v);
    CHECK(hr_hermes_judge(h, "openrouter", HR_HERMES_DEFAULT_PROXY_URL, &v) == HR_ENOTFOUND && v == NULL);

    int loads = -1;
    CHECK(!hr_hermes_plugin_installed(h));
    const char *why = hr_hermes_plugin_loading(h, &loads);
    CHECK(loads == 0 && why && strcmp(why, "enabled"));
    hr_hermes_free(h);
    hr_hermes_free(NULL);
}

static void test_plugin_state(void)
{
    char err[600];
    hr_plugin_state *s;
    const char *dir = fixture_copy("state");
    CHECK(hr_plugin_state_read(dir, &s, err, sizeof err) == HR_ENOTFOUND && s == NULL);
    write_text(path_in(dir, HR_HERMES_PLUGIN ".state.json"), "{\"time\": \"2026-11-24T10:00:00Z\", \"pid\": 4242, "
                                                             "\"healthy\": false, \"reason\": \"refused\", "
                                                             "\"proxy_url\": \"http://127.0.0.1:8788\", \"patched\": "
                                                             "[\"anthropic\"], \"failed\": [\"openai-codex\"]}");
    CHECK(!hr_plugin_state_read(dir, &s, err, sizeof err));
    if (!s) return;
    CHECK_EQ_S(hr_plugin_state_string(s, "time"), "2026-11-24T10:00:00Z");
    CHECK_EQ_S(hr_plugin_state_string(s, "reason"), "refused");
    CHECK_EQ_S(hr_plugin_state_string(s, "proxy_url"), "http://127.0.0.1:8788");
    CHECK(hr_plugin_state_string(s, "hermes_version") == NULL);
    CHECK(hr_plugin_state_string(s, "other") == NULL);
    CHECK(hr_plugin_state_time_ms(s) == 1795514400000LL);
    CHECK(hr_plugin_state_pid(s) == 4242);
    CHECK(hr_plugin_state_healthy(s) == 0);
    CHECK(hr_plugin_state_patched(s, "anthropic") && !hr_plugin_state_patched(s, "openai-codex"));
    CHECK_EQ_U(hr_plugin_state_failed(s), 1);
    hr_plugin_state_free(s);
    write_text(path_in(dir, HR_HERMES_PLUGIN ".state.json"), "{\"time\": ");
    CHECK(hr_plugin_state_read(dir, &s, err, sizeof err) == HR_ESYNTAX && s == NULL);
    CHECK(strstr(err, ".state.json") != NULL);
}

struct calls {
    size_t n, max;
    char first[64];
    long long first_ms, first_pid;
};

static int take_call(const hr_hermes_call *c, void *ctx)
{
    struct calls *k = ctx;
    if (!k->n++) {
        snprintf(k->first, sizeof k->first, "%s %s", c->provider, c->base_url);
        k->first_ms = c->time_ms;
        k->first_pid = c->pid;
    }
    return k->n == k->max;
}

static void test_calls(void)
{
    char err[600];
    size_t not_calls = 9;
    struct calls k = {.max = 10};
    const char *dir = fixture_copy("calls");
    CHECK(hr_hermes_calls(dir, take_call, &k, &not_calls, err, sizeof err) == HR_ENOTFOUND);
    CHECK(k.n == 0 && not_calls == 0);
    write_text(path_in(dir, HR_HERMES_PLUGIN ".calls.jsonl"),
               "{\"time\": \"2026-11-24T10:00:00Z\", \"provider\": \"anthropic\", \"base_url\": "
               "\"https://api.anthropic.com\", \"pid\": 7}\n"
               "{\"time\": \"2026-11-24T10:00:05Z\", \"provider\": \"openai-api\"}\n"
               "{\"time\": \"2026-11-24T10:00:09Z\", \"provider\": \"openai-codex\", \"base_url\": "
               "\"http://127.0.0.1:8788\", \"pid\": 8}\n"
               "{\"time\": \"2026-11-24T10:00:1");
    CHECK(!hr_hermes_calls(dir, take_call, &k, &not_calls, err, sizeof err));
    CHECK_EQ_U(k.n, 2);
    CHECK_EQ_U(not_calls, 2);                                  /* the torn last line and the one without a base_url */
    CHECK_EQ_S(k.first, "openai-codex http://127.0.0.1:8788"); /* newest first */
    CHECK(k.first_ms == 1795514409000LL && k.first_pid == 8);
    k = (struct calls){.max = 1};
    CHECK(!hr_hermes_calls(dir, take_call, &k, NULL, err, sizeof err) && k.n == 1);
}

/* ---- patching a home ----------------------------------------------------------------- */

struct output {
    hr_buf report, notes, errors;
};

static void collect(void *ctx, hr_patch_stream stream, const char *text, size_t len)
{
    struct output *o = ctx;
    hr_buf *b = stream == HR_PATCH_REPORT ? &o->report : stream == HR_PATCH_NOTE ? &o->notes : &o->errors;
    hr_buf_append(b, text, len);
    if (stream == HR_PATCH_MESSAGE) hr_buf_append(b, "\n", 1);
}

static void output_free(struct output *o)
{
    hr_buf_free(&o->report);
    hr_buf_free(&o->notes);
    hr_buf_free(&o->errors);
}

static int same_file(const char *a, const char *b)
{
    hr_buf x = unit_read_file(a), y = unit_read_file(b);
    int same = x.len == y.len && (!x.len || !memcmp(x.data, y.data, x.len));
    hr_buf_free(&x);
    hr_buf_free(&y);
    return same;
}

static void test_patch(void)
{
    struct output out = {0};
    hr_patch_options o;
    int routed = -1;
    const char *dir = fixture_copy("patch");
    hr_patch_options_init(&o);
    CHECK(hr_patch_status(&o, &routed) == HR_EINVAL && routed == 0); /* no home, no callback */
    o.hermes_home = dir;
    o.write = collect;
    o.ctx = &out;
    o.plugin_source = PLUGIN;

    CHECK(!hr_patch_status(&o, &routed));
    CHECK(routed == 0 && strstr(out.report.data, "openai-codex  DIRECT") != NULL);
    output_free(&out);

    /* the diff, redacted; nothing written */
    CHECK(!hr_patch_dry_run(&o));
    CHECK(out.report.data && strstr(out.report.data, "+++ b/auth.json") &&
          strstr(out.report.data, "+++ b/config.yaml"));
    CHECK(out.report.data && !strstr(out.report.data, "eyJ")); /* no token */
    CHECK(out.errors.data && strstr(out.errors.data, "would install"));
    CHECK(same_file(path_in(dir, "auth.json"), FIXTURE "/auth.json"));
    output_free(&out);

    o.json = 1;
    CHECK(!hr_patch_apply(&o));
    CHECK(out.report.data && !strncmp(out.report.data, "{\"action\": \"apply\", \"changed\": true", 35));
    CHECK(out.errors.len == 0);
    output_free(&out);
    o.json = 0;

    CHECK(!hr_patch_status(&o, &routed));
    CHECK(routed == 1);
    output_free(&out);
    hr_hermes *h;
    char err[700];
    CHECK(!hr_hermes_open(dir, &h, err, sizeof err));
    CHECK(h && hr_hermes_plugin_installed(h));
    hr_hermes_verdict *v = NULL;
    CHECK(h && !hr_hermes_judge(h, "openai-api", HR_HERMES_DEFAULT_PROXY_URL, &v));
    CHECK(v && hr_hermes_verdict_via_proxy(v) && hr_hermes_verdict_reasons(v) == 0);
    hr_hermes_verdict_free(v);
    hr_hermes_free(h);

    /* applied again: nothing changes */
    CHECK(!hr_patch_apply(&o));
    CHECK(out.report.data && strstr(out.report.data, "already routes") != NULL);
    output_free(&out);

    /* a bad option is refused before anything is read */
    o.proxy_url = "http://127.0.0.1:8788/";
    CHECK(hr_patch_apply(&o) == HR_EINVAL && out.report.len == 0 && out.errors.len == 0);
    o.proxy_url = NULL;

    /* rollback: the files as they were, the plugin gone */
    CHECK(!hr_patch_rollback(&o));
    CHECK(out.report.data && strstr(out.report.data, "rolled back") != NULL);
    output_free(&out);
    CHECK(same_file(path_in(dir, "auth.json"), FIXTURE "/auth.json"));
    CHECK(same_file(path_in(dir, "config.yaml"), FIXTURE "/config.yaml"));
    /* nothing left to roll back: an error line, HR_EIO */
    CHECK(hr_patch_rollback(&o) == HR_EIO);
    CHECK(out.errors.data && strstr(out.errors.data, "no backup to roll back"));
    output_free(&out);
}

static void test_patch_plugin_source(void)
{
    hr_buf b = HR_BUF_INIT;
    /* the test program is under build/VARIANT/test/, not where make install
     * puts programs: the datadir's copy, named though it is not there */
    CHECK(!hr_patch_plugin_source("/nonexistent/bin", "/nonexistent/share", &b));
    CHECK_EQ_S(b.data, "/nonexistent/share/hr/" HR_HERMES_PLUGIN);
    hr_buf_free(&b);
}

int main(void)
{
    snprintf(tmp, sizeof tmp, "/tmp/hr-test-api.XXXXXX");
    if (!mkdtemp(tmp)) {
        perror("mkdtemp");
        return 1;
    }
    RUN(test_url_host_port);
    RUN(test_hermes_default_dir);
    RUN(test_settings);
    RUN(test_log_each);
    RUN(test_hermes_open_judge);
    RUN(test_plugin_state);
    RUN(test_calls);
    RUN(test_patch);
    RUN(test_patch_plugin_source);
    remove_tree(tmp);
    return unit_any_failed;
}
