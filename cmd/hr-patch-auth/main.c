/* hr-patch-auth: points Hermes Agent at hr-proxy (auth.json, config.yaml,
 * the headroom-route plugin) with a backup, and undoes it. Option parsing,
 * where the report goes and the exit statuses; the engine is libhr's
 * hr_patch_* (include/hr.h). */
#include "hr.h"
#include "prog.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Where make install puts the programs and the plugin (the Makefile passes
 * both; a change of either rebuilds this file). */
#ifndef HR_BINDIR
#define HR_BINDIR "/usr/local/bin"
#endif
#ifndef HR_DATADIR
#define HR_DATADIR "/usr/local/share"
#endif
#define PLUGIN_UNDER_DATADIR "hr/" HR_HERMES_PLUGIN

/* The report on standard output, the notes beside a JSON one on standard
 * error, errors as "hr-patch-auth: ..." lines there. */
static void write_out(void *ctx, hr_patch_stream stream, const char *text, size_t len)
{
    (void)ctx;
    if (stream == HR_PATCH_MESSAGE) prog_msg("%.*s", (int)len, text);
    else fwrite(text, 1, len, stream == HR_PATCH_REPORT ? stdout : stderr);
}

static void usage(FILE *out)
{
    fputs("usage: hr-patch-auth --apply | --dry-run | --status | --rollback [ID]\n"
          "                     [--hermes-home DIR] [--proxy-url URL] [--providers LIST]\n"
          "                     [--plugin-source DIR] [--keep-plugin] [--json]\n"
          "Point Hermes Agent at hr-proxy, with a backup, and undo it.\n"
          "  --apply              rewrite auth.json and config.yaml, install the plugin\n"
          "  --dry-run            print the diff --apply would make; change nothing\n"
          "  --status             where each provider's traffic goes (exit 3: not all via\n"
          "                       the proxy)\n"
          "  --rollback [ID]      undo an apply (default: the latest one)\n"
          "  --hermes-home DIR    Hermes's home (default: $HERMES_HOME, else ~/.hermes)\n"
          "  --proxy-url URL      the proxy (default http://127.0.0.1:8788)\n"
          "  --providers LIST     routed providers, from anthropic,openai-codex,openai-api\n"
          "                       (default: those with credentials or configuration)\n"
          "  --plugin-source DIR  the plugin to install (default: $HR_PLUGIN_SOURCE, else\n"
          "                       the one installed with this program, else\n"
          "                       " HR_DATADIR "/" PLUGIN_UNDER_DATADIR ")\n"
          "  --keep-plugin        --rollback leaves the plugin's folder\n"
          "  --json               print the result as one JSON object\n"
          "  -h, --help           show this help;  -V, --version  show the version\n",
          out);
}

/* The proxy URL as stored: http(s), nothing YAML or JSON would need to
 * quote, no trailing slash. */
static char *clean_proxy_url(const char *url)
{
    const char *host;
    size_t host_len;
    int port;
    if (hr_url_host_port(url, &host, &host_len, &port) || strpbrk(url, " \t\r\n\"'#,[]{}\\")) {
        prog_msg("--proxy-url: '%s' is not an http:// or https:// URL", url);
        return NULL;
    }
    char *s = strdup(url);
    for (size_t n = s ? strlen(s) : 0; n > 0 && s[n - 1] == '/'; n--) s[n - 1] = '\0';
    return s;
}

/* The plugin that came with this program (make install's BINDIR and
 * DATADIR, as compiled in); NULL when out of memory. */
static char *default_plugin_source(void)
{
    hr_buf b = HR_BUF_INIT;
    if (!hr_patch_plugin_source(HR_BINDIR, HR_DATADIR, &b)) return b.data;
    hr_buf_free(&b);
    return NULL;
}

enum mode { NONE, APPLY, DRY_RUN, STATUS, ROLLBACK };

static int set_mode(enum mode *m, enum mode want)
{
    if (*m != NONE && *m != want)
        return prog_fail(EX_USAGE, "--apply, --dry-run, --status and --rollback exclude one another");
    *m = want;
    return 0;
}

/* Returns 0, PROG_ANSWERED or EX_USAGE (the message printed). */
static int parse(int argc, char **argv, hr_patch_options *o, enum mode *mode)
{
    static const struct option longopts[] = {
        {"apply", no_argument, NULL, 'a'},
        {"dry-run", no_argument, NULL, 'n'},
        {"status", no_argument, NULL, 's'},
        {"rollback", optional_argument, NULL, 'r'},
        {"hermes-home", required_argument, NULL, 'H'},
        {"proxy-url", required_argument, NULL, 'u'},
        {"providers", required_argument, NULL, 'p'},
        {"plugin-source", required_argument, NULL, 'P'},
        {"keep-plugin", no_argument, NULL, 'k'},
        {"json", no_argument, NULL, 'j'},
        {"help", no_argument, NULL, 'h'},
        {"version", no_argument, NULL, 'V'},
        {NULL, 0, NULL, 0},
    };
    for (int c; (c = getopt_long(argc, argv, "hV", longopts, NULL)) != -1;) {
        int rc = 0;
        switch (c) {
        case 'a': rc = set_mode(mode, APPLY); break;
        case 'n': rc = set_mode(mode, DRY_RUN); break;
        case 's': rc = set_mode(mode, STATUS); break;
        case 'r': rc = set_mode(mode, ROLLBACK), o->backup_id = optarg; break;
        case 'H': o->hermes_home = optarg; break;
        case 'u': o->proxy_url = optarg; break;
        case 'p': o->providers = optarg; break;
        case 'P': o->plugin_source = optarg; break;
        case 'k': o->keep_plugin = 1; break;
        case 'j': o->json = 1; break;
        case 'h': usage(stdout); return PROG_ANSWERED;
        case 'V': prog_version(); return PROG_ANSWERED;
        default: usage(stderr); return EX_USAGE;
        }
        if (rc) return rc;
    }
    if (*mode == ROLLBACK && !o->backup_id && optind < argc) o->backup_id = argv[optind++];
    if (optind < argc) return prog_fail(EX_USAGE, "unexpected argument '%s'", argv[optind]);
    if (*mode == NONE) {
        usage(stderr);
        return EX_USAGE;
    }
    if (o->backup_id && (!*o->backup_id || strchr(o->backup_id, '/') || o->backup_id[0] == '.'))
        return prog_fail(EX_USAGE, "--rollback: '%s' is not a backup id", o->backup_id);
    return 0;
}

/* The mode's outcome as the exit status (hr(7)): a failed mode has printed
 * its error and changed nothing. */
static int run_mode(const hr_patch_options *o, enum mode mode)
{
    int all_routed = 0;
    hr_status st = HR_OK;
    switch (mode) {
    case APPLY: st = hr_patch_apply(o); break;
    case DRY_RUN: st = hr_patch_dry_run(o); break;
    case STATUS: st = hr_patch_status(o, &all_routed); break;
    case ROLLBACK: st = hr_patch_rollback(o); break;
    case NONE: break;
    }
    if (st) return PROG_FAILED;
    return mode == STATUS && !all_routed ? PROG_NOT_ROUTED : EX_OK;
}

/* Hermes's home: --hermes-home, else $HERMES_HOME, else ~/.hermes. */
static char *hermes_home(const char *given)
{
    hr_buf b = HR_BUF_INIT;
    if (given) return strdup(given);
    return hr_hermes_default_dir(&b) ? NULL : b.data;
}

int main(int argc, char **argv)
{
    hr_patch_options o;
    enum mode mode = NONE;
    hr_patch_options_init(&o);
    o.write = write_out;
    prog_init("hr-patch-auth");
    int rc = parse(argc, argv, &o, &mode);
    if (rc) return rc == PROG_ANSWERED ? EX_OK : rc;
    char *home = hermes_home(o.hermes_home), *proxy = NULL;
    if (!home) return prog_fail(PROG_FAILED, "no Hermes home: give --hermes-home DIR or set HERMES_HOME");
    o.hermes_home = home;
    if (o.proxy_url && !(proxy = clean_proxy_url(o.proxy_url))) {
        free(home);
        return PROG_FAILED;
    }
    o.proxy_url = proxy;
    const char *env_source = getenv("HR_PLUGIN_SOURCE");
    char *found_source = NULL;
    if (!o.plugin_source && env_source && *env_source) o.plugin_source = env_source;
    if (!o.plugin_source && !(o.plugin_source = found_source = default_plugin_source())) {
        free(home);
        free(proxy);
        return prog_fail(EX_SOFTWARE, "out of memory");
    }
    rc = run_mode(&o, mode);
    free(home);
    free(proxy);
    free(found_source);
    return rc;
}
