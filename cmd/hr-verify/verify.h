/* hr-verify's parts: the four checks, what each found, and the process
 * readers they use. Everything it asks of libhr is in hr.h: the request
 * log's reader, the Hermes home, the plugin's report and call record. */
#ifndef HR_VERIFY_H
#define HR_VERIFY_H

#include "hr.h"

#include <stddef.h>
#include <sys/types.h>

enum check_id { CHECK_HEALTH, CHECK_LOGS, CHECK_CHAT, CHECK_BASE_URL, N_CHECKS };
extern const char *const check_names[N_CHECKS];

enum verdict { V_PASS, V_FAIL, V_SKIP };

/* One check's outcome: a line of what was seen, and for a failure (or a
 * pass worth a warning) what to look at. */
struct result {
    enum verdict v;
    char detail[2048];
    char hint[1024];
};
void result_set(struct result *r, enum verdict v, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
void result_hint(struct result *r, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* The known failure modes, as hints (shared by the checks that see them). */
#define HINT_401                                                                                                       \
    "401: the provider refused the credentials. hr-proxy must pass Authorization, x-api-key, anthropic-beta and "      \
    "chatgpt-account-id through untouched; if the same call works without the proxy, a header was dropped"
#define HINT_DIRECT                                                                                                    \
    "the request went direct, not through the proxy: the headroom-route plugin is not loaded or auth.json is not "     \
    "rewritten (hr-patch-auth --status, $HERMES_HOME/headroom-route.state.json)"
#define HINT_502                                                                                                       \
    "502: hr-proxy could not reach the provider; the upstream URL changed or is wrong: see anthropic_api_url, "        \
    "openai_api_url and chatgpt_api_url in route.yaml"
#define HINT_SLOW "a slow scorer: the CPU backend, or max_concurrent too low for the requests in flight (route.yaml)"
#define HINT_QUOTA "the provider's quota or rate limit: not a routing fault; try again later"

enum chat_mode { CHAT_AUTO, CHAT_ON, CHAT_OFF };

struct options {
    char *proxy_url;       /* --proxy-url, else the plugin block's, else hr-proxy's listen address */
    char *hermes_home;     /* --hermes-home, $HERMES_HOME, ~/.hermes */
    char *log_dir;         /* hr-proxy's: --log-dir, $HEADROOM_LOG_DIR, route.yaml, HOME/logs */
    char *settings_path;   /* the route.yaml read; NULL when none */
    long calls;            /* --calls: how many of the last calls base_url judges */
    long long max_age_ms;  /* --max-age */
    enum chat_mode chat;   /* --chat / --no-chat */
    const char *chat_cmd;  /* --chat-cmd; NULL: hermes chat -q */
    long chat_timeout_s;   /* --chat-timeout */
    double http_timeout_s; /* --timeout, for GET /health */
    unsigned selected;     /* bit per check_id */
    int json, color;
};

/* ---- the plugin's record of each call (calls.c) ------------------------------ */

/* The providers hr routes (anthropic, openai-codex, openai-api). */
#define MAX_ROUTED 3

struct call {
    char time[40], provider[64], base_url[512];
    long long ts_ms, pid;
    int older;     /* made before since_ms: left aside */
    int routed;    /* a provider this home routes */
    int via_proxy; /* base_url has the proxy's host and port */
};

struct witness {
    char *path;         /* $HERMES_HOME/headroom-route.calls.jsonl */
    int found;          /* the file exists */
    char err[600];      /* why it was not read; "" when it was */
    struct call *calls; /* the last ones, newest first */
    size_t n;           /* calls read: at most --calls */
    size_t unparsed;    /* lines among them that are not a call (one being written) */
    long long since_ms; /* calls before it are left aside (whole seconds); 0: none */
    size_t older;       /* calls read that are older than since_ms */
    size_t routed, off; /* from since_ms on, calls of providers this home routes; those not via the proxy */
};

/* The last n_max calls of the Hermes home, judged against proxy: those from
 * since_ms on (0: all) of the n_routed providers the home routes. w->err
 * says why nothing was read. */
void witness_read(const char *home, const char *proxy, const char *const *routed, size_t n_routed, long n_max,
                  long long since_ms, struct witness *w);
void witness_free(struct witness *w);
/* Whether two http(s) URLs name the same host and port (the scheme's port
 * when none is given); paths, users and queries aside. */
int same_host_port(const char *a, const char *b);
/* "HOST:PORT" of a URL, for messages. */
void host_port(const char *url, char *out, size_t len);

/* What one check leaves for a later one: the chat started a Hermes, its
 * request reached the proxy; the call record base_url read. */
struct run_state {
    int chat_ran;    /* a chat command naming hermes ran (and was found) */
    int chat_passed; /* the chat check passed: its request went through the proxy */
    long long chat_start_ms, chat_end_ms;
    struct witness calls; /* read by check_base_url */
};

void check_health(const struct options *o, struct result *r);
void check_logs(const struct options *o, const struct run_state *st, struct result *r);
void check_chat(const struct options *o, struct run_state *st, struct result *r);
void check_base_url(const struct options *o, struct run_state *st, struct result *r);

void report_text(const struct options *o, const struct result *res);
void report_json(const struct options *o, const struct run_state *st, const struct result *res);

/* ---- time ------------------------------------------------------------------- */

long long now_ms(void);
/* "90s", "30m", "24h", "7d", "1h30m" or plain seconds; -1 when malformed. */
long long parse_duration_ms(const char *s);
/* "42 s", "5 min", "3.0 h", "2.5 d" */
void format_age(long long ms, char *out, size_t len);
/* 12345 -> "12,345" */
void format_count(unsigned long long n, char *out, size_t len);

/* ---- processes ---------------------------------------------------------------- */

struct hermes_process {
    pid_t pid;
    long long start_ms;
    char cmd[256];
};
/* The Hermes process of this user using this home that started most
 * recently; 0 when none runs. */
int newest_hermes(const char *home, struct hermes_process *out);

/* Runs "sh -c 'CMD \"$@\"' PROMPT": the prompt as the last argument and in
 * $HR_VERIFY_PROMPT, stdin /dev/null, stdout and stderr both into out (the
 * last 64 KiB). Kills its process group after timeout_s. Returns 0 with
 * *status (a wait status) and *timed_out set, or an errno. */
int run_command(const char *cmd, const char *prompt, long timeout_s, hr_buf *out, int *status, int *timed_out);

#endif
