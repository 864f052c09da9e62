/* Totals since start, as JSON (GET /stats) and Prometheus text (GET /metrics). */
#include "proxy.h"

#include <event2/buffer.h>

void totals_add(struct totals *t, const struct record *r, enum provider p)
{
    t->requests++;
    t->by_provider[p]++;
    if (r->status >= 500 || r->status == 0) t->errors++;
    t->tokens_before += r->tokens_before;
    t->tokens_after += r->tokens_after;
    if (r->tokens_before > r->tokens_after) t->saved_by_provider[p] += r->tokens_before - r->tokens_after;
}

void totals_json(const struct totals *t, struct evbuffer *out)
{
    evbuffer_add_printf(out,
                        "{\"uptime_s\":%.0f,\"requests\":%llu,\"errors\":%llu,\"compressed\":%llu,"
                        "\"passed_through\":%llu,\"fail_open\":%llu,\"tokens_before\":%llu,\"tokens_after\":%llu,"
                        "\"tokens_saved\":%llu,\"by_provider\":{",
                        (now_ms() - t->started) / 1000.0, (unsigned long long)t->requests,
                        (unsigned long long)t->errors, (unsigned long long)t->compressed,
                        (unsigned long long)t->passed_through, (unsigned long long)t->fail_open,
                        (unsigned long long)t->tokens_before, (unsigned long long)t->tokens_after,
                        (unsigned long long)(t->tokens_before - t->tokens_after));
    for (int p = 0; p < 3; p++)
        evbuffer_add_printf(out, "%s\"%s\":{\"requests\":%llu,\"tokens_saved\":%llu}", p ? "," : "",
                            provider_name((enum provider)p), (unsigned long long)t->by_provider[p],
                            (unsigned long long)t->saved_by_provider[p]);
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
                        "# HELP hr_errors_total Requests that failed or got a 5xx.\n"
                        "# TYPE hr_errors_total counter\nhr_errors_total %llu\n"
                        "# HELP hr_fail_open_total Requests sent uncompressed after a compression error.\n"
                        "# TYPE hr_fail_open_total counter\nhr_fail_open_total %llu\n",
                        (unsigned long long)t->tokens_before, (unsigned long long)t->tokens_after,
                        (unsigned long long)t->errors, (unsigned long long)t->fail_open);
}
