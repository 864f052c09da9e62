/* hr-proxy settings: each one from its flag, else its environment variable,
 * else route.yaml, else the default; read again on SIGHUP. */
#include "kompress.h"
#include "proxy.h"

#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum kind { K_LISTEN, K_URL, K_SIZE, K_DIR, K_WORD, K_PATH };

struct spec {
    const char *flag, *env, *key, *fallback;
    enum kind kind;
};

/* Indexed as cli->flags. */
enum {
    S_LISTEN, S_ANTHROPIC, S_OPENAI, S_CHATGPT, S_PROTECT, S_MIN_TOKENS, S_MAX_CONCURRENT, S_LOG_DIR, S_MAX_BODY,
    S_UPSTREAM_TIMEOUT, S_CONNECT_TIMEOUT, S_CLIENT_TIMEOUT, S_COMPRESS_TIMEOUT, S_SHUTDOWN_WAIT, S_LOG_MAX, S_SCORER, S_MODEL, S_BACKEND, S_COUNT
};

static const struct spec specs[S_COUNT] = {
    [S_LISTEN] = {"listen", "HEADROOM_LISTEN", "listen", "127.0.0.1:8788", K_LISTEN},
    [S_ANTHROPIC] = {"anthropic-api-url", "HEADROOM_ANTHROPIC_API_URL", "anthropic_api_url", "https://api.anthropic.com", K_URL},
    [S_OPENAI] = {"openai-api-url", "HEADROOM_OPENAI_API_URL", "openai_api_url", "https://api.openai.com", K_URL},
    [S_CHATGPT] = {"chatgpt-api-url", "HEADROOM_CHATGPT_API_URL", "chatgpt_api_url", "https://chatgpt.com/backend-api/codex", K_URL},
    [S_PROTECT] = {"protect-recent", "HEADROOM_PROTECT_RECENT", "protect_recent", "5", K_SIZE},
    [S_MIN_TOKENS] = {"min-tokens", "HEADROOM_MIN_TOKENS_TO_CRUSH", "min_tokens_to_crush", "500", K_SIZE},
    [S_MAX_CONCURRENT] = {"max-concurrent", "HEADROOM_KOMPRESS_MAX_CONCURRENT", "max_concurrent", "1", K_SIZE},
    [S_LOG_DIR] = {"log-dir", "HEADROOM_LOG_DIR", "log_dir", NULL, K_DIR},
    [S_MAX_BODY] = {"max-body-bytes", "HEADROOM_MAX_BODY_BYTES", "max_body_bytes", "33554432", K_SIZE},
    [S_UPSTREAM_TIMEOUT] = {"upstream-timeout", "HEADROOM_UPSTREAM_TIMEOUT", "upstream_timeout", "600", K_SIZE},
    [S_CONNECT_TIMEOUT] = {"connect-timeout", "HEADROOM_CONNECT_TIMEOUT", "connect_timeout", "10", K_SIZE},
    [S_CLIENT_TIMEOUT] = {"client-timeout", "HEADROOM_CLIENT_TIMEOUT", "client_timeout", "120", K_SIZE},
    [S_COMPRESS_TIMEOUT] = {"compress-timeout-ms", "HEADROOM_COMPRESS_TIMEOUT_MS", "compress_timeout_ms", "1000", K_SIZE},
    [S_SHUTDOWN_WAIT] = {"shutdown-wait", "HEADROOM_SHUTDOWN_WAIT", "shutdown_wait", "30", K_SIZE},
    [S_LOG_MAX] = {"log-max-bytes", "HEADROOM_LOG_MAX_BYTES", "log_max_bytes", "67108864", K_SIZE},
    [S_SCORER] = {"scorer", "HEADROOM_SCORER", "scorer", "auto", K_WORD},
    [S_MODEL] = {"kompress-model", "HEADROOM_KOMPRESS_MODEL", "kompress_model", "", K_PATH},
    [S_BACKEND] = {"kompress-backend", "HEADROOM_KOMPRESS_BACKEND", "kompress_backend", "auto", K_WORD},
};

void usage(FILE *out)
{
    fputs("usage: hr-proxy [--listen HOST:PORT] [--allow-remote] [--config FILE] [--log-dir DIR]\n"
          "                [--anthropic-api-url URL] [--openai-api-url URL] [--chatgpt-api-url URL]\n"
          "                [--protect-recent N] [--min-tokens N] [--max-concurrent N]\n"
          "                [--max-body-bytes N] [--upstream-timeout S] [--connect-timeout S]\n"
          "                [--client-timeout S] [--compress-timeout-ms MS] [--shutdown-wait S]\n"
          "                [--log-max-bytes N] [--scorer auto|lexical|kompress]\n"
          "                [--kompress-model DIR] [--kompress-backend B] [--pidfile FILE]\n"
          "The compressing reverse proxy for LLM API requests; runs in the foreground.\n"
          "Settings: flag, else environment (HEADROOM_*), else route.yaml, else default;\n"
          "see hr-proxy(8). -h, --help: this help; -V, --version: the version.\n",
          out);
}

int cli_parse(struct cli *cli, int argc, char **argv, char *err, size_t err_len)
{
    struct option longopts[S_COUNT + 6];
    memset(cli, 0, sizeof *cli);
    for (int i = 0; i < S_COUNT; i++) longopts[i] = (struct option){specs[i].flag, required_argument, NULL, 256 + i};
    longopts[S_COUNT] = (struct option){"config", required_argument, NULL, 'c'};
    longopts[S_COUNT + 1] = (struct option){"allow-remote", no_argument, NULL, 'r'};
    longopts[S_COUNT + 2] = (struct option){"pidfile", required_argument, NULL, 'p'};
    longopts[S_COUNT + 3] = (struct option){"help", no_argument, NULL, 'h'};
    longopts[S_COUNT + 4] = (struct option){"version", no_argument, NULL, 'V'};
    longopts[S_COUNT + 5] = (struct option){NULL, 0, NULL, 0};
    opterr = 0;
    int c;
    while ((c = getopt_long(argc, argv, "hV", longopts, NULL)) != -1) {
        if (c >= 256 && c < 256 + S_COUNT) cli->flags[c - 256] = optarg;
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

static int parse_listen(const char *v, struct settings *s)
{
    const char *colon = strrchr(v, ':');
    if (!colon || colon == v) return -1;
    size_t n = (size_t)(colon - v);
    if (v[0] == '[' && v[n - 1] == ']') { /* [::1]:8788 */
        v++;
        n -= 2;
    }
    if (n == 0 || n >= sizeof s->listen_host) return -1;
    memcpy(s->listen_host, v, n);
    s->listen_host[n] = '\0';
    char *end;
    long port = strtol(colon + 1, &end, 10);
    if (*end || port < 1 || port > 65535) return -1;
    s->listen_port = (int)port;
    return 0;
}

static int parse_size(const char *v, size_t *out)
{
    if (*v < '0' || *v > '9') return -1;
    errno = 0;
    char *end;
    unsigned long long x = strtoull(v, &end, 10);
    if (errno || *end) return -1;
    *out = (size_t)x;
    return 0;
}

/* An upstream base URL: http(s)://, no trailing slash. */
static int parse_url(const char *v, char *out, size_t cap)
{
    if (strncmp(v, "http://", 7) && strncmp(v, "https://", 8)) return -1;
    size_t n = strlen(v);
    while (n > 8 && v[n - 1] == '/') n--;
    if (n >= cap) return -1;
    memcpy(out, v, n);
    out[n] = '\0';
    return 0;
}

static void describe(char *buf, size_t cap, char from, int i, const char *cfg_path)
{
    if (from == 'f') snprintf(buf, cap, "--%s", specs[i].flag);
    else if (from == 'e') snprintf(buf, cap, "%s", specs[i].env);
    else if (from == 'c') snprintf(buf, cap, "%s: %s", cfg_path, specs[i].key);
    else snprintf(buf, cap, "default %s", specs[i].key);
}

static int known_scorer(const char *v)
{
    return !strcmp(v, "auto") || !strcmp(v, "lexical") || !strcmp(v, "kompress");
}

/* v into out[cap]; -1 when it does not fit. */
static int copy_word(char *out, size_t cap, const char *v)
{
    return (size_t)snprintf(out, cap, "%s", v) < cap ? 0 : -1;
}

static int apply(struct settings *s, int i, const char *v)
{
    size_t n = 0;
    switch (specs[i].kind) {
    case K_WORD:
        if (i == S_SCORER) return known_scorer(v) ? copy_word(s->scorer, sizeof s->scorer, v) : -1;
        return hr__kompress_backend_known(v) ? copy_word(s->kompress_backend, sizeof s->kompress_backend, v) : -1;
    case K_PATH: /* "" leaves the folder to libhr's default */
        if (strlen(v) >= sizeof s->kompress_model) return -1;
        snprintf(s->kompress_model, sizeof s->kompress_model, "%s", v);
        return 0;
    case K_LISTEN: return parse_listen(v, s);
    case K_URL:
        return parse_url(v, i == S_ANTHROPIC ? s->anthropic_url : i == S_OPENAI ? s->openai_url : s->chatgpt_url,
                         sizeof s->openai_url);
    case K_DIR:
        if (!*v || strlen(v) >= sizeof s->log_dir) return -1;
        snprintf(s->log_dir, sizeof s->log_dir, "%s", v);
        return 0;
    case K_SIZE: break;
    }
    if (parse_size(v, &n)) return -1;
    switch (i) {
    case S_PROTECT: s->protect_recent = n; break;
    case S_MIN_TOKENS: s->min_tokens = n; break;
    case S_MAX_CONCURRENT: s->max_concurrent = n; return n ? 0 : -1;
    case S_MAX_BODY: s->max_body = n; return n ? 0 : -1;
    case S_UPSTREAM_TIMEOUT: s->upstream_timeout_s = (long)n; return n ? 0 : -1;
    case S_CONNECT_TIMEOUT: s->connect_timeout_s = (long)n; return n ? 0 : -1;
    case S_CLIENT_TIMEOUT: s->client_timeout_s = (long)n; return n ? 0 : -1;
    case S_COMPRESS_TIMEOUT: s->compress_timeout_ms = (long)n; break;
    case S_SHUTDOWN_WAIT: s->shutdown_wait_s = (long)n; break;
    case S_LOG_MAX: s->log_max_bytes = n; return n ? 0 : -1;
    }
    return 0;
}

/* $HEADROOM_HOME, else ~/.headroom. */
static void headroom_home(char *out, size_t cap)
{
    const char *home = getenv("HEADROOM_HOME"), *user = getenv("HOME");
    if (home && *home) snprintf(out, cap, "%s", home);
    else snprintf(out, cap, "%s/.headroom", user && *user ? user : ".");
}

int settings_load(const struct cli *cli, struct settings *s, char *err, size_t err_len)
{
    char home[2048];
    hr_config *cfg = NULL;
    memset(s, 0, sizeof *s);
    headroom_home(home, sizeof home);
    if (cli->config) snprintf(s->config_path, sizeof s->config_path, "%s", cli->config);
    else snprintf(s->config_path, sizeof s->config_path, "%s/route.yaml", home);
    hr_status st = hr_config_load(s->config_path, &cfg, err, err_len);
    if (st == HR_ENOTFOUND && !cli->config) {
        s->config_path[0] = '\0';
    } else if (st) {
        return -1;
    }
    int rc = 0;
    for (int i = 0; i < S_COUNT && !rc; i++) {
        char from;
        const char *v = hr_setting(cli->flags[i], specs[i].env, cfg, specs[i].key, &from);
        char dflt[4200];
        if (!v && i == S_LOG_DIR) snprintf(dflt, sizeof dflt, "%s/logs", home);
        else if (!v) snprintf(dflt, sizeof dflt, "%s", specs[i].fallback);
        if (!v) v = dflt;
        if (apply(s, i, v)) {
            char where[4200];
            describe(where, sizeof where, from, i, s->config_path);
            snprintf(err, err_len, "%s: bad value '%s'", where, v);
            rc = -1;
        }
    }
    s->allow_remote = cli->allow_remote;
    if (cli->pidfile) snprintf(s->pidfile, sizeof s->pidfile, "%s", cli->pidfile);
    if (!rc && !s->allow_remote && !is_loopback(s->listen_host)) {
        snprintf(err, err_len, "refusing to listen on %s, not a loopback address (--allow-remote to allow)",
                 s->listen_host);
        rc = -1;
    }
    hr_config_free(cfg);
    return rc;
}
