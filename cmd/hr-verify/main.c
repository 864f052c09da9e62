/* hr-verify: the four-point routing checklist (health, logs, chat, base_url),
 * for people and for CI. Options, defaults, the order of the checks and the
 * exit status; each check lives in its own file. */
#include "prog.h"
#include "verify.h"

#include <curl/curl.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static void usage(FILE *out)
{
    fputs("usage: hr-verify [--proxy-url URL] [--hermes-home DIR] [--headroom-home DIR]\n"
          "                 [--config FILE] [--log-dir DIR] [--max-age DUR] [--calls N]\n"
          "                 [--chat | --no-chat] [--chat-cmd CMD] [--chat-timeout SECS]\n"
          "                 [--timeout SECS] [--check NAME]... [--json]\n"
          "Check that Hermes's traffic really goes through hr-proxy.\n"
          "  --proxy-url URL      the proxy (default: the headroom-route block's proxy_url\n"
          "                       in config.yaml, else hr-proxy's listen address)\n"
          "  --hermes-home DIR    Hermes's home (default: $HERMES_HOME, else ~/.hermes)\n"
          "  --headroom-home DIR  hr-proxy's home (default: $HEADROOM_HOME, else ~/.headroom)\n"
          "  --config FILE        hr-proxy's settings (default: HOME/route.yaml)\n"
          "  --log-dir DIR        the proxy's log folder (default: as hr-proxy resolves it:\n"
          "                       $HEADROOM_LOG_DIR, else route.yaml's log_dir, else HOME/logs)\n"
          "  --max-age DUR        logs: how recent the saving request must be (24h)\n"
          "  --calls N            base_url: how many of the plugin's last recorded calls\n"
          "                       to read; those since Hermes's last start must have\n"
          "                       gone to the proxy (20)\n"
          "  --chat               run the chat check even when hermes is not on PATH\n"
          "  --no-chat            skip the chat check (it costs one real request)\n"
          "  --chat-cmd CMD       the chat command; the prompt is its last argument\n"
          "                       (default: hermes chat -q)\n"
          "  --chat-timeout SECS  stop the chat command after this long (180)\n"
          "  --timeout SECS       for GET /health (5)\n"
          "  --check NAME         run only these: health, logs, chat, base_url (repeat,\n"
          "                       or a comma list)\n"
          "  --json               print one JSON object\n"
          "  -h, --help           show this help;  -V, --version  show the version\n"
          "Exit status: 0 no check failed, 1 a check failed, 64 usage, 70 internal error,\n"
          "78 settings (hr(7)).\n",
          out);
}

static int select_checks(const char *list, unsigned *selected)
{
    for (const char *s = list; *s;) {
        size_t len = strcspn(s, ",");
        int found = 0;
        for (int i = 0; i < N_CHECKS; i++)
            if (len == strlen(check_names[i]) && !strncmp(s, check_names[i], len)) *selected |= 1u << i, found = 1;
        if (!found) {
            char name[64];
            snprintf(name, sizeof name, "%.*s", (int)len, s);
            prog_msg("--check: unknown check '%s' (health, logs, chat, base_url)", name);
            return EX_USAGE;
        }
        s += len + (s[len] == ',');
    }
    return 0;
}

static int positive_number(const char *flag, const char *s, double *out)
{
    char *end;
    double v = strtod(s, &end);
    if (end == s || *end || !(v > 0) || v > 86400) {
        prog_msg("%s: '%s' is not a number of seconds", flag, s);
        return EX_USAGE;
    }
    *out = v;
    return 0;
}

/* The most calls --calls may ask for: the plugin keeps a few hundred. */
#define MAX_CALLS 1000

static int calls_number(const char *s, long *out)
{
    char *end;
    long v = strtol(s, &end, 10);
    if (end == s || *end || v < 1 || v > MAX_CALLS) {
        prog_msg("--calls: '%s' is not a number of calls from 1 to %d", s, MAX_CALLS);
        return EX_USAGE;
    }
    *out = v;
    return 0;
}

struct raw {
    const char *proxy_url, *hermes_home, *headroom_home, *log_dir, *config;
};

/* Returns 0, PROG_ANSWERED or EX_USAGE (the message printed). */
static int parse(int argc, char **argv, struct options *o, struct raw *raw)
{
    static const struct option longopts[] = {
        {"proxy-url", required_argument, NULL, 'u'},
        {"hermes-home", required_argument, NULL, 'H'},
        {"headroom-home", required_argument, NULL, 'R'},
        {"log-dir", required_argument, NULL, 'L'},
        {"max-age", required_argument, NULL, 'a'},
        {"chat", no_argument, NULL, 'c'},
        {"no-chat", no_argument, NULL, 'n'},
        {"chat-cmd", required_argument, NULL, 'C'},
        {"chat-timeout", required_argument, NULL, 'T'},
        {"timeout", required_argument, NULL, 't'},
        {"check", required_argument, NULL, 'k'},
        {"json", no_argument, NULL, 'j'},
        {"config", required_argument, NULL, 'F'},
        {"calls", required_argument, NULL, 'N'},
        {"help", no_argument, NULL, 'h'},
        {"version", no_argument, NULL, 'V'},
        {NULL, 0, NULL, 0},
    };
    double secs;
    for (int c; (c = getopt_long(argc, argv, "hV", longopts, NULL)) != -1;) {
        int rc = 0;
        switch (c) {
        case 'u': raw->proxy_url = optarg; break;
        case 'H': raw->hermes_home = optarg; break;
        case 'R': raw->headroom_home = optarg; break;
        case 'L': raw->log_dir = optarg; break;
        case 'F': raw->config = optarg; break;
        case 'N': rc = calls_number(optarg, &o->calls); break;
        case 'a':
            if ((o->max_age_ms = parse_duration_ms(optarg)) <= 0) {
                prog_msg("--max-age: '%s' is not a duration such as 90s, 30m, 24h or 7d", optarg);
                rc = EX_USAGE;
            }
            break;
        case 'c': o->chat = CHAT_ON; break;
        case 'n': o->chat = CHAT_OFF; break;
        case 'C': o->chat_cmd = optarg; break;
        case 'T': rc = positive_number("--chat-timeout", optarg, &secs), o->chat_timeout_s = (long)(secs + 0.5); break;
        case 't': rc = positive_number("--timeout", optarg, &o->http_timeout_s); break;
        case 'k': rc = select_checks(optarg, &o->selected); break;
        case 'j': o->json = 1; break;
        case 'h': usage(stdout); return PROG_ANSWERED;
        case 'V': prog_version(); return PROG_ANSWERED;
        default: usage(stderr); return EX_USAGE;
        }
        if (rc) return rc;
    }
    if (optind < argc) {
        prog_msg("unexpected argument '%s'", argv[optind]);
        return EX_USAGE;
    }
    if (o->chat_cmd && !*o->chat_cmd) {
        prog_msg("--chat-cmd: the command is empty");
        return EX_USAGE;
    }
    return 0;
}

/* Hermes's home (headroom's is the settings' hr_settings_open finds):
 * $HERMES_HOME, else ~/.hermes, else ./.hermes, so that a check still
 * reports on something. */
static char *hermes_home(void)
{
    hr_buf dir = HR_BUF_INIT;
    hr_status st = hr_hermes_default_dir(&dir);
    if (st == HR_ENOTFOUND) return strdup("./.hermes");
    return st ? NULL : dir.data;
}

/* The proxy URL: given, else the plugin block's, else where hr-proxy
 * listens (its listen setting); without trailing slashes. NULL with
 * *need_listen set when it would be the listen address and that is not one
 * (listen_url NULL). */
static char *proxy_url(const char *given, const char *hermes_home, const char *listen_url, int *need_listen)
{
    char *url = NULL;
    *need_listen = 0;
    if (given) url = strdup(given);
    else {
        hr_hermes *h;
        char err[700];
        const char *u = NULL;
        if (!hr_hermes_open(hermes_home, &h, err, sizeof err))
            u = hr_hermes_config_get(h, "plugins." HR_HERMES_PLUGIN ".proxy_url");
        if (u && *u) url = strdup(u);
        else if (listen_url) url = strdup(listen_url);
        else *need_listen = 1;
        hr_hermes_free(h);
    }
    for (size_t n = url ? strlen(url) : 0; n > 0 && url[n - 1] == '/'; n--) url[n - 1] = '\0';
    return url;
}

/* What hr-proxy itself would use, read and checked by libhr as hr-proxy
 * reads them: the log folder, and the address it listens on as a URL
 * (*listen_url NULL, and why in bad_listen, when the setting is not one:
 * an error only where the proxy URL must come from it). */
static int proxy_settings(struct options *o, const struct raw *raw, char **listen_url, char *bad_listen, size_t bad_len)
{
    hr_settings *src = NULL;
    const char *v;
    char err[4300], from = 'd';
    int rc = 0;
    *listen_url = NULL;
    if (hr_settings_open(raw->headroom_home, raw->config, &src, err, sizeof err)) {
        rc = prog_fail(EX_CONFIG, "%s", err);
    } else if (hr_settings_get(src, "log_dir", raw->log_dir, &v, &from, err, sizeof err)) {
        /* a bad --log-dir is a usage error; one from HEADROOM_LOG_DIR or route.yaml, configuration */
        rc = prog_fail(from == 'f' ? EX_USAGE : EX_CONFIG, "%s", err);
    } else {
        o->log_dir = strdup(v);
        o->settings_path = hr_settings_file(src) ? strdup(hr_settings_file(src)) : NULL;
        hr_buf url = HR_BUF_INIT;
        if (!hr_settings_get(src, "listen", NULL, &v, NULL, bad_listen, bad_len)) {
            if (hr_listen_url(v, &url)) snprintf(bad_listen, bad_len, "out of memory");
            else *listen_url = url.data;
        }
    }
    hr_settings_close(src);
    return rc;
}

static int resolve(struct options *o, const struct raw *raw)
{
    char *listen_url = NULL, bad_listen[1024] = "";
    int need_listen = 0;
    int rc = proxy_settings(o, raw, &listen_url, bad_listen, sizeof bad_listen);
    if (rc) return rc;
    o->hermes_home = raw->hermes_home ? strdup(raw->hermes_home) : hermes_home();
    o->proxy_url = o->hermes_home ? proxy_url(raw->proxy_url, o->hermes_home, listen_url, &need_listen) : NULL;
    free(listen_url);
    if (need_listen) return prog_fail(EX_CONFIG, "%s", bad_listen);
    if (!o->hermes_home || !o->log_dir || !o->proxy_url) return prog_fail(EX_SOFTWARE, "out of memory");
    const char *host;
    size_t host_len;
    int port;
    if (hr_url_host_port(o->proxy_url, &host, &host_len, &port)) {
        prog_msg("--proxy-url: '%s' is not an http:// or https:// URL", o->proxy_url);
        return EX_USAGE;
    }
    return 0;
}

/* Health first; then the chat, so that its request is in the log and its
 * call in the plugin's record by the time logs and base_url judge them. The
 * report keeps the checklist's order. */
static void run_checks(const struct options *o, struct result *res, struct run_state *st)
{
    if (o->selected & (1u << CHECK_HEALTH)) check_health(o, &res[CHECK_HEALTH]);
    if (o->selected & (1u << CHECK_CHAT)) check_chat(o, st, &res[CHECK_CHAT]);
    if (o->selected & (1u << CHECK_LOGS)) check_logs(o, st, &res[CHECK_LOGS]);
    if (o->selected & (1u << CHECK_BASE_URL)) check_base_url(o, st, &res[CHECK_BASE_URL]);
}

int main(int argc, char **argv)
{
    struct options o = {.max_age_ms = 24LL * 3600 * 1000, .chat_timeout_s = 180, .http_timeout_s = 5, .calls = 20};
    struct raw raw = {0};
    prog_init("hr-verify");
    int rc = parse(argc, argv, &o, &raw);
    if (rc == PROG_ANSWERED) return EX_OK;
    if (!rc) rc = resolve(&o, &raw);
    if (!rc && curl_global_init(CURL_GLOBAL_DEFAULT)) rc = prog_fail(EX_SOFTWARE, "cannot start libcurl");
    if (!rc) {
        if (!o.selected) o.selected = (1u << N_CHECKS) - 1;
        const char *no_color = getenv("NO_COLOR");
        o.color = !o.json && isatty(STDOUT_FILENO) && !(no_color && *no_color);
        struct result res[N_CHECKS] = {0};
        struct run_state st = {0};
        run_checks(&o, res, &st);
        if (o.json) report_json(&o, &st, res);
        else report_text(&o, res);
        rc = EX_OK;
        for (int i = 0; i < N_CHECKS; i++)
            if ((o.selected & (1u << i)) && res[i].v == V_FAIL) rc = PROG_FAILED;
        witness_free(&st.calls);
        curl_global_cleanup();
    }
    free(o.proxy_url);
    free(o.hermes_home);
    free(o.log_dir);
    free(o.settings_path);
    return rc;
}
