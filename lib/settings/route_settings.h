/* The settings hr's programs share, and the one order in which every
 * program resolves them: the flag, else the HEADROOM_* environment variable,
 * else route.yaml, else the built-in default. hr-proxy, hr-compress and
 * hr-verify all read them here, so that a setting such as log_dir means the
 * same folder to the proxy that writes it and to hr-verify that reads it.
 * Internal to libhr and its programs. */
#ifndef HR_ROUTE_SETTINGS_H
#define HR_ROUTE_SETTINGS_H

#include "hr.h"

#include <stddef.h>

enum hr__setting {
    HR_S_LISTEN,
    HR_S_ANTHROPIC_URL,
    HR_S_OPENAI_URL,
    HR_S_CHATGPT_URL,
    HR_S_PROTECT_RECENT,
    HR_S_MIN_TOKENS,
    HR_S_MAX_CONCURRENT,
    HR_S_LOG_DIR,
    HR_S_MAX_BODY,
    HR_S_UPSTREAM_TIMEOUT,
    HR_S_CONNECT_TIMEOUT,
    HR_S_CLIENT_TIMEOUT,
    HR_S_COMPRESS_TIMEOUT,
    HR_S_SHUTDOWN_WAIT,
    HR_S_LOG_MAX,
    HR_S_SCORER,
    HR_S_KOMPRESS_MODEL,
    HR_S_KOMPRESS_BACKEND,
    HR_S_OBSERVE,
    HR_S_PRICE_ANTHROPIC_CACHE_WRITE,
    HR_S_PRICE_ANTHROPIC_CACHE_READ,
    HR_S_PRICE_OPENAI_CACHED,
    HR_S_MODE,
    HR_S_EXACT_TOOLS,
    HR_S_LOSSLESS,
    HR_S_COUNT
};

/* How a setting's text is read, so that every program accepts and refuses
 * the same values with the same words (hr__settings_read). */
enum hr__setting_kind {
    HR_K_SIZE,     /* a whole number */
    HR_K_POSITIVE, /* a whole number above 0 */
    HR_K_BOOL,     /* true/false (hr__parse_bool) */
    HR_K_LISTEN,   /* HOST:PORT */
    HR_K_URL,      /* http:// or https:// */
    HR_K_DIR,      /* a folder, not empty */
    HR_K_PATH,     /* a folder; "" means the default */
    HR_K_SCORER,   /* auto, lexical, kompress */
    HR_K_BACKEND,  /* HR_KOMPRESS_BACKENDS */
    HR_K_MODE,     /* cache, token */
    HR_K_TEXT,     /* any text (exact_tools) */
    HR_K_RATE      /* a price multiplier, read by hr-proxy */
};

/* A setting's names: the long flag (without "--"), the environment
 * variable, the route.yaml key; its default (NULL for log_dir and
 * kompress_model, whose defaults are folders in the home); and its kind. */
struct hr__setting_spec {
    const char *flag, *env, *key, *fallback;
    enum hr__setting_kind kind;
};
const struct hr__setting_spec *hr__setting_spec(enum hr__setting id);

/* Where the settings come from: the home and the route.yaml in it (or the
 * one given), read once. */
struct hr__settings {
    char *home;         /* the headroom home: as given, else $HEADROOM_HOME, else ~/.headroom */
    char *config_path;  /* the settings file read; NULL when there is none */
    hr_config *cfg;     /* its contents; NULL when there is none */
    char *log_dir;      /* the default log folder, home/logs */
    char *kompress_dir; /* the default Kompress model folder, home/models/kompress-v2-base */
};

/* The headroom home, the one place it is found: given when not NULL or
 * empty, else $HEADROOM_HOME, else ~/.headroom, else ./.headroom (a
 * process with neither variable still gets one). malloc'd; NULL when out
 * of memory. */
char *hr__headroom_home(const char *given);

/* Finds the home (hr__headroom_home(home)) and reads config, else
 * home/route.yaml.
 * A missing default file is no error; a missing given one is HR_ENOTFOUND.
 * On error err says why; call hr__settings_close whatever it returns. */
hr_status hr__settings_open(struct hr__settings *s, const char *home, const char *config, char *err, size_t err_len);
void hr__settings_close(struct hr__settings *s);

/* Setting id's value: flag_value when not NULL, else its environment
 * variable when set and not empty, else route.yaml's key, else the default.
 * *from (when not NULL) gets 'f', 'e', 'c' or 'd'. Borrowed: valid until
 * the environment changes or hr__settings_close. */
const char *hr__settings_get(const struct hr__settings *s, enum hr__setting id, const char *flag_value, char *from);
/* Names where a value came from, for messages: "--log-dir",
 * "HEADROOM_LOG_DIR", "FILE: log_dir" or "default log_dir". */
void hr__settings_where(const struct hr__settings *s, enum hr__setting id, char from, char *out, size_t len);

/* A setting's value, resolved as hr__settings_get does and read as its
 * kind says. */
struct hr__setting_value {
    const char *text; /* as resolved; borrowed like hr__settings_get's */
    char from;        /* 'f', 'e', 'c' or 'd' (whether a bad value is a usage error) */
    size_t n;         /* HR_K_SIZE, HR_K_POSITIVE */
    int on;           /* HR_K_BOOL */
    hr_mode mode;     /* HR_K_MODE */
    char host[256];   /* HR_K_LISTEN */
    int port;
};
/* Resolves setting id (flag_value as for hr__settings_get) into *v and
 * checks it: 0, or -1 with err naming where the value came from and why it
 * is refused ("HEADROOM_MODE: unknown mode 'x' (cache, token)"); v->from
 * is set either way. */
int hr__settings_read(const struct hr__settings *s, enum hr__setting id, const char *flag_value,
                      struct hr__setting_value *v, char *err, size_t err_len);
/* The same message for a value the program refuses itself (one too long
 * for its storage, a price): "WHERE: 'VALUE' why". */
void hr__settings_refuse(const struct hr__settings *s, enum hr__setting id, const struct hr__setting_value *v,
                         const char *why, char *err, size_t err_len);

/* What libhr itself falls back on when a caller of hr_compress leaves a
 * Kompress setting NULL, as include/hr.h documents: the environment
 * variable, else the default; never route.yaml, which is the programs' to
 * read (they pass what they resolved). hr__setting_env: the variable when
 * set and not empty, else NULL. hr__kompress_default_dir: malloc'd, NULL
 * when out of memory. */
const char *hr__setting_env(enum hr__setting id);
char *hr__kompress_default_dir(void);

/* Each key of cfg that starts with prefix ("prices.models."), in file
 * order: fn gets the rest of the key and the value (lib/settings/config.c). */
void hr__config_each(const hr_config *cfg, const char *prefix,
                     void (*fn)(const char *key, const char *value, void *ctx), void *ctx);

/* A whole number in decimal, nothing else: 0, or -1. */
int hr__parse_size(const char *v, size_t *out);
/* true/1/yes/on or false/0/no/off, any case, into *out; -1 for other text. */
int hr__parse_bool(const char *v, int *out);
/* "HOST:PORT" or "[IPV6]:PORT" into host[host_len] and *port: 0, or -1. */
int hr__parse_listen(const char *v, char *host, size_t host_len, int *port);
/* The URL a client on this machine reaches a listen address at:
 * "http://HOST:PORT", a wildcard address as loopback, an IPv6 one in
 * brackets. malloc'd; NULL when v is no listen address. */
char *hr__listen_url(const char *v);

/* Whether name is a backend: "auto", "cpu" (bf16 where the CPU can, else
 * fp32), "cpu-fp32", "cpu-bf16", "cuda", or Headroom's names "pytorch"
 * (cuda) and "onnx" (cpu). */
#define HR_KOMPRESS_BACKENDS "auto, cpu, cpu-fp32, cpu-bf16, cuda, pytorch, onnx"
/* (lib/kompress/kompress_open.c) */
int hr__kompress_backend_known(const char *name);

#endif
