/* hr-proxy settings: each one from its flag, else its environment variable,
 * else route.yaml, else the default, resolved and checked by libhr as for
 * every program (lib/settings/route_settings.c); stored here, read again on
 * SIGHUP. */
#include "hr_internal.h"
#include "proxy.h"

#include <getopt.h>
#include <stdio.h>
#include <string.h>

_Static_assert(HR_S_COUNT <= sizeof((struct cli *)0)->flags / sizeof(const char *), "struct cli: flags too short");

static int is_switch(int i)
{
    return hr__setting_spec(i)->kind == HR_K_BOOL;
}

void usage(FILE *out)
{
    fputs("usage: hr-proxy [--listen HOST:PORT] [--allow-remote] [--config FILE] [--log-dir DIR]\n"
          "                [--anthropic-api-url URL] [--openai-api-url URL] [--chatgpt-api-url URL]\n"
          "                [--protect-recent N] [--min-tokens N] [--max-concurrent N]\n"
          "                [--max-body-bytes N] [--upstream-timeout S] [--connect-timeout S]\n"
          "                [--client-timeout S] [--compress-timeout-ms MS] [--shutdown-wait S]\n"
          "                [--log-max-bytes N] [--scorer auto|lexical|kompress]\n"
          "                [--kompress-model DIR] [--kompress-backend B] [--pidfile FILE]\n"
          "                [--observe] [--price-anthropic-cache-write X]\n"
          "                [--price-anthropic-cache-read X] [--price-openai-cached X]\n"
          "                [--mode cache|token] [--exact-tools LIST] [--lossless]\n"
          "The compressing reverse proxy for LLM API requests; runs in the foreground.\n"
          "Settings: flag, else environment (HEADROOM_*), else route.yaml, else default;\n"
          "see hr-proxy(8). -h, --help: this help; -V, --version: the version.\n",
          out);
}

int cli_parse(struct cli *cli, int argc, char **argv, char *err, size_t err_len)
{
    struct option longopts[HR_S_COUNT + 6];
    memset(cli, 0, sizeof *cli);
    for (int i = 0; i < HR_S_COUNT; i++) /* --observe, --lossless: switches, their value "true" */
        longopts[i] =
            (struct option){hr__setting_spec(i)->flag, is_switch(i) ? no_argument : required_argument, NULL, 256 + i};
    longopts[HR_S_COUNT] = (struct option){"config", required_argument, NULL, 'c'};
    longopts[HR_S_COUNT + 1] = (struct option){"allow-remote", no_argument, NULL, 'r'};
    longopts[HR_S_COUNT + 2] = (struct option){"pidfile", required_argument, NULL, 'p'};
    longopts[HR_S_COUNT + 3] = (struct option){"help", no_argument, NULL, 'h'};
    longopts[HR_S_COUNT + 4] = (struct option){"version", no_argument, NULL, 'V'};
    longopts[HR_S_COUNT + 5] = (struct option){NULL, 0, NULL, 0};
    opterr = 0;
    int c;
    while ((c = getopt_long(argc, argv, "hV", longopts, NULL)) != -1) {
        if (c >= 256 && c < 256 + HR_S_COUNT) cli->flags[c - 256] = is_switch(c - 256) ? "true" : optarg;
        else if (c == 'c') cli->config = optarg;
        else if (c == 'r') cli->allow_remote = 1;
        else if (c == 'p') cli->pidfile = optarg;
        else if (c == 'h') return CLI_HELP;
        else if (c == 'V') return CLI_VERSION;
        else {
            snprintf(err, err_len, "unknown option or missing value: '%s'", argv[optind - 1]);
            return CLI_USAGE;
        }
    }
    if (optind < argc) {
        snprintf(err, err_len, "unexpected argument '%s'", argv[optind]);
        return CLI_USAGE;
    }
    return CLI_OK;
}

static int is_loopback(const char *host)
{
    return !strcmp(host, "localhost") || !strncmp(host, "127.", 4) || !strcmp(host, "::1");
}

/* An upstream base URL (libhr checked its scheme), without trailing slashes. */
static int copy_url(char *out, size_t cap, const char *v)
{
    size_t n = strlen(v);
    while (n > 8 && v[n - 1] == '/') n--;
    if (n >= cap) return -1;
    memcpy(out, v, n);
    out[n] = '\0';
    return 0;
}

/* v into out[cap]; -1 when it does not fit. */
static int copy_word(char *out, size_t cap, const char *v)
{
    return (size_t)snprintf(out, cap, "%s", v) < cap ? 0 : -1;
}

static int apply_rate(struct settings *s, int i, const char *v)
{
    double *to = i == HR_S_PRICE_ANTHROPIC_CACHE_WRITE  ? &s->prices.cache_write
                 : i == HR_S_PRICE_ANTHROPIC_CACHE_READ ? &s->prices.cache_read
                                                        : &s->prices.openai_cached;
    return parse_multiplier(v, to);
}

static int apply_text(struct settings *s, int i, const char *v)
{
    switch (i) {
    case HR_S_ANTHROPIC_URL: return copy_url(s->anthropic_url, sizeof s->anthropic_url, v);
    case HR_S_OPENAI_URL: return copy_url(s->openai_url, sizeof s->openai_url, v);
    case HR_S_CHATGPT_URL: return copy_url(s->chatgpt_url, sizeof s->chatgpt_url, v);
    case HR_S_LOG_DIR: return copy_word(s->log_dir, sizeof s->log_dir, v);
    case HR_S_SCORER: return copy_word(s->scorer, sizeof s->scorer, v);
    case HR_S_KOMPRESS_MODEL: return copy_word(s->kompress_model, sizeof s->kompress_model, v);
    case HR_S_KOMPRESS_BACKEND: return copy_word(s->kompress_backend, sizeof s->kompress_backend, v);
    case HR_S_EXACT_TOOLS: return copy_word(s->exact_tools, sizeof s->exact_tools, v);
    default: return apply_rate(s, i, v);
    }
}

/* Setting i, as libhr read and checked it, stored: 0, or -1 when it does
 * not fit (or, for a price, is none). */
static int apply(struct settings *s, int i, const struct hr__setting_value *v)
{
    size_t n = v->n;
    switch (i) {
    case HR_S_LISTEN: s->listen_port = v->port; return copy_word(s->listen_host, sizeof s->listen_host, v->host);
    case HR_S_OBSERVE: s->observe = v->on; break;
    case HR_S_LOSSLESS: s->lossless = v->on; break;
    case HR_S_MODE: s->mode = v->mode; break;
    case HR_S_PROTECT_RECENT: s->protect_recent = n; break;
    case HR_S_MIN_TOKENS: s->min_tokens = n; break;
    case HR_S_MAX_CONCURRENT: s->max_concurrent = n; break;
    case HR_S_MAX_BODY: s->max_body = n; break;
    case HR_S_UPSTREAM_TIMEOUT: s->upstream_timeout_s = (long)n; break;
    case HR_S_CONNECT_TIMEOUT: s->connect_timeout_s = (long)n; break;
    case HR_S_CLIENT_TIMEOUT: s->client_timeout_s = (long)n; break;
    case HR_S_COMPRESS_TIMEOUT: s->compress_timeout_ms = (long)n; break;
    case HR_S_SHUTDOWN_WAIT: s->shutdown_wait_s = (long)n; break;
    case HR_S_LOG_MAX: s->log_max_bytes = n; break;
    default: return apply_text(s, i, v->text);
    }
    return 0;
}

/* Each setting read and checked by libhr, the same as in every program,
 * and stored. */
static int resolve_all(const struct cli *cli, const struct hr__settings *src, struct settings *s, char *err,
                       size_t err_len)
{
    for (int i = 0; i < HR_S_COUNT; i++) {
        struct hr__setting_value v;
        if (hr__settings_read(src, i, cli->flags[i], &v, err, err_len)) return -1;
        if (!apply(s, i, &v)) continue;
        int rate = hr__setting_spec(i)->kind == HR_K_RATE;
        hr__settings_refuse(src, i, &v, rate ? "is not a price multiplier (a number, 0 or more)" : "is too long", err,
                            err_len);
        return -1;
    }
    return 0;
}

int settings_load(const struct cli *cli, struct settings *s, char *err, size_t err_len)
{
    struct hr__settings src;
    memset(s, 0, sizeof *s);
    int rc = hr__settings_open(&src, NULL, cli->config, err, err_len) ? -1 : 0;
    if (!rc && src.config_path) snprintf(s->config_path, sizeof s->config_path, "%s", src.config_path);
    if (!rc) rc = resolve_all(cli, &src, s, err, err_len);
    if (!rc && prices_load_models(src.cfg, &s->prices, err, err_len)) {
        char why[512];
        snprintf(why, sizeof why, "%s", err);
        snprintf(err, err_len, "%s: %s", src.config_path ? src.config_path : "route.yaml", why);
        rc = -1;
    }
    s->allow_remote = cli->allow_remote;
    if (cli->pidfile) snprintf(s->pidfile, sizeof s->pidfile, "%s", cli->pidfile);
    if (!rc && !s->allow_remote && !is_loopback(s->listen_host)) {
        snprintf(err, err_len, "refusing to listen on %s, not a loopback address (--allow-remote to allow)",
                 s->listen_host);
        rc = -1;
    }
    hr__settings_close(&src);
    return rc;
}
