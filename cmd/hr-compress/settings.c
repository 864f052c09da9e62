/* Where each setting comes from: a flag wins over the environment, which
 * wins over route.yaml, which wins over the built-in default. */
#include "kompress.h"
#include "settings.h"

#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum { OPT_FORMAT = 256, OPT_PROTECT, OPT_MIN_TOKENS, OPT_QUERY, OPT_SCORER, OPT_MODEL, OPT_BACKEND, OPT_STATS, OPT_JSON_STATS,
       OPT_FAIL_OPEN, OPT_CONFIG, OPT_MAX_BYTES };

/* A whole number in decimal, nothing else. */
static int parse_size(const char *text, size_t *out)
{
    if (!text || *text < '0' || *text > '9') return -1;
    errno = 0;
    char *end;
    unsigned long long v = strtoull(text, &end, 10);
    if (errno || *end) return -1;
    *out = (size_t)v;
    return 0;
}

/* The numeric settings shared with hr-proxy: flag, else environment, else
 * file; each source is named in the error. */
struct numeric {
    const char *flag, *flag_value, *env, *key;
    size_t *dest;
};

static int resolve_numeric(const struct numeric *n, const hr_config *cfg, const char *cfg_path, char *err,
                           size_t err_len, int *from_flag)
{
    char from;
    const char *v = hr_setting(n->flag_value, n->env, cfg, n->key, &from);
    *from_flag = from == 'f';
    if (!v || !parse_size(v, n->dest)) return 0;
    if (from == 'f') snprintf(err, err_len, "--%s: '%s' is not a whole number", n->flag, v);
    else if (from == 'e') snprintf(err, err_len, "%s: '%s' is not a whole number", n->env, v);
    else snprintf(err, err_len, "%s: %s: '%s' is not a whole number", cfg_path, n->key, v);
    return -1;
}

/* --config FILE, else $HEADROOM_HOME/route.yaml (~/.headroom) when present. */
static int load_config(struct settings *s, const char *explicit_path, char *path_out, size_t path_len, char *err,
                       size_t err_len)
{
    if (explicit_path) {
        snprintf(path_out, path_len, "%s", explicit_path);
    } else {
        const char *home = getenv("HEADROOM_HOME"), *user = getenv("HOME");
        if (home && *home) snprintf(path_out, path_len, "%s/route.yaml", home);
        else if (user && *user) snprintf(path_out, path_len, "%s/.headroom/route.yaml", user);
        else return 0;
    }
    hr_status st = hr_config_load(path_out, &s->cfg, err, err_len);
    if (st == HR_ENOTFOUND && !explicit_path) return 0;
    return st ? -1 : 0;
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
        {"help", no_argument, NULL, 'h'},
        {"version", no_argument, NULL, 'V'},
        {NULL, 0, NULL, 0},
    };
    memset(s, 0, sizeof *s);
    hr_compress_options_init(&s->opt);
    const char *protect = NULL, *min_tokens = NULL, *config = NULL;
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
        case OPT_MAX_BYTES:
            if (parse_size(optarg, &s->opt.max_bytes) || !s->opt.max_bytes) {
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
    char cfg_path[4096];
    if (load_config(s, config, cfg_path, sizeof cfg_path, err, err_len)) return SETTINGS_CONFIG;
    const struct numeric nums[] = {
        {"protect-recent", protect, "HEADROOM_PROTECT_RECENT", "protect_recent", &s->opt.protect_recent},
        {"min-tokens", min_tokens, "HEADROOM_MIN_TOKENS_TO_CRUSH", "min_tokens_to_crush", &s->opt.min_tokens},
    };
    for (size_t i = 0; i < sizeof nums / sizeof nums[0]; i++) {
        int from_flag;
        if (resolve_numeric(&nums[i], s->cfg, cfg_path, err, err_len, &from_flag))
            return from_flag ? SETTINGS_USAGE : SETTINGS_CONFIG;
    }
    return SETTINGS_OK;
}

void settings_free(struct settings *s)
{
    hr_config_free(s->cfg);
    s->cfg = NULL;
}
