/* The environment a Hermes process sees: its own, overridden by the
 * KEY=VALUE lines of $HERMES_HOME/.env (Hermes loads that file over the
 * shell's values at start). hr asks it about HERMES_SAFE_MODE, which makes
 * Hermes load no plugin at all, to say whether the plugin will load. */
#include "hermes/hermes.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* The value of a "KEY=VALUE" (or "export KEY=VALUE") line for key, without
 * quotes or a trailing comment; NULL when the line sets another key. */
static char *dotenv_value(const char *line, size_t len, const char *key)
{
    const char *s = line, *end = line + len;
    while (s < end && isspace((unsigned char)*s)) s++;
    if ((size_t)(end - s) > 7 && !strncmp(s, "export ", 7)) s += 7;
    size_t k = strlen(key);
    if ((size_t)(end - s) <= k || strncmp(s, key, k)) return NULL;
    s += k;
    while (s < end && (*s == ' ' || *s == '\t')) s++;
    if (s == end || *s != '=') return NULL;
    s++;
    while (s < end && (*s == ' ' || *s == '\t')) s++;
    const char *v_end;
    if (s < end && (*s == '"' || *s == '\'')) {
        const char *close = memchr(s + 1, *s, (size_t)(end - s - 1));
        v_end = close ? close : end;
        s++;
    } else {
        /* as python-dotenv: a comment starts at a '#' after a blank */
        v_end = s;
        while (v_end < end && !(*v_end == '#' && v_end > s && isspace((unsigned char)v_end[-1]))) v_end++;
        while (v_end > s && isspace((unsigned char)v_end[-1])) v_end--;
    }
    return strndup(s, (size_t)(v_end - s));
}

char *hr__hermes_env(const char *home_dir, const char *key, int *from_dotenv)
{
    char *path = hr__path_join(home_dir, ".env"), *found = NULL;
    hr_buf text = {0};
    if (path && !hr__read_file(path, &text)) {
        /* the last assignment wins, as in python-dotenv */
        for (size_t at = 0; at < text.len;) {
            const char *nl = memchr(text.data + at, '\n', text.len - at);
            size_t len = nl ? (size_t)(nl - (text.data + at)) : text.len - at;
            char *v = dotenv_value(text.data + at, len, key);
            if (v) {
                free(found);
                found = v;
            }
            at += len + 1;
        }
    }
    free(path);
    hr_buf_free(&text);
    if (from_dotenv) *from_dotenv = found != NULL;
    if (found) return found;
    const char *env = getenv(key);
    return env ? strdup(env) : NULL;
}

int hr__hermes_truthy(const char *value)
{
    if (!value) return 0;
    while (isspace((unsigned char)*value)) value++;
    size_t n = strlen(value);
    while (n && isspace((unsigned char)value[n - 1])) n--;
    static const char *const yes[] = {"1", "true", "yes", "on"};
    for (size_t i = 0; i < sizeof yes / sizeof yes[0]; i++)
        if (n == strlen(yes[i]) && !strncasecmp(value, yes[i], n)) return 1;
    return 0;
}

int hr__hermes_safe_mode(const char *home_dir, int *from_dotenv)
{
    char *v = hr__hermes_env(home_dir, "HERMES_SAFE_MODE", from_dotenv);
    int on = hr__hermes_truthy(v);
    free(v);
    return on;
}

const char *hr__home_plugin_loading(const struct hr__home *h, int *loads)
{
    int dotenv = 0;
    *loads = 0;
    if (hr__config_plugin_disabled(&h->yaml)) return "listed in plugins.disabled, which wins: Hermes will not load it";
    if (!hr__config_plugin_enabled(&h->yaml)) return "not in plugins.enabled";
    if (hr__hermes_safe_mode(h->dir, &dotenv))
        return dotenv ? "enabled, but HERMES_SAFE_MODE in .env makes Hermes load no plugin"
                      : "enabled, but HERMES_SAFE_MODE in this environment makes Hermes load no plugin";
    *loads = 1;
    return "enabled";
}
