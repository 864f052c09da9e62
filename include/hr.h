/* libhr: the library behind the hr programs. One header, one prefix.
 *
 * Conventions
 *  - Functions that can fail return hr_status; HR_OK is 0. hr_strerror() names
 *    a status. Handles that can fail for a reason worth telling keep a message
 *    of their last failure (hr_json_errmsg(), hr_splice_errmsg(), ...).
 *  - Handles are opaque. hr_X_new() allocates one, hr_X_free() releases it and
 *    accepts NULL. A handle is used by one thread at a time; separate handles
 *    may be used from separate threads.
 *  - Byte buffers passed in are borrowed for the duration of the call unless a
 *    function says it keeps them. Offsets are byte offsets.
 *  - Output that grows is appended to an hr_buf owned by the caller.
 */
#ifndef HR_H
#define HR_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#if defined(__GNUC__)
#define HR_API __attribute__((visibility("default")))
#else
#define HR_API
#endif

/* ---- status ---------------------------------------------------------------- */

typedef enum hr_status {
    HR_OK = 0,
    HR_ENOMEM,      /* out of memory */
    HR_EINVAL,      /* invalid argument */
    HR_ENOTFOUND,   /* unknown name: encoding, model, key */
    HR_ERANGE,      /* value out of range, or caller's buffer too small */
    HR_ESYNTAX,     /* malformed JSON */
    HR_EDEPTH,      /* JSON nested deeper than the handle allows */
    HR_ETRUNCATED,  /* input ended in the middle of a value */
    HR_EUTF8,       /* invalid UTF-8 where UTF-8 is required */
    HR_ETOOBIG,     /* input larger than supported (4 GiB for JSON) */
    HR_ENOTREQUEST, /* JSON, but not a request of a known API shape */
    HR_EMODEL,      /* the scorer asked for cannot start: its model is missing or broken */
    HR_EIO,         /* a file could not be read or written */
    HR_ECANCELED,   /* stopped by hr_compressor_cancel() */
} hr_status;

/* A static, human-readable description of a status. */
HR_API const char *hr_strerror(hr_status status);

/* The version of this header, for checks at compile time. hr_version() is that
 * of the library loaded at run time, which may be a later one with the same
 * soname (libhr.so.1). */
#define HR_VERSION_MAJOR 0
#define HR_VERSION_MINOR 2
#define HR_VERSION_PATCH 0

/* The library version, "MAJOR.MINOR.PATCH". */
HR_API const char *hr_version(void);

/* ---- growable byte buffer -------------------------------------------------- */

/* A plain value type: zero-initialise it (HR_BUF_INIT), append, read data/len,
 * release with hr_buf_free(). data is NUL-terminated whenever len > 0. */
typedef struct hr_buf {
    char *data;
    size_t len;
    size_t cap;
} hr_buf;
#define HR_BUF_INIT                                                                                                    \
    {                                                                                                                  \
        NULL, 0, 0                                                                                                     \
    }

HR_API hr_status hr_buf_append(hr_buf *buf, const void *bytes, size_t len);
HR_API void hr_buf_free(hr_buf *buf);

/* ---- tokenizer --------------------------------------------------------------- */

/* A tokenizer for one encoding: "cl100k_base" or "o200k_base", with token ids
 * identical to OpenAI's tiktoken. Text is UTF-8; ill-formed sequences are read
 * as U+FFFD, one per maximal ill-formed subpart (as Node.js, Python and browsers
 * decode bytes), so ids equal tiktoken's on the decoded string. The rank tables
 * are built into the library. A handle owns scratch memory: one per thread. */
typedef struct hr_tokenizer hr_tokenizer;

/* Encode special-token strings (e.g. "<|endoftext|>") as their ids. Without it
 * they are ordinary text. */
#define HR_ALLOW_SPECIAL 0x1u

HR_API hr_status hr_tokenizer_new(const char *encoding, hr_tokenizer **out);
HR_API void hr_tokenizer_free(hr_tokenizer *tok);
HR_API const char *hr_tokenizer_encoding(const hr_tokenizer *tok);

/* Number of tokens of text[0..len), without storing ids. */
HR_API hr_status hr_tokenizer_count(hr_tokenizer *tok, const char *text, size_t len, unsigned flags, size_t *count);

/* Token ids of text[0..len) into ids[0..cap). *n receives the full count; when
 * it exceeds cap, the first cap ids are stored and HR_ERANGE is returned. */
HR_API hr_status hr_tokenizer_encode(hr_tokenizer *tok, const char *text, size_t len, unsigned flags, uint32_t *ids,
                                     size_t cap, size_t *n);

/* The bytes of token id (borrowed from the library's tables). */
HR_API hr_status hr_tokenizer_token_bytes(const hr_tokenizer *tok, uint32_t id, const char **bytes, size_t *len);

/* How a model name maps to an encoding. Names are matched by prefix, e.g.
 * "gpt-4o-2024-08-06" as gpt-4o. For models whose tokenizer is not published
 * (claude-*), the encoding is a stand-in and counts are multiplied by
 * estimate_factor and rounded up; is_estimate is then 1. */
typedef struct hr_model_encoding {
    const char *encoding;
    double estimate_factor;
    int is_estimate;
} hr_model_encoding;

HR_API hr_status hr_model_lookup(const char *model, hr_model_encoding *out);

/* ---- JSON byte-span scanner -------------------------------------------------- */

/* Parses a JSON text into a flat array of nodes, each remembering the byte span
 * of its value in the caller's buffer. Nothing is converted: numbers, strings
 * and whitespace stay as they are in the buffer, so edits can splice the
 * original bytes (see hr_splice). Strict RFC 8259 with UTF-8 validation.
 * The buffer is borrowed until the next hr_json_parse() or hr_json_free(). */
typedef struct hr_json hr_json;
typedef uint32_t hr_json_node;
#define HR_JSON_NONE UINT32_MAX
#define HR_JSON_DEFAULT_MAX_DEPTH 512

typedef enum hr_json_type {
    HR_JSON_NULL,
    HR_JSON_FALSE,
    HR_JSON_TRUE,
    HR_JSON_NUMBER,
    HR_JSON_STRING,
    HR_JSON_ARRAY,
    HR_JSON_OBJECT,
} hr_json_type;

HR_API hr_status hr_json_new(hr_json **out);
HR_API void hr_json_free(hr_json *doc);
/* Nesting deeper than this fails with HR_EDEPTH (default 512). */
HR_API void hr_json_set_max_depth(hr_json *doc, unsigned depth);
HR_API hr_status hr_json_parse(hr_json *doc, const char *buf, size_t len);
/* "line L, column C (byte B): what went wrong", for the last failed parse. */
HR_API const char *hr_json_errmsg(const hr_json *doc);
HR_API size_t hr_json_error_offset(const hr_json *doc);
/* The same message without its position: "unterminated string", ... */
HR_API const char *hr_json_error_reason(const hr_json *doc);

HR_API hr_json_node hr_json_root(const hr_json *doc);
HR_API hr_json_type hr_json_type_of(const hr_json *doc, hr_json_node node);
/* Byte span [start, end) of the value, quotes and brackets included. */
HR_API size_t hr_json_start(const hr_json *doc, hr_json_node node);
HR_API size_t hr_json_end(const hr_json *doc, hr_json_node node);
/* Elements of an array or members of an object. */
HR_API size_t hr_json_length(const hr_json *doc, hr_json_node node);
/* First element of an array; first key (a string node) of an object. */
HR_API hr_json_node hr_json_first(const hr_json *doc, hr_json_node node);
/* Next element, or next key when node is an object key. */
HR_API hr_json_node hr_json_next(const hr_json *doc, hr_json_node node);
/* The value of an object member, given its key node. */
HR_API hr_json_node hr_json_value(const hr_json *doc, hr_json_node key);
/* The value of the first member named key in an object, or HR_JSON_NONE. */
HR_API hr_json_node hr_json_get(const hr_json *doc, hr_json_node object, const char *key);
/* Whether a string node equals the given UTF-8 text once decoded. */
HR_API int hr_json_string_equals(const hr_json *doc, hr_json_node str, const char *text, size_t len);
/* Appends the decoded bytes of a string node. Lone surrogate escapes decode
 * to U+FFFD. */
HR_API hr_status hr_json_string_decode(const hr_json *doc, hr_json_node str, hr_buf *out);
/* Exact 64-bit integer value of a number node: HR_ERANGE when it has a
 * fraction, an exponent or does not fit. */
HR_API hr_status hr_json_int64(const hr_json *doc, hr_json_node num, int64_t *value);

/* Appends text[0..len) as a JSON string literal, quotes included: '"', '\\'
 * and control characters escaped, everything else (UTF-8) kept as is;
 * ill-formed UTF-8 is written as \ufffd. */
HR_API hr_status hr_json_encode_string(hr_buf *out, const char *text, size_t len);

/* ---- splice edits -------------------------------------------------------- */

/* Records replacements of byte ranges of an original buffer and produces the
 * edited copy; bytes outside the replaced ranges are copied unchanged.
 * The original is borrowed until hr_splice_free(). */
typedef struct hr_splice hr_splice;

HR_API hr_status hr_splice_new(const char *orig, size_t len, hr_splice **out);
HR_API void hr_splice_free(hr_splice *sp);
/* Replace orig[start, end) with bytes[0..n) (copied). Ranges may come in any
 * order but must not overlap (HR_EINVAL); start == end inserts. */
HR_API hr_status hr_splice_replace(hr_splice *sp, size_t start, size_t end, const char *bytes, size_t n);
/* Appends the edited document to out. */
HR_API hr_status hr_splice_apply(hr_splice *sp, hr_buf *out);
HR_API const char *hr_splice_errmsg(const hr_splice *sp);
/* How many edits are recorded, and the i-th in order of start (to show
 * them, as a diff does). The bytes are borrowed from sp. */
HR_API size_t hr_splice_count(const hr_splice *sp);
HR_API hr_status hr_splice_edit(hr_splice *sp, size_t i, size_t *start, size_t *end, const char **bytes, size_t *n);

/* ---- requests ------------------------------------------------------------- */

typedef enum hr_format {
    HR_FORMAT_UNKNOWN,
    HR_FORMAT_ANTHROPIC,        /* POST /v1/messages */
    HR_FORMAT_OPENAI_CHAT,      /* POST /v1/chat/completions */
    HR_FORMAT_OPENAI_RESPONSES, /* POST /v1/responses, ChatGPT Codex /responses */
} hr_format;

HR_API const char *hr_format_name(hr_format format);
/* Parses "anthropic", "openai-chat", "openai-responses" (HR_ENOTFOUND else). */
HR_API hr_status hr_format_parse(const char *name, hr_format *out);
/* The API shape of a parsed request body, from its fields. */
HR_API hr_format hr_request_detect(const hr_json *doc);
/* The request's "model" string, decoded into out (empty when absent). */
HR_API hr_status hr_request_model(const hr_json *doc, hr_buf *out);

/* Token counts of what the model reads in a request: the system prompt
 * (Anthropic system, Responses instructions, Chat system/developer messages),
 * the tool schemas, and each message or input item. Counted text: message
 * text, tool call names and arguments, tool results, reasoning summaries.
 * Images, audio and files count 0. Per-message framing tokens that providers
 * add are not included. */
typedef struct hr_request_counts hr_request_counts;

HR_API hr_status hr_request_count(hr_tokenizer *tok, const hr_json *doc, hr_format format, hr_request_counts **out);
HR_API void hr_request_counts_free(hr_request_counts *counts);
HR_API size_t hr_request_counts_system(const hr_request_counts *counts);
HR_API size_t hr_request_counts_tools(const hr_request_counts *counts);
HR_API size_t hr_request_counts_total(const hr_request_counts *counts);
HR_API size_t hr_request_counts_messages(const hr_request_counts *counts);
/* Message i: its role ("user", "tool", "function_call_output", ...; borrowed
 * from counts) and its tokens. */
HR_API hr_status hr_request_counts_message(const hr_request_counts *counts, size_t i, const char **role,
                                           size_t *tokens);

/* ---- compression ------------------------------------------------------------ */

/* Compresses the context of a request body: old tool results and long older
 * user text, each cut by a compressor chosen for its content (JSON arrays,
 * logs, search results, diffs, text), with a marker "[hr: ...]" wherever
 * something was left out. The system prompt / instructions, tool schemas,
 * the last protect_recent messages, the message the task is read from,
 * roles, ids, tool-call pairing and cache_control are never changed; bytes
 * outside the compressed strings are copied as they are, and a request with
 * nothing to compress comes out byte-identical. Deterministic for the same
 * body and query; compressing the output again changes nothing. */
/* cache: every tool result is compressed the same way in every request that
 * holds it (by itself, the call that produced it and the task before it),
 * so a provider's prompt cache keeps hitting; token: the messages older than
 * protect_recent, tool results and user text, against the latest task. */
typedef enum hr_mode { HR_MODE_CACHE = 0, HR_MODE_TOKEN = 1 } hr_mode;

/* What a proxy sent of each tool result (cache mode), so that a result
 * leaves the same way in every later request: compressed once, when first
 * sent; as it came when compression failed or timed out then, or when it was
 * sent before hr saw the conversation. In memory only, bounded by bytes
 * (least recently used first), safe to share between threads. */
typedef struct hr_sent hr_sent;
#define HR_SENT_MAX_BYTES_DEFAULT ((size_t)64 << 20)
HR_API hr_status hr_sent_new(size_t max_bytes, hr_sent **out); /* 0: the default */
HR_API void hr_sent_free(hr_sent *s);
HR_API size_t hr_sent_count(hr_sent *s); /* tool results remembered */
/* Keeps, in the file at path (created 0600), per result only whether it went
 * as it came or the SHA-256 of what went instead, and reads what it holds:
 * after a restart a result goes again as it went when compressing it gives
 * the same bytes. HR_EIO when the file cannot be read or written. */
HR_API hr_status hr_sent_open_index(hr_sent *s, const char *path);

typedef struct hr_compress_options {
    hr_format format;               /* HR_FORMAT_UNKNOWN: detect from the body */
    hr_mode mode;                   /* HR_MODE_CACHE */
    const char *exact_tools;        /* "name, +name, -name": tools whose results are never cut, added to
                                       or removed from the defaults (read_file, Read, Edit, ...); NULL: defaults */
    hr_sent *sent;                  /* cache mode: what was sent before (NULL: none; each result is then
                                       compressed as if first sent) */
    int sent_only;                  /* with sent, failing open: compress nothing, send what was sent
                                       before and the rest as it came, and remember that; nothing is
                                       counted (tokens 0 in the stats), so that it takes milliseconds */
    size_t protect_recent;          /* token mode: last messages / input items left alone (5) */
    size_t min_tokens;              /* min_tokens_to_crush: smaller units stay (500) */
    int lossless_only;              /* re-encode only (compact JSON, tables, grouped search output,
                                       repeated lines counted): nothing is ever dropped */
    const char *query;              /* the task's words; NULL: the task of each unit (cache mode: the user
                                       message before it and its tool call; token mode: the latest) */
    const char *scorer;             /* "auto" (NULL), "lexical" or "kompress"; $HEADROOM_SCORER is
                                       not read here: the programs resolve it and pass it */
    const char *model_dir;          /* the Kompress model folder; NULL or "": $HEADROOM_KOMPRESS_MODEL,
                                       else $HEADROOM_HOME/models/kompress-v2-base. route.yaml is
                                       never read here: hr's programs resolve these three settings
                                       themselves (flag, HEADROOM_*, route.yaml) and pass them */
    const char *kompress_backend;   /* "auto", "cpu", "cpu-fp32", "cpu-bf16", "cuda"; NULL:
                                       $HEADROOM_KOMPRESS_BACKEND, else "auto" */
    size_t kompress_max_concurrent; /* model runs on the GPU at a time, each with its own
                                       memory; 0: 1. Set by the first user of a model folder */
    const char *encoding;           /* NULL: the encoding of the request's model */
    size_t max_bytes;               /* larger bodies are refused (HR_ETOOBIG); 0: 256 MiB */
} hr_compress_options;

#define HR_PROTECT_RECENT_DEFAULT 5
#define HR_MIN_TOKENS_DEFAULT 500
#define HR_COMPRESS_MAX_BYTES_DEFAULT ((size_t)256 << 20)

HR_API void hr_compress_options_init(hr_compress_options *opt);
/* "cache" or "token" into *out; HR_EINVAL for another name. */
HR_API hr_status hr_mode_parse(const char *name, hr_mode *out);

/* A compressor keeps tokenizers, scorer and scratch memory between calls:
 * one per thread. */
typedef struct hr_compressor hr_compressor;

HR_API hr_status hr_compressor_new(hr_compressor **out);
HR_API void hr_compressor_free(hr_compressor *c);

/* Appends the request to send to out. On error nothing is appended, and
 * hr_compressor_errmsg() / hr_compressor_error_offset() tell what and where;
 * callers that fail open then send body as it was. */
HR_API hr_status hr_compress(hr_compressor *c, const hr_compress_options *opt, const char *body, size_t len,
                             hr_buf *out);
/* Stops the hr_compress() running on c, or the next one, from any thread:
 * it returns HR_ECANCELED within milliseconds and appends nothing. The
 * request stays cancelled until hr_compressor_cancel(c, 0). */
HR_API void hr_compressor_cancel(hr_compressor *c, int cancel);
/* The last error, without position: "unterminated string". */
HR_API const char *hr_compressor_errmsg(const hr_compressor *c);
/* Byte offset in the body the last error refers to; SIZE_MAX when none. */
HR_API size_t hr_compressor_error_offset(const hr_compressor *c);

/* What the last successful hr_compress() did. Token counts use the encoding
 * of the request's model; for Claude they are estimates (see hr_model_lookup),
 * already multiplied by the estimate factor. */
typedef struct hr_compress_stats {
    hr_format format;
    const char *encoding;       /* static string */
    const char *scorer;         /* static string: "lexical", "kompress" */
    const char *scorer_backend; /* static string: "cpu", "cuda"; NULL for lexical */
    int is_estimate;
    double estimate_factor;
    size_t tokens_before, tokens_after;
    /* the request after the lossless stage alone: tokens_before - tokens_lossless
     * were saved by re-encoding, tokens_lossless - tokens_after by cutting.
     * Results sent before, whose split is not known again, count as cut; for a
     * JSON result whose strings were cut, the split is estimated from theirs. */
    size_t tokens_lossless;
    size_t units;      /* units changed; see hr_compressor_unit() */
    double elapsed_ms; /* time spent in hr_compress(), counting included */
} hr_compress_stats;

/* One compressed unit: where it is in the request (e.g.
 * "messages[3].content[0].content"), the compressor that cut it ("json",
 * "log", "search", "diff", "text"), its tokens before, after the lossless
 * stage, and after. Strings are
 * valid until the next hr_compress() on c. */
typedef struct hr_compress_unit {
    const char *where;
    const char *kind;
    size_t message;
    size_t tokens_before, tokens_after;
    size_t tokens_lossless; /* after re-encoding, before any cut */
} hr_compress_unit;

HR_API void hr_compressor_stats(const hr_compressor *c, hr_compress_stats *out);
/* What the scorer choice had to say when it was last made, once: "the
 * Kompress model is unusable (...); using the lexical scorer", "no CUDA
 * device ...; using the CPU". NULL when nothing; the next call returns NULL
 * until the choice is made again. */
HR_API const char *hr_compressor_scorer_note(hr_compressor *c);
HR_API hr_status hr_compressor_unit(const hr_compressor *c, size_t i, hr_compress_unit *out);

/* ---- settings file ----------------------------------------------------------- */

/* route.yaml, the settings file hr-proxy and hr-compress share: a YAML
 * mapping whose scalar values are read, those of nested mappings under
 * dotted keys ("prices.openai.cached"); sequences are left to the programs
 * that own them. */
typedef struct hr_config hr_config;

/* HR_ENOTFOUND when the file does not exist; other errors leave a one-line
 * message "PATH:LINE:COLUMN: problem" in err. */
HR_API hr_status hr_config_load(const char *path, hr_config **out, char *err, size_t err_len);
HR_API void hr_config_free(hr_config *cfg);
/* The value of a key ("observe", "prices.openai.cached"), or NULL. Borrowed from cfg. */
HR_API const char *hr_config_get(const hr_config *cfg, const char *key);

/* Where a setting comes from, as every hr program decides it: the flag's
 * value when given, else the environment variable's when set and not empty,
 * else the file's key, else NULL (the default). *from gets 'f', 'e', 'c' or
 * 'd' for flag, environment, config file, default. */
HR_API const char *hr_setting(const char *flag_value, const char *env_name, const hr_config *cfg, const char *key,
                              char *from);

/* The same resolution for the settings hr's programs share, read and
 * checked as they read them, so that a tool of its own means by log_dir the
 * folder hr-proxy writes to. A handle holds the headroom home (given, else
 * $HEADROOM_HOME, else ~/.headroom) and the route.yaml read from it (or the
 * one given). */
typedef struct hr_settings hr_settings;

/* Opens the settings of home (NULL: the default) with config_path (NULL:
 * home/route.yaml). A missing default file is no error, a missing given one
 * HR_ENOTFOUND; errors leave a one-line message in err. *out is NULL on
 * error. */
HR_API hr_status hr_settings_open(const char *home, const char *config_path, hr_settings **out, char *err,
                                  size_t err_len);
HR_API void hr_settings_close(hr_settings *s);
/* The route.yaml read, or NULL when there is none. Borrowed from s. */
HR_API const char *hr_settings_file(const hr_settings *s);
/* Setting name (its route.yaml key: "log_dir", "listen", "mode", ...):
 * flag_value when not NULL, else its HEADROOM_* variable when set and not
 * empty, else route.yaml's key, else the default (log_dir's is
 * HOME/logs), checked as hr-proxy checks it. *value is borrowed from s,
 * valid until hr_settings_close() or the environment changes. *from (may be
 * NULL) gets 'f', 'e', 'c' or 'd', also on error. HR_ENOTFOUND for an
 * unknown name; HR_EINVAL for a value refused, with err naming where it
 * came from and why ("HEADROOM_LISTEN: 'x' is not a listen address
 * (HOST:PORT)"). */
HR_API hr_status hr_settings_get(const hr_settings *s, const char *name, const char *flag_value, const char **value,
                                 char *from, char *err, size_t err_len);
/* Appends the URL a client on this machine reaches a listen address
 * ("HOST:PORT", "[IPV6]:PORT") at: "http://HOST:PORT", a wildcard address
 * as loopback. HR_EINVAL when listen is no listen address. */
HR_API hr_status hr_listen_url(const char *listen, hr_buf *out);

/* ---- the request log ----------------------------------------------------------- */

/* hr-proxy appends one JSON line per exchange to LOG_DIR/requests.jsonl
 * (the log_dir setting); past its size limit the file becomes
 * requests.jsonl.1, the older copies move up, up to .5. */
#define HR_LOG_FILE "requests.jsonl"

/* One exchange as the reader hands it out. The library allocates it: fields
 * may be added at the end in a later minor version. Strings are never NULL
 * except scorer and scorer_backend (no scorer ran), and are valid until the
 * callback returns: copy what is kept. */
typedef struct hr_log_record {
    const char *ts;  /* RFC 3339, UTC, milliseconds */
    long long ts_ms; /* the same, in milliseconds since the epoch */
    const char *id, *method, *provider, *upstream, *path, *model;
    int stream, status; /* status: the HTTP status answered */
    size_t tokens_before, tokens_after;
    size_t tokens_lossless; /* after re-encoding alone; the rest of the saving was cut */
    size_t tokens_saved;    /* before - after, 0 when the request grew */
    const char *scorer, *scorer_backend;
    double compress_ms, ttfb_ms, total_ms;
    const char *error;                  /* "" when none */
    int observe;                        /* the body went as it came; tokens_after is what compression would give */
    int has_usage;                      /* the provider reported the tokens it billed */
    double billed;                      /* input-token equivalents of what the provider billed */
    double billed_before, billed_after; /* uncompressed and compressed; one of them estimated */
    int has_cost;
    double cost_usd;
} hr_log_record;

/* What a reading of the log found. */
typedef struct hr_log_scan {
    int files;           /* log files found */
    size_t records;      /* well-formed records read */
    size_t bad_lines;    /* lines that are not a record: foreign, or torn by a crash */
    long long newest_ms; /* of any record; 0 when none */
} hr_log_scan;

/* Return nonzero to stop the reading. */
typedef int (*hr_log_fn)(const hr_log_record *r, void *ctx);

/* Calls fn for every record of the log in folder dir with ts_ms >= since_ms,
 * the current file first, then its rotated copies, and fills *scan (may be
 * NULL). A folder without a log is no error (scan->files is 0). HR_EIO with
 * "DIR: reason" in err when a file that exists cannot be read. */
HR_API hr_status hr_log_each(const char *dir, long long since_ms, hr_log_fn fn, void *ctx, hr_log_scan *scan, char *err,
                             size_t err_len);

/* ---- Hermes Agent ------------------------------------------------------------- */

/* Whether Hermes Agent's traffic goes through hr-proxy, as its files and the
 * headroom-route plugin tell: a Hermes home (auth.json, config.yaml,
 * plugins/headroom-route/), read as Hermes reads it. hr routes three of
 * Hermes's providers: "anthropic", "openai-codex" and "openai-api". */
typedef struct hr_hermes hr_hermes;

/* The plugin hr installs in Hermes; its files are named after it. */
#define HR_HERMES_PLUGIN "headroom-route"
/* Where the plugin records each API call of Hermes's loop, in the home
 * (hr_hermes_calls). */
#define HR_HERMES_CALLS_FILE HR_HERMES_PLUGIN ".calls.jsonl"
/* Where the proxy is when nothing says otherwise. */
#define HR_HERMES_DEFAULT_PROXY_URL "http://127.0.0.1:8788"

/* Appends Hermes's home as Hermes finds it: $HERMES_HOME, else ~/.hermes.
 * HR_ENOTFOUND when neither HERMES_HOME nor HOME is set. */
HR_API hr_status hr_hermes_default_dir(hr_buf *out);

/* Reads and parses dir's auth.json and config.yaml, without taking Hermes's
 * lock: a snapshot. Errors leave a one-line "FILE[:LINE:COL]: problem" in
 * err; *out is NULL then. */
HR_API hr_status hr_hermes_open(const char *dir, hr_hermes **out, char *err, size_t err_len);
HR_API void hr_hermes_free(hr_hermes *h);
/* The folder, as given. Borrowed from h. */
HR_API const char *hr_hermes_dir(const hr_hermes *h);
/* The scalar at a dotted path of config.yaml ("model.provider",
 * "plugins.headroom-route.proxy_url") as PyYAML reads it (a key given twice:
 * the last), or NULL when absent or not a scalar. Borrowed from h. */
HR_API const char *hr_hermes_config_get(const hr_hermes *h, const char *path);

/* The providers the home routes: the plugin block's providers list when
 * there is one, else those with credentials or configuration, as static
 * strings into ids[0..cap). *n receives the full count; when it exceeds
 * cap, HR_ERANGE. HR_ENOTFOUND when the block's list names a provider hr
 * does not route, with err saying where ("PATH:LINE:COL: unknown provider
 * 'x' ..."). */
HR_API hr_status hr_hermes_routed(const hr_hermes *h, const char **ids, size_t cap, size_t *n, char *err,
                                  size_t err_len);

/* Whether provider's traffic goes to proxy_url by the files: each pool
 * entry's base_url in auth.json is the proxy (in the form the provider's
 * client expects), and model.base_url too when model.provider is this one
 * and Hermes takes the URL from there. Whether the plugin loads is judged
 * apart (hr_hermes_plugin_loading). HR_ENOTFOUND for a provider hr does
 * not route. */
typedef struct hr_hermes_verdict hr_hermes_verdict;
HR_API hr_status hr_hermes_judge(const hr_hermes *h, const char *provider, const char *proxy_url,
                                 hr_hermes_verdict **out);
HR_API void hr_hermes_verdict_free(hr_hermes_verdict *v);
HR_API int hr_hermes_verdict_via_proxy(const hr_hermes_verdict *v);
/* Why not, one line each ("auth.json credential_pool.anthropic[0] base_url
 * is https://api.anthropic.com"): 0 when via the proxy. Borrowed from v. */
HR_API size_t hr_hermes_verdict_reasons(const hr_hermes_verdict *v);
HR_API const char *hr_hermes_verdict_reason(const hr_hermes_verdict *v, size_t i);

/* Whether both of the plugin's files are in plugins/headroom-route/. */
HR_API int hr_hermes_plugin_installed(const hr_hermes *h);
/* Whether a Hermes started now would load the plugin, by config.yaml
 * (plugins.enabled, plugins.disabled) and HERMES_SAFE_MODE (its
 * environment, then the home's .env): "enabled" with *loads set to 1, or
 * why not with *loads 0. A static string. Installation is not looked at. */
HR_API const char *hr_hermes_plugin_loading(const hr_hermes *h, int *loads);

/* The plugin's report of the last Hermes start that loaded it:
 * HERMES_HOME/headroom-route.state.json. */
typedef struct hr_plugin_state hr_plugin_state;
/* HR_ENOTFOUND when no Hermes has written one; other errors say why in err.
 * *out is NULL on error. */
HR_API hr_status hr_plugin_state_read(const char *hermes_dir, hr_plugin_state **out, char *err, size_t err_len);
HR_API void hr_plugin_state_free(hr_plugin_state *s);
/* A string member: "time", "hermes_version", "proxy_url" (where it routed
 * to), "reason" (why the proxy was unhealthy); NULL when absent. Borrowed
 * from s. */
HR_API const char *hr_plugin_state_string(const hr_plugin_state *s, const char *name);
/* "time" in milliseconds since the epoch; -1 when absent or not a time. */
HR_API long long hr_plugin_state_time_ms(const hr_plugin_state *s);
/* The Hermes process that wrote it; 0 when not said. */
HR_API long long hr_plugin_state_pid(const hr_plugin_state *s);
/* Whether the proxy answered its health check: 1, 0; -1 when not said. */
HR_API int hr_plugin_state_healthy(const hr_plugin_state *s);
/* Whether the plugin patched provider's client; how many patches failed. */
HR_API int hr_plugin_state_patched(const hr_plugin_state *s, const char *provider);
HR_API size_t hr_plugin_state_failed(const hr_plugin_state *s);

/* One API call of Hermes's conversation loop as the plugin records it in
 * HERMES_HOME/headroom-route.calls.jsonl: where it really went. Strings
 * are valid until the callback returns. The library allocates it: fields
 * may be added at the end. */
typedef struct hr_hermes_call {
    const char *time;  /* as recorded */
    long long time_ms; /* the same, in milliseconds since the epoch */
    const char *provider, *base_url;
    long long pid; /* the Hermes process; 0 when not said */
} hr_hermes_call;
typedef int (*hr_hermes_call_fn)(const hr_hermes_call *call, void *ctx);

/* Calls fn for each call recorded in hermes_dir, newest first (those in the
 * file's last MiB), until it returns nonzero. Lines that are not a call (one
 * being written, say) are counted in *not_calls (may be NULL).
 * HR_ENOTFOUND when no call was ever recorded; HR_EIO with "PATH: reason"
 * in err when the file cannot be read. */
HR_API hr_status hr_hermes_calls(const char *hermes_dir, hr_hermes_call_fn fn, void *ctx, size_t *not_calls, char *err,
                                 size_t err_len);

/* The host of an http:// or https:// URL, *len bytes at *host (an IPv6
 * literal without its brackets, case as written), and *port: the one given,
 * the scheme's when none is, -1 when what follows the host is not a port
 * from 1 to 65535. HR_EINVAL when url is not http(s) with a host. */
HR_API hr_status hr_url_host_port(const char *url, const char **host, size_t *len, int *port);

/* ---- pointing Hermes at the proxy ----------------------------------------------- */

/* What hr-patch-auth does, for a tool of its own: rewrite a Hermes home's
 * auth.json and config.yaml and install the headroom-route plugin so that
 * the routed providers' traffic goes through the proxy, with a backup in
 * HOME/backups/hr-patch-auth/ (hr_patch_apply); undo that (hr_patch_rollback);
 * say where each provider's traffic goes (hr_patch_status). The files are
 * edited by byte span, under Hermes's lock on auth.lock, written by temp
 * file, fsync and rename; a failure puts back what was written, so that it
 * changes nothing. The report is hr-patch-auth's, text or JSON, handed to a
 * callback as it is made. */

/* What the text handed to hr_patch_write_fn is. */
typedef enum hr_patch_stream {
    HR_PATCH_REPORT,  /* the report: hr-patch-auth's standard output */
    HR_PATCH_NOTE,    /* "  what" lines beside a JSON report: its standard error */
    HR_PATCH_MESSAGE, /* one line for standard error, without a newline: an error ("FILE:LINE:COL:
                         problem"), or what a dry run would also do */
} hr_patch_stream;

/* text[0..len) is borrowed for the call. A report comes in pieces: their
 * concatenation is the report. */
typedef void (*hr_patch_write_fn)(void *ctx, hr_patch_stream stream, const char *text, size_t len);

typedef struct hr_patch_options {
    const char *hermes_home;   /* the home (required; see hr_hermes_default_dir) */
    const char *proxy_url;     /* http(s), without a trailing slash; NULL: apply uses
                                  HR_HERMES_DEFAULT_PROXY_URL, status the plugin block's */
    const char *providers;     /* "anthropic, openai-api"; NULL: those with credentials or
                                  configuration (status: the plugin block's list first) */
    const char *plugin_source; /* apply, dry run: the folder of the plugin to install (required) */
    const char *backup_id;     /* rollback: NULL for the newest not rolled back */
    int keep_plugin;           /* rollback: leave the plugin's folder */
    int json;                  /* the report as one JSON object */
    hr_patch_write_fn write;   /* where everything goes (required) */
    void *ctx;                 /* passed to write */
} hr_patch_options;

HR_API void hr_patch_options_init(hr_patch_options *opt);

/* The plugin that came with the running program, installed under bindir
 * and datadir (make install's BINDIR and DATADIR): DATADIR/hr/headroom-route
 * found relative to the program's folder as datadir is to bindir, so that a
 * tree installed under any prefix, or moved, finds its own; for a program
 * run from hr's build tree (build/VARIANT/), the tree's; else datadir's,
 * which is then appended though it is not there. */
HR_API hr_status hr_patch_plugin_source(const char *bindir, const char *datadir, hr_buf *out);

/* Each returns HR_OK; HR_EINVAL for an option missing or not one (nothing
 * written to write); HR_EIO when the mode failed, its error handed to write
 * as HR_PATCH_MESSAGE: a failed apply or rollback has changed nothing. */
HR_API hr_status hr_patch_apply(const hr_patch_options *opt);
/* The unified diff hr_patch_apply would make (credentials redacted), and
 * the plugin it would install; writes nothing. */
HR_API hr_status hr_patch_dry_run(const hr_patch_options *opt);
HR_API hr_status hr_patch_rollback(const hr_patch_options *opt);
/* *all_routed: 1 when every routed provider goes through the proxy. */
HR_API hr_status hr_patch_status(const hr_patch_options *opt, int *all_routed);

#ifdef __cplusplus
}
#endif

#endif
