/* Check 2, logs: the proxy's request log holds a request newer than
 * --max-age that saved tokens. It runs after the chat check, so that on a
 * first use the chat's own request is in the log. */
#include "verify.h"

#include <stdio.h>
#include <string.h>

/* A compression slower than this gets the slow-scorer warning. */
#define SLOW_COMPRESS_MS 1000.0

struct tally {
    long long now;
    size_t recent, saved, unauthorized, bad_gateway;
    size_t billed, observed;            /* records with a bill; of them, in observe mode */
    double billed_before, billed_after; /* their sums */
    int have_best;                      /* the newest record that saved tokens: */
    long long best_ms;                  /* its time, */
    double best_compress_ms;            /* its compression's, */
    char best[1024];                    /* and what it was */
};

static void describe(const hr_log_record *b, long long now, char *out, size_t len)
{
    char age[32], before[32], after[32], saved[32];
    size_t n = b->tokens_saved;
    format_age(now - b->ts_ms, age, sizeof age);
    format_count(b->tokens_before, before, sizeof before);
    format_count(b->tokens_after, after, sizeof after);
    format_count(n, saved, sizeof saved);
    snprintf(out, len, "%s (%s ago) %s %s via %s: %s -> %s tokens, %s saved (%.1f%%)", b->ts, age,
             b->model[0] ? b->model : "(model not named)", b->path, b->provider[0] ? b->provider : "?", before, after,
             saved, b->tokens_before ? 100.0 * (double)n / (double)b->tokens_before : 0.0);
}

static int count(const hr_log_record *r, void *ctx)
{
    struct tally *t = ctx;
    t->recent++;
    t->unauthorized += r->status == 401 || r->status == 403;
    t->bad_gateway += r->status == 502;
    if (r->has_usage) {
        t->billed++;
        t->observed += r->observe;
        t->billed_before += r->billed_before;
        t->billed_after += r->billed_after;
    }
    if (r->tokens_saved > 0) {
        t->saved++;
        if (!t->have_best || r->ts_ms >= t->best_ms) {
            t->have_best = 1;
            t->best_ms = r->ts_ms;
            t->best_compress_ms = r->compress_ms;
            describe(r, t->now, t->best, sizeof t->best); /* r's strings are the reader's until it returns */
        }
    }
    return 0;
}

/* Why recent requests saved nothing, from their statuses. */
static void hint_for_recent(const struct tally *t, struct result *r)
{
    if (t->unauthorized) result_hint(r, "%zu recent request(s) got 401/403. " HINT_401, t->unauthorized);
    else if (t->bad_gateway) result_hint(r, "%zu recent request(s) got 502. " HINT_502, t->bad_gateway);
    else
        result_hint(r, "no tool result reached min_tokens_to_crush, or they were file reads, or were sent before "
                       "hr-proxy saw the conversation (they stay as they went); a session with long tool output "
                       "saves tokens (see route.yaml)");
}

/* Recent requests, none of which saved tokens: a fault, unless the chat
 * that just ran went through: a chat of one message has nothing to cut. */
static void judge_unsaved(const struct tally *t, const struct run_state *st, const char *max_age, struct result *r)
{
    if (st->chat_passed && !t->unauthorized && !t->bad_gateway) {
        result_set(r, V_PASS, "%zu request(s) in the last %s, the chat's among them; none saved tokens yet", t->recent,
                   max_age);
        result_hint(r, "a chat without long tool output has nothing to compress; after a session with some, "
                       "hr-verify shows the saving");
        return;
    }
    result_set(r, V_FAIL, "%zu requests in the last %s, none with tokens_saved > 0", t->recent, max_age);
    hint_for_recent(t, r);
}

/* "; billed 12,345 input-token units for 3 requests, 18,000 uncompressed
 * (31.4% saved)", when records carry the providers' usage. */
static void describe_bill(const struct tally *t, char *out, size_t len)
{
    char after[32], before[32];
    out[0] = '\0';
    if (!t->billed) return;
    format_count((unsigned long long)(t->billed_after + 0.5), after, sizeof after);
    format_count((unsigned long long)(t->billed_before + 0.5), before, sizeof before);
    double share = t->billed_before > 0 ? 100.0 * (t->billed_before - t->billed_after) / t->billed_before : 0.0;
    if (t->observed == t->billed)
        snprintf(out, len,
                 "; observe mode: billed %s input-token units for %zu request(s), %s with compression "
                 "(%.1f%% would be saved, estimated)",
                 before, t->billed, after, share);
    else
        snprintf(out, len,
                 "; billed %s input-token units for %zu request(s), %s uncompressed (%.1f%% saved, "
                 "estimated)",
                 after, t->billed, before, share);
}

void check_logs(const struct options *o, const struct run_state *st, struct result *r)
{
    long long now = now_ms(), since = now - o->max_age_ms;
    struct tally t = {.now = now};
    hr_log_scan scan;
    char max_age[32];
    format_age(o->max_age_ms, max_age, sizeof max_age);
    char err[600];
    if (hr_log_each(o->log_dir, since, count, &t, &scan, err, sizeof err)) {
        result_set(r, V_FAIL, "%s", err);
        result_hint(r, "hr-verify must be able to read the proxy's log folder");
    } else if (!scan.files) {
        result_set(r, V_FAIL, "no request log in %s (" HR_LOG_FILE ")", o->log_dir);
        result_hint(r, "hr-proxy writes it on the first request: none has gone through the proxy, or it logs "
                       "elsewhere (--log-dir, HEADROOM_HOME; give hr-verify the same --headroom-home or --log-dir)");
    } else if (!scan.records) {
        result_set(r, V_FAIL, "the request log in %s is empty%s", o->log_dir,
                   scan.bad_lines ? " (only lines that are not records)" : "");
        result_hint(r, "no request has gone through the proxy: Hermes bypasses it (hr-patch-auth --status) or "
                       "has not been used since");
    } else if (!t.recent) {
        char age[32];
        format_age(now - scan.newest_ms, age, sizeof age);
        result_set(r, V_FAIL, "%zu records, the newest %s old: none in the last %s", scan.records, age, max_age);
        result_hint(r, "recent Hermes traffic does not reach the proxy; " HINT_DIRECT "; or give a longer --max-age");
    } else if (!t.have_best) {
        judge_unsaved(&t, st, max_age, r);
    } else {
        char bill[300];
        describe_bill(&t, bill, sizeof bill);
        result_set(r, V_PASS, "%s; %zu of %zu requests in the last %s saved tokens%s", t.best, t.saved, t.recent,
                   max_age, bill);
        if (t.best_compress_ms > SLOW_COMPRESS_MS)
            result_hint(r, "compression took %.0f ms: " HINT_SLOW, t.best_compress_ms);
    }
}
