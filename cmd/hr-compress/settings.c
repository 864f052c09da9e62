/* hr-compress's options, and the settings it shares with hr-proxy: a flag
 * wins over the environment, which wins over route.yaml, which wins over
 * the built-in default, read and checked by libhr as for every program
 * (lib/settings/route_settings.c); this file keeps only the option table
 * and where each value goes. */
#include "hr_internal.h"
#include "settings.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The options that are not shared settings; a shared setting's option
 * returns 256 + its enum hr__setting. */
enum { OPT_FORMAT = 1, OPT_QUERY, OPT_STATS, OPT_JSON_STATS, OPT_FAIL_OPEN, OPT_CONFIG };
#define OPT_SETTING(id) (256 + (id))

/* The shared settings hr-compress takes, each with the flag of libhr's
 * table. */
static const enum hr__setting used[] = {
    HR_S_PROTECT_RECENT, HR_S_MIN_TOKENS,       HR_S_MODE,     HR_S_EXACT_TOOLS, HR_S_LOSSLESS, HR_S_SCORER,
    HR_S_KOMPRESS_MODEL, HR_S_KOMPRESS_BACKEND, HR_S_MAX_BODY,
};
#define N_USED (sizeof used / sizeof used[0])

/* Keeps a copy of text in *slot (freed by settings_free). */
static const char *keep(char **slot, const char *text)
{
    *slot = strdup(text);
    return *slot;
}

/* Setting id, read and checked by libhr, stored in s: 0 or -1 (out of memory). */
static int apply(struct settings *s, enum hr__setting id, const struct hr__setting_value *v)
{
    hr_compress_options *o = &s->opt;
    switch (id) {
    case HR_S_PROTECT_RECENT: o->protect_recent = v->n; return 0;
    case HR_S_MIN_TOKENS: o->min_tokens = v->n; return 0;
    case HR_S_MODE: o->mode = v->mode; return 0;
    case HR_S_LOSSLESS: o->lossless_only = v->on; return 0;
    case HR_S_EXACT_TOOLS: return (o->exact_tools = keep(&s->exact_tools, v->text)) ? 0 : -1;
    case HR_S_SCORER: return (o->scorer = keep(&s->scorer, v->text)) ? 0 : -1;
    case HR_S_KOMPRESS_MODEL: return (o->model_dir = keep(&s->model_dir, v->text)) ? 0 : -1;
    case HR_S_KOMPRESS_BACKEND: return (o->kompress_backend = keep(&s->kompress_backend, v->text)) ? 0 : -1;
    /* max_body_bytes's default is the proxy's, for requests it holds in
     * memory; a file given to hr-compress keeps libhr's larger one */
    case HR_S_MAX_BODY:
        if (v->from != 'd') o->max_bytes = v->n;
        return 0;
    default: return 0;
    }
}

/* Every shared setting hr-compress takes: SETTINGS_OK, SETTINGS_USAGE for a
 * bad flag, SETTINGS_CONFIG for a bad environment variable or route.yaml. */
static int resolve(const char *config, const char *const flags[HR_S_COUNT], struct settings *s, char *err,
                   size_t err_len)
{
    struct hr__settings src;
    int rc = hr__settings_open(&src, NULL, config, err, err_len) ? SETTINGS_CONFIG : SETTINGS_OK;
    for (size_t i = 0; i < N_USED && !rc; i++) {
        struct hr__setting_value v;
        if (hr__settings_read(&src, used[i], flags[used[i]], &v, err, err_len))
            rc = v.from == 'f' ? SETTINGS_USAGE : SETTINGS_CONFIG;
        else if (apply(s, used[i], &v)) {
            snprintf(err, err_len, "out of memory");
            rc = SETTINGS_CONFIG;
        }
    }
    hr__settings_close(&src); /* the values are copied out: nothing is kept */
    return rc;
}

/* The option table: hr-compress's own options with --model and
 * --max-bytes, kept for one release as the old names of --kompress-model
 * and --max-body-bytes, then the shared settings under their flags
 * (--lossless a switch). */
static void options(struct option *longopts)
{
    static const struct option own[] = {
        {"format", required_argument, NULL, OPT_FORMAT},
        {"query", required_argument, NULL, OPT_QUERY},
        {"stats", no_argument, NULL, OPT_STATS},
        {"json-stats", no_argument, NULL, OPT_JSON_STATS},
        {"fail-open", no_argument, NULL, OPT_FAIL_OPEN},
        {"config", required_argument, NULL, OPT_CONFIG},
        {"model", required_argument, NULL, OPT_SETTING(HR_S_KOMPRESS_MODEL)},
        {"max-bytes", required_argument, NULL, OPT_SETTING(HR_S_MAX_BODY)},
        {"help", no_argument, NULL, 'h'},
        {"version", no_argument, NULL, 'V'},
    };
    size_t n = 0;
    for (size_t i = 0; i < sizeof own / sizeof own[0]; i++) longopts[n++] = own[i];
    for (size_t i = 0; i < N_USED; i++) {
        const struct hr__setting_spec *spec = hr__setting_spec(used[i]);
        int has_arg = spec->kind == HR_K_BOOL ? no_argument : required_argument;
        longopts[n++] = (struct option){spec->flag, has_arg, NULL, OPT_SETTING(used[i])};
    }
    longopts[n] = (struct option){NULL, 0, NULL, 0};
}

/* One option of hr-compress's own: SETTINGS_OK or SETTINGS_USAGE. */
static int own_option(int c, struct settings *s, const char **config, char *err, size_t err_len)
{
    switch (c) {
    case OPT_FORMAT:
        if (strcmp(optarg, "auto") && hr_format_parse(optarg, &s->opt.format)) {
            snprintf(err, err_len, "unknown format '%s' (auto, anthropic, openai-chat, openai-responses)", optarg);
            return SETTINGS_USAGE;
        }
        break;
    case OPT_QUERY: s->opt.query = optarg; break;
    case OPT_STATS: s->stats = STATS_HUMAN; break;
    case OPT_JSON_STATS: s->stats = STATS_JSON; break;
    case OPT_FAIL_OPEN: s->fail_open = 1; break;
    case OPT_CONFIG: *config = optarg; break;
    }
    return SETTINGS_OK;
}

int settings_load(struct settings *s, int argc, char **argv, char *err, size_t err_len)
{
    struct option longopts[16 + N_USED];
    options(longopts);
    memset(s, 0, sizeof *s);
    hr_compress_options_init(&s->opt);
    const char *flags[HR_S_COUNT] = {0}, *config = NULL;
    int c, rc = SETTINGS_OK;
    opterr = 0;
    while (!rc && (c = getopt_long(argc, argv, "hV", longopts, NULL)) != -1) {
        if (c == 'h') return SETTINGS_HELP;
        if (c == 'V') return SETTINGS_VERSION;
        if (c >= OPT_SETTING(0) && c < OPT_SETTING(HR_S_COUNT)) {
            int bool_flag = hr__setting_spec(c - OPT_SETTING(0))->kind == HR_K_BOOL;
            flags[c - OPT_SETTING(0)] = bool_flag ? "true" : optarg;
        } else if (c > 0 && c < OPT_SETTING(0) && c != '?') {
            rc = own_option(c, s, &config, err, err_len);
        } else {
            if (optopt && optopt < 256) snprintf(err, err_len, "unknown option '-%c'", optopt);
            else snprintf(err, err_len, "unknown option or missing value: '%s'", argv[optind - 1]);
            return SETTINGS_USAGE;
        }
    }
    if (rc) return rc;
    if (argc - optind > 1) {
        snprintf(err, err_len, "one input at most (got %d)", argc - optind);
        return SETTINGS_USAGE;
    }
    if (optind < argc) s->path = argv[optind];
    return resolve(config, flags, s, err, err_len);
}

void settings_free(struct settings *s)
{
    free(s->exact_tools);
    free(s->scorer);
    free(s->model_dir);
    free(s->kompress_backend);
    s->exact_tools = s->scorer = s->model_dir = s->kompress_backend = NULL;
}
