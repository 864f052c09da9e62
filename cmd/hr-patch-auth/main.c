/* hr-patch-auth: points Hermes Agent at hr-proxy (auth.json, config.yaml,
 * the headroom-route plugin) with a backup, and undoes it. Option parsing and
 * exit statuses; the edits are libhr's hermes_* splices. */
#include "patch.h"

#include <getopt.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* Where make install puts the programs and the plugin (the Makefile passes
 * both; a change of either rebuilds this file). */
#ifndef HR_BINDIR
#define HR_BINDIR "/usr/local/bin"
#endif
#ifndef HR_DATADIR
#define HR_DATADIR "/usr/local/share"
#endif
#define PLUGIN_UNDER_DATADIR "hr/" HR_PLUGIN_NAME

int quiet_text;

void say(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    FILE *f = quiet_text ? stderr : stdout;
    fputs("  ", f);
    vfprintf(f, fmt, ap);
    fputc('\n', f);
    va_end(ap);
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
    if (!hr__url_is_http(url) || strpbrk(url, " \t\r\n\"'#,[]{}\\")) {
        prog_msg("--proxy-url: '%s' is not an http:// or https:// URL", url);
        return NULL;
    }
    char *s = strdup(url);
    for (size_t n = s ? strlen(s) : 0; n > 0 && s[n - 1] == '/'; n--) s[n - 1] = '\0';
    return s;
}

/* dir/tail when it holds the plugin (its plugin.yaml), with . and ..
 * resolved; else NULL. */
static char *plugin_at(const char *dir, const char *tail)
{
    char *path = hr__path_join(dir, tail), *yaml = path ? hr__path_join(path, "plugin.yaml") : NULL;
    char *found = yaml && !access(yaml, R_OK) ? realpath(path, NULL) : NULL;
    free(path);
    free(yaml);
    return found;
}

/* The plugin that came with this program: first where make install put it
 * relative to the program (BINDIR to DATADIR, as compiled in), so that a
 * tree installed under any prefix, or moved, finds its own; then, for a
 * program run from the build tree (build/VARIANT/), the tree's; then the
 * compiled-in DATADIR's, which the error names when none is there. */
static char *default_plugin_source(void)
{
    char *exe = hr__exe_dir(), *rel = hr__relative_path(HR_BINDIR, HR_DATADIR), *found = NULL;
    char *tail = rel ? hr__path_join(rel, PLUGIN_UNDER_DATADIR) : NULL;
    if (exe && tail) found = plugin_at(exe, tail);
    const char *base = exe ? strrchr(exe, '/') : NULL;
    if (!found && exe && base && base != exe) {
        char *parent = strndup(exe, (size_t)(base - exe));
        const char *pbase = parent ? strrchr(parent, '/') : NULL;
        if (pbase && !strcmp(pbase, "/build")) found = plugin_at(exe, "../../scripts/hermes-plugin/" HR_PLUGIN_NAME);
        free(parent);
    }
    free(exe);
    free(rel);
    free(tail);
    return found ? found : strdup(HR_DATADIR "/" PLUGIN_UNDER_DATADIR);
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
static int parse(int argc, char **argv, struct options *o, enum mode *mode)
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
        case 'r': rc = set_mode(mode, ROLLBACK), o->rollback_id = optarg; break;
        case 'H': o->home = optarg; break;
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
    if (*mode == ROLLBACK && !o->rollback_id && optind < argc) o->rollback_id = argv[optind++];
    if (optind < argc) return prog_fail(EX_USAGE, "unexpected argument '%s'", argv[optind]);
    if (*mode == NONE) {
        usage(stderr);
        return EX_USAGE;
    }
    if (o->rollback_id && (!*o->rollback_id || strchr(o->rollback_id, '/') || o->rollback_id[0] == '.'))
        return prog_fail(EX_USAGE, "--rollback: '%s' is not a backup id", o->rollback_id);
    return 0;
}

/* The mode's outcome as the exit status (hr(7)): a failed mode has printed
 * its error and changed nothing. */
static int run_mode(const struct options *o, enum mode mode)
{
    int all_routed = 0, rc = 0;
    switch (mode) {
    case APPLY: rc = do_apply(o, 0); break;
    case DRY_RUN: rc = do_apply(o, 1); break;
    case STATUS: rc = do_status(o, &all_routed); break;
    case ROLLBACK: rc = do_rollback(o); break;
    case NONE: break;
    }
    if (rc) return PROG_FAILED;
    return mode == STATUS && !all_routed ? PROG_NOT_ROUTED : EX_OK;
}

int main(int argc, char **argv)
{
    struct options o = {0};
    enum mode mode = NONE;
    prog_init("hr-patch-auth");
    int rc = parse(argc, argv, &o, &mode);
    if (rc) return rc == PROG_ANSWERED ? EX_OK : rc;
    quiet_text = o.json;
    char *home = o.home ? strdup(o.home) : hr__user_dir("HERMES_HOME", ".hermes"), *proxy = NULL;
    if (!home) return prog_fail(PROG_FAILED, "no Hermes home: give --hermes-home DIR or set HERMES_HOME");
    o.home = home;
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
