/* Totals since start, as JSON (GET /stats) and Prometheus text (GET /metrics):
 * requests and tokens, and the bill as the providers reported it (only
 * requests whose answer carried usage count there). */
#include "proxy.h"

#include <event2/buffer.h>

void totals_add(struct totals *t, const struct hr__log_record *r, enum provider p)
{
    t->requests++;
    t->by_provider[p]++;
    if (r->status >= 500 || r->status == 0) t->errors++;
    t->tokens_before += r->tokens_before;
    t->tokens_after += r->tokens_after;
    if (r->tokens_before > r->tokens_after) {
        t->saved_by_provider[p] += r->tokens_before - r->tokens_after;
        t->saved_lossless += hr__log_saved_lossless(r);
        t->saved_lossy += r->tokens_before - r->tokens_after - hr__log_saved_lossless(r);
    }
    if (!r->usage.have) return;
    t->with_usage++;
    t->billed += r->billed;
    t->billed_before[p] += r->billed_before;
    t->billed_after[p] += r->billed_after;
    if (r->has_cost) t->cost_usd += r->cost_usd;
}

static double sum3(const double *v)
{
    return v[0] + v[1] + v[2];
}

/* The share of the uncompressed bill that compression saves (or, in observe
 * mode, would save); 0 before any usage. */
static double saved_share(double before, double after)
{
    return before > 0 ? (before - after) / before : 0;
}

void totals_json(const struct totals *t, struct evbuffer *out)
{
    evbuffer_add_printf(out,
                        "{\"uptime_s\":%.0f,\"requests\":%llu,\"errors\":%llu,\"compressed\":%llu,"
                        "\"passed_through\":%llu,\"fail_open\":%llu,\"tokens_before\":%llu,\"tokens_after\":%llu,"
                        "\"tokens_saved\":%llu,\"saved_lossless\":%llu,\"saved_lossy\":%llu,\"observe\":%s,\"requests_"
                        "with_usage\":%llu,\"billed_units\":%.2f,"
                        "\"billed_units_before\":%.2f,\"billed_units_after\":%.2f,\"billed_saved_share\":%.4f,"
                        "\"cost_usd\":%.6f,\"by_provider\":{",
                        (now_ms() - t->started) / 1000.0, (unsigned long long)t->requests,
                        (unsigned long long)t->errors, (unsigned long long)t->compressed,
                        (unsigned long long)t->passed_through, (unsigned long long)t->fail_open,
                        (unsigned long long)t->tokens_before, (unsigned long long)t->tokens_after,
                        (unsigned long long)(t->tokens_before - t->tokens_after), (unsigned long long)t->saved_lossless,
                        (unsigned long long)t->saved_lossy, t->observe ? "true" : "false",
                        (unsigned long long)t->with_usage, t->billed, sum3(t->billed_before), sum3(t->billed_after),
                        saved_share(sum3(t->billed_before), sum3(t->billed_after)), t->cost_usd);
    for (int p = 0; p < 3; p++)
        evbuffer_add_printf(out,
                            "%s\"%s\":{\"requests\":%llu,\"tokens_saved\":%llu,\"billed_units_before\":%.2f,"
                            "\"billed_units_after\":%.2f,\"billed_saved_share\":%.4f}",
                            p ? "," : "", provider_name((enum provider)p), (unsigned long long)t->by_provider[p],
                            (unsigned long long)t->saved_by_provider[p], t->billed_before[p], t->billed_after[p],
                            saved_share(t->billed_before[p], t->billed_after[p]));
    evbuffer_add_printf(out, "}}\n");
}

/* One counter labelled by provider: its HELP, TYPE and a line per provider. */
static void prometheus_by_provider(struct evbuffer *out, const char *name, const char *help, const uint64_t *values)
{
    evbuffer_add_printf(out, "# HELP %s %s\n# TYPE %s counter\n", name, help, name);
    for (int p = 0; p < 3; p++)
        evbuffer_add_printf(out, "%s{provider=\"%s\"} %llu\n", name, provider_name((enum provider)p),
                            (unsigned long long)values[p]);
}

static void prometheus_units_by_provider(struct evbuffer *out, const char *name, const char *help, const double *values)
{
    evbuffer_add_printf(out, "# HELP %s %s\n# TYPE %s counter\n", name, help, name);
    for (int p = 0; p < 3; p++)
        evbuffer_add_printf(out, "%s{provider=\"%s\"} %.2f\n", name, provider_name((enum provider)p), values[p]);
}

void totals_prometheus(const struct totals *t, struct evbuffer *out)
{
    prometheus_by_provider(out, "hr_requests_total", "Requests proxied since start.", t->by_provider);
    prometheus_by_provider(out, "hr_tokens_saved_total", "Request tokens removed by compression.",
                           t->saved_by_provider);
    evbuffer_add_printf(out,
                        "# HELP hr_tokens_before_total Request tokens before compression.\n"
                        "# TYPE hr_tokens_before_total counter\nhr_tokens_before_total %llu\n"
                        "# HELP hr_tokens_after_total Request tokens sent upstream.\n"
                        "# TYPE hr_tokens_after_total counter\nhr_tokens_after_total %llu\n"
                        "# HELP hr_tokens_saved_lossless_total Request tokens saved by re-encoding, nothing dropped.\n"
                        "# TYPE hr_tokens_saved_lossless_total counter\nhr_tokens_saved_lossless_total %llu\n"
                        "# HELP hr_tokens_saved_lossy_total Request tokens saved by cutting.\n"
                        "# TYPE hr_tokens_saved_lossy_total counter\nhr_tokens_saved_lossy_total %llu\n"
                        "# HELP hr_errors_total Requests that failed or got a 5xx.\n"
                        "# TYPE hr_errors_total counter\nhr_errors_total %llu\n"
                        "# HELP hr_fail_open_total Requests sent uncompressed after a compression error.\n"
                        "# TYPE hr_fail_open_total counter\nhr_fail_open_total %llu\n",
                        (unsigned long long)t->tokens_before, (unsigned long long)t->tokens_after,
                        (unsigned long long)t->saved_lossless, (unsigned long long)t->saved_lossy,
                        (unsigned long long)t->errors, (unsigned long long)t->fail_open);
    prometheus_units_by_provider(out, "hr_billed_units_before_total",
                                 "Input-token equivalents billed, or estimated, without compression.",
                                 t->billed_before);
    prometheus_units_by_provider(out, "hr_billed_units_after_total",
                                 "Input-token equivalents billed, or estimated, with compression.", t->billed_after);
    evbuffer_add_printf(out,
                        "# HELP hr_billed_units_total Input-token equivalents the providers billed.\n"
                        "# TYPE hr_billed_units_total counter\nhr_billed_units_total %.2f\n"
                        "# HELP hr_billed_saved_ratio Share of the uncompressed bill saved (observe mode: would be).\n"
                        "# TYPE hr_billed_saved_ratio gauge\nhr_billed_saved_ratio %.4f\n"
                        "# HELP hr_requests_with_usage_total Requests whose answer reported usage.\n"
                        "# TYPE hr_requests_with_usage_total counter\nhr_requests_with_usage_total %llu\n"
                        "# HELP hr_cost_usd_total Dollars billed, for models with prices in route.yaml.\n"
                        "# TYPE hr_cost_usd_total counter\nhr_cost_usd_total %.6f\n"
                        "# HELP hr_observe_mode 1 when requests go upstream uncompressed and savings are estimated.\n"
                        "# TYPE hr_observe_mode gauge\nhr_observe_mode %d\n",
                        t->billed, saved_share(sum3(t->billed_before), sum3(t->billed_after)),
                        (unsigned long long)t->with_usage, t->cost_usd, t->observe ? 1 : 0);
}
