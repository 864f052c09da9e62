/* The public reader of the request log (include/hr.h, hr_log_each): the one
 * reader of log_read.c, each record handed out as hr_log_record, the view
 * the library allocates, so that the record hr-proxy writes can grow
 * without breaking a reader built against an older hr.h. */
#include "log/log_record.h"
#include "util/errmsg.h"

#include <errno.h>
#include <string.h>

struct public_reading {
    hr_log_fn fn;
    void *ctx;
};

static int hand_out(const struct hr__log_record *r, void *ctx)
{
    struct public_reading *p = ctx;
    hr_log_record v = {
        .ts = r->ts,
        .ts_ms = r->ts_ms,
        .id = r->id,
        .method = r->method ? r->method : "",
        .provider = r->provider ? r->provider : "",
        .upstream = r->upstream ? r->upstream : "",
        .path = r->path,
        .model = r->model,
        .stream = r->stream,
        .status = r->status,
        .tokens_before = r->tokens_before,
        .tokens_after = r->tokens_after,
        .tokens_lossless = r->tokens_lossless,
        .tokens_saved = hr__log_saved(r),
        .scorer = r->scorer,
        .scorer_backend = r->scorer_backend,
        .compress_ms = r->compress_ms,
        .ttfb_ms = r->ttfb_ms,
        .total_ms = r->total_ms,
        .error = r->error,
        .observe = r->observe,
        .has_usage = r->usage.have,
        .billed = r->billed,
        .billed_before = r->billed_before,
        .billed_after = r->billed_after,
        .has_cost = r->has_cost,
        .cost_usd = r->cost_usd,
    };
    return p->fn(&v, p->ctx);
}

hr_status hr_log_each(const char *dir, long long since_ms, hr_log_fn fn, void *ctx, hr_log_scan *scan, char *err,
                      size_t err_len)
{
    struct public_reading p = {fn, ctx};
    hr_log_scan s;
    int e = hr__log_each(dir, since_ms, hand_out, &p, scan ? scan : &s);
    if (!e) return HR_OK;
    return hr__errorf(err, err_len, e == ENOMEM ? HR_ENOMEM : HR_EIO, "%s: %s", dir, strerror(e));
}
