/* The plugin's record of each call: its pre_api_request hook appends one
 * JSON line per API call of Hermes's conversation loop to
 * $HERMES_HOME/headroom-route.calls.jsonl, with the provider and the
 * base_url the call used (Hermes's auxiliary client, for titles, summaries
 * and its own context compression, fires no hook and is not recorded).
 * Reading its last lines tells where calls really went, which the files can
 * only promise (include/hr.h, hr_hermes_calls). */
#include "hermes/hermes.h"
#include "log/log_record.h"
#include "util/errmsg.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

/* The plugin keeps a few hundred lines; more than this at the end of the
 * file is never needed. */
#define TAIL_BYTES (1 << 20)

/* Where the strings of the call being handed out live. */
struct call_text {
    char time[40], provider[64], base_url[512];
};

struct reading {
    hr_hermes_call_fn fn;
    void *ctx;
    size_t *not_calls;
    struct call_text t;
};

/* One JSON object into c; -1 when it is not a call record. */
static int parse_call(const hr_json *d, hr_json_node root, const char *line, struct call_text *t, hr_hermes_call *c)
{
    memset(c, 0, sizeof *c);
    hr__jsonl_string(d, root, "time", t->time, sizeof t->time);
    hr__jsonl_string(d, root, "provider", t->provider, sizeof t->provider);
    hr__jsonl_string(d, root, "base_url", t->base_url, sizeof t->base_url);
    c->time = t->time;
    c->provider = t->provider;
    c->base_url = t->base_url;
    c->pid = (long long)hr__jsonl_number(d, line, root, "pid");
    if ((c->time_ms = hr__utc_time_ms(t->time)) < 0 || !t->provider[0] || !t->base_url[0]) return -1;
    return 0;
}

static int each_call(const hr_json *d, hr_json_node root, const char *line, void *ctx)
{
    struct reading *rd = ctx;
    hr_hermes_call c;
    if (!parse_call(d, root, line, &rd->t, &c)) return rd->fn(&c, rd->ctx);
    ++*rd->not_calls;
    return 0;
}

hr_status hr_hermes_calls(const char *hermes_dir, hr_hermes_call_fn fn, void *ctx, size_t *not_calls, char *err,
                          size_t err_len)
{
    size_t ignored = 0;
    struct reading rd = {fn, ctx, not_calls ? not_calls : &ignored, {{0}, {0}, {0}}};
    *rd.not_calls = 0;
    char *path = hr__path_join(hermes_dir, HR_HERMES_CALLS_FILE);
    hr_buf text = HR_BUF_INIT;
    int e = path ? hr__jsonl_load(path, TAIL_BYTES, &text) : ENOMEM;
    hr_status st = HR_OK;
    if (e == ENOENT) st = HR_ENOTFOUND;
    else if (e)
        st =
            hr__errorf(err, err_len, e == ENOMEM ? HR_ENOMEM : HR_EIO, "%s: %s", path ? path : hermes_dir, strerror(e));
    else if (hr__jsonl_each(&text, 1, each_call, &rd, rd.not_calls))
        st = hr__errorf(err, err_len, HR_ENOMEM, "%s: %s", path, strerror(ENOMEM));
    hr_buf_free(&text);
    free(path);
    return st;
}
