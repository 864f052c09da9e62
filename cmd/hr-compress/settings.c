/* hr-compress's options, and the settings it shares with hr-proxy: a flag
 * wins over the environment, which wins over route.yaml, which wins over
 * the built-in default, as libhr resolves them (lib/settings/route_settings.c). */
#include "hr_internal.h"
#include "settings.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum {
    OPT_FORMAT = 256,
    OPT_PROTECT,
    OPT_MIN_TOKENS,
    OPT_QUERY,
    OPT_SCORER,
    OPT_MODEL,
    OPT_BACKEND,
    OPT_STATS,
    OPT_JSON_STATS,
    OPT_FAIL_OPEN,
    OPT_CONFIG,
    OPT_MAX_BYTES,
    OPT_MODE,
    OPT_EXACT_TOOLS,
    OPT_LOSSLESS
};

/* The numeric settings shared with hr-proxy, resolved by libhr (flag, else
 * environment, else route.yaml); each source is named in the error. */
static int resolve_numeric(const struct hr__settings *src, enum hr__setting id, const char *flag_value, size_t *dest,
                           char *err, size_t err_len, int *from_flag)
{
    char from, where[4200];
    const char *v = hr__settings_get(src, id, flag_value, &from);
    *from_flag = from == 'f';
    if (from == 'd' || !hr__parse_size(v, dest)) return 0; /* the default: the library's own */
    hr__settings_where(src, id, from, where, sizeof where);
    snprintf(err, err_len, "%s: '%s' is not a whole number", where, v);
    return -1;
}

/* mode and exact_tools, resolved as the numbers are; exact_tools copied out. */
static int resolve_words(const struct hr__settings *src, const char *mode, const char *exact, struct settings *s,
                         char *err, size_t err_len)
{
    char from, where[4200];
    const char *v = hr__settings_get(src, HR_S_MODE, mode, &from);
    if (hr_mode_parse(v, &s->opt.mode)) {
        hr__settings_where(src, HR_S_MODE, from, where, sizeof where);
        snprintf(err, err_len, "%s: unknown mode '%s' (cache, token)", where, v);
        return from == 'f' ? SETTINGS_USAGE : SETTINGS_CONFIG;
    }
    s->exact_tools = strdup(hr__settings_get(src, HR_S_EXACT_TOOLS, exact, &from));
    if (!s->exact_tools) {
        snprintf(err, err_len, "out of memory");
        return SETTINGS_CONFIG;
    }
    s->opt.exact_tools = s->exact_tools;
    return SETTINGS_OK;
}

static int resolve_lossless(const struct hr__settings *src, const char *flag, struct settings *s, char *err,
                            size_t err_len)
{
    char from, where[4200];
    const char *v = hr__settings_get(src, HR_S_LOSSLESS, flag, &from);
    if (!hr__parse_bool(v, &s->opt.lossless_only)) return SETTINGS_OK;
    hr__settings_where(src, HR_S_LOSSLESS, from, where, sizeof where);
    snprintf(err, err_len, "%s: '%s' is not true or false", where, v);
    return SETTINGS_CONFIG;
}

int settings_load(struct settings *s, int argc, char **argv, char *err, size_t err_len)
{
    static const struct option longopts[] = {
        {"format", required_argument, NULL, OPT_FORMAT},
        {"protect-recent", required_argument, NULL, OPT_PROTECT},
        {"min-tokens", required_argument, NULL, OPT_MIN_TOKENS},
        {"query", required_argument, NULL, OPT_QUERY},
        {"scorer", required_argument, NULL, OPT_SCORER},
        {"model", required_argument, NULL, OPT_MODEL},
        {"kompress-backend", required_argument, NULL, OPT_BACKEND},
        {"stats", no_argument, NULL, OPT_STATS},
        {"json-stats", no_argument, NULL, OPT_JSON_STATS},
        {"fail-open", no_argument, NULL, OPT_FAIL_OPEN},
        {"config", required_argument, NULL, OPT_CONFIG},
        {"max-bytes", required_argument, NULL, OPT_MAX_BYTES},
        {"mode", required_argument, NULL, OPT_MODE},
        {"exact-tools", required_argument, NULL, OPT_EXACT_TOOLS},
        {"lossless", no_argument, NULL, OPT_LOSSLESS},
        {"help", no_argument, NULL, 'h'},
        {"version", no_argument, NULL, 'V'},
        {NULL, 0, NULL, 0},
    };
    memset(s, 0, sizeof *s);
    hr_compress_options_init(&s->opt);
    const char *protect = NULL, *min_tokens = NULL, *config = NULL, *mode = NULL, *exact = NULL, *lossless = NULL;
    int c;
    opterr = 0;
    while ((c = getopt_long(argc, argv, "hV", longopts, NULL)) != -1) {
        switch (c) {
        case 'h': return SETTINGS_HELP;
        case 'V': return SETTINGS_VERSION;
        case OPT_FORMAT:
            if (strcmp(optarg, "auto") && hr_format_parse(optarg, &s->opt.format)) {
                snprintf(err, err_len, "unknown format '%s' (auto, anthropic, openai-chat, openai-responses)", optarg);
                return SETTINGS_USAGE;
            }
            break;
        case OPT_PROTECT: protect = optarg; break;
        case OPT_MIN_TOKENS: min_tokens = optarg; break;
        case OPT_QUERY: s->opt.query = optarg; break;
        case OPT_SCORER: s->opt.scorer = optarg; break;
        case OPT_MODEL: s->opt.model_dir = optarg; break;
        case OPT_BACKEND:
            if (!hr__kompress_backend_known(optarg)) {
                snprintf(err, err_len, "unknown Kompress backend '%s' (" HR_KOMPRESS_BACKENDS ")", optarg);
                return SETTINGS_USAGE;
            }
            s->opt.kompress_backend = optarg;
            break;
        case OPT_STATS: s->stats = STATS_HUMAN; break;
        case OPT_JSON_STATS: s->stats = STATS_JSON; break;
        case OPT_FAIL_OPEN: s->fail_open = 1; break;
        case OPT_CONFIG: config = optarg; break;
        case OPT_MODE: mode = optarg; break;
        case OPT_EXACT_TOOLS: exact = optarg; break;
        case OPT_LOSSLESS: lossless = "true"; break;
        case OPT_MAX_BYTES:
            if (hr__parse_size(optarg, &s->opt.max_bytes) || !s->opt.max_bytes) {
                snprintf(err, err_len, "--max-bytes: '%s' is not a positive whole number", optarg);
                return SETTINGS_USAGE;
            }
            break;
        default:
            if (optopt && optopt < 256) snprintf(err, err_len, "unknown option '-%c'", optopt);
            else snprintf(err, err_len, "unknown option or missing value: '%s'", argv[optind - 1]);
            return SETTINGS_USAGE;
        }
    }
    if (argc - optind > 1) {
        snprintf(err, err_len, "one input at most (got %d)", argc - optind);
        return SETTINGS_USAGE;
    }
    if (optind < argc) s->path = argv[optind];
    struct hr__settings src;
    int rc = hr__settings_open(&src, NULL, config, err, err_len) ? SETTINGS_CONFIG : SETTINGS_OK;
    const struct {
        enum hr__setting id;
        const char *flag_value;
        size_t *dest;
    } nums[] = {
        {HR_S_PROTECT_RECENT, protect, &s->opt.protect_recent},
        {HR_S_MIN_TOKENS, min_tokens, &s->opt.min_tokens},
    };
    for (size_t i = 0; i < sizeof nums / sizeof nums[0] && !rc; i++) {
        int from_flag;
        if (resolve_numeric(&src, nums[i].id, nums[i].flag_value, nums[i].dest, err, err_len, &from_flag))
            rc = from_flag ? SETTINGS_USAGE : SETTINGS_CONFIG;
    }
    if (!rc) rc = resolve_words(&src, mode, exact, s, err, err_len);
    if (!rc) rc = resolve_lossless(&src, lossless, s, err, err_len);
    hr__settings_close(&src); /* the values are copied out: nothing is kept */
    return rc;
}

void settings_free(struct settings *s)
{
    free(s->exact_tools);
    s->exact_tools = NULL;
}
