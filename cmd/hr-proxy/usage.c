/* Reading the provider's usage (the tokens it bills) from an answer while it
 * is relayed: the bytes are read after each chunk has been handed to the
 * client, never held back. A JSON answer is copied aside and parsed at its
 * end; a stream of server-sent events is split into events as it passes,
 * and only events that name "usage" are parsed. gzip and deflate answers
 * are inflated on the side; other encodings are not read (no usage). */
#include "proxy.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <zlib.h>

/* A JSON answer or one event longer than this is not read: usage comes in
 * small objects, and memory per exchange stays bounded. */
#define MAX_JSON (16u << 20)
#define MAX_EVENT (8u << 20)

/* The provider's fields as sent, before normalising. */
struct raw {
    int64_t input, output, cache_write, cache_read, cached;
    int have;
};

struct usage_reader {
    enum api api;
    int stream;
    int inflating, inflate_done;
    z_stream z;
    hr_buf text;    /* a JSON answer; in a stream, the current line */
    hr_buf data;    /* in a stream, the current event's data */
    int skip_line;  /* the current line outgrew MAX_EVENT */
    int skip_event; /* so did the current event */
    int after_cr;   /* the last byte ended a line with '\r' */
    int failed;     /* nothing more can be read */
    hr_json *doc;
    struct raw raw;
};

const char *api_name(enum api a)
{
    switch (a) {
    case API_ANTHROPIC: return "anthropic-messages";
    case API_CHAT: return "openai-chat";
    case API_RESPONSES: return "openai-responses";
    default: return "none";
    }
}

struct usage_reader *usage_reader_new(enum api api, int stream, const char *content_encoding)
{
    if (api == API_NONE) return NULL;
    int inflating = 0;
    if (content_encoding && *content_encoding && strcasecmp(content_encoding, "identity")) {
        if (strcasecmp(content_encoding, "gzip") && strcasecmp(content_encoding, "x-gzip") &&
            strcasecmp(content_encoding, "deflate"))
            return NULL; /* br, zstd, ...: not read */
        inflating = 1;
    }
    struct usage_reader *r = calloc(1, sizeof *r);
    if (!r) return NULL;
    r->api = api;
    r->stream = stream;
    /* 15 + 32: zlib or gzip framing, whichever the header says */
    if (inflating && inflateInit2(&r->z, 15 + 32) != Z_OK) {
        free(r);
        return NULL;
    }
    r->inflating = inflating;
    return r;
}

void usage_reader_free(struct usage_reader *r)
{
    if (!r) return;
    if (r->inflating) inflateEnd(&r->z);
    hr_buf_free(&r->text);
    hr_buf_free(&r->data);
    hr_json_free(r->doc);
    free(r);
}

/* ---- the usage object ---------------------------------------------------------- */

static int get_count(const hr_json *d, hr_json_node obj, const char *key, int64_t *out)
{
    hr_json_node v = obj == HR_JSON_NONE ? HR_JSON_NONE : hr_json_get(d, obj, key);
    int64_t x;
    if (v == HR_JSON_NONE || hr_json_type_of(d, v) != HR_JSON_NUMBER || hr_json_int64(d, v, &x) || x < 0) return 0;
    *out = x;
    return 1;
}

static hr_json_node get_object(const hr_json *d, hr_json_node obj, const char *key)
{
    hr_json_node v = obj == HR_JSON_NONE ? HR_JSON_NONE : hr_json_get(d, obj, key);
    return v != HR_JSON_NONE && hr_json_type_of(d, v) == HR_JSON_OBJECT ? v : HR_JSON_NONE;
}

/* Takes the fields present in a usage object; a later object's fields win
 * one by one (Anthropic's message_delta may repeat or leave out the input
 * counts of message_start). */
static void merge_usage(struct usage_reader *r, hr_json_node u)
{
    const hr_json *d = r->doc;
    if (u == HR_JSON_NONE) return;
    int got = 0;
    if (r->api == API_ANTHROPIC) {
        got |= get_count(d, u, "input_tokens", &r->raw.input);
        got |= get_count(d, u, "cache_creation_input_tokens", &r->raw.cache_write);
        got |= get_count(d, u, "cache_read_input_tokens", &r->raw.cache_read);
        got |= get_count(d, u, "output_tokens", &r->raw.output);
    } else if (r->api == API_CHAT) {
        got |= get_count(d, u, "prompt_tokens", &r->raw.input);
        got |= get_count(d, u, "completion_tokens", &r->raw.output);
        got |= get_count(d, get_object(d, u, "prompt_tokens_details"), "cached_tokens", &r->raw.cached);
    } else {
        got |= get_count(d, u, "input_tokens", &r->raw.input);
        got |= get_count(d, u, "output_tokens", &r->raw.output);
        got |= get_count(d, get_object(d, u, "input_tokens_details"), "cached_tokens", &r->raw.cached);
    }
    r->raw.have |= got;
}

/* A JSON object of the answer: the whole body, or one event's data. */
static void read_object(struct usage_reader *r, const char *text, size_t len, int event)
{
    if (!r->doc && hr_json_new(&r->doc)) return;
    if (hr_json_parse(r->doc, text, len)) return;
    const hr_json *d = r->doc;
    hr_json_node root = hr_json_root(d);
    if (hr_json_type_of(d, root) != HR_JSON_OBJECT) return;
    if (!event || r->api == API_CHAT) { /* the body, or Chat's last chunk */
        merge_usage(r, get_object(d, root, "usage"));
    } else if (r->api == API_ANTHROPIC) {
        hr_json_node type = hr_json_get(d, root, "type");
        if (type == HR_JSON_NONE) return;
        if (hr_json_string_equals(d, type, "message_start", 13))
            merge_usage(r, get_object(d, get_object(d, root, "message"), "usage"));
        else if (hr_json_string_equals(d, type, "message_delta", 13)) merge_usage(r, get_object(d, root, "usage"));
    } else { /* Responses: response.completed (or incomplete, failed) carries it */
        merge_usage(r, get_object(d, get_object(d, root, "response"), "usage"));
    }
}

/* ---- server-sent events ---------------------------------------------------------- */

/* Whether text[0..n) holds "usage" in quotes. */
static int names_usage(const char *text, size_t n)
{
    const char *end = text + n;
    for (const char *p = text; end - p >= 7; p++) {
        p = memchr(p, '"', (size_t)(end - p) - 6);
        if (!p) return 0;
        if (!memcmp(p, "\"usage\"", 7)) return 1;
    }
    return 0;
}

static void end_event(struct usage_reader *r)
{
    /* most events are text deltas: only those naming usage are parsed */
    if (!r->skip_event && r->data.len && names_usage(r->data.data, r->data.len))
        read_object(r, r->data.data, r->data.len, 1);
    r->data.len = 0;
    r->skip_event = 0;
}

static void end_line(struct usage_reader *r)
{
    const char *l = r->text.data;
    size_t n = r->text.len;
    if (!n && !r->skip_line) {
        end_event(r);
    } else if (r->skip_line) {
        r->skip_event = 1;
    } else if (n >= 5 && !memcmp(l, "data:", 5)) {
        l += 5, n -= 5;
        if (n && *l == ' ') l++, n--;
        if (r->data.len + n + 1 > MAX_EVENT) r->skip_event = 1;
        else {
            if (r->data.len) hr_buf_append(&r->data, "\n", 1);
            hr_buf_append(&r->data, l, n);
        }
    }
    r->text.len = 0;
    r->skip_line = 0;
}

/* Lines end with "\n", "\r\n" or "\r"; a blank line ends an event. */
static void feed_events(struct usage_reader *r, const char *p, size_t n)
{
    while (n) {
        if (r->after_cr && *p == '\n') {
            p++, n--;
            r->after_cr = 0;
            continue;
        }
        r->after_cr = 0;
        size_t k = 0;
        while (k < n && p[k] != '\n' && p[k] != '\r') k++;
        if (r->skip_line || r->text.len + k > MAX_EVENT) {
            r->skip_line = 1;
            r->text.len = 0;
        } else {
            hr_buf_append(&r->text, p, k);
        }
        if (k == n) return;
        r->after_cr = p[k] == '\r';
        end_line(r);
        p += k + 1, n -= k + 1;
    }
}

/* ---- the answer's bytes -------------------------------------------------------------- */

static void feed_text(struct usage_reader *r, const char *p, size_t n)
{
    if (r->stream) {
        feed_events(r, p, n);
    } else if (r->text.len + n > MAX_JSON) {
        r->failed = 1;
        hr_buf_free(&r->text);
    } else {
        hr_buf_append(&r->text, p, n);
    }
}

static void feed_inflated(struct usage_reader *r, const char *p, size_t n)
{
    char out[16384];
    r->z.next_in = (Bytef *)(uintptr_t)p;
    r->z.avail_in = (uInt)n;
    do { /* a full output buffer may leave more to come */
        r->z.next_out = (Bytef *)out;
        r->z.avail_out = sizeof out;
        int rc = inflate(&r->z, Z_NO_FLUSH);
        if (rc == Z_STREAM_END) r->inflate_done = 1;
        else if (rc != Z_OK && rc != Z_BUF_ERROR) r->failed = 1;
        if (!r->failed) feed_text(r, out, sizeof out - r->z.avail_out);
    } while (!r->failed && !r->inflate_done && r->z.avail_out == 0);
}

void usage_reader_feed(struct usage_reader *r, const char *data, size_t len)
{
    if (!r || r->failed || !len) return;
    if (r->inflating && !r->inflate_done) feed_inflated(r, data, len);
    else if (r->inflating) return; /* bytes after the end of the compressed stream */
    else feed_text(r, data, len);
}

int usage_reader_finish(struct usage_reader *r, struct hr__log_usage *out)
{
    memset(out, 0, sizeof *out);
    if (!r || r->failed) return 0;
    if (!r->stream) read_object(r, r->text.data ? r->text.data : "", r->text.len, 0);
    else {
        if (r->text.len || r->skip_line) end_line(r); /* a last line without its newline */
        end_event(r);                                 /* a last event without its blank line */
    }
    if (!r->raw.have) return 0;
    out->have = 1;
    out->api = api_name(r->api);
    out->output = (uint64_t)r->raw.output;
    if (r->api == API_ANTHROPIC) {
        out->input_uncached = (uint64_t)r->raw.input;
        out->cache_write = (uint64_t)r->raw.cache_write;
        out->cache_read = (uint64_t)r->raw.cache_read;
    } else { /* OpenAI counts cached tokens inside the prompt's */
        int64_t cached = r->raw.cached < r->raw.input ? r->raw.cached : r->raw.input;
        out->input_uncached = (uint64_t)(r->raw.input - cached);
        out->cache_read = (uint64_t)cached;
    }
    return 1;
}
