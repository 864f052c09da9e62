/* The config.yaml editor (lib/hermes/hermes_yaml.c, hermes_config.c) on any bytes:
 * the edit hr-patch-auth makes (the plugin enabled, its block, and
 * model.base_url set to the proxy or, by the input's hash, dropped), then
 * its rollback. Beyond not crashing:
 *  - what hr__yaml_scan accepts libyaml parses too;
 *  - apply succeeds, or refuses a shape it cannot edit, naming its line and
 *    column; it never plans overlapping edits;
 *  - the edited file parses with libyaml and says what was meant: the
 *    plugin enabled, its block holding the proxy URL and the providers,
 *    model.base_url the proxy's (or gone), every other value as it was;
 *  - the rollback of that parses too and gives back the plugin's state,
 *    model.base_url and every other value. */
#include "fuzz.h"
#include "hermes/hermes.h"

#include <string.h>
#include <yaml.h>

#define PROXY "http://127.0.0.1:8788"
#define PROVIDERS "anthropic, openai-api"
#define MODEL_URL PROXY "/v1"

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    return 0;
}

/* Whether libyaml parses text to its end. */
static int libyaml_parses(const char *text, size_t len)
{
    yaml_parser_t parser;
    if (!yaml_parser_initialize(&parser)) abort();
    yaml_parser_set_input_string(&parser, (const unsigned char *)text, len);
    int ok = 1, done = 0;
    while (ok && !done) {
        yaml_event_t e;
        ok = yaml_parser_parse(&parser, &e);
        if (ok) {
            done = e.type == YAML_STREAM_END_EVENT;
            yaml_event_delete(&e);
        }
    }
    yaml_parser_delete(&parser);
    return ok;
}

/* A shape refusal: "LINE:COLUMN: what". */
static int names_place(const char *err)
{
    size_t i = 0;
    while (err[i] >= '0' && err[i] <= '9') i++;
    if (!i || err[i++] != ':') return 0;
    size_t j = i;
    while (err[j] >= '0' && err[j] <= '9') j++;
    return j > i && err[j] == ':' && err[j + 1] == ' ';
}

static int is_plugins(const char *path)
{
    return !strncmp(path, "plugins", 7) && (!path[7] || path[7] == '.' || path[7] == '[');
}

/* The nodes of y outside plugins and model.base_url, in order, as "path"
 * lines, "path=value" for a scalar that is not empty: what no edit of hr's
 * may change. Two changes are the edit's own: a block scalar (| or >) that
 * ended the file without a line break gets one, as text appended after it
 * must start a line; and model, once its only key base_url is dropped, is
 * left empty (null). */
static void others(const struct hr__yaml *y, hr_buf *out)
{
    for (size_t i = 0; i < y->n; i++) {
        const struct hr__ynode *n = &y->v[i];
        if (!*n->path || is_plugins(n->path) || !strcmp(n->path, "model.base_url")) continue; /* "": the root */
        size_t len = n->kind == HR_Y_SCALAR ? strlen(n->value) : 0;
        if (n->style == YAML_LITERAL_SCALAR_STYLE || n->style == YAML_FOLDED_SCALAR_STYLE)
            while (len && n->value[len - 1] == '\n') len--;
        if (!strcmp(n->path, "model") && !len) continue; /* a mapping or, once emptied, null */
        hr_buf_append(out, n->path, strlen(n->path));
        if (len) {
            hr_buf_append(out, "=", 1);
            hr_buf_append(out, n->value, len);
        }
        hr_buf_append(out, "\n", 1);
    }
}

static int same(const hr_buf *a, const hr_buf *b)
{
    return a->len == b->len && (!a->len || !memcmp(a->data, b->data, a->len));
}

/* Equal but for line breaks at the end, which a block scalar that ended the
 * file gains when text is appended after it. */
static int same_text(const char *a, const char *b)
{
    size_t n = strlen(a), m = strlen(b);
    while (n && a[n - 1] == '\n') n--;
    while (m && b[m - 1] == '\n') m--;
    return n == m && !memcmp(a, b, n);
}

static const char *scalar(const struct hr__yaml *y, const char *path)
{
    const struct hr__ynode *n = hr__yaml_find(y, path);
    return n && n->kind == HR_Y_SCALAR ? n->value : NULL;
}

/* text parses with libyaml and hr__yaml_scan; y (freed by the caller) holds it. */
static void rescan(const hr_buf *text, struct hr__yaml *y, const char *what)
{
    char err[256] = "";
    const char *t = text->data ? text->data : "";
    FUZZ_CHECK(libyaml_parses(t, text->len), "libyaml cannot parse the %s file:\n%.*s", what, (int)text->len, t);
    FUZZ_CHECK(hr__yaml_scan(y, t, text->len, err, sizeof err) == HR_OK, "the %s file does not scan: %s\n%.*s", what,
               err, (int)text->len, t);
}

static void check_applied(const struct hr__yaml *before, const struct hr__yaml *y, const struct hr__config_changes *ch,
                          int set_url)
{
    FUZZ_CHECK(hr__config_plugin_enabled(y), "the plugin is not enabled");
    const struct hr__ynode *block = hr__yaml_find(y, "plugins." HR_HERMES_PLUGIN);
    FUZZ_CHECK(block && block->kind == HR_Y_BLOCK_MAP, "no plugin block");
    const char *url = scalar(y, "plugins." HR_HERMES_PLUGIN ".proxy_url");
    FUZZ_CHECK(url && !strcmp(url, PROXY), "proxy_url %s", url ? url : "(none)");
    hr_buf providers = {0};
    const char *items = "plugins." HR_HERMES_PLUGIN ".providers[]";
    for (const struct hr__ynode *it = hr__yaml_find(y, items); it; it = hr__yaml_find_next(y, it, items)) {
        if (providers.len) hr_buf_append(&providers, ", ", 2);
        hr_buf_append(&providers, it->value ? it->value : "?", strlen(it->value ? it->value : "?"));
    }
    FUZZ_CHECK(providers.len && !strcmp(providers.data, PROVIDERS), "providers %s",
               providers.len ? providers.data : "(none)");
    hr_buf_free(&providers);
    const struct hr__ynode *model = hr__yaml_find(before, "model");
    const char *now = scalar(y, "model.base_url");
    if (set_url && model && model->kind == HR_Y_BLOCK_MAP)
        FUZZ_CHECK(now && !strcmp(now, MODEL_URL), "model.base_url %s", now ? now : "(none)");
    if (ch->base_url_removed) FUZZ_CHECK(!hr__yaml_find(y, "model.base_url"), "model.base_url still there");
}

/* A model.base_url that was model's only key is not put back: model was
 * left empty, with no mapping to put it in. */
static void check_rolled_back(const struct hr__yaml *before, const struct hr__yaml *applied, const struct hr__yaml *y)
{
    FUZZ_CHECK(hr__config_plugin_enabled(y) == hr__config_plugin_enabled(before), "plugin state not restored");
    FUZZ_CHECK(!hr__yaml_find(y, "plugins." HR_HERMES_PLUGIN) == !hr__yaml_find(before, "plugins." HR_HERMES_PLUGIN),
               "plugin block not restored");
    const struct hr__ynode *model = hr__yaml_find(applied, "model");
    if (model && model->kind == HR_Y_SCALAR && !*model->value) before = applied;
    const char *was = scalar(before, "model.base_url"), *now = scalar(y, "model.base_url");
    FUZZ_CHECK(!was == !now && (!was || same_text(was, now)), "model.base_url %s, was %s", now ? now : "(none)",
               was ? was : "(none)");
}

/* Plans with plan (apply or rollback) on text and writes the result to out.
 * 0, or the plan's status. */
static hr_status edit(const char *text, size_t len, hr_status (*plan)(const struct hr__yaml *, hr_splice *, void *),
                      const struct hr__yaml *y, void *arg, hr_buf *out)
{
    hr_splice *sp = NULL;
    if (hr_splice_new(text, len, &sp)) abort();
    hr_status st = plan(y, sp, arg);
    if (!st) FUZZ_CHECK(hr_splice_apply(sp, out) == HR_OK, "splice: %s", hr_splice_errmsg(sp));
    hr_splice_free(sp);
    return st;
}

struct apply_args {
    struct hr__config_settings s;
    struct hr__config_changes ch;
    char err[256];
};

static hr_status plan_apply(const struct hr__yaml *y, hr_splice *sp, void *arg)
{
    struct apply_args *a = arg;
    return hr__config_plan_apply(y, &a->s, sp, &a->ch, a->err, sizeof a->err);
}

struct rollback_args {
    const struct hr__config_changes *ch;
    const char *url;
};

static hr_status plan_rollback(const struct hr__yaml *y, hr_splice *sp, void *arg)
{
    struct rollback_args *a = arg;
    return hr__config_plan_rollback(y, a->ch, a->url, sp);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *text = (const char *)data;
    struct hr__yaml y, y2 = {0}, y3 = {0};
    char err[256] = "";
    hr_status st = hr__yaml_scan(&y, text, size, err, sizeof err);
    if (st) {
        FUZZ_CHECK(st == HR_ESYNTAX, "status %s", hr_strerror(st));
        FUZZ_CHECK(names_place(err) && fuzz_printable(err), "message \"%s\"", err);
        return 0;
    }
    FUZZ_CHECK(libyaml_parses(text, size), "scanned what libyaml refuses");

    int set_url = fuzz_hash(data, size) & 1;
    struct apply_args a = {{PROXY, PROVIDERS, set_url ? MODEL_URL : NULL, !set_url}, {0}, ""};
    hr_buf applied = {0}, back = {0}, kept = {0}, kept2 = {0};
    st = edit(text, size, plan_apply, &y, &a, &applied);
    if (st) {
        FUZZ_CHECK(st == HR_EINVAL && names_place(a.err) && fuzz_printable(a.err), "apply: %s: \"%s\"", hr_strerror(st),
                   a.err);
        goto out;
    }
    rescan(&applied, &y2, "edited");
    check_applied(&y, &y2, &a.ch, set_url);
    others(&y, &kept);
    others(&y2, &kept2);
    FUZZ_CHECK(same(&kept, &kept2), "values changed by apply:\n%s---\n%s", kept.data ? kept.data : "",
               kept2.data ? kept2.data : "");

    struct rollback_args r = {&a.ch, a.s.model_url};
    st = edit(applied.data ? applied.data : "", applied.len, plan_rollback, &y2, &r, &back);
    FUZZ_CHECK(st == HR_OK, "rollback: %s", hr_strerror(st));
    rescan(&back, &y3, "rolled back");
    check_rolled_back(&y, &y2, &y3);
    kept2.len = 0;
    others(&y3, &kept2);
    FUZZ_CHECK(same(&kept, &kept2), "values changed by apply and rollback:\n%s---\n%s", kept.data ? kept.data : "",
               kept2.data ? kept2.data : "");
out:
    free(a.ch.base_url_old);
    hr__yaml_free(&y);
    hr__yaml_free(&y2);
    hr__yaml_free(&y3);
    hr_buf_free(&applied);
    hr_buf_free(&back);
    hr_buf_free(&kept);
    hr_buf_free(&kept2);
    return 0;
}
