/* Hermes Agent's files as hr reads and edits them: the providers hr can
 * route, auth.json's credential pool and config.yaml's nodes, located by
 * byte span so that edits are splices. Internal to libhr and its programs. */
#ifndef HR_HERMES_H
#define HR_HERMES_H

#include "util/file_io.h"
#include "hr.h"

#include <stddef.h>

/* ---- providers ------------------------------------------------------------ */

struct hr__provider {
    const char *id;           /* Hermes's provider id */
    const char *official_url; /* the base URL Hermes gives it by default */
    const char *proxy_suffix; /* appended to the proxy URL: its client's form */
    int takes_model_url;      /* Hermes uses model.base_url when model.provider is this one */
};

/* anthropic, openai-codex, openai-api: the providers hr-proxy forwards. */
extern const struct hr__provider hr__providers[];
extern const size_t hr__n_providers;
const struct hr__provider *hr__provider_find(const char *id);

/* The proxy URL in the form p's client expects (proxy without a trailing
 * slash, then p's suffix), appended to out. */
hr_status hr__provider_proxy_url(const struct hr__provider *p, const char *proxy, hr_buf *out);

typedef enum hr__url_kind {
    HR_URL_NONE,     /* absent or empty: Hermes uses the official URL */
    HR_URL_PROXY,    /* the proxy, in p's form */
    HR_URL_OFFICIAL, /* p's official host */
    HR_URL_LOOPBACK, /* another local endpoint: an earlier proxy, most likely */
    HR_URL_CUSTOM,   /* the user's own gateway */
} hr__url_kind;

hr__url_kind hr__url_classify(const struct hr__provider *p, const char *proxy, const char *url);
const char *hr__url_kind_name(hr__url_kind kind);
/* Whether the proxy may take this URL's place: absent, official or loopback. */
int hr__url_replaceable(hr__url_kind kind);
/* Whether s is an http:// or https:// URL with a host. */
int hr__url_is_http(const char *s);
/* The host of an http(s) URL, *len bytes at the returned pointer (an IPv6
 * literal without its brackets), and *port: the one given, the scheme's
 * when none is, -1 when what follows the host is not a port from 1 to
 * 65535. NULL when url is not http:// or https:// with a host. */
const char *hr__url_host_port(const char *url, size_t *len, int *port);

/* ---- auth.json: the credential pool ------------------------------------------ */

struct hr__pool_entry {
    size_t index;         /* position in credential_pool.<provider> */
    char *id;             /* "" when the entry has none */
    char *auth_type;      /* "" when absent */
    char *base_url;       /* NULL when the member is absent */
    hr_json_node object;  /* the entry */
    hr_json_node url_key; /* the base_url key, HR_JSON_NONE when absent */
};

/* The entries of credential_pool.<provider>; *n = 0 when there are none.
 * HR_ESYNTAX when the file's shape is not Hermes's (message in err). */
hr_status hr__pool_entries(const hr_json *doc, const char *provider, struct hr__pool_entry **out, size_t *n, char *err,
                           size_t err_len);
void hr__pool_entries_free(struct hr__pool_entry *v, size_t n);

/* Records the splice that gives entry e the base_url url: its value replaced,
 * or a member added after the last one, indented like its neighbours. */
hr_status hr__pool_set_url(const hr_json *doc, const struct hr__pool_entry *e, const char *url, hr_splice *sp);
/* Records the splice that removes e's base_url member. */
hr_status hr__pool_remove_url(const hr_json *doc, const struct hr__pool_entry *e, hr_splice *sp);

/* auth.json as Hermes reads it (Python's json): HR_ESYNTAX with
 * "LINE:COL: problem" in err when an object holds a key twice, which
 * Python's json resolves to the last one and hr's reader to the first. */
hr_status hr__json_check_unique_keys(const hr_json *doc, char *err, size_t err_len);

/* ---- config.yaml: nodes located by byte span ------------------------------- */

typedef enum hr__ynode_kind {
    HR_Y_SCALAR,
    HR_Y_BLOCK_SEQ,
    HR_Y_FLOW_SEQ,
    HR_Y_BLOCK_MAP,
    HR_Y_FLOW_MAP,
    HR_Y_OTHER, /* an alias */
} hr__ynode_kind;

/* A node of config.yaml down to a few levels, with byte offsets into the
 * text. Mapping values have path "a.b"; sequence items "a.b[]". A key that
 * a mapping holds twice is read as PyYAML reads it: the last one counts;
 * the earlier ones and everything under them are shadowed, which
 * hr__yaml_find and hr__yaml_find_next skip. */
struct hr__ynode {
    char *path;
    hr__ynode_kind kind;
    int style;           /* scalars: libyaml's style (1 plain, 2 single, 3 double...) */
    char *value;         /* scalars: the decoded value */
    size_t key_start;    /* the key's first byte (mapping values; else = start) */
    size_t start, end;   /* the value: first byte, one past its last */
    size_t last;         /* one past the last byte of the value's subtree */
    size_t line, column; /* of the key (or item), 0-based; columns count characters */
    size_t parent;       /* index in hr__yaml.v of the enclosing node; SIZE_MAX for the root */
    size_t subtree_end;  /* index one past the last node recorded under this one */
    int shadowed;        /* a later node has the same key in the same mapping, or is above one */
};

struct hr__yaml {
    const char *text;
    size_t len;
    struct hr__ynode *v;
    size_t n, cap;
    int root_is_map; /* an empty file has no root */
};

/* Locates the nodes of text (borrowed). A UTF-8 byte order mark is
 * skipped as PyYAML skips it; UTF-16 text is refused (Hermes reads
 * config.yaml as UTF-8). Errors: HR_ESYNTAX with "LINE:COLUMN: problem" in
 * err. */
hr_status hr__yaml_scan(struct hr__yaml *y, const char *text, size_t len, char *err, size_t err_len);
void hr__yaml_free(struct hr__yaml *y);
/* The first node with this path, or NULL; the next one after prev. */
const struct hr__ynode *hr__yaml_find(const struct hr__yaml *y, const char *path);
const struct hr__ynode *hr__yaml_find_next(const struct hr__yaml *y, const struct hr__ynode *prev, const char *path);
/* A shadowed node with n's key in n's mapping (the last one before n), or
 * NULL: what PyYAML would read once n were removed. */
const struct hr__ynode *hr__yaml_shadowed_twin(const struct hr__yaml *y, const struct hr__ynode *n);
/* Offsets of the start of the line holding byte at (after a byte order
 * mark on the first line), and one past its end (its newline included). */
size_t hr__line_start(const char *text, size_t at);
size_t hr__line_end(const char *text, size_t len, size_t at);

/* ---- the Hermes home: both files, read and parsed -------------------------- */

#define HR_MAX_ROUTED 3

struct hr__home {
    char *dir, *auth_path, *config_path, *lock_path;
    /* where the files are written: the path itself, or, for a symbolic link
     * (a dotfile manager's), its target, so that the link stays */
    char *auth_target, *config_target;
    hr_buf auth, config;
    unsigned auth_mode, config_mode;
    hr_json *auth_doc;
    struct hr__yaml yaml;
    int lock_fd;
};

/* Reads and parses dir's auth.json and config.yaml; with lock, first takes
 * Hermes's exclusive flock on auth.lock (waiting up to 10 s), held until
 * hr__home_free. Only regular files are read (a FIFO is refused, not
 * waited on); auth.json is refused when it starts with a byte order mark or
 * holds a key twice, as Hermes would not read it as hr does. Errors: a
 * one-line "FILE[:LINE:COL]: problem" in err. Call hr__home_free whatever
 * it returns. */
hr_status hr__home_load(struct hr__home *h, const char *dir, int lock, char *err, size_t err_len);
/* Reads and parses both files again (after they were written), the lock
 * kept. */
hr_status hr__home_reread(struct hr__home *h, char *err, size_t err_len);
/* Parses h->auth and h->config again (after the buffers were replaced). */
hr_status hr__home_parse(struct hr__home *h, char *err, size_t err_len);
void hr__home_free(struct hr__home *h);
/* The active provider: config.yaml model.provider, else auth.json's
 * active_provider; NULL when neither says. */
char *hr__home_active_provider(const struct hr__home *h);
/* config.yaml's model.provider alone; NULL when absent or empty. */
char *hr__home_model_provider(const struct hr__home *h);
/* The proxy URL the plugin block names, else HR_HERMES_DEFAULT_PROXY_URL. */
char *hr__home_proxy_url(const struct hr__home *h);
/* Whether both of the plugin's files are in plugins/headroom-route/. */
int hr__home_plugin_present(const struct hr__home *h);

/* ---- the environment Hermes sees: its own, then $HERMES_HOME/.env over it -- */

/* key's value as a Hermes process started now would see it (malloc'd), or
 * NULL; *from_dotenv (may be NULL) says whether .env set it. */
char *hr__hermes_env(const char *home_dir, const char *key, int *from_dotenv);
/* Hermes's truthy strings: 1, true, yes, on (any case, blanks around). */
int hr__hermes_truthy(const char *value);
/* Whether HERMES_SAFE_MODE is on, which makes Hermes load no plugin. */
int hr__hermes_safe_mode(const char *home_dir, int *from_dotenv);
/* Whether a Hermes started now would load the plugin by config.yaml
 * (plugins.enabled, plugins.disabled) and HERMES_SAFE_MODE: "enabled" with
 * *loads set, or why not (a static string). Installation is not looked at. */
const char *hr__home_plugin_loading(const struct hr__home *h, int *loads);

/* The routed providers: with from_block the plugin block's providers list
 * when there is one, else those with credentials or configuration. */
hr_status hr__home_routed(const struct hr__home *h, int from_block, const struct hr__provider *out[HR_MAX_ROUTED],
                          size_t *n, char *err, size_t err_len);
/* Parses a list such as "anthropic, openai-api" (where names it in errors). */
hr_status hr__routed_parse(const char *list, const char *where, const struct hr__provider *out[HR_MAX_ROUTED],
                           size_t *n, char *err, size_t err_len);
int hr__routed_has(const struct hr__provider *const *routed, size_t n, const struct hr__provider *p);

/* ---- where a routed provider's traffic goes --------------------------------- */

#define HR_MAX_REASONS 8

struct hr__route_verdict {
    const struct hr__provider *p; /* set by the caller */
    int via_proxy;
    size_t n_entries; /* pool entries seen */
    char reasons[HR_MAX_REASONS][512];
    size_t n_reasons;
};

/* Judges v->p by the files: every pool entry's base_url must be the proxy in
 * p's form, the plugin installed and loading (plugin_ok), and when
 * model_provider (config.yaml's model.provider) is p and p takes
 * model.base_url, that too. Each miss is one reason. */
void hr__route_judge(const struct hr__home *h, const char *proxy, const char *model_provider, int plugin_ok,
                     struct hr__route_verdict *v);

/* The plugin's report of the last Hermes start that loaded it:
 * $HERMES_HOME/headroom-route.state.json. */
struct hr__plugin_state {
    char *time, *hermes_version, *proxy_url, *reason; /* NULL when absent */
    long long pid;                                    /* 0 when absent */
    int healthy;                                      /* 1, 0; -1 when unknown */
    char **patched, **failed;
    size_t n_patched, n_failed;
};

/* HR_ENOTFOUND when there is no state file; other errors say why in err. */
hr_status hr__plugin_state_read(const char *home_dir, struct hr__plugin_state *st, char *err, size_t err_len);
void hr__plugin_state_free(struct hr__plugin_state *st);
int hr__plugin_state_patched(const struct hr__plugin_state *st, const char *provider);

/* ---- config.yaml: the edits hr-patch-auth makes -------------------------- */

/* What apply did to config.yaml, so rollback can undo just that. */
struct hr__config_changes {
    int enabled_added;    /* headroom-route added to plugins.enabled */
    int block_added;      /* the plugins.headroom-route block added */
    int base_url_set;     /* model.base_url pointed at the proxy */
    int base_url_removed; /* model.base_url (a proxy URL Hermes must not see there) removed */
    char *base_url_old;   /* its text before (raw bytes, quotes kept), NULL when absent */
    int disabled_removed; /* headroom-route taken out of plugins.disabled */
};

struct hr__config_settings {
    const char *proxy_url; /* as given to the plugin */
    const char *providers; /* "a, b, c" */
    const char *model_url; /* model.base_url to set, NULL to leave it */
    int drop_model_url;    /* with no model_url: remove model.base_url */
};

/* Records the splices that enable the plugin (taking it out of
 * plugins.disabled, which wins in Hermes), add its block and set or drop
 * model.base_url; fills ch with what they are. Nothing is recorded for what
 * is already so. HR_EINVAL with err set when a node has a shape hr cannot
 * edit without a rewrite (a flow mapping for plugins, say). */
hr_status hr__config_plan_apply(const struct hr__yaml *y, const struct hr__config_settings *s, hr_splice *sp,
                                struct hr__config_changes *ch, char *err, size_t err_len);
/* Records the splices that undo ch in the file as it is now: the plugin
 * leaves plugins.enabled (and goes back in plugins.disabled), its block goes
 * if apply added it, and model.base_url gets its old text back if it still
 * holds proxy_model_url (or is still absent, after a removal). */
hr_status hr__config_plan_rollback(const struct hr__yaml *y, const struct hr__config_changes *ch,
                                   const char *proxy_model_url, hr_splice *sp);
/* Whether Hermes would load the plugin by config.yaml: plugins.enabled
 * names it and plugins.disabled, which wins, does not. */
int hr__config_plugin_enabled(const struct hr__yaml *y);
/* Whether plugins.disabled names the plugin. */
int hr__config_plugin_disabled(const struct hr__yaml *y);

/* ---- unified diff ---------------------------------------------------------- */

/* Appends a unified diff (3 lines of context) between orig and the result
 * of the splices in sp, labelled a/label and b/label. With redact, string
 * values of members whose names hold "token", "key" or "secret" print as
 * "<redacted>", so a diff of auth.json shows no credentials. */
hr_status hr__udiff(const char *orig, size_t len, hr_splice *sp, const char *label, int redact, hr_buf *out);

#endif
