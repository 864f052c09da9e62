/* Check 4, base_url: the last calls of Hermes's conversation loop since the
 * plugin last started, as the headroom-route plugin recorded them, went to
 * the proxy; and the files Hermes reads send every routed provider to the
 * proxy, the plugin is enabled and installed, and its state file comes from
 * the Hermes process that started last. */
#include "verify.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void list_names(const char *const *routed, size_t n, char *out, size_t len)
{
    out[0] = '\0';
    for (size_t i = 0; i < n; i++) snprintf(out + strlen(out), len - strlen(out), "%s%s", i ? ", " : "", routed[i]);
}

/* The files: 0 when every routed provider goes to the proxy. */
static int judge_files(const hr_hermes *h, const char *proxy, const char *const *routed, size_t n, struct result *r)
{
    int enabled, installed = hr_hermes_plugin_installed(h), bad = 0;
    const char *loading = hr_hermes_plugin_loading(h, &enabled);
    char why[1536] = "";
    for (size_t i = 0; i < n; i++) {
        /* The files only: the plugin is judged once below, not per provider. */
        hr_hermes_verdict *v;
        if (hr_hermes_judge(h, routed[i], proxy, &v)) {
            snprintf(why + strlen(why), sizeof why - strlen(why), "%sout of memory", bad++ ? "; " : "");
            continue;
        }
        for (size_t k = 0; k < hr_hermes_verdict_reasons(v); k++)
            snprintf(why + strlen(why), sizeof why - strlen(why), "%s%s", bad++ ? "; " : "",
                     hr_hermes_verdict_reason(v, k));
        hr_hermes_verdict_free(v);
    }
    if (!enabled || !installed)
        snprintf(why + strlen(why), sizeof why - strlen(why), "%s" HR_HERMES_PLUGIN " is %s", bad++ ? "; " : "",
                 !installed ? (enabled ? "enabled but not installed in plugins/" : "not installed") : loading);
    if (!enabled && !installed) snprintf(why + strlen(why), sizeof why - strlen(why), " (%s)", loading);
    if (!bad) return 0;
    result_set(r, V_FAIL, "%s", why);
    result_hint(r, "%s",
                !enabled || !installed
                    ? "without the plugin, Hermes re-seeds credentials with the official URL and bypasses "
                      "the proxy: run hr-patch-auth --apply, then restart Hermes"
                    : "a base_url goes to the official host (Hermes rewrites auth.json on token refresh): "
                      "run hr-patch-auth --apply, then restart Hermes");
    return 1;
}

/* What the plugin reported at its last start: 0 when it routed them all. */
static int judge_report(const hr_plugin_state *s, const char *proxy, const char *const *routed, size_t n,
                        struct result *r)
{
    char who[128];
    const char *time = hr_plugin_state_string(s, "time"), *reason = hr_plugin_state_string(s, "reason");
    const char *routed_to = hr_plugin_state_string(s, "proxy_url");
    snprintf(who, sizeof who, "the plugin's last report (%s, pid %lld)", time ? time : "no time",
             hr_plugin_state_pid(s));
    if (hr_plugin_state_healthy(s) == 0) {
        result_set(r, V_FAIL, "%s: the proxy was unhealthy (%s), every routed provider went direct to its official URL",
                   who, reason ? reason : "?");
        result_hint(r, "Hermes started while hr-proxy was down: start hr-proxy first, then restart Hermes");
        return 1;
    }
    if (routed_to && strcmp(routed_to, proxy)) {
        result_set(r, V_FAIL, "%s routes to %s, not %s", who, routed_to, proxy);
        result_hint(r, "run hr-patch-auth --apply --proxy-url %s (or give hr-verify --proxy-url %s)", proxy, routed_to);
        return 1;
    }
    for (size_t i = 0; i < n; i++) {
        if (hr_plugin_state_patched(s, routed[i])) continue;
        result_set(r, V_FAIL, "%s: %s was not patched%s", who, routed[i],
                   hr_plugin_state_failed(s) ? " (the patch failed: see Hermes's log)" : "");
        result_hint(r, "this Hermes version differs from what the plugin knows, or the plugin block's providers "
                       "list leaves it out; its state file says which step failed");
        return 1;
    }
    return 0;
}

/* The report must come from the Hermes that started last: a running one,
 * or the chat's when that was later. */
static int judge_freshness(const char *home, const hr_plugin_state *s, const struct run_state *st, char *whose,
                           size_t len, struct result *r)
{
    struct hermes_process p;
    int running = newest_hermes(home, &p);
    long long reported = hr_plugin_state_time_ms(s), pid = hr_plugin_state_pid(s);
    const char *time = hr_plugin_state_string(s, "time");
    char at[32];
    if (st->chat_ran && (!running || p.start_ms <= st->chat_start_ms)) {
        if (reported >= st->chat_start_ms / 1000 * 1000) {
            snprintf(whose, len, "the chat's Hermes (pid %lld)", pid);
            return 0;
        }
        result_set(r, V_FAIL, "the chat's Hermes left no report: the last is from %s (pid %lld)",
                   time ? time : "an unknown time", pid);
        result_hint(r, "the plugin did not load in the Hermes the chat ran: is " HR_HERMES_PLUGIN " in "
                       "plugins.enabled of the home that hermes uses (HERMES_HOME)?");
        return 1;
    }
    if (!running) {
        snprintf(whose, len, "the last Hermes start (pid %lld, %s; none is running now)", pid, time ? time : "?");
        return 0;
    }
    if (p.pid == pid) {
        snprintf(whose, len, "the running Hermes (pid %d)", (int)p.pid);
        return 0;
    }
    format_age(now_ms() - p.start_ms, at, sizeof at);
    result_set(r, V_FAIL,
               "the running Hermes (pid %d, started %s ago: %s) did not load the plugin; its last report "
               "is from pid %lld at %s",
               (int)p.pid, at, p.cmd, pid, time ? time : "?");
    result_hint(r, "%s", HINT_DIRECT "; restart Hermes after hr-patch-auth --apply");
    return 1;
}

/* What the files tell the judging of the calls: the providers this home
 * routes, and when the plugin last started. */
struct scope {
    const char *routed[MAX_ROUTED];
    size_t n;
    long long started_ms; /* the state file's time; 0 when unknown */
    char started[64];     /* that time as written */
};

static void judge_home(const struct options *o, const struct run_state *st, const hr_hermes *h, struct scope *sc,
                       struct result *r)
{
    char err[700], names[128], whose[512];
    const char *dir = hr_hermes_dir(h);
    if (hr_hermes_routed(h, sc->routed, MAX_ROUTED, &sc->n, err, sizeof err)) {
        sc->n = 0;
        result_set(r, V_FAIL, "%s", err);
        return;
    }
    if (!sc->n) {
        result_set(r, V_FAIL, "%s: no provider hr routes (anthropic, openai-codex, openai-api) is set up", dir);
        result_hint(r, "log in to a provider in Hermes, then run hr-patch-auth --apply");
        return;
    }
    hr_plugin_state *s;
    hr_status rc = hr_plugin_state_read(dir, &s, err, sizeof err);
    long long started = !rc ? hr_plugin_state_time_ms(s) : -1;
    if (started > 0) {
        sc->started_ms = started;
        snprintf(sc->started, sizeof sc->started, "%s", hr_plugin_state_string(s, "time"));
    }
    if (judge_files(h, o->proxy_url, sc->routed, sc->n, r)) {
        /* the files' verdict stands */
    } else if (rc == HR_ENOTFOUND) {
        result_set(r, V_FAIL,
                   "the files route %s to %s, but " HR_HERMES_PLUGIN " has never reported: no Hermes has "
                   "started with it",
                   dir, o->proxy_url);
        result_hint(r, "restart Hermes: the plugin patches it at start and writes " HR_HERMES_PLUGIN ".state.json");
    } else if (rc) {
        result_set(r, V_FAIL, "%s", err);
    } else {
        list_names(sc->routed, sc->n, names, sizeof names);
        if (!judge_report(s, o->proxy_url, sc->routed, sc->n, r) &&
            !judge_freshness(dir, s, st, whose, sizeof whose, r))
            result_set(r, V_PASS,
                       "%s -> %s in auth.json and config.yaml; " HR_HERMES_PLUGIN " enabled, installed, "
                       "patched them in %s",
                       names, o->proxy_url, whose);
    }
    hr_plugin_state_free(s);
}

/* ---- the record of each call ----------------------------------------------- */

#define CALLS_NAMED 5 /* calls named in a failure; the rest are counted */

static void append(char *out, size_t len, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

static void append(char *out, size_t len, const char *fmt, ...)
{
    size_t used = strlen(out);
    va_list ap;
    va_start(ap, fmt);
    if (used < len) vsnprintf(out + used, len - used, fmt, ap);
    va_end(ap);
}

/* What the record holds beside the calls judged: providers this home does
 * not route, calls older than the span judged (with older_too), lines that
 * do not parse. */
static void witness_notes(const struct witness *w, const char *since, int older_too, char *out, size_t len)
{
    out[0] = '\0';
    size_t others = w->n - w->older - w->routed;
    if (others) {
        append(out, len, "; %zu call%s of providers this home does not route left aside (", others,
               others == 1 ? "" : "s");
        for (size_t i = 0, k = 0; i < w->n; i++)
            if (!w->calls[i].older && !w->calls[i].routed)
                append(out, len, "%s%s", k++ ? ", " : "", w->calls[i].provider);
        append(out, len, ")");
    }
    if (w->older && older_too)
        append(out, len, "; %zu older call%s, made before %s, left aside", w->older, w->older == 1 ? "" : "s", since);
    if (w->unparsed)
        append(out, len,
               "; %zu line%s that %s not a call ignored (one being written, or Hermes stopped while "
               "writing it)",
               w->unparsed, w->unparsed == 1 ? "" : "s", w->unparsed == 1 ? "is" : "are");
}

/* Calls that did not go to the proxy: named, newest first. */
static void fail_off(const struct options *o, const struct witness *w, const char *where, const char *notes,
                     const char *files, struct result *r)
{
    char list[1400] = "";
    for (size_t i = 0, k = 0; i < w->n; i++) {
        const struct call *c = &w->calls[i];
        if (c->older || !c->routed || c->via_proxy) continue;
        if (k++ == CALLS_NAMED) {
            append(list, sizeof list, "; and %zu more", w->off - CALLS_NAMED);
            break;
        }
        append(list, sizeof list, "%s%s %s -> %s", k > 1 ? "; " : "", c->time, c->provider, c->base_url);
    }
    result_set(r, V_FAIL, "%zu of the last %zu call%s of this home did not go to %s: %s%s%s%s", w->off, w->routed,
               w->routed == 1 ? "" : "s", where, list, notes, files[0] ? "; and " : "", files);
    result_hint(r,
                "Hermes made these calls past the proxy (a credential re-seeded with the official URL, a "
                "client the plugin did not patch, or a Hermes started before hr-patch-auth --apply): run "
                "hr-patch-auth --apply and restart Hermes; hr-patch-auth --status shows what is not routed (%s)",
                o->hermes_home);
}

/* Joins what the files say (already in r) with what the calls say: those
 * from since on (the chat's start, else the plugin's last start). */
static void judge_calls(const struct options *o, const struct run_state *st, const struct witness *w, const char *since,
                        struct result *r)
{
    char where[300], notes[700], files[sizeof r->detail];
    host_port(o->proxy_url, where, sizeof where);
    witness_notes(w, since, w->n > w->older, notes, sizeof notes);
    snprintf(files, sizeof files, "%s", r->v == V_FAIL ? r->detail : "");
    if (w->err[0]) {
        result_set(r, V_FAIL, "%s%s%s", w->err, files[0] ? "; and " : "", files);
        return;
    }
    if (st->chat_ran && w->n == w->older) { /* the chat's call is missing, whatever else is there */
        if (w->n)
            result_set(r, V_FAIL,
                       "the chat's Hermes recorded no call in " HR_HERMES_CALLS_FILE "; the last of %zu is from "
                       "%s%s%s",
                       w->n, w->calls[0].time, files[0] ? "; and " : "", files);
        else
            result_set(r, V_FAIL, "the chat's Hermes recorded no call: " HR_HERMES_CALLS_FILE " %s%s%s",
                       w->found ? "holds none" : "does not exist", files[0] ? "; and " : "", files);
        result_hint(r, "the plugin did not see the chat's call: the installed " HR_HERMES_PLUGIN " is older than "
                       "this hr (hr-patch-auth --apply installs the current one), or the chat ran another home");
        return;
    }
    if (!w->routed) { /* no call judged: the files alone */
        if (w->n > w->older)
            append(r->detail, sizeof r->detail,
                   "; no call of a provider this home routes in " HR_HERMES_CALLS_FILE "%s", notes);
        else if (w->older)
            append(r->detail, sizeof r->detail,
                   "; no call recorded in " HR_HERMES_CALLS_FILE " since %s (%zu older call%s "
                   "left aside)%s",
                   since, w->older, w->older == 1 ? "" : "s", notes);
        else append(r->detail, sizeof r->detail, "; no call recorded yet in " HR_HERMES_CALLS_FILE "%s", notes);
        if (!r->hint[0])
            result_hint(r, "the plugin records each call of Hermes's conversation loop (not its auxiliary calls: "
                           "titles, summaries, context compression): run one Hermes chat (or hr-verify --chat), "
                           "then hr-verify again to check where the calls really went");
        return;
    }
    if (w->off) {
        fail_off(o, w, where, notes, files, r);
        return;
    }
    char head[1024];
    snprintf(head, sizeof head, "the last %zu call%s of this home went to %s%s", w->routed, w->routed == 1 ? "" : "s",
             where, notes);
    if (r->v == V_FAIL) {
        result_set(r, V_FAIL, "%s; yet %s", head, files);
    } else {
        snprintf(files, sizeof files, "%s", r->detail);
        result_set(r, V_PASS, "%s; %s", head, files);
    }
}

void check_base_url(const struct options *o, struct run_state *st, struct result *r)
{
    hr_hermes *h;
    struct scope sc = {.n = 0};
    char err[700], since[128];
    if (hr_hermes_open(o->hermes_home, &h, err, sizeof err)) {
        result_set(r, V_FAIL, "%s", err);
        result_hint(r, "give --hermes-home DIR (or HERMES_HOME) for the Hermes home to check");
    } else {
        judge_home(o, st, h, &sc, r);
        /* Calls from before the last start are history: the route may have
         * been fixed since (hr-patch-auth --apply, hr-proxy started). */
        long long since_ms = st->chat_ran ? st->chat_start_ms : sc.started_ms;
        if (st->chat_ran) snprintf(since, sizeof since, "the chat started");
        else snprintf(since, sizeof since, "the plugin's last start (%s)", sc.started);
        witness_read(o->hermes_home, o->proxy_url, sc.routed, sc.n, o->calls, since_ms, &st->calls);
        judge_calls(o, st, &st->calls, since, r);
    }
    hr_hermes_free(h);
}
