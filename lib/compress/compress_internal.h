/* What the compressors and the scorers share. Nothing
 * here is part of the public API. */
#ifndef HR_COMPRESS_INTERNAL_H
#define HR_COMPRESS_INTERNAL_H

#include "hr.h"
#include "request/request.h"

#include <stdint.h>

/* ---- words (terms.c) ------------------------------------------------------ */

/* A word is a maximal run of ASCII letters, digits, '_' and non-ASCII bytes. */
size_t hr__next_word(const char *s, size_t n, size_t i, size_t *start, size_t *len);
uint64_t hr__hash(const char *s, size_t n);       /* exact bytes */
uint64_t hr__hash_lower(const char *s, size_t n); /* ASCII case folded */
int hr__is_stopword(const char *s, size_t n);

/* The task's words: folded hashes of its content words (3+ bytes, not stop
 * words), and exact hashes of its CamelCase / snake_case identifiers. */
struct hr_query {
    uint64_t bloom; /* one bit per term, to reject most words at once */
    uint64_t *terms;
    size_t n_terms, cap_terms;
    uint64_t *idents;
    size_t n_idents, cap_idents;
};
hr_status hr__query_build(struct hr_query *q, const char *text, size_t len);
void hr__query_free(struct hr_query *q);
int hr__query_has_term(const struct hr_query *q, uint64_t folded);
int hr__query_has_ident(const struct hr_query *q, uint64_t exact);

struct hr_seg;
enum { HR_HIT_TERM = 1, HR_HIT_IDENT = 2, HR_HIT_RARE = 4 };
#define HR_RARE_SEGMENTS 25
/* hits[i] gets HR_HIT_TERM / HR_HIT_IDENT when segment i holds one of the
 * task's words / identifiers that occurs in at most half of the segments: a
 * word in most of them (the pattern searched for) tells nothing apart; and
 * HR_HIT_RARE when that word is in at most HR_RARE_SEGMENTS segments. A word
 * matches a task's word also less a plural 's', a version's trailing digits
 * or a package's "lib" ("libcurl3" matches curl). */
hr_status hr__task_hits(const struct hr_query *q, const char *text, const struct hr_seg *segs, size_t n,
                        unsigned char *hits);

/* Document frequencies of words over a set of segments. */
struct hr_termtab {
    uint64_t *keys;
    uint32_t *df, *last;
    size_t cap, n;
};
hr_status hr__termtab_add(struct hr_termtab *t, uint64_t key, uint32_t doc);
uint32_t hr__termtab_df(const struct hr_termtab *t, uint64_t key);
void hr__termtab_free(struct hr_termtab *t);

/* ---- what must stay (mustkeep.c) -------------------------------------------- */

enum {
    HR_F_SEVERITY = 1u << 0, /* error, failed, fatal, exception, panic, warning, ... */
    HR_F_UUID = 1u << 1,
    HR_F_HASH = 1u << 2, /* hex of 7+ digits holding letters and digits */
    HR_F_URL = 1u << 3,
    HR_F_PATH = 1u << 4,    /* a/b, /x/y, name.ext */
    HR_F_FLAG = 1u << 5,    /* --flag, -x */
    HR_F_ERRCODE = 1u << 6, /* E1234, ERR_X, ENOENT, HTTP 4xx/5xx next to a word */
    HR_F_NUMBER = 1u << 7,
    HR_F_IDENT = 1u << 8, /* CamelCase or snake_case */
};
unsigned hr__features(const char *s, size_t n);
/* Cheap test for the severity words only. */
int hr__has_severity(const char *s, size_t n);

/* ---- segments and selection (select.c) -------------------------------------- */

/* A piece of a unit: a line with its newline, a sentence with the space after
 * it, an array element. Segments of a text cover it end to end. */
struct hr_seg {
    size_t off, len;
};
struct hr_segs {
    struct hr_seg *v;
    size_t n, cap;
};
hr_status hr__segs_push(struct hr_segs *s, size_t off, size_t len);
void hr__segs_free(struct hr_segs *s);
hr_status hr__split_lines(const char *text, size_t len, struct hr_segs *out);
hr_status hr__split_sentences(const char *text, size_t len, struct hr_segs *out);

/* Estimated tokens of s[0..n), for budgets only (exact counts come later):
 * a token per 4 letters of a word, per 3 digits, per punctuation mark. */
size_t hr__approx_tokens(const char *s, size_t n);
/* How many tokens a unit of `tokens` is cut down to, must-keep aside. */
size_t hr__budget(size_t tokens);

/* What happens to a segment. */
enum { HR_DROP = 0, HR_KEEP = 1, HR_MUST = 2, HR_FOLD = 3 /* dropped as a repeat */ };

/* keep[i] is one of the above. Adds HR_DROP segments as HR_KEEP in
 * descending score while they fit the budget (a segment that opens a new
 * gap pays for its marker), then keeps short dropped runs that a marker
 * would not make shorter. */
hr_status hr__select_by_budget(const char *text, const struct hr_seg *segs, size_t n, const float *scores,
                               unsigned char *keep, size_t budget);

/* Writes the kept segments, each run of dropped ones replaced by the marker
 * "[hr: N <noun>s omitted]" on its own line (lines) or inline (sentences);
 * a run of HR_FOLD segments only says "N similar <noun>s". */
hr_status hr__emit_kept(hr_buf *out, const char *text, const struct hr_seg *segs, size_t n, const unsigned char *keep,
                        const char *noun, int inline_marker);
/* Appends "[hr: COUNT NOUN(s) omitted" + detail + "]". */
hr_status hr__marker(hr_buf *out, size_t count, const char *noun, const char *detail);
/* Whether text already holds an hr marker (compressed before). */
int hr__has_marker(const char *text, size_t len);

/* ---- scorers (scorer.c, scorer_lexical.c) ----------------------------------- */

#define HR_SCORER_ERR 400

struct hr_kword;
struct hr_scorer {
    const char *name;    /* "lexical", "kompress" */
    const char *backend; /* where a model runs: "cpu", "cuda"; NULL for lexical */
    /* scores[i] for segs[i] of text: higher is more worth keeping. */
    hr_status (*score)(struct hr_scorer *self, const struct hr_query *q, const char *text, const struct hr_seg *segs,
                       size_t n, float *scores);
    /* Optional (NULL when the scorer has none): keep decisions for the words
     * of a prose unit, *words malloc'd. */
    hr_status (*prose_words)(struct hr_scorer *self, const char *text, size_t len, struct hr_kword **words, size_t *n);
    void (*destroy)(struct hr_scorer *self);
};

/* What hr_compress_options asks for: name "auto" (or NULL), "lexical" or
 * "kompress"; model_dir and backend NULL for their defaults. */
struct hr_scorer_request {
    const char *name, *model_dir, *backend;
    size_t max_concurrent; /* GPU runs at a time; 0: 1 */
};
/* HR_ENOTFOUND for an unknown name. err: why a kompress scorer that was asked
 * for cannot start; note: what auto chose instead of a model that is there
 * but unusable, or of a GPU that is not (empty when nothing to say). */
hr_status hr__scorer_new(const struct hr_scorer_request *rq, struct hr_scorer **out, char *err, size_t err_len,
                         char *note, size_t note_len);
hr_status hr__scorer_lexical_new(struct hr_scorer **out);
/* The Kompress model of dir (a folder with config.json, model.safetensors and
 * tokenizer.json), ranking non-prose units as the lexical scorer does. */
hr_status hr__scorer_kompress_new(const char *dir, const struct hr_scorer_request *rq, struct hr_scorer **out,
                                  char *err, size_t err_len, char *note, size_t note_len);
/* hr__kompress_default_dir, the folder auto and kompress use when none is
 * given, is the settings layer's (lib/settings/route_settings.h). */

/* ---- compressors (crush_*.c) and the router (content_kind.c) ----------------------- */

enum hr_kind { HR_KIND_JSON, HR_KIND_DIFF, HR_KIND_SEARCH, HR_KIND_LOG, HR_KIND_TEXT };
const char *hr__kind_name(enum hr_kind kind);

struct hr_crush_ctx {
    const struct hr_query *query;
    struct hr_scorer *scorer;
    hr_json *doc;  /* scratch parser for JSON units */
    size_t tokens; /* the unit's exact token count */
    size_t budget; /* tokens the lossy stage cuts to; 0: hr__budget(tokens) */
};
/* The budget of cx: its own, else hr__budget(cx->tokens). */
size_t hr__ctx_budget(const struct hr_crush_ctx *cx);

/* The parents of the diff hunk whose header s[0..n) is: 1 for a unified
 * diff's "@@ -", one more per '@' of a merge's combined "@@@ -"; 0 when s
 * is no hunk header. */
size_t hr__hunk_parents(const char *s, size_t n);
/* Length of the path of a "path:N:" match or "path-N-" context line, else 0. */
size_t hr__search_path_len(const char *s, size_t n);
/* Length of the "  12: " of a match line grouped under its path, else 0. */
size_t hr__grouped_match_len(const char *s, size_t n);

/* Whether the line s[0..n) ends as a sentence does ('.', '!', '?', blanks
 * and '\r' after it aside); a progress line's "..." does not. */
int hr__ends_sentence(const char *s, size_t n);

/* Prose: mostly letters and spaces, cut into sentences even when wrapped. */
int hr__is_prose(const char *text, size_t len);

/* The kind of content a unit holds (its text is not changed). */
enum hr_kind hr__content_kind(struct hr_crush_ctx *cx, const char *text, size_t len);

/* Each appends the compressed text to out; when it cannot do better it
 * appends the text unchanged. An error means the unit stays as it was. */
hr_status hr__crush_json(struct hr_crush_ctx *cx, const char *text, size_t len, hr_buf *out);
hr_status hr__crush_diff(struct hr_crush_ctx *cx, const char *text, size_t len, hr_buf *out);
hr_status hr__crush_search(struct hr_crush_ctx *cx, const char *text, size_t len, hr_buf *out);
hr_status hr__crush_log(struct hr_crush_ctx *cx, const char *text, size_t len, hr_buf *out);
hr_status hr__crush_text(struct hr_crush_ctx *cx, const char *text, size_t len, hr_buf *out);
/* Prose cut word by word by the scorer's prose_words (crush_words.c). */
hr_status hr__crush_words(struct hr_crush_ctx *cx, const char *text, size_t len, hr_buf *out);

/* ---- lossless re-encoding (lossless_*.c) -------------------------------------- */

/* Each appends to out a form of text that says the same in fewer tokens and
 * decodes back to it exactly (the formats are in hr-compress(1)), or text
 * itself when there is nothing to re-encode. They run before any lossy
 * stage, and again on what a lossy stage kept. */
/* JSON: compact, escapes as UTF-8, arrays of same-keyed objects as tables,
 * numbers as written; doc is scratch. Text that is not JSON stays. */
hr_status hr__lossless_json(hr_json *doc, const char *text, size_t len, hr_buf *out);
/* What the lossy JSON stage cut: keep_of(ctx, array) is one HR_DROP /
 * HR_KEEP / HR_MUST / HR_FOLD per item of that array (NULL: all stay);
 * gap(ctx, array, a, b, in_table, out) writes the JSON string standing for
 * the dropped items [a, b), rows of a table when in_table. */
struct hr_json_cuts {
    void *ctx;
    const unsigned char *(*keep_of)(void *ctx, hr_json_node array);
    hr_status (*gap)(void *ctx, hr_json_node array, size_t a, size_t b, int in_table, hr_buf *out);
};
/* Whether a string of the parsed doc reads "[hr:" only once its escapes
 * are decoded: written plainly it would read as hr's marker (a table's
 * note) when it is none, so such a document is left as it is. */
int hr__json_hides_marker(const hr_json *doc);
/* The parsed doc of text written as hr__lossless_json does, less what cuts
 * (NULL: nothing) says to drop. */
hr_status hr__json_write(const hr_json *doc, const char *text, const struct hr_json_cuts *cuts, hr_buf *out);
/* "path:N:text" / "path-N-text" lines grouped under their path, when every
 * line is one (or "--"). */
hr_status hr__lossless_search(const char *text, size_t len, hr_buf *out);
/* Blank-normalized (below), then runs of identical lines as one line and a
 * count, runs differing in one counter or timestamp as a template and its
 * values. */
hr_status hr__lossless_log(const char *text, size_t len, hr_buf *out);
/* Trailing blanks and tabs cut from each line, a run of blank lines made
 * one: whitespace that carries nothing in logs (never in code, diffs,
 * prose or other text, where it may be a value's). */
hr_status hr__lossless_blank(const char *text, size_t len, hr_buf *out);

/* ---- what was sent (sent_memory.c) ------------------------------------------ */

/* The key of a tool result: the SHA-256 of its JSON string as received. */
void hr__sent_key(const char *bytes, size_t len, unsigned char key[32]);
/* 1 and what was sent instead appended to sent (*raw: it went as it came),
 * 0 when unknown, -1 out of memory. */
int hr__sent_get(hr_sent *s, const unsigned char key[32], hr_buf *sent, int *raw);
/* What the index on disk says of key: 1 and *raw, or hash the SHA-256 of
 * what went instead; 0 when it says nothing. */
int hr__sent_recall(hr_sent *s, const unsigned char key[32], unsigned char hash[32], int *raw);
/* Remembers bytes (NULL: as it came) unless something was remembered first;
 * what is remembered now is appended to winner (*raw: as it came). */
hr_status hr__sent_put(hr_sent *s, const unsigned char key[32], const char *bytes, size_t len, hr_buf *winner,
                       int *raw);

/* ---- what a tool result may lose (exact.c) ------------------------------------ */

/* Whether a tool result must stay exact: its tool is in the list (defaults,
 * "+name" / "name" added, "-name" removed: exact_tools), or it is a shell
 * command that reads a file (cat, nl, head, tail, sed -n, bat). */
int hr__tool_is_exact(const hr_json *doc, hr_json_node name, hr_json_node args, const char *exact_tools);

#endif
