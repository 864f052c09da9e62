/* The JSON scanner (lib/json/json_scan.c, json_access.c, json_encode.c) on any
 * bytes. Beyond not crashing:
 *  - a refusal has a status of bad input, an offset inside the input and a
 *    one-line printable message;
 *  - an accepted document's spans nest inside the input, its containers
 *    hold as many children as they say, every string decodes to UTF-8 that
 *    hr_json_string_equals and hr_json_get agree with, and an integer that
 *    hr_json_int64 reads prints back as the same digits;
 *  - the document written again in a canonical form (strings decoded and
 *    encoded again) parses, and gives the same canonical form: what the
 *    scanner accepts, hr_json_encode_string and the scanner agree on;
 *  - the nesting limit is exact: the document's own depth passes, one less
 *    fails with HR_EDEPTH. */
#include "fuzz.h"
#include "hr.h"

#include <inttypes.h>
#include <string.h>

static hr_json *doc, *again;

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    if (hr_json_new(&doc) || hr_json_new(&again)) abort();
    return 0;
}

static int is_ws(char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

/* Well-formed UTF-8 (RFC 3629), written here rather than taken from libhr
 * so that the check does not share the scanner's mistakes. */
static int valid_utf8(const char *text, size_t n)
{
    const unsigned char *s = (const unsigned char *)text;
    for (size_t i = 0; i < n;) {
        unsigned c = s[i];
        size_t k = c < 0x80 ? 1 : c < 0xC2 ? 0 : c < 0xE0 ? 2 : c < 0xF0 ? 3 : c < 0xF5 ? 4 : 0;
        if (!k || i + k > n) return 0;
        /* the second byte's range: no overlong forms, surrogates or code points past U+10FFFF */
        unsigned lo = 0x80, hi = 0xBF;
        if (c == 0xE0) lo = 0xA0;
        else if (c == 0xED) hi = 0x9F;
        else if (c == 0xF0) lo = 0x90;
        else if (c == 0xF4) hi = 0x8F;
        for (size_t j = 1; j < k; j++, lo = 0x80, hi = 0xBF)
            if (s[i + j] < lo || s[i + j] > hi) return 0;
        i += k;
    }
    return 1;
}

/* A number that fits int64 reads as one, and prints back as its digits. */
static void check_number(const hr_json *d, hr_json_node n, const char *text)
{
    size_t start = hr_json_start(d, n), len = hr_json_end(d, n) - start;
    const char *s = text + start;
    int64_t v;
    hr_status st = hr_json_int64(d, n, &v);
    int plain = !memchr(s, '.', len) && !memchr(s, 'e', len) && !memchr(s, 'E', len);
    size_t digits = len - (s[0] == '-');
    if (plain && digits <= 18) FUZZ_CHECK(st == HR_OK, "integer %.*s not read", (int)len, s);
    if (st) {
        FUZZ_CHECK(st == HR_ERANGE, "status %d for %.*s", (int)st, (int)len, s);
        return;
    }
    char back[32];
    snprintf(back, sizeof back, "%" PRId64, v);
    int negative_zero = len == 2 && s[0] == '-' && s[1] == '0';
    FUZZ_CHECK(negative_zero ? !strcmp(back, "0") : strlen(back) == len && !memcmp(back, s, len), "%.*s read as %s",
               (int)len, s, back);
}

static void check_string(const hr_json *d, hr_json_node n, hr_buf *canon)
{
    hr_buf dec = {0};
    FUZZ_CHECK(hr_json_string_decode(d, n, &dec) == HR_OK, "decode failed");
    FUZZ_CHECK(valid_utf8(dec.data, dec.len), "a string decodes to ill-formed UTF-8");
    FUZZ_CHECK(hr_json_string_equals(d, n, dec.data ? dec.data : "", dec.len), "string_equals disagrees with decode");
    FUZZ_CHECK(hr_json_encode_string(canon, dec.data, dec.len) == HR_OK, "encode failed");
    hr_buf_free(&dec);
}

/* An object's key finds, through hr_json_get, the first member of that name. */
static void check_get(const hr_json *d, hr_json_node obj, hr_json_node key)
{
    hr_buf name = {0};
    FUZZ_CHECK(hr_json_string_decode(d, key, &name) == HR_OK, "key decode failed");
    if (name.len && !memchr(name.data, '\0', name.len)) { /* hr_json_get takes a C string */
        hr_json_node found = hr_json_get(d, obj, name.data);
        FUZZ_CHECK(found != HR_JSON_NONE && found <= hr_json_value(d, key), "hr_json_get misses key %s", name.data);
        FUZZ_CHECK(hr_json_string_equals(d, found - 1, name.data, name.len), "hr_json_get found another key");
    }
    hr_buf_free(&name);
}

/* Checks node n of text[0..len) and appends its canonical form; returns its
 * depth. */
static unsigned walk(const hr_json *d, hr_json_node n, const char *text, size_t len, hr_buf *canon)
{
    size_t start = hr_json_start(d, n), end = hr_json_end(d, n);
    FUZZ_CHECK(start < end && end <= len, "span [%zu, %zu) of %zu bytes", start, end, len);
    hr_json_type t = hr_json_type_of(d, n);
    static const char *const literal[] = {"null", "false", "true"};
    if (t <= HR_JSON_TRUE) {
        FUZZ_CHECK(end - start == strlen(literal[t]) && !memcmp(text + start, literal[t], end - start),
                   "literal at %zu", start);
        hr_buf_append(canon, literal[t], strlen(literal[t]));
        return 0;
    }
    if (t == HR_JSON_NUMBER) {
        check_number(d, n, text);
        hr_buf_append(canon, text + start, end - start);
        return 0;
    }
    if (t == HR_JSON_STRING) {
        check_string(d, n, canon);
        return 0;
    }
    FUZZ_CHECK(t == HR_JSON_ARRAY || t == HR_JSON_OBJECT, "type %d", (int)t);
    hr_buf_append(canon, t == HR_JSON_ARRAY ? "[" : "{", 1);
    size_t count = 0, after = start + 1;
    unsigned depth = 0;
    for (hr_json_node c = hr_json_first(d, n); c != HR_JSON_NONE; c = hr_json_next(d, c), count++) {
        if (count) hr_buf_append(canon, ",", 1);
        hr_json_node v = c;
        if (t == HR_JSON_OBJECT) {
            FUZZ_CHECK(hr_json_type_of(d, c) == HR_JSON_STRING, "a key that is not a string");
            FUZZ_CHECK(hr_json_start(d, c) >= after, "key before its sibling");
            check_string(d, c, canon);
            hr_buf_append(canon, ":", 1);
            check_get(d, n, c);
            v = hr_json_value(d, c);
            FUZZ_CHECK(v == c + 1 && hr_json_start(d, v) >= hr_json_end(d, c), "value of a key");
        }
        FUZZ_CHECK(hr_json_start(d, v) >= after && hr_json_end(d, v) < end, "child outside its parent");
        after = hr_json_end(d, v);
        unsigned k = walk(d, v, text, len, canon);
        if (k > depth) depth = k;
    }
    FUZZ_CHECK(count == hr_json_length(d, n), "%zu children, length says %zu", count, hr_json_length(d, n));
    FUZZ_CHECK(text[end - 1] == (t == HR_JSON_ARRAY ? ']' : '}'), "container ends in %c", text[end - 1]);
    hr_buf_append(canon, t == HR_JSON_ARRAY ? "]" : "}", 1);
    return depth + 1;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *text = (const char *)data;
    hr_json_set_max_depth(doc, HR_JSON_DEFAULT_MAX_DEPTH);
    hr_status st = hr_json_parse(doc, text, size);
    if (st) {
        FUZZ_CHECK(st == HR_ESYNTAX || st == HR_ETRUNCATED || st == HR_EUTF8 || st == HR_EDEPTH, "status %s",
                   hr_strerror(st));
        FUZZ_CHECK(hr_json_error_offset(doc) <= size, "error offset %zu of %zu", hr_json_error_offset(doc), size);
        FUZZ_CHECK(*hr_json_error_reason(doc) && fuzz_printable(hr_json_errmsg(doc)), "message \"%s\"",
                   hr_json_errmsg(doc));
        return 0;
    }
    hr_json_node root = hr_json_root(doc);
    FUZZ_CHECK(root == 0, "no root");
    for (size_t i = 0; i < hr_json_start(doc, root); i++) FUZZ_CHECK(is_ws(text[i]), "byte before the root");
    for (size_t i = hr_json_end(doc, root); i < size; i++) FUZZ_CHECK(is_ws(text[i]), "byte after the root");

    hr_buf canon = {0}, canon2 = {0};
    unsigned depth = walk(doc, root, text, size, &canon);
    hr_json_set_max_depth(again, HR_JSON_DEFAULT_MAX_DEPTH);
    FUZZ_CHECK(hr_json_parse(again, canon.data, canon.len) == HR_OK, "canonical form refused: %s",
               hr_json_errmsg(again));
    walk(again, hr_json_root(again), canon.data, canon.len, &canon2);
    FUZZ_CHECK(canon.len == canon2.len && !memcmp(canon.data, canon2.data, canon.len), "canonical form not stable");

    if (depth >= 2) {
        hr_json_set_max_depth(again, depth);
        FUZZ_CHECK(hr_json_parse(again, text, size) == HR_OK, "refused at its own depth %u", depth);
        hr_json_set_max_depth(again, depth - 1);
        FUZZ_CHECK(hr_json_parse(again, text, size) == HR_EDEPTH, "accepted at depth %u, one less than its own",
                   depth - 1);
    }
    hr_buf_free(&canon);
    hr_buf_free(&canon2);
    return 0;
}
