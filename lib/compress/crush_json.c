/* JSON in a tool result (API responses, listings) that is still too big
 * once said losslessly: every array of 8+ items keeps its first and last
 * items, items that look like errors or failures or carry a true flag
 * (is_anomaly, failed, critical, ...), numeric outliers beyond two standard
 * deviations, items holding the task's words, one item of each shape, and
 * the best-scored rest within the budget; duplicates go. Each gap becomes a
 * string item "[hr: N items omitted; fields: ...]", so the result is still
 * JSON, and what is kept is written as the lossless stage writes it, every
 * value as it was. */
#include "compress/compress_internal.h"
#include "util/grow.h"
#include "json/json_internal.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MIN_ITEMS 8
#define HEAD_ITEMS 3
#define TAIL_ITEMS 2
#define MAX_SHAPES 10      /* shapes beyond this many only score */
#define MAX_TASK_ITEMS 25  /* more items than this holding task words: they only score */
#define RARE_SHAPE_ITEMS 3 /* a shape of at most this many items is rare, */
#define MAX_RARE_ITEMS 25  /* and its items stay while there are no more than this */
#define OUTLIER_Z 2.0
#define MAX_FIELDS_NAMED 8
#define MAX_DEPTH 64

struct json_cut {
    hr_json_node array;
    hr_json_node *items;
    unsigned char *keep;
};

struct json_crush {
    struct hr_crush_ctx *cx;
    const hr_json *doc;
    const char *text;
    struct json_cut *cuts;
    size_t n_cuts, cap_cuts;
};

/* ---- what an item says about itself ----------------------------------------- */

static int key_is(const hr_json *doc, hr_json_node key, const char *const *names)
{
    for (; *names; names++)
        if (hr_json_string_equals(doc, key, *names, strlen(*names))) return 1;
    return 0;
}

/* A value that says something happened: not null, false, 0, "" or empty. */
static int is_present(const hr_json *doc, hr_json_node v, const char *text)
{
    switch (hr_json_type_of(doc, v)) {
    case HR_JSON_NULL:
    case HR_JSON_FALSE: return 0;
    case HR_JSON_NUMBER: {
        size_t s = hr_json_start(doc, v), e = hr_json_end(doc, v);
        for (size_t i = s; i < e; i++)
            if (text[i] >= '1' && text[i] <= '9') return 1;
        return 0;
    }
    case HR_JSON_STRING: return hr_json_end(doc, v) - hr_json_start(doc, v) > 2;
    case HR_JSON_ARRAY:
    case HR_JSON_OBJECT: return hr_json_length(doc, v) > 0;
    default: return 1;
    }
}

static int http_error_code(const hr_json *doc, hr_json_node v)
{
    int64_t code;
    return hr_json_type_of(doc, v) == HR_JSON_NUMBER && hr_json_int64(doc, v, &code) == HR_OK && code >= 400 &&
           code <= 599;
}

/* Whether a key names a flag worth seeing when set: one of its words
 * (split at '_', '-' and case changes) is a word of trouble. */
static int is_flag_key(const hr_json *doc, hr_json_node key, const char *text)
{
    static const char *const words[] = {"anomaly",  "anomalous",  "outlier",   "error",    "errored",
                                        "failed",   "failure",    "critical",  "alert",    "alerting",
                                        "flagged",  "suspicious", "breach",    "breached", "violation",
                                        "incident", "degraded",   "unhealthy", NULL};
    size_t s = hr_json_start(doc, key) + 1, e = hr_json_end(doc, key) - 1;
    for (size_t i = s; i < e;) {
        if (text[i] == '_' || text[i] == '-' || text[i] == ' ') {
            i++;
            continue;
        }
        size_t b = i++;
        while (i < e && text[i] >= 'a' && text[i] <= 'z') i++;
        char w[16];
        size_t n = i - b;
        if (n >= sizeof w) continue;
        for (size_t k = 0; k < n; k++)
            w[k] = (char)(text[b + k] >= 'A' && text[b + k] <= 'Z' ? text[b + k] + 32 : text[b + k]);
        w[n] = '\0';
        for (const char *const *x = words; *x; x++)
            if (!strcmp(w, *x)) return 1;
        while (i < e && text[i] != '_' && text[i] != '-' && text[i] != ' ' && !(text[i] >= 'A' && text[i] <= 'Z')) i++;
    }
    return 0;
}

/* Error-like: an error word in a string, a present "error"/"exception"
 * member, a flag such as "is_anomaly" set to true, or a 4xx/5xx status
 * code. */
static int looks_like_error(const hr_json *doc, hr_json_node v, const char *text, int depth)
{
    static const char *const error_keys[] = {"error", "errors", "exception", "failure",   "failures",
                                             "err",   "stderr", "stack",     "traceback", NULL};
    static const char *const status_keys[] = {"status",      "status_code", "statusCode", "code",
                                              "http_status", "httpStatus",  NULL};
    if (depth > 4) return 0;
    switch (hr_json_type_of(doc, v)) {
    case HR_JSON_STRING: {
        size_t s = hr_json_start(doc, v), e = hr_json_end(doc, v);
        return hr__has_severity(text + s, e - s);
    }
    case HR_JSON_OBJECT:
        for (hr_json_node k = hr_json_first(doc, v); k != HR_JSON_NONE; k = hr_json_next(doc, k)) {
            hr_json_node val = hr_json_value(doc, k);
            if (key_is(doc, k, error_keys) && is_present(doc, val, text)) return 1;
            if (hr_json_type_of(doc, val) == HR_JSON_TRUE && is_flag_key(doc, k, text)) return 1;
            if (key_is(doc, k, status_keys) && http_error_code(doc, val)) return 1;
            if (looks_like_error(doc, val, text, depth + 1)) return 1;
        }
        return 0;
    case HR_JSON_ARRAY:
        for (hr_json_node e = hr_json_first(doc, v); e != HR_JSON_NONE; e = hr_json_next(doc, e))
            if (looks_like_error(doc, e, text, depth + 1)) return 1;
        return 0;
    default: return 0;
    }
}

static uint64_t span_hash(const hr_json *doc, hr_json_node v, const char *text)
{
    size_t s = hr_json_start(doc, v);
    return hr__hash(text + s, hr_json_end(doc, v) - s);
}

/* The set of an object's keys (order ignored), or the type of a scalar. */
static uint64_t item_shape(const hr_json *doc, hr_json_node v, const char *text)
{
    if (hr_json_type_of(doc, v) != HR_JSON_OBJECT) return (uint64_t)hr_json_type_of(doc, v) + 1;
    uint64_t sum = 0;
    for (hr_json_node k = hr_json_first(doc, v); k != HR_JSON_NONE; k = hr_json_next(doc, k))
        sum += span_hash(doc, k, text) * 0x9e3779b97f4a7c15ull;
    return sum ^ hr_json_length(doc, v);
}

/* ---- numeric outliers ------------------------------------------------------------ */

struct number {
    uint64_t key;
    size_t item;
    double value;
};

static int by_key(const void *a, const void *b)
{
    const struct number *x = a, *y = b;
    if (x->key != y->key) return x->key < y->key ? -1 : 1;
    return (x->item > y->item) - (x->item < y->item);
}

/* Items whose value of some numeric member lies more than OUTLIER_Z standard
 * deviations from that member's mean. */
static hr_status mark_outliers(struct json_crush *jc, const hr_json_node *items, size_t n, unsigned char *keep)
{
    const hr_json *doc = jc->doc;
    struct number *nums = NULL;
    size_t m = 0, cap = 0;
    for (size_t i = 0; i < n; i++) {
        if (hr_json_type_of(doc, items[i]) != HR_JSON_OBJECT) continue;
        for (hr_json_node k = hr_json_first(doc, items[i]); k != HR_JSON_NONE; k = hr_json_next(doc, k)) {
            hr_json_node v = hr_json_value(doc, k);
            if (hr_json_type_of(doc, v) != HR_JSON_NUMBER) continue;
            void *p = hr_grow(nums, &cap, m + 1, sizeof *nums);
            if (!p) {
                free(nums);
                return HR_ENOMEM;
            }
            nums = p;
            nums[m++] = (struct number){span_hash(doc, k, jc->text), i, hr__json_number(doc, v, jc->text)};
        }
    }
    if (m) qsort(nums, m, sizeof *nums, by_key);
    for (size_t a = 0; a < m;) {
        size_t b = a;
        double sum = 0, sq = 0;
        while (b < m && nums[b].key == nums[a].key) sum += nums[b++].value;
        size_t cnt = b - a;
        if (cnt >= MIN_ITEMS) {
            double mean = sum / (double)cnt;
            for (size_t k = a; k < b; k++) sq += (nums[k].value - mean) * (nums[k].value - mean);
            double sd = sqrt(sq / (double)cnt);
            for (size_t k = a; sd > 0 && k < b; k++)
                if (fabs(nums[k].value - mean) > OUTLIER_Z * sd && keep[nums[k].item] == HR_DROP)
                    keep[nums[k].item] = HR_MUST;
        }
        a = b;
    }
    free(nums);
    return HR_OK;
}

/* ---- choosing ------------------------------------------------------------------- */

/* Items of a shape that few share, among many of one shape: an item with a
 * key the others lack (a flag, an error, an id that marks it) says so. */
static void keep_rare_shapes(const struct hr_termtab *shapes, const uint64_t *shape_of, size_t n, unsigned char *keep)
{
    size_t rare = 0;
    for (size_t i = 0; i < n; i++) rare += hr__termtab_df(shapes, shape_of[i]) <= RARE_SHAPE_ITEMS;
    if (rare > MAX_RARE_ITEMS || rare * 2 > n) return; /* no shape is the rule */
    for (size_t i = 0; i < n; i++)
        if (hr__termtab_df(shapes, shape_of[i]) <= RARE_SHAPE_ITEMS && keep[i] == HR_DROP) keep[i] = HR_MUST;
}

static hr_status choose_items(struct json_crush *jc, const hr_json_node *items, size_t n, unsigned char *keep)
{
    const hr_json *doc = jc->doc;
    struct hr_crush_ctx *cx = jc->cx;
    struct hr_segs segs = {0};
    struct hr_termtab seen = {0}, shapes = {0};
    unsigned char *hits = malloc(n);
    float *scores = malloc(n * sizeof *scores);
    uint64_t *shape_of = malloc(n * sizeof *shape_of);
    hr_status st = hits && scores && shape_of ? HR_OK : HR_ENOMEM;
    size_t n_shapes = 0, n_hits = 0;
    for (size_t i = 0; !st && i < n; i++) {
        size_t s = hr_json_start(doc, items[i]);
        st = hr__segs_push(&segs, s, hr_json_end(doc, items[i]) - s);
        uint64_t h = span_hash(doc, items[i], jc->text), shape = item_shape(doc, items[i], jc->text);
        shape_of[i] = shape;
        if (!st) st = hr__termtab_add(&seen, h, (uint32_t)i);
        if (!st && hr__termtab_df(&shapes, shape) == 0 && ++n_shapes <= MAX_SHAPES) keep[i] = HR_MUST;
        if (!st) st = hr__termtab_add(&shapes, shape, (uint32_t)i);
        if (st) break;
        if (hr__termtab_df(&seen, h) > 1) keep[i] = HR_FOLD; /* a duplicate */
        else if (i < HEAD_ITEMS || i + TAIL_ITEMS >= n || looks_like_error(doc, items[i], jc->text, 0))
            keep[i] = HR_MUST;
    }
    if (!st) keep_rare_shapes(&shapes, shape_of, n, keep);
    if (!st) st = mark_outliers(jc, items, n, keep);
    if (!st) st = hr__task_hits(cx->query, jc->text, segs.v, n, hits);
    for (size_t i = 0; !st && i < n; i++) n_hits += hits[i] && keep[i] != HR_FOLD;
    for (size_t i = 0; !st && i < n; i++)
        if (hits[i] && keep[i] == HR_DROP && (n_hits <= MAX_TASK_ITEMS || (hits[i] & HR_HIT_IDENT))) keep[i] = HR_MUST;
    if (!st) st = cx->scorer->score(cx->scorer, cx->query, jc->text, segs.v, n, scores);
    if (!st) st = hr__select_by_budget(jc->text, segs.v, n, scores, keep, hr__ctx_budget(cx));
    hr__segs_free(&segs);
    hr__termtab_free(&seen);
    hr__termtab_free(&shapes);
    free(hits);
    free(scores);
    free(shape_of);
    return st;
}

/* ---- writing -------------------------------------------------------------------- */

static int is_dropped(unsigned char k)
{
    return k == HR_DROP || k == HR_FOLD;
}

/* "[hr: N items omitted; fields: a, b, c]" for items[a..b), as a JSON
 * string; rows of a table, whose fields its header names, say no fields. */
static hr_status gap_marker(struct json_crush *jc, const hr_json_node *items, size_t a, size_t b,
                            const unsigned char *keep, int in_table, hr_buf *out)
{
    const hr_json *doc = jc->doc;
    hr_buf detail = HR_BUF_INIT, text = HR_BUF_INIT;
    uint64_t named[MAX_FIELDS_NAMED];
    size_t n_named = 0, dups = 0;
    int more = 0;
    hr_status st = HR_OK;
    for (size_t i = a; i < b; i++) dups += keep[i] == HR_FOLD;
    if (dups) {
        char d[48];
        snprintf(d, sizeof d, "%zu duplicate%s; ", dups, dups == 1 ? "" : "s");
        st = hr_buf_append(&detail, d, strlen(d));
    }
    size_t fields_at = detail.len;
    for (size_t i = a; !st && !in_table && i < b; i++) {
        if (hr_json_type_of(doc, items[i]) != HR_JSON_OBJECT) continue;
        for (hr_json_node k = hr_json_first(doc, items[i]); !st && k != HR_JSON_NONE; k = hr_json_next(doc, k)) {
            uint64_t h = span_hash(doc, k, jc->text);
            size_t j = 0;
            while (j < n_named && named[j] != h) j++;
            if (j < n_named) continue;
            if (n_named == MAX_FIELDS_NAMED) {
                more = 1;
                continue;
            }
            named[n_named++] = h;
            st = hr_buf_append(&detail, detail.len > fields_at ? ", " : "fields: ", detail.len > fields_at ? 2 : 8);
            if (!st) st = hr_json_string_decode(doc, k, &detail);
        }
    }
    if (!st && more) st = hr_buf_append(&detail, ", ...", 5);
    while (!st && detail.len >= 2 && !memcmp(detail.data + detail.len - 2, "; ", 2)) detail.len -= 2;
    if (!st && detail.len) detail.data[detail.len] = '\0';
    if (!st) st = hr__marker(&text, b - a, "item", detail.len ? detail.data : NULL);
    if (!st) st = hr_json_encode_string(out, text.data, text.len);
    hr_buf_free(&detail);
    hr_buf_free(&text);
    return st;
}

/* The arrays cut, in the order of their nodes. */
static struct json_cut *cut_of(struct json_crush *jc, hr_json_node arr)
{
    size_t lo = 0, hi = jc->n_cuts;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (jc->cuts[mid].array < arr) lo = mid + 1;
        else hi = mid;
    }
    return lo < jc->n_cuts && jc->cuts[lo].array == arr ? &jc->cuts[lo] : NULL;
}

static const unsigned char *keep_of(void *ctx, hr_json_node arr)
{
    struct json_cut *c = cut_of(ctx, arr);
    return c ? c->keep : NULL;
}

static hr_status gap_of(void *ctx, hr_json_node arr, size_t a, size_t b, int in_table, hr_buf *out)
{
    struct json_crush *jc = ctx;
    struct json_cut *c = cut_of(jc, arr);
    return gap_marker(jc, c->items, a, b, c->keep, in_table, out);
}

/* ---- walking ------------------------------------------------------------------ */

static hr_status add_cut(struct json_crush *jc, hr_json_node arr, hr_json_node *items, unsigned char *keep)
{
    void *p = hr_grow(jc->cuts, &jc->cap_cuts, jc->n_cuts + 1, sizeof *jc->cuts);
    if (!p) return HR_ENOMEM;
    jc->cuts = p;
    jc->cuts[jc->n_cuts++] = (struct json_cut){arr, items, keep};
    return HR_OK;
}

/* Chooses the items of the arrays under v; an array that loses some is not
 * looked into further. */
static hr_status plan_value(struct json_crush *jc, hr_json_node v, int depth)
{
    const hr_json *doc = jc->doc;
    hr_json_type type = hr_json_type_of(doc, v);
    if (depth > MAX_DEPTH || (type != HR_JSON_ARRAY && type != HR_JSON_OBJECT)) return HR_OK;
    size_t n = hr_json_length(doc, v);
    if (type == HR_JSON_OBJECT || n < MIN_ITEMS) {
        for (hr_json_node e = hr_json_first(doc, v); e != HR_JSON_NONE; e = hr_json_next(doc, e)) {
            hr_status st = plan_value(jc, type == HR_JSON_OBJECT ? hr_json_value(doc, e) : e, depth + 1);
            if (st) return st;
        }
        return HR_OK;
    }
    hr_json_node *items = malloc(n * sizeof *items);
    unsigned char *keep = calloc(n, 1);
    hr_status st = items && keep ? HR_OK : HR_ENOMEM;
    size_t i = 0, dropped = 0;
    for (hr_json_node e = hr_json_first(doc, v); !st && e != HR_JSON_NONE; e = hr_json_next(doc, e)) items[i++] = e;
    if (!st) st = choose_items(jc, items, n, keep);
    for (i = 0; !st && i < n; i++) dropped += is_dropped(keep[i]);
    if (!st && dropped && !(st = add_cut(jc, v, items, keep))) return HR_OK;
    for (i = 0; !st && i < n; i++) /* all kept: look inside the items */
        st = plan_value(jc, items[i], depth + 1);
    free(items);
    free(keep);
    return st;
}

/* Items chosen as the budget allows, then everything written as the
 * lossless stage writes it, each run of dropped items one string. */
hr_status hr__crush_json(struct hr_crush_ctx *cx, const char *text, size_t len, hr_buf *out)
{
    struct json_crush jc = {cx, cx->doc, text, NULL, 0, 0};
    if (hr_json_parse(cx->doc, text, len) != HR_OK || hr__json_hides_marker(cx->doc))
        return hr_buf_append(out, text, len);
    hr_status st = plan_value(&jc, hr_json_root(cx->doc), 0);
    struct hr_json_cuts cuts = {&jc, keep_of, gap_of};
    if (!st) st = hr__json_write(cx->doc, text, &cuts, out);
    for (size_t i = 0; i < jc.n_cuts; i++) {
        free(jc.cuts[i].items);
        free(jc.cuts[i].keep);
    }
    free(jc.cuts);
    return st;
}
