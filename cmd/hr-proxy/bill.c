/* The bill of a request, from the usage its answer reported: input-token
 * equivalents under the provider's caching rules ("billed units"), what the
 * same request would have billed uncompressed (or, in observe mode,
 * compressed), and dollars where route.yaml gives the model's prices. */
#include "proxy.h"
#include "hr_internal.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Units: uncached input 1x, cache writes and reads at the provider's
 * multipliers; OpenAI has no separate write price. */
static double units_of(const struct prices *p, const struct hr__log_usage *u)
{
    double in = (double)u->input_uncached, read = (double)u->cache_read;
    if (u->api && !strcmp(u->api, api_name(API_ANTHROPIC)))
        return in + p->cache_write * (double)u->cache_write + p->cache_read * read;
    return in + p->openai_cached * read;
}

/* The model's prices: the longest name in prices.models that starts the
 * model's ("claude-opus-4-6" prices "claude-opus-4-6-20260101"). */
static const struct model_price *price_of(const struct prices *p, const char *model)
{
    const struct model_price *best = NULL;
    size_t best_len = 0;
    for (size_t i = 0; i < p->n_models; i++) {
        size_t n = strlen(p->models[i].model);
        if (n > best_len && !strncmp(model, p->models[i].model, n)) best = &p->models[i], best_len = n;
    }
    return best;
}

void bill_record(const struct prices *p, struct hr__log_record *r)
{
    if (!r->usage.have) return;
    size_t saved = hr__log_saved(r);
    r->billed = units_of(p, &r->usage);
    /* The tokens compression removed, priced as uncached input: they sat
     * after the cached prefix, or they changed it. An estimate: hr counts
     * with its own tokenizer, the provider with its own. */
    if (r->observe) {
        r->billed_before = r->billed;
        r->billed_after = r->billed > (double)saved ? r->billed - (double)saved : 0;
    } else {
        r->billed_before = r->billed + (double)saved;
        r->billed_after = r->billed;
    }
    const struct model_price *mp = price_of(p, r->model);
    r->has_cost = mp != NULL;
    if (mp) r->cost_usd = (r->billed * mp->input + (double)r->usage.output * mp->output) / 1e6;
}

/* ---- prices.models.NAME.input / .output in route.yaml ------------------------------- */

struct model_ctx {
    struct prices *p;
    char *err;
    size_t err_len;
    int failed;
};

static int parse_price(const char *v, double *out)
{
    char *end;
    double x = strtod(v, &end);
    if (end == v || *end || !isfinite(x) || x < 0) return -1;
    *out = x;
    return 0;
}

/* key: "NAME.input" or "NAME.output"; NAME may hold dots (gpt-4.1). */
static void add_model_price(const char *key, const char *value, void *arg)
{
    struct model_ctx *c = arg;
    const char *dot = strrchr(key, '.');
    if (c->failed) return;
    int input = dot && !strcmp(dot, ".input"), output = dot && !strcmp(dot, ".output");
    double x;
    size_t n = dot ? (size_t)(dot - key) : 0;
    if ((!input && !output) || !n || n >= sizeof c->p->models[0].model || parse_price(value, &x)) {
        snprintf(c->err, c->err_len,
                 "prices.models.%s: bad price '%s' (NAME: {input: USD, output: USD} per "
                 "million tokens)",
                 key, value);
        c->failed = 1;
        return;
    }
    struct model_price *m = NULL;
    for (size_t i = 0; i < c->p->n_models && !m; i++)
        if (strlen(c->p->models[i].model) == n && !strncmp(c->p->models[i].model, key, n)) m = &c->p->models[i];
    if (!m && c->p->n_models == MAX_MODEL_PRICES) {
        snprintf(c->err, c->err_len, "prices.models: more than %d models", MAX_MODEL_PRICES);
        c->failed = 1;
        return;
    }
    if (!m) {
        m = &c->p->models[c->p->n_models++];
        memcpy(m->model, key, n);
        m->model[n] = '\0';
    }
    if (input) m->input = x;
    else m->output = x;
}

int prices_load_models(const hr_config *cfg, struct prices *p, char *err, size_t err_len)
{
    struct model_ctx c = {p, err, err_len, 0};
    p->n_models = 0;
    hr__config_each(cfg, "prices.models.", add_model_price, &c);
    return c.failed ? -1 : 0;
}

int parse_multiplier(const char *v, double *out)
{
    return parse_price(v, out);
}
