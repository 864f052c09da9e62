/* hr-proxy: what its parts share. */
#ifndef HR_PROXY_H
#define HR_PROXY_H

#include "framing.h"
#include "hr.h"
#include "hr_internal.h"

#include <curl/curl.h>
#include <event2/event.h>
#include <event2/http.h>
#include <pthread.h>
#include <stdint.h>

/* ---- prices (bill.c) ------------------------------------------------------- */

#define MAX_MODEL_PRICES 64

/* A model's dollars per million tokens: input (uncached), output. */
struct model_price {
    char model[128];
    double input, output;
};

/* What a token costs relative to an uncached input token, by provider
 * (route.yaml prices:), and the models' dollar prices. */
struct prices {
    double cache_write, cache_read; /* Anthropic: 1.25, 0.1 */
    double openai_cached;           /* OpenAI: 0.1 */
    struct model_price models[MAX_MODEL_PRICES];
    size_t n_models;
};

/* prices.models.NAME.input / .output from route.yaml: 0, or -1 with err. */
int prices_load_models(const hr_config *cfg, struct prices *p, char *err, size_t err_len);
/* A multiplier or price: a finite number >= 0. 0, or -1. */
int parse_multiplier(const char *v, double *out);

/* ---- settings (settings.c) ------------------------------------------------- */

struct settings {
    char listen_host[256];
    int listen_port;
    int allow_remote;
    char anthropic_url[1024], openai_url[1024], chatgpt_url[1024];
    size_t protect_recent, min_tokens, max_concurrent;
    size_t max_body;         /* bytes */
    long upstream_timeout_s; /* no byte from upstream for this long: 504 */
    long connect_timeout_s;
    long client_timeout_s;    /* idle client */
    long compress_timeout_ms; /* forward uncompressed after this */
    long shutdown_wait_s;     /* in-flight work gets this long on SIGTERM */
    size_t log_max_bytes;     /* rotate requests.jsonl past this */
    char log_dir[4096];
    char scorer[16];           /* auto, lexical, kompress */
    char kompress_model[4096]; /* "": libhr's default folder */
    char kompress_backend[16]; /* auto, cpu, cpu-fp32, cpu-bf16, cuda, pytorch, onnx */
    char config_path[4096];    /* the file read, "" when none */
    char pidfile[4096];
    int observe;  /* send every body as it came; log what compression would do */
    int lossless; /* re-encode only, never cut */
    struct prices prices;
    hr_mode mode;           /* cache (each tool result once, the same forever after) or token */
    char exact_tools[1024]; /* tools added to / removed from the never-cut defaults */
};

/* The command line as parsed, kept for SIGHUP reloads. */
struct cli {
    const char *flags[32]; /* by setting index, NULL when not given */
    const char *config;
    int allow_remote;
    const char *pidfile;
};

enum { CLI_OK, CLI_HELP, CLI_VERSION, CLI_USAGE };
int cli_parse(struct cli *cli, int argc, char **argv, char *err, size_t err_len);
/* Resolves every setting: flag, environment, file, default. 0 or -1 with err. */
int settings_load(const struct cli *cli, struct settings *s, char *err, size_t err_len);
void usage(FILE *out);

/* ---- routing (upstream.c) -------------------------------------------------- */

enum provider { PROVIDER_ANTHROPIC, PROVIDER_OPENAI, PROVIDER_CHATGPT };
const char *provider_name(enum provider p);
/* The API whose answers carry usage: Anthropic Messages, Chat Completions,
 * Responses (OpenAI's and the ChatGPT Codex backend's). */
enum api { API_NONE, API_ANTHROPIC, API_CHAT, API_RESPONSES };
const char *api_name(enum api a);

struct route {
    enum provider provider;
    int compress;   /* a request body hr_compress() understands */
    enum api api;   /* whose usage its answer carries; API_NONE: none read */
    char url[2048]; /* upstream URL, query string included */
    char host[256]; /* upstream host, for the log */
};
/* Where a request goes. headers: the client's. */
void route_request(const struct settings *s, enum evhttp_cmd_type method, const char *uri,
                   const struct evkeyvalq *headers, struct route *out);
/* Whether a bearer token is a JWT naming a ChatGPT account. */
int jwt_names_chatgpt_account(const char *authorization);

/* ---- the provider's usage (usage.c) and the bill (bill.c) ------------------------ */

/* An answer's usage goes into the log record's (struct hr__log_usage,
 * lib/log/log_record.h): the tokens the provider reported billing,
 * normalised. */
struct usage_reader;
/* A reader for an answer of api: stream when it is text/event-stream;
 * content_encoding as the upstream sent it. NULL when there is nothing to
 * read (API_NONE, an encoding it cannot undo, no memory). */
struct usage_reader *usage_reader_new(enum api api, int stream, const char *content_encoding);
/* The answer's next bytes, after they went to the client. */
void usage_reader_feed(struct usage_reader *r, const char *data, size_t len);
/* At the answer's end: 1 with *out filled when it carried usage, else 0. */
int usage_reader_finish(struct usage_reader *r, struct hr__log_usage *out);
void usage_reader_free(struct usage_reader *r);

/* Fills the record's bill from its usage, tokens and observe flag. */
void bill_record(const struct prices *p, struct hr__log_record *r);

/* ---- the request log and the totals (reqlog.c, stats.c) -------------------------- */

/* The log is libhr's (lib/log/log_record.h): its record, struct
 * hr__log_record, is what each exchange fills. */
struct reqlog;
/* The log of dir, rotated past max_bytes; NULL only when out of memory.
 * When it cannot be written yet, err says why. */
struct reqlog *reqlog_open(const char *dir, size_t max_bytes, char *err, size_t err_len);
void reqlog_close(struct reqlog *log);
/* Stamps r with the time, appends it to the log and says it on stderr; a
 * failed append drops the record, said once, and the request goes on. */
void reqlog_write(struct reqlog *log, struct hr__log_record *r);
/* Whether the log can be written: NULL, or why not. */
const char *reqlog_problem(struct reqlog *log);

struct totals {
    uint64_t requests, errors, tokens_before, tokens_after;
    uint64_t saved_lossless, saved_lossy; /* re-encoded, cut */
    uint64_t by_provider[3], saved_by_provider[3];
    uint64_t compressed, passed_through, fail_open;
    uint64_t with_usage; /* requests whose answer reported usage */
    double billed, billed_before[3], billed_after[3], cost_usd;
    double started;
    int observe;
};
void totals_add(struct totals *t, const struct hr__log_record *r, enum provider p);
void totals_json(const struct totals *t, struct evbuffer *out);
void totals_prometheus(const struct totals *t, struct evbuffer *out);

/* ---- compression workers (pool.c) --------------------------------------------- */

struct job;
struct pool;
typedef void (*job_done_fn)(struct job *job, void *arg);
/* Each worker compresses a request with opt at start, so that tokenizers and
 * the scorer's model are loaded before the first real one. */
struct pool *pool_new(struct event_base *base, size_t workers, const hr_compress_options *opt);
void pool_free(struct pool *pool);
/* Starts compressing body; NULL when every worker is busy (go uncompressed). */
struct job *pool_submit(struct pool *pool, const hr_compress_options *opt, const char *body, size_t len,
                        job_done_fn done, void *arg);
/* The caller no longer waits: the job is freed when its worker finishes. */
void pool_abandon(struct job *job);
/* Results, valid inside the done callback. */
hr_status job_status(const struct job *job);
const hr_buf *job_output(const struct job *job);
const hr_compress_stats *job_stats(const struct job *job);
const char *job_error(const struct job *job);
void job_free(struct job *job);

/* ---- forwarding: curl on the loop (curl_loop.c), exchanges (exchange.c) ---------- */

struct proxy {
    struct event_base *base;
    struct evhttp *http;
    struct evhttp_bound_socket *listener;
    CURLM *multi;
    struct event *curl_timer;
    struct pool *pool;
    hr_compressor *inline_comp; /* the loop thread's own, for bodies too short to compress */
    hr_sent *sent;              /* cache mode: what was sent of each tool result, kept across SIGHUP */
    hr_buf inline_out;
    struct reqlog *log;
    struct totals totals;
    struct settings set;
    struct cli cli;
    int in_flight; /* exchanges not finished */
    int flushing;  /* finished answers whose last bytes are not yet written */
    int stopping;
    uint64_t next_id;
};

/* The curl multi handle on p->base, the loop thread's own compressor and
 * the cache-mode memory (curl_loop.c). 0, or -1. */
int forward_init(struct proxy *p);
void forward_cleanup(struct proxy *p);
/* An exchange whose body and compressed copy reach this many bytes gives its
 * memory back to the system when it ends (memory.c). */
#define LARGE_EXCHANGE ((size_t)4 << 20)
/* The settings of every hr_compress() the proxy makes, inline or on a worker. */
void compress_options(const struct proxy *p, hr_compress_options *opt);
/* Takes over req: compresses its body when it should, sends it upstream,
 * relays the answer. */
void forward_request(struct proxy *p, struct evhttp_request *req, const struct route *r);
/* An error answer in the JSON format of the provider. */
void send_error(struct evhttp_request *req, enum provider p, int status, const char *type, const char *message);

/* Answers req with an error instead of forwarding it, and logs it. */
void refuse_request(struct proxy *p, struct evhttp_request *req, const struct route *r, int status, const char *type,
                    const char *message);

/* ---- one exchange: its lifecycle (exchange.c), its upstream leg (relay.c) ---------- */

/* A request taken over, from accept to the end of its answer. */
struct exchange {
    struct proxy *p;
    struct evhttp_request *req; /* NULL once answered or the client is gone */
    struct evhttp_connection *evcon;
    struct route route;
    char *body;
    size_t body_len;
    hr_buf compressed;
    struct job *job;
    struct event *job_timer;
    CURL *easy;
    struct curl_slist *headers;
    struct hr__log_record rec;
    double t0, t_forward;
    int status, replying, paused, stream, abort_pending, finished;
    char reason[64];
    char encoding[32];          /* the answer's Content-Encoding */
    struct usage_reader *usage; /* reads the answer's usage as it passes */
    int usage_started;
    struct event *silence; /* fires when the upstream has sent nothing for upstream_timeout */
};

/* The end of an exchange (exchange.c): exchange_finish when curl is done
 * (rc: how the transfer ended) answers, logs and frees it unless the client
 * left first; watch_flush hands the client connection to the flush watch. */
void exchange_finish(struct exchange *ex, CURLcode rc);
struct evhttp_request *watch_flush(struct exchange *ex);
void log_exchange(struct exchange *ex);
void exchange_free(struct exchange *ex);
/* Sends the body upstream on p->multi and relays the answer (relay.c). */
void send_upstream(struct exchange *ex, const char *body, size_t len);

/* ---- the body limit (body_limit.c) ------------------------------------------------ */
/* (the markers on_request answers and the head limits are framing.h's) */

/* evhttp_set_bevcb's callback: each client connection reads through a
 * filter that turns a request announcing too large a body into a marked
 * one with no body. arg: the proxy. */
struct bufferevent *body_limit_bufferevent(struct event_base *base, void *arg);

double now_ms(void);
/* A listening, non-blocking socket on host:port, or LISTEN_FAILED with err,
 * or LISTEN_REFUSED when, without allow_remote, host resolves to an address
 * other than loopback (listen.c). */
enum { LISTEN_FAILED = -1, LISTEN_REFUSED = -2 };
int listen_socket(const char *host, int port, int allow_remote, char *err, size_t err_len);
/* Out of file descriptors, accepting pauses and backs off instead of
 * spinning; said once when it stops and once when a connection comes in
 * again (listen_accepted, from each new connection). */
int listen_guard(struct event_base *base, struct evhttp_bound_socket *bound);
void listen_accepted(void);
void listen_guard_free(void);

/* memory.c: large blocks in their own mappings; after a large exchange,
 * free heap pages back to the system. */
void memory_setup(void);
void memory_return_later(struct event_base *base);

#endif
