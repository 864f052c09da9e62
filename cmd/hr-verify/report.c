/* The results: one line per check for people (color only on a terminal),
 * or one JSON object for programs. */
#include "prog.h"
#include "verify.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

const char *const check_names[N_CHECKS] = {"health", "logs", "chat", "base_url"};

void result_set(struct result *r, enum verdict v, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    r->v = v;
    vsnprintf(r->detail, sizeof r->detail, fmt, ap);
    va_end(ap);
}

void result_hint(struct result *r, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(r->hint, sizeof r->hint, fmt, ap);
    va_end(ap);
}

static const char *const WORDS[] = {"PASS", "FAIL", "SKIP"};
static const char *const COLORS[] = {"\033[32m", "\033[1;31m", "\033[33m"};

void report_text(const struct options *o, const struct result *res)
{
    int counts[3] = {0};
    for (int i = 0; i < N_CHECKS; i++) {
        if (!(o->selected & (1u << i))) continue;
        const struct result *r = &res[i];
        counts[r->v]++;
        if (o->color) printf("%s%s\033[0m", COLORS[r->v], WORDS[r->v]);
        else fputs(WORDS[r->v], stdout);
        printf(" %-8s %s\n", check_names[i], r->detail);
        if (r->hint[0]) printf("     %-8s %s: %s\n", "", r->v == V_FAIL ? "hint" : "note", r->hint);
    }
    printf("hr-verify: %d passed, %d failed, %d skipped\n", counts[V_PASS], counts[V_FAIL], counts[V_SKIP]);
}

/* The call record base_url judged: the file, what was read, how many of
 * those were older than the span judged, the calls that did not go to the
 * proxy. */
static void json_calls(const struct witness *w)
{
    printf(", \"calls\": {\"file\": ");
    prog_json_string_or_null(stdout, w->path);
    printf(", \"found\": %s, \"read\": %zu, \"older\": %zu, \"routed\": %zu, \"via_proxy\": %zu, \"unparsed\": %zu, "
           "\"not_via_proxy\": [",
           w->found ? "true" : "false", w->n, w->older, w->routed, w->routed - w->off, w->unparsed);
    for (size_t i = 0, k = 0; i < w->n; i++) {
        const struct call *c = &w->calls[i];
        if (c->older || !c->routed || c->via_proxy) continue;
        printf("%s{\"time\": ", k++ ? ", " : "");
        prog_json_string(stdout, c->time);
        printf(", \"pid\": %lld, \"provider\": ", c->pid);
        prog_json_string(stdout, c->provider);
        printf(", \"base_url\": ");
        prog_json_string(stdout, c->base_url);
        putchar('}');
    }
    printf("]}");
}

void report_json(const struct options *o, const struct run_state *st, const struct result *res)
{
    int failed = 0;
    for (int i = 0; i < N_CHECKS; i++) failed |= (o->selected & (1u << i)) && res[i].v == V_FAIL;
    printf("{\"ok\": %s, \"proxy_url\": ", failed ? "false" : "true");
    prog_json_string(stdout, o->proxy_url);
    printf(", \"hermes_home\": ");
    prog_json_string(stdout, o->hermes_home);
    printf(", \"log_dir\": ");
    prog_json_string(stdout, o->log_dir);
    printf(", \"settings\": ");
    prog_json_string_or_null(stdout, o->settings_path);
    printf(", \"checks\": [");
    int first = 1;
    for (int i = 0; i < N_CHECKS; i++) {
        if (!(o->selected & (1u << i))) continue;
        printf("%s{\"name\": \"%s\", \"status\": \"%s\", \"detail\": ", first ? "" : ", ", check_names[i],
               res[i].v == V_PASS   ? "pass"
               : res[i].v == V_FAIL ? "fail"
                                    : "skip");
        prog_json_string(stdout, res[i].detail);
        printf(", \"hint\": ");
        if (res[i].hint[0]) prog_json_string(stdout, res[i].hint);
        else fputs("null", stdout);
        if (i == CHECK_BASE_URL) {
            if (st->calls.path) json_calls(&st->calls);
            else printf(", \"calls\": null");
        }
        putchar('}');
        first = 0;
    }
    printf("]}\n");
}
