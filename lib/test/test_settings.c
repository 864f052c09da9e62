/* Tests of the settings every program shares (lib/settings/route_settings.c): the
 * order flag, environment, route.yaml, default; the home and its logs
 * folder and the other defaults derived from it; the checked read and its
 * messages; listen addresses; and the install-path helpers of file_io.c. */
#include "util/file_io.h"
#include "settings/route_settings.h"
#include "unit.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static char home[] = "/tmp/hr-test-settings.XXXXXX";

static void write_text(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");
    CHECK(f != NULL);
    if (!f) return;
    fputs(text, f);
    fclose(f);
}

static void test_precedence(void)
{
    char path[200], err[300], from = 0;
    snprintf(path, sizeof path, "%s/route.yaml", home);
    write_text(path, "log_dir: /from/file\nlisten: 127.0.0.1:9000\n");
    setenv("HEADROOM_HOME", home, 1);
    unsetenv("HEADROOM_LOG_DIR");
    unsetenv("HEADROOM_LISTEN");
    struct hr__settings s;
    CHECK(hr__settings_open(&s, NULL, NULL, err, sizeof err) == HR_OK);
    CHECK_EQ_S(s.config_path, path);
    CHECK_EQ_S(hr__settings_get(&s, HR_S_LOG_DIR, NULL, &from), "/from/file");
    CHECK(from == 'c');
    setenv("HEADROOM_LOG_DIR", "/from/env", 1);
    CHECK_EQ_S(hr__settings_get(&s, HR_S_LOG_DIR, NULL, &from), "/from/env");
    CHECK(from == 'e');
    CHECK_EQ_S(hr__settings_get(&s, HR_S_LOG_DIR, "/from/flag", &from), "/from/flag");
    CHECK(from == 'f');
    CHECK_EQ_S(hr__settings_get(&s, HR_S_LISTEN, NULL, NULL), "127.0.0.1:9000");
    CHECK_EQ_S(hr__settings_get(&s, HR_S_PROTECT_RECENT, NULL, &from), "5");
    CHECK(from == 'd');
    char where[300];
    hr__settings_where(&s, HR_S_LOG_DIR, 'c', where, sizeof where);
    char want[300];
    snprintf(want, sizeof want, "%s: log_dir", path);
    CHECK_EQ_S(where, want);
    hr__settings_where(&s, HR_S_LOG_DIR, 'e', where, sizeof where);
    CHECK_EQ_S(where, "HEADROOM_LOG_DIR");
    hr__settings_where(&s, HR_S_MIN_TOKENS, 'f', where, sizeof where);
    CHECK_EQ_S(where, "--min-tokens");
    hr__settings_close(&s);
    unsetenv("HEADROOM_LOG_DIR");
    unlink(path);
}

static void test_home(void)
{
    char err[300], logs[200];
    struct hr__settings s;
    setenv("HEADROOM_HOME", "/nonexistent/env-home", 1);
    unsetenv("HEADROOM_LOG_DIR");
    /* no route.yaml in the home: the defaults, the logs under the home */
    CHECK(hr__settings_open(&s, NULL, NULL, err, sizeof err) == HR_OK);
    CHECK(s.config_path == NULL);
    CHECK_EQ_S(hr__settings_get(&s, HR_S_LOG_DIR, NULL, NULL), "/nonexistent/env-home/logs");
    CHECK_EQ_S(hr__settings_get(&s, HR_S_LISTEN, NULL, NULL), "127.0.0.1:8788");
    hr__settings_close(&s);
    /* a home given (hr-verify's --headroom-home) wins over $HEADROOM_HOME */
    CHECK(hr__settings_open(&s, home, NULL, err, sizeof err) == HR_OK);
    snprintf(logs, sizeof logs, "%s/logs", home);
    CHECK_EQ_S(hr__settings_get(&s, HR_S_LOG_DIR, NULL, NULL), logs);
    hr__settings_close(&s);
    /* a file named that is not there is an error; a bad one says where */
    CHECK(hr__settings_open(&s, NULL, "/nonexistent/route.yaml", err, sizeof err) == HR_ENOTFOUND);
    CHECK(strstr(err, "/nonexistent/route.yaml") != NULL);
    hr__settings_close(&s);
    char bad[200];
    snprintf(bad, sizeof bad, "%s/bad.yaml", home);
    write_text(bad, "listen: [unclosed\n");
    CHECK(hr__settings_open(&s, NULL, bad, err, sizeof err) == HR_ESYNTAX);
    CHECK(strstr(err, "bad.yaml:") != NULL);
    hr__settings_close(&s);
    unlink(bad);
    unsetenv("HEADROOM_HOME");
}

static void check_url(const char *listen, const char *want)
{
    char *url = hr__listen_url(listen);
    if (want) CHECK_EQ_S(url, want);
    else CHECK(url == NULL);
    free(url);
}

static void test_listen(void)
{
    char host[64];
    int port = 0;
    CHECK(hr__parse_listen("127.0.0.1:8788", host, sizeof host, &port) == 0);
    CHECK_EQ_S(host, "127.0.0.1");
    CHECK_EQ_U(port, 8788);
    CHECK(hr__parse_listen("[::1]:9", host, sizeof host, &port) == 0);
    CHECK_EQ_S(host, "::1");
    CHECK(hr__parse_listen("localhost", host, sizeof host, &port) == -1);
    CHECK(hr__parse_listen("localhost:0", host, sizeof host, &port) == -1);
    CHECK(hr__parse_listen("localhost:+80", host, sizeof host, &port) == -1);
    CHECK(hr__parse_listen(":80", host, sizeof host, &port) == -1);
    check_url("127.0.0.1:8788", "http://127.0.0.1:8788");
    check_url("0.0.0.0:8788", "http://127.0.0.1:8788");
    check_url("[::]:8788", "http://[::1]:8788");
    check_url("[::1]:8788", "http://[::1]:8788");
    check_url("nonsense", NULL);
}

static void check_rel(const char *from, const char *to, const char *want)
{
    char *rel = hr__relative_path(from, to);
    if (want) CHECK_EQ_S(rel, want);
    else CHECK(rel == NULL);
    free(rel);
}

static void test_relative_path(void)
{
    check_rel("/usr/local/bin", "/usr/local/share", "../share");
    check_rel("/opt/hr/bin", "/opt/hr/share", "../share");
    check_rel("/opt/hr//bin/", "/opt/hr/./share", "../share");
    check_rel("/usr/bin", "/usr/share/hr", "../share/hr");
    check_rel("/usr/bin", "/opt/data", "../../opt/data");
    check_rel("/opt/hr", "/opt/hr/share", "share");
    check_rel("/opt/hr/bin", "/opt/hr/bin", ".");
    check_rel("bin", "/usr/share", NULL);
    check_rel("/usr/bin/../sbin", "/usr/share", NULL);
    char *dir = hr__exe_dir();
    CHECK(dir != NULL && dir[0] == '/' && strstr(dir, "/test") != NULL);
    free(dir);
}

/* Nested mappings come back under dotted keys (hr-proxy's prices:), top
 * level keys as before, sequences not at all. */
static void collect(const char *key, const char *value, void *ctx)
{
    char *out = ctx;
    size_t n = strlen(out);
    snprintf(out + n, 200 - n, "%s=%s;", key, value);
}

static void test_nested(void)
{
    char path[200], err[300], seen[200] = "";
    snprintf(path, sizeof path, "%s/nested.yaml", home);
    write_text(path, "observe: true\nexact_tools: [a, b]\nprices:\n  anthropic: {cache_write: 2, cache_read: 0.5}\n"
                     "  models:\n    gpt-4.1: {input: 2, output: 8}\n");
    struct hr__settings s;
    CHECK(hr__settings_open(&s, home, path, err, sizeof err) == HR_OK);
    unsetenv("HEADROOM_PRICE_ANTHROPIC_CACHE_WRITE");
    unsetenv("HEADROOM_OBSERVE");
    CHECK_EQ_S(hr__settings_get(&s, HR_S_OBSERVE, NULL, NULL), "true");
    CHECK_EQ_S(hr__settings_get(&s, HR_S_PRICE_ANTHROPIC_CACHE_WRITE, NULL, NULL), "2");
    CHECK_EQ_S(hr__settings_get(&s, HR_S_PRICE_OPENAI_CACHED, NULL, NULL), "0.1");
    CHECK_EQ_S(hr_config_get(s.cfg, "exact_tools"), "a, b"); /* a list of scalars reads as one value */
    hr__config_each(s.cfg, "prices.models.", collect, seen);
    CHECK_EQ_S(seen, "gpt-4.1.input=2;gpt-4.1.output=8;");
    hr__settings_close(&s);
    unlink(path);
}

/* The checked read every program makes: values by kind, and the one message
 * naming where a refused value came from. */
static void test_read(void)
{
    char path[200], err[4300];
    struct hr__settings s;
    struct hr__setting_value v;
    snprintf(path, sizeof path, "%s/kinds.yaml", home);
    write_text(path, "scorer: kompress\nkompress_backend: gpu\nmax_concurrent: 0\nmode: token\nkompress_model: \"\"\n");
    unsetenv("HEADROOM_SCORER");
    unsetenv("HEADROOM_KOMPRESS_BACKEND");
    unsetenv("HEADROOM_KOMPRESS_MODEL");
    unsetenv("HEADROOM_KOMPRESS_MAX_CONCURRENT");
    unsetenv("HEADROOM_MODE");
    unsetenv("HEADROOM_PROTECT_RECENT");
    unsetenv("HEADROOM_LOSSLESS");
    CHECK(hr__settings_open(&s, home, path, err, sizeof err) == HR_OK);
    CHECK(hr__settings_read(&s, HR_S_SCORER, NULL, &v, err, sizeof err) == 0);
    CHECK_EQ_S(v.text, "kompress");
    CHECK(v.from == 'c');
    CHECK(hr__settings_read(&s, HR_S_SCORER, "neural", &v, err, sizeof err) == -1);
    CHECK(v.from == 'f');
    CHECK_EQ_S(err, "--scorer: unknown scorer 'neural' (auto, lexical, kompress)");
    CHECK(hr__settings_read(&s, HR_S_KOMPRESS_BACKEND, NULL, &v, err, sizeof err) == -1);
    CHECK(strstr(err, "kinds.yaml: kompress_backend: unknown Kompress backend 'gpu' (auto, cpu,") != NULL);
    CHECK(hr__settings_read(&s, HR_S_MAX_CONCURRENT, NULL, &v, err, sizeof err) == -1);
    CHECK(strstr(err, "max_concurrent: '0' is not a positive whole number") != NULL);
    setenv("HEADROOM_PROTECT_RECENT", "7", 1);
    CHECK(hr__settings_read(&s, HR_S_PROTECT_RECENT, NULL, &v, err, sizeof err) == 0);
    CHECK(v.n == 7 && v.from == 'e');
    setenv("HEADROOM_PROTECT_RECENT", "many", 1);
    CHECK(hr__settings_read(&s, HR_S_PROTECT_RECENT, NULL, &v, err, sizeof err) == -1);
    CHECK_EQ_S(err, "HEADROOM_PROTECT_RECENT: 'many' is not a whole number");
    unsetenv("HEADROOM_PROTECT_RECENT");
    CHECK(hr__settings_read(&s, HR_S_MODE, NULL, &v, err, sizeof err) == 0);
    CHECK(v.mode == HR_MODE_TOKEN);
    CHECK(hr__settings_read(&s, HR_S_LOSSLESS, "true", &v, err, sizeof err) == 0);
    CHECK(v.on == 1);
    CHECK(hr__settings_read(&s, HR_S_LOSSLESS, NULL, &v, err, sizeof err) == 0);
    CHECK(v.on == 0 && v.from == 'd');
    CHECK(hr__settings_read(&s, HR_S_LISTEN, "[::1]:9", &v, err, sizeof err) == 0);
    CHECK(!strcmp(v.host, "::1") && v.port == 9);
    CHECK(hr__settings_read(&s, HR_S_OPENAI_URL, "ftp://x", &v, err, sizeof err) == -1);
    CHECK_EQ_S(err, "--openai-api-url: 'ftp://x' is not an http:// or https:// URL");
    /* an empty kompress_model is the home's default folder, as none is */
    char want[300];
    snprintf(want, sizeof want, "%s/models/kompress-v2-base", home);
    CHECK(hr__settings_read(&s, HR_S_KOMPRESS_MODEL, NULL, &v, err, sizeof err) == 0);
    CHECK_EQ_S(v.text, want);
    hr__settings_refuse(&s, HR_S_PRICE_OPENAI_CACHED, &(struct hr__setting_value){.text = "x", .from = 'e'},
                        "is not a price", err, sizeof err);
    CHECK_EQ_S(err, "HEADROOM_PRICE_OPENAI_CACHED: 'x' is not a price");
    hr__settings_close(&s);
    unlink(path);
}

/* The home and what derives from it, for the programs and for libhr's own
 * fallbacks alike. */
static void test_home_derived(void)
{
    char err[300];
    struct hr__settings s;
    setenv("HEADROOM_HOME", "/nonexistent/env-home", 1);
    unsetenv("HEADROOM_KOMPRESS_MODEL");
    unsetenv("HEADROOM_KOMPRESS_BACKEND");
    char *h = hr__headroom_home(NULL), *given = hr__headroom_home("/given"), *dir = hr__kompress_default_dir();
    CHECK_EQ_S(h, "/nonexistent/env-home");
    CHECK_EQ_S(given, "/given");
    CHECK_EQ_S(dir, "/nonexistent/env-home/models/kompress-v2-base");
    free(h);
    free(given);
    free(dir);
    CHECK(hr__settings_open(&s, NULL, NULL, err, sizeof err) == HR_OK);
    CHECK_EQ_S(hr__settings_get(&s, HR_S_KOMPRESS_MODEL, NULL, NULL), "/nonexistent/env-home/models/kompress-v2-base");
    hr__settings_close(&s);
    CHECK(hr__setting_env(HR_S_KOMPRESS_MODEL) == NULL);
    setenv("HEADROOM_KOMPRESS_MODEL", "", 1); /* empty is unset */
    CHECK(hr__setting_env(HR_S_KOMPRESS_MODEL) == NULL);
    setenv("HEADROOM_KOMPRESS_MODEL", "/env/model", 1);
    CHECK_EQ_S(hr__setting_env(HR_S_KOMPRESS_MODEL), "/env/model");
    dir = hr__kompress_default_dir();
    CHECK_EQ_S(dir, "/env/model");
    free(dir);
    unsetenv("HEADROOM_KOMPRESS_MODEL");
    unsetenv("HEADROOM_HOME");
}

int main(void)
{
    if (!mkdtemp(home)) {
        perror("mkdtemp");
        return 1;
    }
    RUN(test_precedence);
    RUN(test_home);
    RUN(test_listen);
    RUN(test_relative_path);
    RUN(test_nested);
    RUN(test_read);
    RUN(test_home_derived);
    rmdir(home);
    return unit_any_failed;
}
