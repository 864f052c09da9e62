/* Hermes file edits: config.yaml shapes (block and flow lists, missing keys,
 * CRLF, no final newline, unicode before the edit), their rollback, and
 * auth.json pool entries with and without base_url. */
#include "hermes/hermes.h"
#include "unit.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static const struct hr__config_settings SETTINGS = {"http://127.0.0.1:8788", "anthropic, openai-api",
                                                    "http://127.0.0.1:8788", 0};

/* apply to text; returns the edited text (caller frees) and fills ch. */
static char *config_apply(const char *text, struct hr__config_changes *ch, const struct hr__config_settings *s)
{
    struct hr__yaml y;
    char err[256] = "";
    hr_splice *sp = NULL;
    hr_buf out = {0};
    if (hr__yaml_scan(&y, text, strlen(text), err, sizeof err)) {
        printf("  scan: %s\n", err);
        return NULL;
    }
    hr_status st = hr_splice_new(text, strlen(text), &sp);
    if (!st) st = hr__config_plan_apply(&y, s, sp, ch, err, sizeof err);
    if (!st) st = hr_splice_apply(sp, &out);
    if (st) printf("  apply: %s %s\n", hr_strerror(st), err);
    hr_splice_free(sp);
    hr__yaml_free(&y);
    if (!st && !out.data) hr_buf_append(&out, "", 0);
    return st ? (hr_buf_free(&out), NULL) : out.data;
}

static char *config_rollback(const char *text, const struct hr__config_changes *ch, const char *url)
{
    struct hr__yaml y;
    char err[256];
    hr_splice *sp = NULL;
    hr_buf out = {0};
    if (hr__yaml_scan(&y, text, strlen(text), err, sizeof err)) return NULL;
    hr_status st = hr_splice_new(text, strlen(text), &sp);
    if (!st) st = hr__config_plan_rollback(&y, ch, url, sp);
    if (!st) st = hr_splice_apply(sp, &out);
    hr_splice_free(sp);
    hr__yaml_free(&y);
    if (!st && !out.data) hr_buf_append(&out, "", 0);
    return st ? (hr_buf_free(&out), NULL) : out.data;
}

/* apply gives want; a rollback of that gives back text exactly. */
static void round_trip(const char *text, const char *want)
{
    struct hr__config_changes ch;
    char *got = config_apply(text, &ch, &SETTINGS);
    CHECK_EQ_S(got, want);
    char *back = got ? config_rollback(got, &ch, SETTINGS.model_url) : NULL;
    CHECK_EQ_S(back, text);
    free(got);
    free(back);
    free(ch.base_url_old);
}

#define BLOCK                                                                                                          \
    "  headroom-route:\n    proxy_url: http://127.0.0.1:8788\n    providers: [anthropic, openai-api]\n"                \
    "    require_health: true\n"

static void test_block_list(void)
{
    round_trip("model:\n  provider: anthropic   # ✂ active\n  default: x\nplugins:\n  enabled:\n    - a  # note\n"
               "    - b\n\nother: 1\n",
               "model:\n  provider: anthropic   # ✂ active\n  base_url: http://127.0.0.1:8788\n  default: x\n"
               "plugins:\n  enabled:\n    - a  # note\n    - b\n    - headroom-route\n" BLOCK "\nother: 1\n");
}

static void test_flow_list_and_quoted_url(void)
{
    round_trip("model:\n  provider: anthropic\n  base_url: \"https://api.anthropic.com\"\nplugins:\n"
               "  enabled: [a, b]\n  a: {x: 1}\n",
               "model:\n  provider: anthropic\n  base_url: \"http://127.0.0.1:8788\"\nplugins:\n"
               "  enabled: [a, b, headroom-route]\n  a: {x: 1}\n" BLOCK);
    round_trip("plugins:\n  enabled: []\n", "plugins:\n  enabled: [headroom-route]\n" BLOCK);
}

static void test_missing_keys(void)
{
    struct hr__config_settings no_model = SETTINGS;
    no_model.model_url = NULL;
    struct hr__config_changes ch;
    char *got = config_apply("agent:\n    turns: 3", &ch, &no_model); /* no plugins, no final newline, indent 4 */
    CHECK_EQ_S(got, "agent:\n    turns: 3\nplugins:\n    enabled:\n        - headroom-route\n    headroom-route:\n"
                    "        proxy_url: http://127.0.0.1:8788\n        providers: [anthropic, openai-api]\n"
                    "        require_health: true\n");
    CHECK(ch.enabled_added && ch.block_added && !ch.base_url_set);
    free(got);
    got = config_apply("plugins:\n  other:\n    k: v\n", &ch, &no_model);
    CHECK_EQ_S(got, "plugins:\n  other:\n    k: v\n  enabled:\n    - headroom-route\n" BLOCK);
    free(got);
    got = config_apply("plugins:\n  enabled:\n", &ch, &no_model); /* an empty value */
    CHECK_EQ_S(got, "plugins:\n  enabled: [headroom-route]\n" BLOCK);
    free(got);
}

/* Shapes that fuzz/fuzz_yaml.c found edited into YAML that does not parse,
 * or into other values (testdata/fuzz/yaml/regress-*.yaml). */
static void test_odd_shapes(void)
{
    struct hr__config_settings no_model = SETTINGS;
    no_model.model_url = NULL;
    struct hr__config_changes ch;
    /* a block scalar ends with its text, not at the next line */
    char *got =
        config_apply("model:\n  base_url: |\n    http://example.com/v1\n  provider: openai-api\n", &ch, &SETTINGS);
    CHECK_EQ_S(got, "model:\n  base_url: \"http://127.0.0.1:8788\"\n  provider: openai-api\nplugins:\n  enabled:\n"
                    "    - headroom-route\n" BLOCK);
    free(got);
    free(ch.base_url_old);
    /* an anchored model: its keys start on the next line */
    got = config_apply("model: &m\n  default: gpt-5.1\nfallback: *m\n", &ch, &SETTINGS);
    CHECK_EQ_S(got, "model: &m\n  base_url: http://127.0.0.1:8788\n  default: gpt-5.1\nfallback: *m\nplugins:\n"
                    "  enabled:\n    - headroom-route\n" BLOCK);
    free(got);
    /* top-level keys in column 2 */
    got = config_apply("  model:\n    provider: anthropic\n", &ch, &no_model);
    CHECK_EQ_S(got, "  model:\n    provider: anthropic\n  plugins:\n    enabled:\n      - headroom-route\n"
                    "    headroom-route:\n      proxy_url: http://127.0.0.1:8788\n"
                    "      providers: [anthropic, openai-api]\n      require_health: true\n");
    free(got);
    /* an empty item: the new one gets its "- " whole */
    got = config_apply("plugins:\n  enabled:\n  - # none yet\n", &ch, &no_model);
    CHECK_EQ_S(got, "plugins:\n  enabled:\n  - # none yet\n  - headroom-route\n" BLOCK);
    free(got);
    /* an empty value at the end of a file with no final newline, and the block after it */
    got = config_apply("plugins:\n  enabled:", &ch, &no_model);
    CHECK_EQ_S(got, "plugins:\n  enabled: [headroom-route]\n" BLOCK);
    free(got);
    /* the plugin alone in a flow list with a trailing comma */
    got = config_apply("plugins:\n  enabled: [a]\n  disabled: [headroom-route, ]\n", &ch, &no_model);
    CHECK_EQ_S(got, "plugins:\n  enabled: [a, headroom-route]\n  disabled: []\n" BLOCK);
    free(got);
    /* providers with no value */
    got = config_apply("plugins:\n  headroom-route:\n    proxy_url: http://127.0.0.1:8788\n    providers:\n", &ch,
                       &no_model);
    CHECK_EQ_S(got, "plugins:\n  headroom-route:\n    proxy_url: http://127.0.0.1:8788\n"
                    "    providers: [anthropic, openai-api]\n  enabled:\n    - headroom-route\n");
    free(got);
    /* "model.base_url" at the top is a key of its own, not model's base_url */
    struct hr__config_settings drop = no_model;
    drop.drop_model_url = 1;
    got = config_apply("model.base_url: keep\nmodel:\n  provider: x\n  base_url: http://127.0.0.1:8788\n", &ch, &drop);
    CHECK_EQ_S(got, "model.base_url: keep\nmodel:\n  provider: x\nplugins:\n  enabled:\n    - headroom-route\n" BLOCK);
    free(got);
    free(ch.base_url_old);
    /* refused: base_url in a flow mapping (its line is the other keys' too), a
     * proxy_url that is a list, line breaks hr does not count, "...", "? key" */
    struct hr__yaml y;
    hr_splice *sp = NULL;
    char err[256];
    const char *flow = "model: {provider: anthropic, base_url: \"http://127.0.0.1:8788\"}\n";
    CHECK(!hr__yaml_scan(&y, flow, strlen(flow), err, sizeof err) && !hr_splice_new(flow, strlen(flow), &sp));
    CHECK_EQ_U(hr__config_plan_apply(&y, &drop, sp, &ch, err, sizeof err), HR_EINVAL);
    CHECK(strstr(err, "1:1: model is a flow mapping") == err);
    hr_splice_free(sp);
    hr__yaml_free(&y);
    const char *list = "plugins:\n  headroom-route:\n    proxy_url:\n    - http://127.0.0.1:8788\n";
    CHECK(!hr__yaml_scan(&y, list, strlen(list), err, sizeof err) && !hr_splice_new(list, strlen(list), &sp));
    CHECK_EQ_U(hr__config_plan_apply(&y, &no_model, sp, &ch, err, sizeof err), HR_EINVAL);
    CHECK(strstr(err, "proxy_url is not a string") != NULL);
    hr_splice_free(sp);
    hr__yaml_free(&y);
    static const char *const refused[][2] = {
        {"model:\r  provider: x\r", "1:7: a carriage return without a line feed"},
        {"a: \xe2\x80\xa8"
         "b\n",
         "1:4: a line or paragraph separator"},
        {"a: 1\n...\n", "2:1: a document end marker"},
        {"plugins:\n  q:\n    ? k\n", "3:7: an explicit key"},
    };
    for (size_t i = 0; i < sizeof refused / sizeof refused[0]; i++) {
        CHECK_EQ_U(hr__yaml_scan(&y, refused[i][0], strlen(refused[i][0]), err, sizeof err), HR_ESYNTAX);
        CHECK(strstr(err, refused[i][1]) == err);
        if (strstr(err, refused[i][1]) != err) printf("  %s\n", err);
    }
}

static void test_crlf(void)
{
    round_trip("plugins:\r\n  enabled:\r\n    - a\r\n",
               "plugins:\r\n  enabled:\r\n    - a\r\n    - headroom-route\r\n  headroom-route:\r\n"
               "    proxy_url: http://127.0.0.1:8788\r\n    providers: [anthropic, openai-api]\r\n"
               "    require_health: true\r\n");
}

static void test_already_there(void)
{
    const char *text = "model:\n  provider: anthropic\n  base_url: http://127.0.0.1:8788\nplugins:\n"
                       "  enabled:\n    - headroom-route\n" BLOCK;
    struct hr__config_changes ch;
    char *got = config_apply(text, &ch, &SETTINGS);
    CHECK_EQ_S(got, text);
    CHECK(!ch.enabled_added && !ch.block_added && !ch.base_url_set);
    free(got);
    /* another proxy URL and provider list: the block follows, the rest stays */
    struct hr__config_settings other = {"http://127.0.0.1:9999", "openai-codex", NULL, 0};
    got = config_apply(text, &ch, &other);
    CHECK_EQ_S(got, "model:\n  provider: anthropic\n  base_url: http://127.0.0.1:8788\nplugins:\n"
                    "  enabled:\n    - headroom-route\n  headroom-route:\n    proxy_url: http://127.0.0.1:9999\n"
                    "    providers: [openai-codex]\n    require_health: true\n");
    free(got);
}

static void test_rollback_keeps_user_changes(void)
{
    struct hr__config_changes ch;
    char *got = config_apply("model:\n  provider: anthropic\nplugins:\n  enabled: [a]\n", &ch, &SETTINGS);
    CHECK(got != NULL);
    if (!got) return;
    /* the user set their own base_url and added a plugin after apply */
    char edited[1024];
    snprintf(edited, sizeof edited, "%s", got);
    char *at = strstr(edited, "base_url: http://127.0.0.1:8788");
    CHECK(at != NULL);
    if (at) memcpy(at + 10, "https://gw.example.co", 21);
    char *p = strstr(edited, "[a, ");
    char moved[1024];
    if (p) snprintf(moved, sizeof moved, "%.*s[a, c, %s", (int)(p - edited), edited, p + 4);
    char *back = config_rollback(moved, &ch, SETTINGS.model_url);
    CHECK_EQ_S(back, "model:\n  provider: anthropic\n  base_url: https://gw.example.co\nplugins:\n  enabled: [a, c]\n");
    free(got);
    free(back);
    free(ch.base_url_old);
}

static void test_bad_shapes(void)
{
    struct hr__config_changes ch;
    struct hr__yaml y;
    char err[256] = "";
    const char *text = "plugins:\n  enabled: headroom\n";
    CHECK(!hr__yaml_scan(&y, text, strlen(text), err, sizeof err));
    hr_splice *sp;
    hr_splice_new(text, strlen(text), &sp);
    CHECK_EQ_U(hr__config_plan_apply(&y, &SETTINGS, sp, &ch, err, sizeof err), HR_EINVAL);
    CHECK_EQ_S(err, "2:3: plugins.enabled is not a list");
    hr_splice_free(sp);
    hr__yaml_free(&y);
    CHECK_EQ_U(hr__yaml_scan(&y, "a: [1\n", 6, err, sizeof err), HR_ESYNTAX);
    CHECK(strncmp(err, "2:1: ", 5) == 0);
}

/* pool entries: replace, add to an entry without base_url (pretty and
 * one-line), remove what was added. */
static void test_pool_edits(void)
{
    const char *text =
        "{\"credential_pool\": {\"anthropic\": [\n  {\n    \"id\": \"a\",\n    \"base_url\": \"x\"\n  },\n"
        "  {\n    \"id\": \"b\"\n  },\n  {\"id\": \"c\", \"n\": 1}\n]}}";
    hr_json *doc;
    hr_json_new(&doc);
    CHECK(!hr_json_parse(doc, text, strlen(text)));
    struct hr__pool_entry *v;
    size_t n;
    char err[128];
    CHECK(!hr__pool_entries(doc, "anthropic", &v, &n, err, sizeof err));
    CHECK_EQ_U(n, 3);
    if (n != 3) return;
    CHECK_EQ_S(v[0].base_url, "x");
    CHECK(v[1].base_url == NULL && v[1].url_key == HR_JSON_NONE);
    hr_splice *sp;
    hr_buf out = {0};
    hr_splice_new(text, strlen(text), &sp);
    for (size_t i = 0; i < 3; i++) CHECK(!hr__pool_set_url(doc, &v[i], "http://p", sp));
    hr_splice_apply(sp, &out);
    CHECK_EQ_S(out.data,
               "{\"credential_pool\": {\"anthropic\": [\n  {\n    \"id\": \"a\",\n    \"base_url\": \"http://p\"\n"
               "  },\n  {\n    \"id\": \"b\",\n    \"base_url\": \"http://p\"\n  },\n"
               "  {\"id\": \"c\", \"n\": 1, \"base_url\": \"http://p\"}\n]}}");
    hr_splice_free(sp);
    hr__pool_entries_free(v, n);
    /* and back: the members added are removed */
    char *edited = out.data;
    CHECK(!hr_json_parse(doc, edited, out.len));
    CHECK(!hr__pool_entries(doc, "anthropic", &v, &n, err, sizeof err));
    hr_buf back = {0};
    hr_splice_new(edited, out.len, &sp);
    CHECK(!hr__pool_set_url(doc, &v[0], "x", sp));
    CHECK(!hr__pool_remove_url(doc, &v[1], sp));
    CHECK(!hr__pool_remove_url(doc, &v[2], sp));
    hr_splice_apply(sp, &back);
    CHECK_EQ_S(back.data, text);
    hr_splice_free(sp);
    hr__pool_entries_free(v, n);
    hr_buf_free(&back);
    hr_buf_free(&out);
    hr_json_free(doc);
}

static void test_urls(void)
{
    const struct hr__provider *api = hr__provider_find("openai-api"), *a = hr__provider_find("anthropic");
    const char *proxy = "http://127.0.0.1:8788";
    CHECK_EQ_U(hr__url_classify(api, proxy, "http://127.0.0.1:8788/v1/"), HR_URL_PROXY);
    CHECK_EQ_U(hr__url_classify(api, proxy, "http://127.0.0.1:8788"), HR_URL_LOOPBACK); /* not its client's form */
    CHECK_EQ_U(hr__url_classify(api, proxy, "https://API.openai.com/v1"), HR_URL_OFFICIAL);
    CHECK_EQ_U(hr__url_classify(a, proxy, ""), HR_URL_NONE);
    CHECK_EQ_U(hr__url_classify(a, proxy, "https://user@gw.example:443/x"), HR_URL_CUSTOM);
    CHECK_EQ_U(hr__url_classify(a, proxy, "http://[::1]:8787"), HR_URL_LOOPBACK);
    CHECK(hr__provider_find("openrouter") == NULL);
    CHECK(!hr__url_is_http("ftp://x") && !hr__url_is_http("http://") && hr__url_is_http("https://h"));
}

static void test_udiff(void)
{
    const char *text = "1\n2\n3\n4\n5\n6\n7\n8\n9\n10\n11\n12\n13\n14\n15";
    hr_splice *sp;
    hr_buf out = {0};
    hr_splice_new(text, strlen(text), &sp);
    hr_splice_replace(sp, 2, 3, "two", 3);                     /* line 2 */
    hr_splice_replace(sp, 27, 27, "new\n", 4);                 /* before line 13 */
    hr_splice_replace(sp, strlen(text), strlen(text), "!", 1); /* the last line, which has no newline */
    CHECK(!hr__udiff(text, strlen(text), sp, "f", 0, &out));
    CHECK_EQ_S(out.data, "--- a/f\n+++ b/f\n@@ -1,5 +1,5 @@\n 1\n-2\n+two\n 3\n 4\n 5\n"
                         "@@ -10,6 +10,7 @@\n 10\n 11\n 12\n+new\n 13\n 14\n-15\n\\ No newline at end of file\n"
                         "+15!\n\\ No newline at end of file\n");
    hr_splice_free(sp);
    hr_buf_free(&out);
    const char *json = "{\"access_token\": \"sk-1\", \"base_url\": \"u\"}\n";
    hr_splice_new(json, strlen(json), &sp);
    hr_splice_replace(sp, 38, 39, "v", 1);
    CHECK(!hr__udiff(json, strlen(json), sp, "auth.json", 1, &out));
    CHECK_EQ_S(out.data, "--- a/auth.json\n+++ b/auth.json\n@@ -1,1 +1,1 @@\n"
                         "-{\"access_token\": \"<redacted>\", \"base_url\": \"u\"}\n"
                         "+{\"access_token\": \"<redacted>\", \"base_url\": \"v\"}\n");
    hr_splice_free(sp);
    hr_buf_free(&out);
}

/* plugins.disabled wins in Hermes: apply takes the plugin out of it, in
 * block and flow style, and a rollback puts it back. */
static void test_disabled(void)
{
    struct hr__config_settings s = {"http://127.0.0.1:8788", "anthropic", NULL, 0};
    const char *block = "plugins:\n  enabled: [headroom-route]\n  disabled:\n    - headroom-route\n    - img\n"
                        "  headroom-route:\n    proxy_url: http://127.0.0.1:8788\n    providers: [anthropic]\n";
    struct hr__yaml y;
    char err[256];
    CHECK(!hr__yaml_scan(&y, block, strlen(block), err, sizeof err));
    CHECK(!hr__config_plugin_enabled(&y) && hr__config_plugin_disabled(&y));
    hr__yaml_free(&y);
    struct hr__config_changes ch;
    char *got = config_apply(block, &ch, &s);
    CHECK_EQ_S(got, "plugins:\n  enabled: [headroom-route]\n  disabled:\n    - img\n"
                    "  headroom-route:\n    proxy_url: http://127.0.0.1:8788\n    providers: [anthropic]\n");
    CHECK(ch.disabled_removed && !ch.enabled_added && !ch.block_added);
    char *back = got ? config_rollback(got, &ch, NULL) : NULL;
    CHECK_EQ_S(back, block);
    free(got);
    free(back);
    const char *flow = "plugins:\n  enabled: [a]\n  disabled: [b, headroom-route]\n";
    got = config_apply(flow, &ch, &s);
    CHECK(got && strstr(got, "  enabled: [a, headroom-route]\n  disabled: [b]\n"));
    back = got ? config_rollback(got, &ch, NULL) : NULL;
    CHECK(back && strstr(back, "  enabled: [a]\n  disabled: [b, headroom-route]\n"));
    free(got);
    free(back);
}

/* A proxy URL in model.base_url that must go: removed with its line, put
 * back by a rollback; a providers block list becomes a flow list. */
static void test_drop_model_url(void)
{
    struct hr__config_settings s = {"http://127.0.0.1:8788", "anthropic", NULL, 1};
    const char *text = "model:\n  default: m\n  base_url: 'http://127.0.0.1:8788'  # hr\n  api_mode: x\n"
                       "plugins:\n  enabled:\n  - headroom-route\n  headroom-route:\n    providers:\n"
                       "    - anthropic\n    - openai-api\n    proxy_url: http://127.0.0.1:8788\n";
    struct hr__config_changes ch;
    char *got = config_apply(text, &ch, &s);
    CHECK_EQ_S(got, "model:\n  default: m\n  api_mode: x\nplugins:\n  enabled:\n  - headroom-route\n"
                    "  headroom-route:\n    providers: [anthropic]\n    proxy_url: http://127.0.0.1:8788\n");
    CHECK(ch.base_url_removed && !ch.base_url_set && ch.base_url_old &&
          !strcmp(ch.base_url_old, "'http://127.0.0.1:8788'"));
    char *back = got ? config_rollback(got, &ch, NULL) : NULL;
    CHECK(back && strstr(back, "model:\n  base_url: 'http://127.0.0.1:8788'\n  default: m\n"));
    free(got);
    free(back);
    free(ch.base_url_old);
}

/* $HERMES_HOME/.env read as python-dotenv reads it, over the environment. */
static void test_hermes_env(void)
{
    char dir[] = "/tmp/hr-test-env-XXXXXX";
    CHECK(mkdtemp(dir) != NULL);
    char *path = hr__path_join(dir, ".env");
    FILE *f = fopen(path, "w");
    fputs("# a comment\nexport A='x # y'\nB=1#not a comment\nC=yes # a comment\nD=\"q\"\nE=1\nE=0\n", f);
    fclose(f);
    static const struct {
        const char *key, *want;
    } cases[] = {{"A", "x # y"}, {"B", "1#not a comment"}, {"C", "yes"}, {"D", "q"}, {"E", "0"}};
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        int from = 0;
        char *v = hr__hermes_env(dir, cases[i].key, &from);
        CHECK_EQ_S(v, cases[i].want);
        CHECK(from);
        free(v);
    }
    setenv("HR_TEST_ONLY_ENV", "on", 1);
    int from = 1;
    char *v = hr__hermes_env(dir, "HR_TEST_ONLY_ENV", &from);
    CHECK_EQ_S(v, "on");
    CHECK(!from && hr__hermes_truthy(v) && hr__hermes_truthy(" TRUE ") && !hr__hermes_truthy("0"));
    CHECK(!hr__hermes_truthy("1#x") && hr__hermes_safe_mode(dir, NULL) == 0);
    free(v);
    unlink(path);
    rmdir(dir);
    free(path);
}

int main(void)
{
    RUN(test_block_list);
    RUN(test_flow_list_and_quoted_url);
    RUN(test_missing_keys);
    RUN(test_odd_shapes);
    RUN(test_crlf);
    RUN(test_already_there);
    RUN(test_rollback_keeps_user_changes);
    RUN(test_bad_shapes);
    RUN(test_pool_edits);
    RUN(test_urls);
    RUN(test_udiff);
    RUN(test_disabled);
    RUN(test_drop_model_url);
    RUN(test_hermes_env);
    return unit_any_failed;
}
