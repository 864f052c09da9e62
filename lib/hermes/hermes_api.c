/* The public face of the Hermes layer (include/hr.h, hr_hermes_*,
 * hr_plugin_state_*, hr_url_host_port): a home opened read-only, the
 * providers it routes, the verdict on each, the plugin's loading and its
 * report, as hr-verify asks them. The structures stay internal; the
 * handles wrap them. */
#include "hermes/hermes.h"
#include "log/log_record.h"
#include "util/errmsg.h"

#include <stdlib.h>
#include <string.h>

struct hr_hermes {
    struct hr__home home;
};

struct hr_hermes_verdict {
    struct hr__route_verdict v;
};

struct hr_plugin_state {
    struct hr__plugin_state s;
};

hr_status hr_hermes_default_dir(hr_buf *out)
{
    char *dir = hr__user_dir("HERMES_HOME", ".hermes");
    const char *home = getenv("HOME"), *set = getenv("HERMES_HOME");
    if (!dir) return (home && *home) || (set && *set) ? HR_ENOMEM : HR_ENOTFOUND;
    hr_status st = hr_buf_append(out, dir, strlen(dir));
    free(dir);
    return st;
}

hr_status hr_hermes_open(const char *dir, hr_hermes **out, char *err, size_t err_len)
{
    *out = NULL;
    hr_hermes *h = malloc(sizeof *h);
    if (!h) return hr__errorf(err, err_len, HR_ENOMEM, "out of memory");
    hr_status st = hr__home_load(&h->home, dir, 0, err, err_len);
    if (st) {
        hr_hermes_free(h);
        return st;
    }
    *out = h;
    return HR_OK;
}

void hr_hermes_free(hr_hermes *h)
{
    if (!h) return;
    hr__home_free(&h->home);
    free(h);
}

const char *hr_hermes_dir(const hr_hermes *h)
{
    return h->home.dir;
}

const char *hr_hermes_config_get(const hr_hermes *h, const char *path)
{
    const struct hr__ynode *n = hr__yaml_find(&h->home.yaml, path);
    return n && n->kind == HR_Y_SCALAR ? n->value : NULL;
}

hr_status hr_hermes_routed(const hr_hermes *h, const char **ids, size_t cap, size_t *n, char *err, size_t err_len)
{
    const struct hr__provider *routed[HR_MAX_ROUTED];
    *n = 0;
    hr_status st = hr__home_routed(&h->home, 1, routed, n, err, err_len);
    if (st) {
        *n = 0;
        return st;
    }
    for (size_t i = 0; i < *n && i < cap; i++) ids[i] = routed[i]->id;
    return *n > cap ? HR_ERANGE : HR_OK;
}

hr_status hr_hermes_judge(const hr_hermes *h, const char *provider, const char *proxy_url, hr_hermes_verdict **out)
{
    *out = NULL;
    const struct hr__provider *p = provider ? hr__provider_find(provider) : NULL;
    if (!p) return HR_ENOTFOUND;
    if (!proxy_url) return HR_EINVAL;
    hr_hermes_verdict *v = calloc(1, sizeof *v);
    if (!v) return HR_ENOMEM;
    char *active = hr__home_model_provider(&h->home);
    v->v.p = p;
    hr__route_judge(&h->home, proxy_url, active, 1, &v->v); /* the plugin is the caller's to judge */
    free(active);
    *out = v;
    return HR_OK;
}

void hr_hermes_verdict_free(hr_hermes_verdict *v)
{
    free(v);
}

int hr_hermes_verdict_via_proxy(const hr_hermes_verdict *v)
{
    return v->v.via_proxy;
}

size_t hr_hermes_verdict_reasons(const hr_hermes_verdict *v)
{
    return v->v.n_reasons;
}

const char *hr_hermes_verdict_reason(const hr_hermes_verdict *v, size_t i)
{
    return i < v->v.n_reasons ? v->v.reasons[i] : NULL;
}

int hr_hermes_plugin_installed(const hr_hermes *h)
{
    return hr__home_plugin_present(&h->home);
}

const char *hr_hermes_plugin_loading(const hr_hermes *h, int *loads)
{
    return hr__home_plugin_loading(&h->home, loads);
}

/* ---- the plugin's state file ------------------------------------------------ */

hr_status hr_plugin_state_read(const char *hermes_dir, hr_plugin_state **out, char *err, size_t err_len)
{
    *out = NULL;
    hr_plugin_state *s = malloc(sizeof *s);
    if (!s) return hr__errorf(err, err_len, HR_ENOMEM, "out of memory");
    hr_status st = hr__plugin_state_read(hermes_dir, &s->s, err, err_len);
    if (st) {
        free(s); /* the reader freed what it had read */
        return st;
    }
    *out = s;
    return HR_OK;
}

void hr_plugin_state_free(hr_plugin_state *s)
{
    if (!s) return;
    hr__plugin_state_free(&s->s);
    free(s);
}

const char *hr_plugin_state_string(const hr_plugin_state *s, const char *name)
{
    if (!strcmp(name, "time")) return s->s.time;
    if (!strcmp(name, "hermes_version")) return s->s.hermes_version;
    if (!strcmp(name, "proxy_url")) return s->s.proxy_url;
    if (!strcmp(name, "reason")) return s->s.reason;
    return NULL;
}

long long hr_plugin_state_time_ms(const hr_plugin_state *s)
{
    return s->s.time ? hr__utc_time_ms(s->s.time) : -1;
}

long long hr_plugin_state_pid(const hr_plugin_state *s)
{
    return s->s.pid;
}

int hr_plugin_state_healthy(const hr_plugin_state *s)
{
    return s->s.healthy;
}

int hr_plugin_state_patched(const hr_plugin_state *s, const char *provider)
{
    return hr__plugin_state_patched(&s->s, provider);
}

size_t hr_plugin_state_failed(const hr_plugin_state *s)
{
    return s->s.n_failed;
}

/* ---- URLs ----------------------------------------------------------------- */

hr_status hr_url_host_port(const char *url, const char **host, size_t *len, int *port)
{
    const char *h = url ? hr__url_host_port(url, len, port) : NULL;
    *host = h;
    return h ? HR_OK : HR_EINVAL;
}
