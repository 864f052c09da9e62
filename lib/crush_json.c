/* JSON in a tool result (API responses, listings): every array of 8+ items
 * keeps its first and last items, items that look like errors or failures,
 * numeric outliers, items holding the task's words, one item of each shape,
 * and the best-scored rest within the budget; duplicates go. Each gap becomes
 * a string item "[hr: N items omitted; fields: ...]", so the result is still
 * JSON, and everything kept is copied byte for byte. */
#include "compress_internal.h"
#include "grow.h"
#include "json_internal.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MIN_ITEMS 8
#define HEAD_ITEMS 3
#define TAIL_ITEMS 2
#define MAX_SHAPES 10      /* shapes beyond this many only score */
#define MAX_TASK_ITEMS 25  /* more items than this holding task words: they only score */
#define OUTLIER_Z 3.0
#define MAX_FIELDS_NAMED 8
#define MAX_DEPTH 64

struct json_crush {
    struct hr_crush_ctx *cx;
    const hr_json *doc;
    const char *text;
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
    return hr_json_type_of(doc, v) == HR_JSON_NUMBER && hr_json_int64(doc, v, &code) == HR_OK &&
           code >= 400 && code <= 599;
}

/* Error-like: an error word in a string, a present "error"/"exception"
 * member, or a 4xx/5xx status code. */
static int looks_like_error(const hr_json *doc, hr_json_node v, const char *text, int depth)
{
    static const char *const error_keys[] = {"error", "errors", "exception", "failure", "failures",
                                             "err", "stderr", "stack", "traceback", NULL};
    static const char *const status_keys[] = {"status", "status_code", "statusCode", "code", "http_status",
                                              "httpStatus", NULL};
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

static hr_status choose_items(struct json_crush *jc, const hr_json_node *items, size_t n, unsigned char *keep)
{
    const hr_json *doc = jc->doc;
    struct hr_crush_ctx *cx = jc->cx;
    struct hr_segs segs = {0};
    struct hr_termtab seen = {0}, shapes = {0};
    unsigned char *hits = malloc(n);
    float *scores = malloc(n * sizeof *scores);
    hr_status st = hits && scores ? HR_OK : HR_ENOMEM;
    size_t n_shapes = 0, n_hits = 0;
    for (size_t i = 0; !st && i < n; i++) {
        size_t s = hr_json_start(doc, items[i]);
        st = hr__segs_push(&segs, s, hr_json_end(doc, items[i]) - s);
        uint64_t h = span_hash(doc, items[i], jc->text), shape = item_shape(doc, items[i], jc->text);
        if (!st) st = hr__termtab_add(&seen, h, (uint32_t)i);
        if (!st && hr__termtab_df(&shapes, shape) == 0) {
            st = hr__termtab_add(&shapes, shape, (uint32_t)i);
            if (++n_shapes <= MAX_SHAPES) keep[i] = HR_MUST;
        }
        if (st) break;
        if (hr__termtab_df(&seen, h) > 1) keep[i] = HR_FOLD; /* a duplicate */
        else if (i < HEAD_ITEMS || i + TAIL_ITEMS >= n || looks_like_error(doc, items[i], jc->text, 0))
            keep[i] = HR_MUST;
    }
    if (!st) st = mark_outliers(jc, items, n, keep);
    if (!st) st = hr__task_hits(cx->query, jc->text, segs.v, n, hits);
    for (size_t i = 0; !st && i < n; i++) n_hits += hits[i] && keep[i] != HR_FOLD;
    for (size_t i = 0; !st && i < n; i++)
        if (hits[i] && keep[i] == HR_DROP && (n_hits <= MAX_TASK_ITEMS || (hits[i] & HR_HIT_IDENT)))
            keep[i] = HR_MUST;
    if (!st) st = cx->scorer->score(cx->scorer, cx->query, jc->text, segs.v, n, scores);
    if (!st) st = hr__select_by_budget(jc->text, segs.v, n, scores, keep, hr__budget(cx->tokens));
    hr__segs_free(&segs);
    hr__termtab_free(&seen);
    hr__termtab_free(&shapes);
    free(hits);
    free(scores);
    return st;
}

/* ---- writing -------------------------------------------------------------------- */

static int is_dropped(unsigned char k)
{
    return k == HR_DROP || k == HR_FOLD;
}

/* "[hr: N items omitted; fields: a, b, c]" for items[a..b), as a JSON string. */
static hr_status gap_marker(struct json_crush *jc, const hr_json_node *items, size_t a, size_t b,
                            const unsigned char *keep, hr_buf *out)
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
    for (size_t i = a; !st && i < b; i++) {
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

/* The array rebuilt: kept items with the separators they had, markers in the
 * gaps, the whitespace inside the brackets as it was. */
static hr_status write_array(struct json_crush *jc, hr_json_node arr, const hr_json_node *items, size_t n,
                             const unsigned char *keep, hr_buf *out)
{
    const hr_json *doc = jc->doc;
    const char *t = jc->text;
    size_t open = hr_json_start(doc, arr), first = hr_json_start(doc, items[0]);
    hr_status st = hr_buf_append(out, t + open, first - open);
    for (size_t i = 0; !st && i < n;) {
        size_t sep_from = i ? hr_json_end(doc, items[i - 1]) : first;
        size_t sep_to = hr_json_start(doc, items[i]);
        st = hr_buf_append(out, t + sep_from, sep_to - sep_from);
        if (st) break;
        if (!is_dropped(keep[i])) {
            size_t s = hr_json_start(doc, items[i]);
            st = hr_buf_append(out, t + s, hr_json_end(doc, items[i]) - s);
            i++;
            continue;
        }
        size_t j = i;
        while (j < n && is_dropped(keep[j])) j++;
        st = gap_marker(jc, items, i, j, keep, out);
        i = j;
    }
    size_t last = hr_json_end(doc, items[n - 1]), close = hr_json_end(doc, arr);
    if (!st) st = hr_buf_append(out, t + last, close - last);
    return st;
}

/* ---- walking ------------------------------------------------------------------ */

/* Compresses arrays under v, copying everything between them; *at is how far
 * the text has been copied to out. */
static hr_status crush_value(struct json_crush *jc, hr_json_node v, int depth, size_t *at, hr_buf *out, int *changed)
{
    const hr_json *doc = jc->doc;
    hr_json_type type = hr_json_type_of(doc, v);
    if (depth > MAX_DEPTH || (type != HR_JSON_ARRAY && type != HR_JSON_OBJECT)) return HR_OK;
    if (type == HR_JSON_OBJECT) {
        for (hr_json_node k = hr_json_first(doc, v); k != HR_JSON_NONE; k = hr_json_next(doc, k)) {
            hr_status st = crush_value(jc, hr_json_value(doc, k), depth + 1, at, out, changed);
            if (st) return st;
        }
        return HR_OK;
    }
    size_t n = hr_json_length(doc, v);
    if (n < MIN_ITEMS) {
        for (hr_json_node e = hr_json_first(doc, v); e != HR_JSON_NONE; e = hr_json_next(doc, e)) {
            hr_status st = crush_value(jc, e, depth + 1, at, out, changed);
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
    if (!st && dropped) {
        size_t start = hr_json_start(doc, v);
        st = hr_buf_append(out, jc->text + *at, start - *at);
        if (!st) st = write_array(jc, v, items, n, keep, out);
        *at = hr_json_end(doc, v);
        *changed = 1;
    }
    for (i = 0; !st && !dropped && i < n; i++) /* all kept: look inside the items */
        st = crush_value(jc, items[i], depth + 1, at, out, changed);
    free(items);
    free(keep);
    return st;
}

hr_status hr__crush_json(struct hr_crush_ctx *cx, const char *text, size_t len, hr_buf *out)
{
    struct json_crush jc = {cx, cx->doc, text};
    if (hr_json_parse(cx->doc, text, len) != HR_OK) return hr_buf_append(out, text, len);
    size_t at = 0;
    int changed = 0;
    size_t mark = out->len;
    hr_status st = crush_value(&jc, hr_json_root(cx->doc), 0, &at, out, &changed);
    if (!st) st = hr_buf_append(out, text + at, len - at);
    if (st) out->len = mark;
    return st;
}
