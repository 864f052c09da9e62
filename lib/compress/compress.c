/* hr_compress(): parse the request, find its units, route each to a
 * compressor, splice the smaller strings back, count before and after. */
#include "compress/compress_internal.h"
#include "json/json_internal.h"
#include "kompress/kompress.h"
#include "util/grow.h"
#include "tokenizer/tokenizer_internal.h"

#include <math.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define SCORER_RETRY_MS 60000.0
/* The longest run of one pre-split piece merged at once when counting
 * (hr__tokenizer_bound): real text has none near it; a megabytes-long
 * "word" costs one window's scratch memory instead of 30 bytes per byte. */
#define PIECE_WINDOW ((size_t)256 << 10)
/* Scratch memory kept between requests; a larger request's goes back. */
#define KEEP_SCRATCH ((size_t)4 << 20)

struct done_unit {
    char where[160];
    const char *kind;
    size_t message, before, lossless, after;
};

struct hr_compressor {
    hr_json *doc, *scratch_doc, *envelope_doc;
    hr_tokenizer *toks[2]; /* cl100k_base, o200k_base, made on first use */
    struct hr_scorer *scorer;
    hr_buf text, crushed, encoded, query;
    hr_buf member, member_out, member_enc; /* one string of an envelope */
    hr_buf lossy;                          /* what a lossy stage kept, before re-encoding */
    hr_buf envelope;                       /* an envelope with its strings compressed */
    hr_buf lossless_copy;                  /* a unit's lossless form, while it is cut */
    size_t unit_lossless;                  /* tokens of the unit after the lossless stage */
    size_t crushed_tokens;                 /* of c->crushed, SIZE_MAX until counted */
    hr_buf sent_bytes;                     /* what was sent of a unit before */
    size_t first_new;                      /* cache mode: the first message after the model's last turn */
    struct hr_unit_list units, results;
    struct hr_known_count *known;
    size_t cap_known;
    struct done_unit *done;
    size_t n_done, cap_done;
    hr_compress_stats stats;
    const char *doc_text;                 /* the request being compressed (borrowed) */
    char scorer_key[2200];                /* what the scorer was made for */
    char failed_key[2200];                /* what a scorer could not be made for, */
    double failed_at;                     /* when, */
    char failed_msg[HR_SCORER_ERR + 100]; /* and why */
    char scorer_note[HR_SCORER_ERR + 100];
    int note_unread;
    char errmsg[HR_SCORER_ERR + 100];
    size_t err_offset;
    atomic_int cancel; /* hr_compressor_cancel(), from any thread */
};

void hr_compress_options_init(hr_compress_options *opt)
{
    memset(opt, 0, sizeof *opt);
    opt->protect_recent = HR_PROTECT_RECENT_DEFAULT;
    opt->min_tokens = HR_MIN_TOKENS_DEFAULT;
    opt->max_bytes = HR_COMPRESS_MAX_BYTES_DEFAULT;
}

hr_status hr_mode_parse(const char *name, hr_mode *out)
{
    if (!name || !out) return HR_EINVAL;
    if (!strcmp(name, "cache")) *out = HR_MODE_CACHE;
    else if (!strcmp(name, "token")) *out = HR_MODE_TOKEN;
    else return HR_EINVAL;
    return HR_OK;
}

hr_status hr_compressor_new(hr_compressor **out)
{
    if (!out) return HR_EINVAL;
    hr_compressor *c = calloc(1, sizeof *c);
    if (!c || hr_json_new(&c->doc) || hr_json_new(&c->scratch_doc) || hr_json_new(&c->envelope_doc)) {
        hr_compressor_free(c);
        return HR_ENOMEM;
    }
    *out = c;
    return HR_OK;
}

void hr_compressor_free(hr_compressor *c)
{
    if (!c) return;
    hr_json_free(c->doc);
    hr_json_free(c->scratch_doc);
    hr_json_free(c->envelope_doc);
    for (int i = 0; i < 2; i++) hr_tokenizer_free(c->toks[i]);
    if (c->scorer) c->scorer->destroy(c->scorer);
    hr_buf_free(&c->text);
    hr_buf_free(&c->crushed);
    hr_buf_free(&c->encoded);
    hr_buf_free(&c->query);
    hr_buf_free(&c->member);
    hr_buf_free(&c->member_out);
    hr_buf_free(&c->member_enc);
    hr_buf_free(&c->sent_bytes);
    hr_buf_free(&c->lossy);
    hr_buf_free(&c->envelope);
    hr_buf_free(&c->lossless_copy);
    free(c->units.v);
    free(c->results.v);
    free(c->known);
    free(c->done);
    free(c);
}

void hr_compressor_cancel(hr_compressor *c, int cancel)
{
    if (c) atomic_store(&c->cancel, cancel != 0);
}

static int cancelled(hr_compressor *c)
{
    return atomic_load_explicit(&c->cancel, memory_order_relaxed) != 0;
}

/* After a request of many megabytes: what it grew goes back to the system,
 * so that one such request does not keep a long-running process large. */
static void trim_scratch(hr_compressor *c)
{
    hr_buf *bufs[] = {&c->text,       &c->crushed, &c->encoded,  &c->query,         &c->member,    &c->member_out,
                      &c->member_enc, &c->lossy,   &c->envelope, &c->lossless_copy, &c->sent_bytes};
    for (size_t i = 0; i < sizeof bufs / sizeof bufs[0]; i++)
        if (bufs[i]->cap > KEEP_SCRATCH) hr_buf_free(bufs[i]);
    hr_json *docs[] = {c->doc, c->scratch_doc, c->envelope_doc};
    for (size_t i = 0; i < sizeof docs / sizeof docs[0]; i++) hr__json_trim(docs[i], KEEP_SCRATCH);
    for (int i = 0; i < 2; i++)
        if (c->toks[i]) hr__tokenizer_trim(c->toks[i], KEEP_SCRATCH);
}

const char *hr_compressor_errmsg(const hr_compressor *c)
{
    return c ? c->errmsg : "";
}

size_t hr_compressor_error_offset(const hr_compressor *c)
{
    return c ? c->err_offset : SIZE_MAX;
}

void hr_compressor_stats(const hr_compressor *c, hr_compress_stats *out)
{
    if (c && out) *out = c->stats;
}

hr_status hr_compressor_unit(const hr_compressor *c, size_t i, hr_compress_unit *out)
{
    if (!c || !out || i >= c->n_done) return HR_EINVAL;
    const struct done_unit *u = &c->done[i];
    *out = (hr_compress_unit){u->where, u->kind, u->message, u->before, u->after, u->lossless};
    return HR_OK;
}

__attribute__((format(printf, 4, 5))) static hr_status fail(hr_compressor *c, hr_status st, size_t offset,
                                                            const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(c->errmsg, sizeof c->errmsg, fmt, ap);
    va_end(ap);
    c->err_offset = offset;
    return st;
}

static double now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

/* ---- setting up: shape, tokenizer, scorer, task ------------------------------- */

static hr_status pick_tokenizer(hr_compressor *c, const hr_compress_options *opt, hr_tokenizer **tok)
{
    hr_model_encoding me = {"o200k_base", 1.0, 0};
    hr_buf model = HR_BUF_INIT;
    if (opt->encoding) {
        me.encoding = opt->encoding;
    } else if (hr_request_model(c->doc, &model) == HR_OK && model.len) {
        hr_model_encoding found;
        if (hr_model_lookup(model.data, &found) == HR_OK) me = found;
    }
    hr_buf_free(&model);
    int slot = !strcmp(me.encoding, "o200k_base");
    if (!slot && strcmp(me.encoding, "cl100k_base"))
        return fail(c, HR_ENOTFOUND, SIZE_MAX, "unknown encoding '%s' (known: cl100k_base, o200k_base)", me.encoding);
    if (!c->toks[slot]) {
        hr_status st = hr_tokenizer_new(me.encoding, &c->toks[slot]);
        if (st) return fail(c, st, SIZE_MAX, "cannot load the %s tokenizer: %s", me.encoding, hr_strerror(st));
    }
    *tok = c->toks[slot];
    hr__tokenizer_bound(*tok, PIECE_WINDOW, &c->cancel);
    c->stats.encoding = hr_tokenizer_encoding(*tok);
    c->stats.is_estimate = me.is_estimate;
    c->stats.estimate_factor = me.is_estimate ? me.estimate_factor : 1.0;
    return HR_OK;
}

static hr_status pick_scorer(hr_compressor *c, const hr_compress_options *opt)
{
    struct hr_scorer_request rq = {opt->scorer, opt->model_dir, opt->kompress_backend, opt->kompress_max_concurrent};
    const char *env_dir = hr__setting_env(HR_S_KOMPRESS_MODEL); /* hr.h: a NULL model_dir means it */
    char key[sizeof c->scorer_key];
    snprintf(key, sizeof key, "%s|%s|%s|%s", rq.name ? rq.name : "", rq.model_dir ? rq.model_dir : "",
             env_dir ? env_dir : "", hr__kompress_backend_wanted(rq.backend));
    if (c->scorer && !strcmp(c->scorer_key, key)) return HR_OK;
    /* a model that would not load is tried again after a minute, not on
     * every request: loading a base model reads 600 MB */
    if (!strcmp(c->failed_key, key) && now_ms() - c->failed_at < SCORER_RETRY_MS)
        return fail(c, HR_EMODEL, SIZE_MAX, "%s", c->failed_msg);
    struct hr_scorer *s = NULL;
    char err[HR_SCORER_ERR];
    hr_status st = hr__scorer_new(&rq, &s, err, sizeof err, c->scorer_note, sizeof c->scorer_note);
    if (st == HR_ENOTFOUND && !s && rq.name && strcmp(rq.name, "kompress"))
        return fail(c, st, SIZE_MAX, "unknown scorer '%s' (known: auto, lexical, kompress)", rq.name);
    if (st == HR_ENOMEM) return fail(c, st, SIZE_MAX, "out of memory starting the scorer");
    if (st) {
        snprintf(c->failed_key, sizeof c->failed_key, "%s", key);
        snprintf(c->failed_msg, sizeof c->failed_msg, "cannot start the kompress scorer: %s", err);
        c->failed_at = now_ms();
        return fail(c, HR_EMODEL, SIZE_MAX, "%s", c->failed_msg);
    }
    c->failed_key[0] = '\0';
    if (c->scorer) c->scorer->destroy(c->scorer);
    c->scorer = s;
    c->note_unread = c->scorer_note[0] != '\0';
    snprintf(c->scorer_key, sizeof c->scorer_key, "%s", key);
    return HR_OK;
}

const char *hr_compressor_scorer_note(hr_compressor *c)
{
    if (!c || !c->note_unread) return NULL;
    c->note_unread = 0;
    return c->scorer_note;
}

static hr_status parse_request(hr_compressor *c, const hr_compress_options *opt, const char *body, size_t len)
{
    size_t max = opt->max_bytes ? opt->max_bytes : HR_COMPRESS_MAX_BYTES_DEFAULT;
    if (len > max)
        return fail(c, HR_ETOOBIG, SIZE_MAX, "request of %zu bytes is over the limit of %zu bytes", len, max);
    if (!len) return fail(c, HR_ETRUNCATED, 0, "empty request");
    hr_status st = hr_json_parse(c->doc, body, len);
    if (st) return fail(c, st, hr_json_error_offset(c->doc), "%s", hr_json_error_reason(c->doc));
    hr_json_node root = hr_json_root(c->doc);
    if (hr_json_type_of(c->doc, root) != HR_JSON_OBJECT)
        return fail(c, HR_ENOTREQUEST, hr_json_start(c->doc, root), "a request must be a JSON object");
    hr_format f = opt->format ? opt->format : hr_request_detect(c->doc);
    if (f == HR_FORMAT_UNKNOWN || hr__message_list(c->doc, f) == HR_JSON_NONE)
        return fail(c, HR_ENOTREQUEST, hr_json_start(c->doc, root), "not a request of a known API shape: no %s",
                    f == HR_FORMAT_OPENAI_RESPONSES ? "\"input\""
                    : f                             ? "\"messages\" array"
                                                    : "\"messages\" or \"input\"");
    c->stats.format = f;
    return HR_OK;
}

/* ---- one piece of text: lossless first, cut only what is still too big -------- */

/* A lossless form of at most this many tokens may go as it is: every value
 * and line stays (still_too_big says when it does). */
#define LOSSLESS_ENOUGH_TOKENS 2000

static hr_status lossless(struct hr_crush_ctx *cx, enum hr_kind kind, const char *t, size_t n, hr_buf *out)
{
    switch (kind) {
    case HR_KIND_JSON: return hr__lossless_json(cx->doc, t, n, out);
    case HR_KIND_SEARCH: return hr__lossless_search(t, n, out);
    case HR_KIND_LOG: return hr__lossless_log(t, n, out);
    case HR_KIND_TEXT:        /* prose and code: every byte may be a value's */
    case HR_KIND_DIFF: break; /* every byte of a diff carries meaning */
    }
    return hr_buf_append(out, t, n);
}

static hr_status lossy(struct hr_crush_ctx *cx, enum hr_kind kind, const char *t, size_t n, hr_buf *out)
{
    switch (kind) {
    case HR_KIND_JSON: return hr__crush_json(cx, t, n, out);
    case HR_KIND_DIFF: return hr__crush_diff(cx, t, n, out);
    case HR_KIND_SEARCH: return hr__crush_search(cx, t, n, out);
    case HR_KIND_LOG: return hr__crush_log(cx, t, n, out);
    case HR_KIND_TEXT: break;
    }
    return hr__crush_text(cx, t, n, out);
}

/* Whether the lossless form L of a unit of `before` tokens is still too
 * big: more than LOSSLESS_ENOUGH_TOKENS; for a log (or text, or a diff),
 * also when it is not half the unit or holds no marker. The rule must
 * decide the same on L as on the unit, so that compressing again changes
 * nothing: JSON and search output said losslessly are their own lossless
 * form and only their size decides; a log's form without a marker is the
 * log itself, to be cut, and one with a marker is never compressed again. */
static int still_too_big(enum hr_kind kind, const char *l, size_t len, size_t before, size_t lossless_tokens)
{
    if (lossless_tokens > LOSSLESS_ENOUGH_TOKENS) return 1;
    if (kind == HR_KIND_JSON || kind == HR_KIND_SEARCH) return 0;
    return lossless_tokens * 2 > before || !hr__has_marker(l, len);
}

/* Appends t[0..n) compressed as kind to out: said losslessly, and when
 * that is still too big (and cutting is allowed), cut by the lossy stage
 * and what it kept said losslessly. *lossless_tokens: the lossless form's
 * tokens, *out_tokens those of what was appended; t_tokens: the tokens
 * of t, SIZE_MAX when not known. A cut that comes out no shorter than the lossless form (its
 * markers cost what they stand for) gives way to it.
 * An error other than HR_ENOMEM leaves out as it was. */
static hr_status crush(hr_compressor *c, struct hr_crush_ctx *cx, hr_tokenizer *tok, const hr_compress_options *opt,
                       enum hr_kind kind, const char *t, size_t n, size_t t_tokens, hr_buf *out,
                       size_t *lossless_tokens, size_t *out_tokens)
{
    size_t mark = out->len;
    hr_status st = lossless(cx, kind, t, n, out);
    *lossless_tokens = t_tokens;
    if (!st && (t_tokens == SIZE_MAX || out->len - mark != n || memcmp(out->data + mark, t, n)))
        st = hr_tokenizer_count(tok, out->data + mark, out->len - mark, 0, lossless_tokens);
    *out_tokens = *lossless_tokens;
    if (st || opt->lossless_only ||
        !still_too_big(kind, out->data + mark, out->len - mark, cx->tokens, *lossless_tokens))
        return st;
    hr_buf *whole = &c->lossless_copy;
    whole->len = 0;
    if ((st = hr_buf_append(whole, out->data + mark, out->len - mark))) return st;
    out->len = mark;
    if (kind == HR_KIND_JSON) {
        /* items are weighed as written: aim the budget at what is written;
         * what the JSON stage keeps it writes losslessly itself */
        double ratio = (double)cx->tokens / (double)(*lossless_tokens ? *lossless_tokens : 1);
        cx->budget = (size_t)((double)hr__budget(cx->tokens) * (ratio > 1.0 ? ratio : 1.0));
        st = lossy(cx, kind, t, n, out);
        cx->budget = 0;
    } else {
        c->lossy.len = 0;
        st = lossy(cx, kind, t, n, &c->lossy);
        if (!st) st = lossless(cx, kind, c->lossy.data ? c->lossy.data : "", c->lossy.len, out);
    }
    if (!st) st = hr_tokenizer_count(tok, out->data + mark, out->len - mark, 0, out_tokens);
    if (st == HR_ENOMEM || (!st && *out_tokens < *lossless_tokens)) return st;
    /* the markers cost what they stand for, or the cut failed: the lossless
     * form goes */
    out->len = mark;
    *out_tokens = *lossless_tokens;
    return hr_buf_append(out, whole->data, whole->len);
}

/* ---- envelopes: JSON tool results whose strings carry the bulk ------------------ */

#define ENVELOPE_DEPTH 4

struct envelope {
    hr_compressor *c;
    struct hr_crush_ctx *cx;
    hr_tokenizer *tok;
    const hr_compress_options *opt;
    hr_splice *sp;
    const char *kind; /* of the first member that got smaller */
    /* the tokens of the strings compressed, as text, and how many more
     * their lossless forms had than what went: what was cut */
    size_t members_before, members_cut;
};

/* One string of the envelope, compressed by its own kind and spliced back
 * when that makes it smaller. */
static hr_status envelope_string(struct envelope *e, hr_json_node str)
{
    hr_compressor *c = e->c;
    c->member.len = c->member_out.len = c->member_enc.len = 0;
    size_t before = 0, after = 0, member_lossless = 0, known = 0;
    hr_status st = hr_json_string_decode(c->envelope_doc, str, &c->member);
    if (!st && c->member.len) st = hr_tokenizer_count(e->tok, c->member.data, c->member.len, 0, &before);
    if (st || before < e->opt->min_tokens || hr__has_marker(c->member.data, c->member.len)) return st;
    struct hr_crush_ctx cx = *e->cx;
    cx.tokens = before;
    enum hr_kind kind = hr__content_kind(&cx, c->member.data, c->member.len);
    st = crush(c, &cx, e->tok, e->opt, kind, c->member.data, c->member.len, before, &c->member_out, &member_lossless,
               &known);
    if (st == HR_ENOMEM) return st;
    if (st || !c->member_out.len) return HR_OK;
    after = known;
    if (after >= before) return HR_OK;
    if ((st = hr_json_encode_string(&c->member_enc, c->member_out.data, c->member_out.len))) return st;
    if (!e->kind) e->kind = hr__kind_name(kind);
    e->members_before += before;
    if (member_lossless > after) e->members_cut += member_lossless - after;
    return hr_splice_replace(e->sp, hr_json_start(c->envelope_doc, str), hr_json_end(c->envelope_doc, str),
                             c->member_enc.data, c->member_enc.len);
}

static hr_status envelope_walk(struct envelope *e, hr_json_node n, unsigned depth)
{
    const hr_json *d = e->c->envelope_doc;
    hr_json_type t = hr_json_type_of(d, n);
    if (t == HR_JSON_STRING) return envelope_string(e, n);
    if (depth >= ENVELOPE_DEPTH || (t != HR_JSON_OBJECT && t != HR_JSON_ARRAY)) return HR_OK;
    hr_status st = HR_OK;
    for (hr_json_node x = hr_json_first(d, n); x != HR_JSON_NONE && !st; x = hr_json_next(d, x))
        st = envelope_walk(e, t == HR_JSON_OBJECT ? hr_json_value(d, x) : x, depth + 1);
    return st;
}

/* A tool result that is JSON. Its strings of min_tokens or more (the bulk of
 * an envelope: Hermes's {"output": ..., "exit_code": 0}, Codex's {"output":
 * ..., "metadata": ...}, MCP's [{"type": "text", "text": ...}]) are
 * compressed by their own kind (log, search, diff, JSON, text) and put
 * back; then the whole goes through the JSON stages (compact, tables, and
 * items cut only when still too big). *kind stays NULL when c->text is not
 * JSON; *lossless gets the tokens of the result had nothing been cut (its
 * strings' cuts estimated in the envelope's tokens). */
static hr_status crush_json_unit(hr_compressor *c, struct hr_crush_ctx *cx, hr_tokenizer *tok,
                                 const hr_compress_options *opt, const char **kind, size_t *lossless_tokens)
{
    const char *t = c->text.data;
    size_t n = c->text.len, i = 0, outer = 0;
    *kind = NULL;
    while (i < n && (t[i] == ' ' || t[i] == '\n' || t[i] == '\r' || t[i] == '\t')) i++;
    if (i == n || (t[i] != '{' && t[i] != '[') || hr_json_parse(c->envelope_doc, t, n) != HR_OK) return HR_OK;
    struct envelope e = {c, cx, tok, opt, NULL, NULL, 0, 0};
    c->envelope.len = 0;
    hr_status st = hr_splice_new(t, n, &e.sp);
    if (!st) st = envelope_walk(&e, hr_json_root(c->envelope_doc), 0);
    if (!st && e.kind) st = hr_splice_apply(e.sp, &c->envelope);
    hr_splice_free(e.sp);
    if (st) return st == HR_ENOMEM ? st : HR_OK;
    const char *whole = e.kind ? c->envelope.data : t;
    size_t whole_len = e.kind ? c->envelope.len : n;
    st = crush(c, cx, tok, opt, HR_KIND_JSON, whole, whole_len, e.kind ? SIZE_MAX : cx->tokens, &c->crushed, &outer,
               &c->crushed_tokens);
    if (st == HR_ENOMEM) return st;
    if (st) { /* the members alone */
        c->crushed.len = 0;
        if (!e.kind) return HR_OK;
        st = hr_buf_append(&c->crushed, c->envelope.data, c->envelope.len);
        if (!st) st = hr_tokenizer_count(tok, c->envelope.data, c->envelope.len, 0, &outer);
        c->crushed_tokens = outer;
    }
    /* what the members' cuts took, counted as text, in the envelope's
     * tokens: escaped, a string costs more (an estimate, not a count) */
    double scale = e.members_before ? (double)cx->tokens / (double)e.members_before : 1.0;
    *lossless_tokens = outer + (size_t)((double)e.members_cut * (scale < 1.0 ? 1.0 : scale > 2.0 ? 2.0 : scale));
    *kind = e.kind ? e.kind : hr__kind_name(HR_KIND_JSON);
    return st;
}

static hr_status record(hr_compressor *c, const struct hr_unit_ref *u, const char *kind, size_t before,
                        size_t lossless_tokens, size_t after)
{
    void *p = hr_grow(c->done, &c->cap_done, c->n_done + 1, sizeof *c->done);
    if (!p) return HR_ENOMEM;
    c->done = p;
    struct done_unit *d = &c->done[c->n_done++];
    memcpy(d->where, u->where, sizeof d->where);
    d->kind = kind;
    d->message = u->message;
    d->before = before;
    d->lossless = lossless_tokens < after ? after : lossless_tokens > before ? before : lossless_tokens;
    d->after = after;
    return HR_OK;
}

/* The task a cache-mode unit is cut for: the user message before it and the
 * arguments of the call that produced it (the grep pattern, the path, the
 * command); nothing that came later. */
static hr_status unit_query(hr_compressor *c, const struct hr_unit_ref *u, struct hr_query *q)
{
    c->query.len = 0;
    hr_status st = u->task == SIZE_MAX ? HR_OK : hr__message_text(c->doc, c->stats.format, u->task, &c->query);
    if (!st && u->call_args != HR_JSON_NONE) {
        st = hr_buf_append(&c->query, "\n", 1);
        if (!st && hr_json_type_of(c->doc, u->call_args) == HR_JSON_STRING)
            st = hr_json_string_decode(c->doc, u->call_args, &c->query);
        else if (!st) {
            size_t s = hr_json_start(c->doc, u->call_args), e = hr_json_end(c->doc, u->call_args);
            st = hr_buf_append(&c->query, c->doc_text + s, e - s);
        }
    }
    hr__query_free(q);
    return st ? st : hr__query_build(q, c->query.data ? c->query.data : "", c->query.len);
}

/* Compresses one unit: *kind set and c->encoded the JSON string to send
 * when it got smaller, *kind NULL when it stays. A failure here leaves the
 * unit as it was (fail open) unless memory ran out. *before gets its token
 * count, *after the compressed one. */
static hr_status crush_unit(hr_compressor *c, hr_tokenizer *tok, const hr_compress_options *opt, struct hr_query *q,
                            const struct hr_unit_ref *u, size_t *before, size_t *after, const char **kind)
{
    c->text.len = 0;
    c->crushed.len = 0;
    c->encoded.len = 0;
    *before = *after = 0;
    *kind = NULL;
    hr_status st = hr_json_string_decode(c->doc, u->node, &c->text);
    if (st) return st;
    if (!c->text.len) return HR_OK;
    if ((st = hr_tokenizer_count(tok, c->text.data, c->text.len, 0, before))) return st;
    /* compressed before: idempotence */
    if (*before < opt->min_tokens || hr__has_marker(c->text.data, c->text.len)) return HR_OK;
    if (hr__tool_is_exact(c->doc, u->call_name, u->call_args, opt->exact_tools)) return HR_OK;
    /* cache mode's task is the unit's own, built only for a unit to be cut */
    if (opt->mode == HR_MODE_CACHE && !opt->query && (st = unit_query(c, u, q))) return st;
    struct hr_crush_ctx cx = {q, c->scorer, c->scratch_doc, *before, 0};
    const char *k = NULL;
    c->unit_lossless = *before;
    c->crushed_tokens = SIZE_MAX;
    st = crush_json_unit(c, &cx, tok, opt, &k, &c->unit_lossless);
    if (!st && !k) {
        enum hr_kind routed = hr__content_kind(&cx, c->text.data, c->text.len);
        st = crush(c, &cx, tok, opt, routed, c->text.data, c->text.len, *before, &c->crushed, &c->unit_lossless,
                   &c->crushed_tokens);
        k = hr__kind_name(routed);
    }
    if (st == HR_ENOMEM) return st;
    if (st || !c->crushed.len) return HR_OK;
    *after = c->crushed_tokens;
    if (*after == SIZE_MAX && (st = hr_tokenizer_count(tok, c->crushed.data, c->crushed.len, 0, after))) return st;
    /* a saving under 1% is not worth a byte changed */
    if (*after * 100 > *before * 99) return HR_OK;
    if (*after >= *before) return HR_OK;
    if ((st = hr_json_encode_string(&c->encoded, c->crushed.data, c->crushed.len))) return st;
    *kind = k;
    return HR_OK;
}

/* Puts c->encoded in the unit's place and records it. */
static hr_status apply_unit(hr_compressor *c, const struct hr_unit_ref *u, hr_splice *sp, const char *kind,
                            size_t before, size_t after)
{
    size_t s = hr_json_start(c->doc, u->node), e = hr_json_end(c->doc, u->node);
    hr_status st = hr_splice_replace(sp, s, e, c->encoded.data, c->encoded.len);
    /* a result sent before: how its saving splits is not known again */
    size_t lossless_tokens = strcmp(kind, "sent before") ? c->unit_lossless : before;
    return st ? st : record(c, u, kind, before, lossless_tokens, after);
}

/* Tokens of the unit as received, and of the JSON string c->encoded. */
static hr_status count_both(hr_compressor *c, hr_tokenizer *tok, const struct hr_unit_ref *u, size_t *before,
                            size_t *after)
{
    c->text.len = c->crushed.len = 0;
    hr_status st = hr_json_string_decode(c->doc, u->node, &c->text);
    if (!st) st = hr_tokenizer_count(tok, c->text.data ? c->text.data : "", c->text.len, 0, before);
    if (!st) st = hr_json_parse(c->scratch_doc, c->encoded.data, c->encoded.len);
    if (!st) st = hr_json_string_decode(c->scratch_doc, hr_json_root(c->scratch_doc), &c->crushed);
    if (!st) st = hr_tokenizer_count(tok, c->crushed.data ? c->crushed.data : "", c->crushed.len, 0, after);
    return st;
}

/* Cache mode with a memory of what was sent: a result sent before leaves as
 * it did then, whatever the settings say now; a new one (after the model's
 * last turn) is compressed and remembered; an older one that neither the
 * memory nor its index on disk knows went before hr saw this conversation:
 * it stays as it came, and that is remembered. Failing open (sent_only), nothing new is
 * compressed. What was remembered first wins, so that a worker finishing
 * after its request went out as it came cannot change what later requests
 * send. */
static hr_status remembered_unit(hr_compressor *c, hr_tokenizer *tok, const hr_compress_options *opt,
                                 struct hr_query *q, const struct hr_unit_ref *u, size_t first_new, hr_splice *sp,
                                 size_t *before)
{
    size_t s = hr_json_start(c->doc, u->node), e = hr_json_end(c->doc, u->node), after = 0;
    unsigned char key[32];
    hr__sent_key(c->doc_text + s, e - s, key);
    c->sent_bytes.len = 0;
    int raw = 0, found = hr__sent_get(opt->sent, key, &c->sent_bytes, &raw);
    if (found < 0) return HR_ENOMEM;
    const char *kind = NULL;
    hr_status st = HR_OK;
    *before = 0;
    if (!found) {
        /* after a restart, the index says how it went: compressed again (the
         * same bytes when the compression is the same), or as it came */
        unsigned char hash[32];
        int went_raw = 0, recalled = hr__sent_recall(opt->sent, key, hash, &went_raw);
        int fresh = recalled ? !went_raw : u->message >= first_new;
        if (fresh && !opt->sent_only) st = crush_unit(c, tok, opt, q, u, before, &after, &kind);
        if (!st) st = hr__sent_put(opt->sent, key, kind ? c->encoded.data : NULL, c->encoded.len, &c->sent_bytes, &raw);
        if (st) return st;
        if (kind && !raw && c->sent_bytes.len == c->encoded.len &&
            !memcmp(c->sent_bytes.data, c->encoded.data, c->encoded.len))
            return apply_unit(c, u, sp, kind, *before, after);
    }
    c->encoded.len = 0;
    if (!raw) st = hr_buf_append(&c->encoded, c->sent_bytes.data, c->sent_bytes.len);
    if (!st && raw && opt->sent_only) return HR_OK; /* on the proxy's loop: no counting */
    if (!st && raw) {                               /* as it came: only its count */
        c->text.len = 0;
        st = hr_json_string_decode(c->doc, u->node, &c->text);
        if (!st) st = hr_tokenizer_count(tok, c->text.data ? c->text.data : "", c->text.len, 0, before);
        return st;
    }
    if (!st && !opt->sent_only) st = count_both(c, tok, u, before, &after);
    return st ? st : apply_unit(c, u, sp, "sent before", *before, after);
}

static hr_status one_unit(hr_compressor *c, hr_tokenizer *tok, const hr_compress_options *opt, struct hr_query *q,
                          const struct hr_unit_ref *u, size_t first_new, hr_splice *sp, size_t *before)
{
    if (opt->sent && opt->mode == HR_MODE_CACHE) return remembered_unit(c, tok, opt, q, u, first_new, sp, before);
    size_t after;
    const char *kind;
    hr_status st = crush_unit(c, tok, opt, q, u, before, &after, &kind);
    return st || !kind ? st : apply_unit(c, u, sp, kind, *before, after);
}

/* ---- the whole request ---------------------------------------------------------- */

static size_t estimated(const hr_compressor *c, size_t n)
{
    return c->stats.is_estimate ? (size_t)ceil((double)n * c->stats.estimate_factor) : n;
}

/* Token mode's units get the call that produced them, to know the exact
 * ones: both lists are in the order of the request. */
static void attach_calls(struct hr_unit_list *units, const struct hr_unit_list *results)
{
    for (size_t i = 0, j = 0; i < units->n && j < results->n; i++) {
        while (j < results->n && results->v[j].node < units->v[i].node) j++;
        if (j < results->n && results->v[j].node == units->v[i].node) {
            units->v[i].call_name = results->v[j].call_name;
            units->v[i].call_args = results->v[j].call_args;
        }
    }
}

static hr_status find_units(hr_compressor *c, const hr_compress_options *opt, size_t task)
{
    c->units.n = c->results.n = 0;
    if (opt->mode == HR_MODE_CACHE) return hr__find_tool_results(c->doc, c->stats.format, &c->units, &c->first_new);
    hr_status st = hr__find_units(c->doc, c->stats.format, opt->protect_recent, task, &c->units);
    if (!st && c->units.n) st = hr__find_tool_results(c->doc, c->stats.format, &c->results, NULL);
    if (!st) attach_calls(&c->units, &c->results);
    return st;
}

/* The one query of token mode, or of a query given: the latest task. */
static hr_status request_query(hr_compressor *c, const hr_compress_options *opt, struct hr_query *q, size_t *task)
{
    c->query.len = 0;
    hr_status st = hr__task_message(c->doc, c->stats.format, task, &c->query);
    if (!st && opt->query) {
        c->query.len = 0;
        st = hr_buf_append(&c->query, opt->query, strlen(opt->query));
    }
    return st ? st : hr__query_build(q, c->query.data ? c->query.data : "", c->query.len);
}

static hr_status compress_units(hr_compressor *c, hr_tokenizer *tok, const hr_compress_options *opt, const char *body,
                                size_t len, hr_buf *out)
{
    struct hr_query q = {0};
    hr_splice *sp = NULL;
    size_t task = SIZE_MAX, saved = 0, total = 0;
    c->doc_text = body;
    hr_status st = request_query(c, opt, &q, &task);
    if (!st) st = find_units(c, opt, task);
    void *p = st ? NULL : hr_grow(c->known, &c->cap_known, c->units.n + 1, sizeof *c->known);
    if (!st && !p) st = HR_ENOMEM;
    if (p) c->known = p;
    if (!st) st = hr_splice_new(body, len, &sp);
    for (size_t i = 0; !st && i < c->units.n; i++) {
        if (cancelled(c)) {
            st = HR_ECANCELED;
            break;
        }
        size_t before;
        size_t had = c->n_done;
        st = one_unit(c, tok, opt, &q, &c->units.v[i], c->first_new, sp, &before);
        c->known[i] = (struct hr_known_count){c->units.v[i].node, before};
        if (!st && c->n_done > had) saved += c->done[had].before - c->done[had].after;
    }
    if (!st && !opt->sent_only) st = hr__request_total(tok, c->doc, c->stats.format, c->known, c->units.n, &total);
    if (!st && c->n_done) st = hr_splice_apply(sp, out);
    else if (!st) st = hr_buf_append(out, body, len);
    if (!st) {
        c->stats.tokens_before = estimated(c, total);
        c->stats.tokens_after = estimated(c, total - saved);
        c->stats.units = c->n_done;
        size_t cut = 0;
        for (size_t i = 0; i < c->n_done; i++) cut += c->done[i].lossless - c->done[i].after;
        c->stats.tokens_lossless = estimated(c, total - saved + cut);
        for (size_t i = 0; i < c->n_done; i++) {
            c->done[i].before = estimated(c, c->done[i].before);
            c->done[i].lossless = estimated(c, c->done[i].lossless);
            c->done[i].after = estimated(c, c->done[i].after);
        }
    }
    hr_splice_free(sp);
    hr__query_free(&q);
    if (st) return fail(c, st, SIZE_MAX, "%s", hr_strerror(st));
    return HR_OK;
}

hr_status hr_compress(hr_compressor *c, const hr_compress_options *opt, const char *body, size_t len, hr_buf *out)
{
    if (!c || !opt || !out || (!body && len)) return HR_EINVAL;
    double t0 = now_ms();
    size_t mark = out->len;
    hr_tokenizer *tok = NULL;
    memset(&c->stats, 0, sizeof c->stats);
    c->n_done = 0;
    c->errmsg[0] = '\0';
    c->err_offset = SIZE_MAX;
    hr_status st =
        cancelled(c) ? fail(c, HR_ECANCELED, SIZE_MAX, "%s", hr_strerror(HR_ECANCELED)) : pick_scorer(c, opt);
    if (!st) st = parse_request(c, opt, body, len);
    if (!st) st = pick_tokenizer(c, opt, &tok);
    if (!st) {
        c->stats.scorer = c->scorer->name;
        c->stats.scorer_backend = c->scorer->backend;
        st = compress_units(c, tok, opt, body, len, out);
    }
    trim_scratch(c);
    if (st) {
        out->len = mark;
        c->n_done = 0;
        return st;
    }
    c->stats.elapsed_ms = now_ms() - t0;
    return HR_OK;
}
