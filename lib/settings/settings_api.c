/* The public face of the settings table (include/hr.h, hr_settings_*): a
 * handle around route_settings.c's resolver, a setting named by its
 * route.yaml key, so that a tool outside hr resolves log_dir or listen
 * exactly as hr-proxy does. */
#include "settings/route_settings.h"
#include "util/errmsg.h"

#include <stdlib.h>
#include <string.h>

struct hr_settings {
    struct hr__settings s;
};

hr_status hr_settings_open(const char *home, const char *config_path, hr_settings **out, char *err, size_t err_len)
{
    *out = NULL;
    hr_settings *h = calloc(1, sizeof *h);
    if (!h) return hr__errorf(err, err_len, HR_ENOMEM, "out of memory");
    hr_status st = hr__settings_open(&h->s, home, config_path, err, err_len);
    if (st) {
        hr_settings_close(h);
        return st;
    }
    *out = h;
    return HR_OK;
}

void hr_settings_close(hr_settings *s)
{
    if (!s) return;
    hr__settings_close(&s->s);
    free(s);
}

const char *hr_settings_file(const hr_settings *s)
{
    return s->s.config_path;
}

/* The setting whose route.yaml key is name; HR_S_COUNT when none is. */
static enum hr__setting setting_named(const char *name)
{
    for (int id = 0; id < HR_S_COUNT; id++)
        if (!strcmp(hr__setting_spec((enum hr__setting)id)->key, name)) return (enum hr__setting)id;
    return HR_S_COUNT;
}

hr_status hr_settings_get(const hr_settings *s, const char *name, const char *flag_value, const char **value,
                          char *from, char *err, size_t err_len)
{
    enum hr__setting id = name ? setting_named(name) : HR_S_COUNT;
    struct hr__setting_value v;
    *value = NULL;
    if (id == HR_S_COUNT) return hr__errorf(err, err_len, HR_ENOTFOUND, "no setting '%s'", name ? name : "");
    int bad = hr__settings_read(&s->s, id, flag_value, &v, err, err_len);
    if (from) *from = v.from;
    if (bad) return HR_EINVAL;
    *value = v.text;
    return HR_OK;
}

hr_status hr_listen_url(const char *listen, hr_buf *out)
{
    char host[256];
    int port;
    if (!listen || hr__parse_listen(listen, host, sizeof host, &port)) return HR_EINVAL;
    char *url = hr__listen_url(listen);
    hr_status st = url ? hr_buf_append(out, url, strlen(url)) : HR_ENOMEM;
    free(url);
    return st;
}
